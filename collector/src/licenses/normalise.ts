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

/** Longest pattern a rule may carry: product rules are short; a long one is a mistake or an attack. */
export const PATTERN_MAX_LENGTH = 200;
/** Names, publishers and versions are cut to this before matching, which bounds every match's cost. */
export const MATCH_INPUT_MAX = 256;
/**
 * At most this many repeating quantifiers (*, +, {n,}, {n,m} with m > 1) in one pattern. Rules run
 * on the main thread with V8's backtracking engine: even without nesting, k adjacent repeats cost
 * about n^k on a failing input (three `\w*` over 256 characters took 4.7 s); two stay under 0.1 s.
 */
export const PATTERN_MAX_REPEATS = 2;

/**
 * A conservative guard against catastrophic backtracking (ReDoS), since rules are user-supplied
 * and run synchronously. Refuses what can backtrack exponentially — a repeated group that itself
 * holds a quantifier or an alternation (`(a+)+`, `(a|aa)*`), backreferences, lookarounds — and
 * caps length and the number of repeats. It may refuse some safe patterns (`(\d+\.)+`); product
 * rules never need those. Returns null when the pattern is acceptable, else why not.
 */
export function unsafePattern(source: string): string | null {
  if (source.length > PATTERN_MAX_LENGTH) return `the pattern is longer than ${PATTERN_MAX_LENGTH} characters`;
  interface Frame {
    quantified: boolean;
    alternation: boolean;
  }
  const stack: Frame[] = [{ quantified: false, alternation: false }];
  let repeats = 0;
  // The group the previous token closed, if it did: a quantifier right after applies to all of it.
  let lastGroup: Frame | null = null;
  let i = 0;
  /** Reads a quantifier at i: its max repeat count (Infinity, or 1 for ?), and its length; null if none. */
  const quantifierAt = (at: number): { max: number; length: number } | null => {
    const c = source[at];
    if (c === '*' || c === '+') return { max: Infinity, length: 1 };
    if (c === '?') return { max: 1, length: 1 };
    if (c === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(source.slice(at));
      if (!m) return null; // a literal brace outside unicode mode
      const max = m[2] === undefined ? Number(m[1]) : m[3] === '' ? Infinity : Number(m[3]);
      return { max, length: m[0].length };
    }
    return null;
  };
  while (i < source.length) {
    const c = source[i]!;
    const top = stack[stack.length - 1]!;
    const q = quantifierAt(i);
    if (q) {
      let len = q.length;
      if (source[i + len] === '?') len++; // lazy: same cost
      if (q.max > 1) {
        repeats++;
        if (lastGroup && (lastGroup.quantified || lastGroup.alternation)) return 'nested quantifiers: a repeated group holds a quantifier or an alternation (e.g. (a+)+ or (a|aa)*), which can backtrack exponentially';
      }
      top.quantified = true;
      lastGroup = null;
      i += len;
      continue;
    }
    lastGroup = null;
    if (c === '\\') {
      const n = source[i + 1] ?? '';
      if (/[1-9]/.test(n)) return 'backreferences (\\1 …) are not allowed';
      if (n === 'k' && source[i + 2] === '<') return 'named backreferences (\\k<name>) are not allowed';
      i += 2;
      continue;
    }
    if (c === '[') {
      let j = i + 1;
      if (source[j] === '^') j++;
      while (j < source.length && source[j] !== ']') j += source[j] === '\\' ? 2 : 1;
      i = j + 1;
      continue;
    }
    if (c === '(') {
      if (/^\(\?(=|!|<=|<!)/.test(source.slice(i, i + 4))) return 'lookarounds ((?=, (?!, (?<=, (?<!) are not allowed';
      stack.push({ quantified: false, alternation: false });
      if (source[i + 1] !== '?') i++;
      else if (source[i + 2] === ':') i += 3;
      else i = source.indexOf('>', i) + 1 || source.length; // a named group (?<name>
      continue;
    }
    if (c === ')') {
      const closed = stack.length > 1 ? stack.pop()! : { quantified: false, alternation: false };
      const parent = stack[stack.length - 1]!;
      // What the group holds is inside its parent too.
      parent.quantified = parent.quantified || closed.quantified;
      parent.alternation = parent.alternation || closed.alternation;
      lastGroup = closed;
      i++;
      continue;
    }
    if (c === '|') top.alternation = true;
    i++;
  }
  if (repeats > PATTERN_MAX_REPEATS) return `more than ${PATTERN_MAX_REPEATS} repeating quantifiers (*, +, {n,}); each one multiplies the matching cost`;
  return null;
}

/** Checks a rule's patterns compile and are safe to run; returns the problems as (field, message) pairs. */
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
      return;
    }
    const unsafe = unsafePattern(source);
    if (unsafe) errors.push({ path: field, message: `refused: ${unsafe}` });
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
        // A rule stored before patterns were vetted (or by an older collector) is skipped, never run.
        if (ruleErrors(rule).length > 0) return [];
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
    // Bounded inputs bound the regexes' cost (agents report whatever the machine holds).
    const matchName = name.slice(0, MATCH_INPUT_MAX);
    const matchPublisher = (item.publisher ?? '').slice(0, MATCH_INPUT_MAX);
    const matchVersion = item.version !== null ? item.version.slice(0, MATCH_INPUT_MAX) : null;
    for (const c of this.compiled) {
      if (c.rule.os !== null && c.rule.os !== os) continue;
      if (!c.name.test(matchName)) continue;
      if (c.publisher && !c.publisher.test(matchPublisher)) continue;
      let version = item.version;
      if (c.version) {
        const m = (matchVersion !== null ? c.version.exec(matchVersion) : null) ?? c.version.exec(matchName);
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

interface VersionPart {
  text: string;
  /** NaN when the part is not a number. */
  value: number;
}

const NO_PART: VersionPart = { text: '', value: NaN };
const VERSION_CACHE_LIMIT = 100_000;
const parsedVersions = new Map<string, VersionPart[]>();

function versionParts(version: string): VersionPart[] {
  let parts = parsedVersions.get(version);
  if (parts === undefined) {
    parts = version.split(/[.\-_ ]/).map((text) => {
      const value = Number(text);
      return { text, value: text !== '' && Number.isFinite(value) ? value : NaN };
    });
    if (parsedVersions.size >= VERSION_CACHE_LIMIT) parsedVersions.clear();
    parsedVersions.set(version, parts);
  }
  return parts;
}

/**
 * compareVersions, each version split and parsed once: re-applying a rule that folds a long tail
 * into one product compares the same few thousand versions millions of times.
 */
export function compareVersionsCached(a: string | null, b: string | null): number {
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  const pa = versionParts(a);
  const pb = versionParts(b);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? NO_PART;
    const y = pb[i] ?? NO_PART;
    const c = !Number.isNaN(x.value) && !Number.isNaN(y.value) ? x.value - y.value : x.text.localeCompare(y.text);
    if (c !== 0) return c;
  }
  return 0;
}
