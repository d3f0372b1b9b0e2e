import type { OsName } from '@vigie/shared';

/**
 * The software dictionary (like GLPI's): rules map raw installed entries (the DisplayName of a
 * Windows Uninstall key, a macOS app name, a package name) to a product with a normalised version.
 * Pure: the store and the evaluator both use it, compiled once per catalog version.
 */

export type RuleOs = 'windows' | 'macos' | 'linux';

export interface CatalogRule {
  id: number;
  /** Lower positions are tried first; the first matching rule wins. */
  position: number;
  /** Regular expression on the entry's name, case-insensitive. */
  namePattern: string;
  /** Regular expression on the publisher, case-insensitive; an entry without a publisher never matches it. */
  publisherPattern: string | null;
  os: RuleOs | null;
  product: string;
  /**
   * One capture group giving the normalised version. Tried on the raw version, then on the name
   * ("IntelliJ IDEA 2024.3" has build 243.x as its version); null keeps the raw version.
   */
  versionPattern: string | null;
  /** OS components, runtimes and drivers: not products to review or license. */
  ignore: boolean;
}

export type RuleInput = Omit<CatalogRule, 'id'>;

export interface RawSoftware {
  name: string;
  version: string | null;
  publisher: string | null;
}

export interface Normalised {
  product: string;
  version: string | null;
  ignored: boolean;
  /** The rule that matched; null: the entry is its own (unreviewed) product. */
  ruleId: number | null;
}

/** Checks a rule's patterns compile; returns the problems as (field, message) pairs. */
export function ruleErrors(rule: Partial<RuleInput>): { path: string; message: string }[] {
  const errors: { path: string; message: string }[] = [];
  const tryCompile = (field: 'namePattern' | 'publisherPattern' | 'versionPattern', source: string | null | undefined) => {
    if (source === null || source === undefined) return;
    try {
      const re = new RegExp(source, 'i');
      // A version pattern without a group would silently keep nothing.
      if (field === 'versionPattern' && new RegExp(`${source}|`).exec('')!.length < 2) errors.push({ path: field, message: 'needs one capture group: the normalised version' });
      void re;
    } catch (e) {
      errors.push({ path: field, message: (e as Error).message });
    }
  };
  tryCompile('namePattern', rule.namePattern);
  tryCompile('publisherPattern', rule.publisherPattern);
  tryCompile('versionPattern', rule.versionPattern);
  return errors;
}

interface Compiled {
  rule: CatalogRule;
  name: RegExp;
  publisher: RegExp | null;
  version: RegExp | null;
}

/** Collapses the spacing installers vary in, so "Foo  Bar " and "Foo Bar" are one product. */
function cleanName(name: string): string {
  return name.replace(/\s+/g, ' ').trim();
}

const CACHE_LIMIT = 200_000;

export class Normaliser {
  private readonly compiled: Compiled[];
  // Fleets repeat the same few thousand entries on every device: a rebuild classifies each once.
  private readonly cache = new Map<string, Normalised>();

  constructor(
    rules: readonly CatalogRule[],
    readonly catalogVersion: number,
  ) {
    this.compiled = [...rules]
      .sort((a, b) => a.position - b.position || a.id - b.id)
      .flatMap((rule) => {
        try {
          return [{ rule, name: new RegExp(rule.namePattern, 'i'), publisher: rule.publisherPattern ? new RegExp(rule.publisherPattern, 'i') : null, version: rule.versionPattern ? new RegExp(rule.versionPattern, 'i') : null }];
        } catch {
          // Rules are validated on the way in; one that slipped through (an older engine) is skipped, not fatal.
          return [];
        }
      });
  }

  normalise(item: RawSoftware, os: OsName | null): Normalised {
    const key = `${os ?? ''}\u0000${item.name}\u0000${item.publisher ?? ''}\u0000${item.version ?? ''}`;
    const hit = this.cache.get(key);
    if (hit) return hit;
    const result = this.classify(item, os);
    if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
    this.cache.set(key, result);
    return result;
  }

  private classify(item: RawSoftware, os: OsName | null): Normalised {
    const name = cleanName(item.name);
    for (const c of this.compiled) {
      if (c.rule.os !== null && c.rule.os !== os) continue;
      if (!c.name.test(name)) continue;
      if (c.publisher && !c.publisher.test(item.publisher ?? '')) continue;
      let version = item.version;
      if (c.version) {
        const m = (item.version !== null ? c.version.exec(item.version) : null) ?? c.version.exec(name);
        version = m?.[1] ?? item.version;
      }
      return { product: c.rule.product, version, ignored: c.rule.ignore, ruleId: c.rule.id };
    }
    return { product: name, version: item.version, ignored: false, ruleId: null };
  }
}

/**
 * One row per product on a device: the same product installed twice (two versions side by side,
 * a per-user and a per-machine copy) counts once, with its highest version.
 */
export function productsOnDevice(normaliser: Normaliser, items: readonly RawSoftware[], os: OsName | null): Map<string, { version: string | null; rawName: string; publisher: string | null }> {
  const out = new Map<string, { version: string | null; rawName: string; publisher: string | null }>();
  for (const item of items) {
    const n = normaliser.normalise(item, os);
    if (n.ignored) continue;
    const prev = out.get(n.product);
    if (!prev || compareVersions(n.version, prev.version) > 0) out.set(n.product, { version: n.version, rawName: item.name, publisher: item.publisher });
  }
  return out;
}

/** Compares dotted versions numerically where they are numbers ("10.2" > "9.9"); null is lowest. */
export function compareVersions(a: string | null, b: string | null): number {
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  const pa = a.split(/[.\-_ ]/);
  const pb = b.split(/[.\-_ ]/);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? '';
    const y = pb[i] ?? '';
    const nx = Number(x);
    const ny = Number(y);
    const c = x !== '' && y !== '' && Number.isFinite(nx) && Number.isFinite(ny) ? nx - ny : x.localeCompare(y);
    if (c !== 0) return c;
  }
  return 0;
}
