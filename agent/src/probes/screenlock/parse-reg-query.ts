/** One value line of `reg query`, with the key it was listed under. */
export interface RegValue {
  /** Full key path as reg.exe prints it, e.g. HKEY_USERS\S-1-5-21-...\Control Panel\Desktop */
  key: string;
  name: string;
  /** REG_SZ, REG_DWORD, REG_BINARY... */
  type: string;
  /** As printed: "600" for REG_SZ, "0x258" for REG_DWORD; "" when empty. */
  data: string;
}

const KEY_LINE = /^(HKEY_[A-Z_]+|HK(?:LM|CU|U|CR|CC))(\\.*)?$/;
// reg.exe separates name, type and data with four spaces; names may contain single spaces.
const VALUE_LINE = /^ {4}(.+?) {4}(REG_[A-Z_]+)(?: {4}(.*))?$/;

/*
 * `reg query "HKU\<SID>\Control Panel\Desktop"` (and the same with /v NAME):
 *
 *   HKEY_USERS\S-1-5-21-...-1630\Control Panel\Desktop
 *       ScreenSaveActive    REG_SZ    1
 *       ScreenSaveTimeOut    REG_SZ    300
 *       WallPaper    REG_SZ
 *
 *   HKEY_USERS\S-1-5-21-...-1630\Control Panel\Desktop\Colors
 *
 * Key and type names are not localised. A missing key or value prints only an
 * error on stderr ("ERROR: The system was unable to find the specified registry
 * key or value." / "ERREUR : ..." / "FEHLER: ...") and exits 1, so it yields no
 * values here. Several outputs may be concatenated: each value keeps its key.
 */
export function parseRegQuery(text: string): RegValue[] {
  const values: RegValue[] = [];
  let key: string | null = null;
  for (const line of text.split(/\r?\n/)) {
    const trimmed = line.trimEnd();
    if (KEY_LINE.test(trimmed)) {
      key = trimmed;
      continue;
    }
    // Not trimmed: an empty REG_SZ ends with the four-space separator.
    const m = VALUE_LINE.exec(line);
    if (m && key && m[1] && m[2]) values.push({ key, name: m[1], type: m[2], data: (m[3] ?? '').trim() });
  }
  return values;
}

/** True when the text has a registry key line followed by at least one value line. */
export function isRegQuery(text: string): boolean {
  return parseRegQuery(text).length > 0;
}

/** A DWORD (0x hex) or a REG_SZ holding decimal digits, as Windows stores these timeouts. */
export function regNumber(value: RegValue | undefined): number | null {
  if (!value) return null;
  const data = value.data.trim();
  if (/^0x[0-9a-f]+$/i.test(data)) return parseInt(data.slice(2), 16);
  if (/^\d+$/.test(data)) return Number(data);
  return null;
}

/** The value NAME under a key whose path ends with keySuffix (case-insensitive, as the registry is). */
export function findRegValue(values: readonly RegValue[], keySuffix: string, name: string): RegValue | undefined {
  const suffix = keySuffix.toLowerCase();
  const wanted = name.toLowerCase();
  return values.find((v) => v.key.toLowerCase().endsWith(suffix) && v.name.toLowerCase() === wanted);
}
