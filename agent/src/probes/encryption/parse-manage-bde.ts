import type { EncryptionSection, Volume } from '@vigie/shared';
import { lockedFallback, sameDrive } from './bitlocker';
import type { WindowsParseOptions } from './parse-get-bitlockervolume';
import { firstLine, fold, parsePercent, reconcileProtection, stripBom, unknownSection, volumesSection } from './volume';
import type { Protection, VolumeStatus } from './volume';

/*
 * manage-bde localises its labels and values, so this parser is the fallback
 * behind the locale-independent JSON sources. It reads English, French and
 * German, with comma or dot decimals; accented letters are matched with "."
 * because the console code page may garble them (see fold()).
 *
 *   Volume C: [Windows]                      Volume "C:" []
 *   [OS Volume]                              [Betriebssystemvolume]
 *       Conversion Status:    Used Space Only Encrypted
 *       Percentage Encrypted: 100,0%         Verschlüsselt (Prozent):      3,5 %
 *       Encryption Method:    XTS-AES 128    Verschlüsselungsmethode:      XTS-AES 128
 *       Protection Status:    Protection On  Schutzstatus:                 Der Schutz ist aktiviert.
 *       Lock Status:          Unlocked       Sperrungsstatus:              Entsperrt
 *   État de la conversion :      Intégralement déchiffré
 *   Pourcentage chiffré :        0,0%
 *   État de la protection :      Protection désactivée
 */

const VOLUME_HEADER = /^volume\s+"?([a-z]:|\\\\\?\\volume\{[0-9a-f-]+\}\\?)"?(?:\s|$)/i;

type Field = 'conversion' | 'percent' | 'method' | 'protection' | 'lock';

const LABELS: Array<[Field, RegExp]> = [
  ['conversion', /^(conversion status|.tat de la conversion|konvertierungsstatus)$/],
  ['percent', /^(percentage encrypted|pourcentage chiffr.|verschl.sselt \(prozent\)|prozentsatz verschl.sselt)$/],
  ['method', /^(encryption method|m.thode de chiffrement|verschl.sselungsmethode)$/],
  ['protection', /^(protection status|.tat de la protection|statut de la protection|schutzstatus)$/],
  ['lock', /^(lock status|.tat du verrouillage|.tat du verrou|sperrungsstatus|sperrstatus)$/],
];

const UNKNOWN_VALUE = /^(unknown|inconnu|unbekannt)\b/;
const NONE_VALUE = /^(none|aucun|kein|keine)\b/;

/** Decryption words first: "déchiffré" contains "chiffr", "decrypted" does not contain "encrypt". */
export function conversionStatus(value: string): VolumeStatus {
  const v = fold(value).trim();
  if (v === '' || UNKNOWN_VALUE.test(v)) return 'unknown';
  const decrypt = /decrypt|d.chiffr|entschl.ssel/.test(v);
  const encrypt = !decrypt && /encrypt|chiffr|verschl.ssel/.test(v);
  if (!decrypt && !encrypt) return 'unknown';
  if (encrypt && /wip(e|ing)/.test(v)) return 'encrypted';
  const ongoing = /in progress|en cours|durchgef.hrt|paused|pause|suspendu|angehalten/.test(v);
  const complete = /fully|used space only|int.gralement|enti.rement|compl.tement|complet|uniquement|vollst.ndig|nur verwendeter/.test(v);
  if (ongoing) return decrypt ? 'decrypting' : 'encrypting';
  if (complete) return decrypt ? 'decrypted' : 'encrypted';
  return 'unknown';
}

/** Off words first: "deaktiviert" contains "aktiviert", "désactivée" contains "activ". */
export function protectionStatus(value: string): Protection {
  const v = fold(value).trim();
  if (/\boff\b|d.sactiv|deaktiviert/.test(v)) return 'off';
  if (/\bon\b|activ|aktiviert/.test(v)) return 'on';
  return 'unknown';
}

function lockStatus(value: string): boolean | null {
  const v = fold(value).trim();
  if (/unlocked|d.verrouill|entsperrt/.test(v)) return false;
  if (/locked|verrouill|gesperrt/.test(v)) return true;
  return null;
}

function encryptionMethod(value: string): string | null {
  const v = fold(value).trim();
  if (v === '' || NONE_VALUE.test(v) || UNKNOWN_VALUE.test(v)) return null;
  return value.trim().slice(0, 64);
}

function isOsVolumeLabel(line: string): boolean {
  const v = fold(line);
  return /os volume|syst.me d.exploitation|betriebssystem/.test(v);
}

/** True when the text is manage-bde -status output in one of the languages read here. */
export function looksLikeManageBde(text: string): boolean {
  const lines = stripBom(text).split(/\r?\n/);
  const hasVolume = lines.some((line) => VOLUME_HEADER.test(line.trim()) && !/^\s/.test(line));
  const hasLabel = lines.some((line) => {
    const label = /^\s+([^:]+?)\s*:/.exec(line)?.[1];
    return label !== undefined && LABELS.some(([field, re]) => field === 'conversion' && re.test(fold(label).trim()));
  });
  return hasVolume && hasLabel;
}

interface Block {
  id: string;
  os: boolean;
  values: Partial<Record<Field, string>>;
}

export function parseManageBde(text: string, options: WindowsParseOptions = {}): EncryptionSection {
  const lines = stripBom(text).split(/\r?\n/);
  const blocks: Block[] = [];
  let current: Block | undefined;
  for (const line of lines) {
    const header = /^\s/.test(line) ? null : VOLUME_HEADER.exec(line.trim());
    if (header?.[1]) {
      current = { id: header[1].replace(/\\$/, ''), os: false, values: {} };
      blocks.push(current);
      continue;
    }
    if (!current) continue;
    if (/^\[.*\]$/.test(line.trim())) {
      if (isOsVolumeLabel(line)) current.os = true;
      continue;
    }
    const pair = /^\s+([^:]+?)\s*:\s*(.*)$/.exec(line);
    if (!pair?.[1]) continue;
    const label = fold(pair[1]).trim();
    const field = LABELS.find(([, re]) => re.test(label))?.[0];
    if (field && current.values[field] === undefined) current.values[field] = (pair[2] ?? '').trim();
  }

  if (blocks.length === 0) {
    const hint = firstLine(text);
    return unknownSection(hint ? `manage-bde: no volume in the output ("${hint}")` : 'manage-bde: empty output');
  }
  const systemDrive = options.systemDrive ?? 'C:';
  // The "[OS Volume]" line names the Windows volume; the drive letter is only a fallback.
  const anyOsLabel = blocks.some((block) => block.os);
  const volumes: Volume[] = [];
  for (const block of blocks) {
    if (block.values.conversion === undefined && block.values.protection === undefined && block.values.lock === undefined) {
      return unknownSection(`manage-bde: volume ${block.id} has no status line in a language this parser reads`);
    }
    const letter = /^[a-z]:$/i.test(block.id) ? block.id.toUpperCase() : null;
    const fallback = lockedFallback(
      conversionStatus(block.values.conversion ?? ''),
      protectionStatus(block.values.protection ?? ''),
      lockStatus(block.values.lock ?? ''),
    );
    volumes.push({
      id: letter ?? block.id,
      mountPoint: letter,
      system: anyOsLabel ? block.os : letter !== null && sameDrive(letter, systemDrive),
      technology: 'bitlocker',
      status: fallback.status,
      percent: parsePercent(block.values.percent),
      protection: reconcileProtection(fallback.status, fallback.protection),
      method: encryptionMethod(block.values.method ?? ''),
    });
  }
  return volumesSection(volumes);
}
