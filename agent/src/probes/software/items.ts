import type { SoftwareItem, SoftwareSection } from '@vigie/shared';

/** Field limits of the shared schema: a value longer than this would make the whole report invalid. */
const MAX_NAME = 1024;
const MAX_TEXT = 1024;
export const MAX_ITEMS = 20000;

/** Trims a value and turns empty or placeholder values into null, cut to the schema's length. */
export function textOrNull(value: string | undefined | null, max = MAX_TEXT): string | null {
  if (value === undefined || value === null) return null;
  const trimmed = value.trim();
  if (trimmed === '' || trimmed === '(none)') return null;
  return trimmed.slice(0, max);
}

export function item(fields: {
  name: string;
  version?: string | null;
  publisher?: string | null;
  source: SoftwareItem['source'];
  scope: SoftwareItem['scope'];
  installedAt?: string | null;
}): SoftwareItem {
  return {
    name: fields.name.trim().slice(0, MAX_NAME),
    version: textOrNull(fields.version),
    publisher: textOrNull(fields.publisher),
    source: fields.source,
    scope: fields.scope,
    installedAt: fields.installedAt ?? null,
  };
}

/**
 * The same package is often listed twice (64- and 32-bit views of the
 * registry, i386 and amd64 flavours of a multiarch package); one line each is
 * enough for policy and keeps reports small.
 */
export function dedupe(items: readonly SoftwareItem[]): SoftwareItem[] {
  const seen = new Set<string>();
  const out: SoftwareItem[] = [];
  for (const it of items) {
    // NUL separates the fields (no package metadata holds one), SOH stands for null: no array and
    // no JSON escaping per item, which was ~1 MB of garbage per scan on a desktop's package list.
    const key = `${it.name}\0${it.version ?? '\u0001'}\0${it.publisher ?? '\u0001'}\0${it.source}\0${it.scope}\0${it.installedAt ?? '\u0001'}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(it);
  }
  return out;
}

/** Builds the section, or an unknown when the list would not fit the schema (a truncated list could hide software). */
export function softwareSection(items: readonly SoftwareItem[]): SoftwareSection {
  const unique = dedupe(items);
  if (unique.length > MAX_ITEMS) {
    return { unknown: true, reason: `${unique.length} software items, more than the ${MAX_ITEMS} a report can carry` };
  }
  return { items: unique };
}

/** "Debian Python Team <team+python@tracker.debian.org>" → "Debian Python Team": the address adds nothing to policy. */
export function withoutEmail(value: string): string {
  return value.replace(/\s*<[^>]*>\s*$/, '').trim();
}

/** Seconds since 1970 → ISO 8601; null for 0, garbage or out-of-range values. */
export function isoFromEpochSeconds(value: string): string | null {
  if (!/^\d{1,12}$/.test(value.trim())) return null;
  const seconds = Number(value);
  if (seconds <= 0) return null;
  const date = new Date(seconds * 1000);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

/** yyyymmdd → yyyy-mm-dd when it is a real calendar date; anything else → null. */
export function isoDateFromYyyymmdd(value: string | undefined): string | null {
  const match = /^(\d{4})(\d{2})(\d{2})$/.exec((value ?? '').trim());
  if (!match) return null;
  const [, y, m, d] = match as unknown as [string, string, string, string];
  const date = new Date(Date.UTC(Number(y), Number(m) - 1, Number(d)));
  if (date.getUTCFullYear() !== Number(y) || date.getUTCMonth() !== Number(m) - 1 || date.getUTCDate() !== Number(d)) {
    return null;
  }
  if (Number(y) < 1980) return null;
  return `${y}-${m}-${d}`;
}

export function splitLines(text: string): string[] {
  return text.split(/\r?\n/);
}
