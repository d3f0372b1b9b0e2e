/** "Turn off display after" (GUID alias VIDEOIDLE), in seconds; 0 = never. */
export const VIDEOIDLE_GUID = '3c0bc021-c8a8-4e07-a973-6b14cbcb2b7e';
/** "Require a password on wakeup" (GUID alias CONSOLELOCK): 1 = yes, 0 = no. */
export const CONSOLELOCK_GUID = '0e796bdb-100d-47d6-a2d5-f7d2daa51f51';

/** A power setting's value on mains (AC) and on battery (DC). */
export interface PowerValue {
  ac: number;
  dc: number;
}

const ANY_GUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;
const HEX_AT_END = /:\s*(0x[0-9a-f]+)\s*$/i;

/*
 * `powercfg /q SCHEME_CURRENT SUB_VIDEO VIDEOIDLE`, English:
 *     Power Setting GUID: 3c0bc021-c8a8-4e07-a973-6b14cbcb2b7e  (Turn off display after)
 *       GUID Alias: VIDEOIDLE
 *       Minimum Possible Setting: 0x00000000
 *       Maximum Possible Setting: 0xffffffff
 *       Possible Settings increment: 0x00000001
 *       Possible Settings units: Seconds
 *     Current AC Power Setting Index: 0x00000384
 *     Current DC Power Setting Index: 0x00000384
 * Every label is translated ("Index actuel du paramètre de courant alternatif",
 * "Index der aktuellen Wechselstromeinstellung", "Aktueller
 * Wechselstrom-Einstellungsindex"...) and, on a French console, arrives in the
 * OEM code page, so accents are mangled. Only the GUIDs and the hex values are
 * stable: the current AC and DC values are the last two hex values of the
 * setting's block, AC first.
 */
export function parsePowerSetting(text: string, settingGuid: string): PowerValue | null {
  const lines = text.split(/\r?\n/);
  const start = lines.findIndex((l) => l.toLowerCase().includes(settingGuid.toLowerCase()));
  if (start < 0) return null;
  const hex: number[] = [];
  for (const line of lines.slice(start + 1)) {
    if (ANY_GUID.test(line)) break; // the next subgroup or setting begins
    const m = HEX_AT_END.exec(line);
    if (m && m[1]) hex.push(parseInt(m[1].slice(2), 16));
  }
  const ac = hex[hex.length - 2];
  const dc = hex[hex.length - 1];
  return ac === undefined || dc === undefined ? null : { ac, dc };
}

/** True when the text is powercfg /q output holding one of the settings we read. */
export function isPowercfgQuery(text: string): boolean {
  return parsePowerSetting(text, VIDEOIDLE_GUID) !== null || parsePowerSetting(text, CONSOLELOCK_GUID) !== null;
}
