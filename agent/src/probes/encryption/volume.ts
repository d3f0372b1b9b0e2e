import type { EncryptionSection, Volume } from '@vigie/shared';

/** Helpers every encryption parser shares, so each states only what is specific to its tool. */

export type VolumeStatus = Volume['status'];
export type Protection = Volume['protection'];

export function unknownSection(reason: string): EncryptionSection {
  return { unknown: true, reason: reason.slice(0, 2000) };
}

/** The facts schema caps a section at 256 volumes; more than that is not a laptop we can describe. */
export function volumesSection(volumes: Volume[]): EncryptionSection {
  if (volumes.length > 256) return unknownSection(`${volumes.length} volumes reported; more than the 256 a report can hold`);
  return { volumes };
}

/**
 * A decrypted volume is never protected. Windows caches ProtectionStatus and
 * can report "on" for a drive whose BitLocker was turned off
 * (https://github.com/osquery/osquery/pull/8931); believing it would pass a
 * policy on a plain-text disk.
 */
export function reconcileProtection(status: VolumeStatus, protection: Protection): Protection {
  return status === 'decrypted' ? 'off' : protection;
}

/** "100,0 %", "3.5%", 41 → number in 0..100; "Inconnu%", "" or garbage → null. */
export function parsePercent(value: unknown): number | null {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 && value <= 100 ? value : null;
  if (typeof value !== 'string') return null;
  const match = /(\d+(?:[.,]\d+)?)\s*%?/.exec(value.trim());
  if (!match?.[1]) return null;
  const n = Number(match[1].replace(',', '.'));
  return Number.isFinite(n) && n >= 0 && n <= 100 ? n : null;
}

/**
 * Lower-cases and strips accents so "État", "Etat" and a mis-decoded "\uFFFDtat"
 * compare alike: manage-bde writes in the console's OEM code page, which
 * arrives here as replacement characters, so patterns use "." where a letter
 * carries an accent.
 */
export function fold(text: string): string {
  return text
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[\u00a0\u2000-\u200b]/g, ' ')
    .replace(/[\u2018\u2019]/g, "'");
}

/** Strips a UTF-8 byte-order mark, which PowerShell may put before its JSON. */
export function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** Parses JSON without throwing; PowerShell returns one object for one volume, an array for several. */
export function parseJsonList(text: string): { ok: true; items: unknown[] } | { ok: false; reason: string } {
  const trimmed = stripBom(text).trim();
  if (trimmed === '') return { ok: false, reason: 'empty output' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(trimmed);
  } catch (err) {
    return { ok: false, reason: `not JSON: ${(err as Error).message}` };
  }
  if (Array.isArray(parsed)) return { ok: true, items: parsed };
  if (parsed !== null && typeof parsed === 'object') return { ok: true, items: [parsed] };
  return { ok: false, reason: 'JSON is neither an object nor an array' };
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

export function firstLine(text: string, max = 200): string {
  const line = stripBom(text).trim().split(/\r?\n/)[0] ?? '';
  return line.length > max ? `${line.slice(0, max)}…` : line;
}
