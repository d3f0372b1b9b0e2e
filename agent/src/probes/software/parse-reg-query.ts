import type { SoftwareItem, SoftwareSection } from '@vigie/shared';
import { isoDateFromYyyymmdd, item, softwareSection, splitLines } from './items';

/** One registry key printed by `reg query /s`: its full path and its values by name. */
export interface RegKey {
  path: string;
  values: Map<string, string>;
}

// A value line: four spaces, the name, four spaces, the type, and (unless the
// value is empty) four spaces and the data. Names and data may contain single
// spaces ("Connection Manager", "C:\Program Files\..."), so the separators are
// the four-space runs around the REG_ type, not any whitespace.
const VALUE_LINE = /^ {4}(.+?) {4}(REG_[A-Z_]+)(?: {4}(.*))?$/;

/**
 * Splits `reg query <key> /s` output into keys. The type names (REG_SZ...) and
 * the key paths are not localised; only the name of the default value is
 * ("(Default)", "(par défaut)", "(Standard)", "(默认)"), and we never read it.
 *
 *   HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall\{12B6D916-...}
 *       DisplayVersion    REG_SZ    40.28.30105
 *       InstallDate    REG_SZ    20211019
 *       Comments    REG_SZ
 *       SystemComponent    REG_DWORD    0x1
 *       DisplayName    REG_SZ    Microsoft .NET Host - 5.0.7 (x64)
 */
export function parseRegKeys(text: string): RegKey[] {
  const keys: RegKey[] = [];
  let current: RegKey | null = null;
  for (const rawLine of splitLines(text)) {
    const line = rawLine.replace(/\s+$/, '');
    if (line === '') continue;
    if (/^HKEY_[A-Z_]+(\\|$)/.test(line)) {
      current = { path: line, values: new Map() };
      keys.push(current);
      continue;
    }
    const match = VALUE_LINE.exec(rawLine.replace(/\r$/, ''));
    if (match && current) {
      const [, name, , data] = match as unknown as [string, string, string, string | undefined];
      current.values.set(name.trim(), (data ?? '').trim());
    }
  }
  return keys;
}

const UNINSTALL_ENTRY = /\\Uninstall\\([^\\]+)$/i;
const UPDATE_RELEASE_TYPES = new Set(['update', 'hotfix', 'security update', 'update rollup', 'service pack']);
// English names as Windows Update and Office write them; localised names of
// the same entries carry ParentKeyName or ReleaseType, which we check first.
const UPDATE_NAME = /^(security update|update|hotfix|critical update) for |\(KB\d{6,7}\)/i;

function dword(value: string | undefined): number {
  if (value === undefined) return 0;
  const n = Number.parseInt(value, value.startsWith('0x') ? 16 : 10);
  return Number.isNaN(n) ? 0 : n;
}

/** Why an Uninstall entry is not a program a person installed, or null when it is one. */
export function skipReason(key: RegKey): string | null {
  const v = key.values;
  const name = v.get('DisplayName') ?? '';
  if (name.trim() === '') return 'no DisplayName';
  if (dword(v.get('SystemComponent')) !== 0) return 'system component';
  if ((v.get('ParentKeyName') ?? '').trim() !== '') return 'update of another product';
  if (UPDATE_RELEASE_TYPES.has((v.get('ReleaseType') ?? '').trim().toLowerCase())) return 'update';
  const entry = UNINSTALL_ENTRY.exec(key.path)?.[1] ?? '';
  if (/^KB\d+/i.test(entry) || UPDATE_NAME.test(name)) return 'update';
  return null;
}

function scopeOf(path: string): SoftwareItem['scope'] {
  return /^HKEY_(USERS|CURRENT_USER)\\/i.test(path) ? 'user' : 'machine';
}

/**
 * Installed programs from `reg query ...\CurrentVersion\Uninstall /s`, the
 * list "Apps & features" shows: entries without DisplayName, system
 * components and updates are left out. Several outputs may be concatenated
 * (HKLM, WOW6432Node, each user hive); the scope comes from each key's hive.
 */
export function parseRegQuery(text: string): SoftwareSection {
  const keys = parseRegKeys(text);
  if (keys.length === 0) {
    return { unknown: true, reason: 'no registry key in the reg query output' };
  }
  const entries = keys.filter((k) => UNINSTALL_ENTRY.test(k.path));
  if (entries.length === 0 && !keys.some((k) => /\\Uninstall$/i.test(k.path))) {
    return { unknown: true, reason: 'the reg query output has no ...\\Uninstall key' };
  }
  const items: SoftwareItem[] = [];
  for (const key of entries) {
    if (skipReason(key) !== null) continue;
    items.push(
      item({
        name: key.values.get('DisplayName') ?? '',
        version: key.values.get('DisplayVersion'),
        publisher: key.values.get('Publisher'),
        source: 'registry',
        scope: scopeOf(key.path),
        installedAt: isoDateFromYyyymmdd(key.values.get('InstallDate')),
      }),
    );
  }
  return softwareSection(items);
}

export function looksLikeRegQuery(text: string): boolean {
  return /^HKEY_[A-Z_]+\\[^\r\n]*\\Uninstall(\\|\r?$)/im.test(text) && /^ {4}\S.* {4}REG_[A-Z_]+/m.test(text);
}
