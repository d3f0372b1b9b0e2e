import { createHash } from 'node:crypto';
import { factsHash, recordListChanges, type Facts, type PartialFacts } from '@vigie/shared';
import { CLOSE_ARRAY, CLOSE_OBJECT, COLON, COMMA, isDelimiter, OPEN_ARRAY, OPEN_OBJECT, QUOTE, valueEnd } from './json-scan';

/**
 * The canonical JSON that shared's factsHash hashes (safe-stable-stringify: keys
 * sorted, undefined members left out), made fast for the collector's hot path:
 *
 * - objects are re-built with their keys in sorted order and handed to the native
 *   JSON.stringify, which is several times faster than stringifying in JavaScript;
 *   the sorted key order is remembered per object shape (the same key list), so a
 *   report's 300 software items sort their keys once;
 * - the result for each object is memoised by identity (a WeakMap), so the facts
 *   the store just hashed cost nothing when the timeline compares them, nor when
 *   the next report compares against them. Facts are never mutated once parsed,
 *   which is what makes the memo safe;
 * - the SHA-256 is node:crypto's, not shared's pure-JavaScript one.
 *
 * Only plain JSON data is expected (what JSON.parse and zod give). Anything else
 * (a toJSON method, a class instance, a bigint, a cycle, integer-like keys, which
 * the engine orders on its own) is not canonicalised here: canonicalJson returns
 * null and canonicalFacts falls back to shared's factsHash, so the hash can never
 * drift from it.
 */

const memo = new WeakMap<object, string>();
/** SHA-256 of the canonical text of whole facts, when computed elsewhere (the frame-parsing worker) or already once. */
const hashes = new WeakMap<object, string>();
/** Sorted key order per shape; null when a key is integer-like (the engine puts those first whatever we do). */
const sortedKeys = new Map<string, string[] | null>();
/** A bound on remembered shapes: facts have a handful; hostile input must not grow it forever. */
const MAX_SHAPES = 1000;
/** Keys the engine treats as array indices and always enumerates first, in numeric order. */
const INTEGER_KEY = /^(0|[1-9]\d*)$/;

class NotPlain extends Error {}

function sortedClone(value: unknown, depth: number): unknown {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'bigint' || typeof value === 'symbol' || typeof value === 'function') throw new NotPlain();
    return value;
  }
  if (depth > 200) throw new NotPlain();
  if (Array.isArray(value)) {
    const out = new Array<unknown>(value.length);
    for (let i = 0; i < value.length; i++) out[i] = sortedClone(value[i], depth + 1);
    return out;
  }
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) throw new NotPlain();
  const obj = value as Record<string, unknown>;
  if (typeof obj.toJSON === 'function') throw new NotPlain();
  const keys = Object.keys(obj);
  // JSON, not a join: no key can hold the separator, so two key lists never share a shape.
  const shape = JSON.stringify(keys);
  let order = sortedKeys.get(shape);
  if (order === undefined) {
    order = keys.some((k) => INTEGER_KEY.test(k)) ? null : [...keys].sort();
    if (sortedKeys.size < MAX_SHAPES) sortedKeys.set(shape, order);
  }
  if (order === null) throw new NotPlain();
  const out: Record<string, unknown> = {};
  for (const k of order) {
    const v = obj[k];
    if (v === undefined || typeof v === 'function' || typeof v === 'symbol') continue;
    out[k] = sortedClone(v, depth + 1);
  }
  return out;
}

/**
 * Whether plain JSON.stringify already gives the canonical text: every object plain, its keys
 * in ascending order (validated facts are: shared's canonicalObject), nothing JSON would treat
 * specially. A walk without allocating, several times cheaper than the sorted clone.
 */
function inCanonicalOrder(value: unknown, depth: number): boolean {
  // A number JSON cannot write back (1e400 parses to Infinity, written as null) is not plain data.
  if (typeof value === 'number') return Number.isFinite(value);
  if (value === null || typeof value !== 'object') return typeof value !== 'bigint' && typeof value !== 'symbol' && typeof value !== 'function';
  if (depth > 200) return false;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (!inCanonicalOrder(value[i], depth + 1)) return false;
    return true;
  }
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) return false;
  const obj = value as Record<string, unknown>;
  if (typeof obj.toJSON === 'function') return false;
  let last: string | null = null;
  // for-in on a plain object: own enumerable keys in the engine's order (integer-like first).
  for (const k in obj) {
    if (last !== null && !(last < k)) return false;
    last = k;
    const v = obj[k];
    if (typeof v === 'function' || typeof v === 'symbol') return false;
    if (!inCanonicalOrder(v, depth + 1)) return false;
  }
  return true;
}

/**
 * Canonical JSON of a value: `undefined` for what JSON leaves out (undefined, a
 * function), null when the value is not plain JSON data (see above).
 */
export function canonicalJson(value: unknown): string | undefined | null {
  if (value === undefined || typeof value === 'function' || typeof value === 'symbol') return undefined;
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'bigint') return null;
    return JSON.stringify(value);
  }
  const known = memo.get(value);
  if (known !== undefined) return known;
  let text: string;
  try {
    const ordered = inCanonicalOrder(value, 0);
    text = JSON.stringify(ordered ? value : sortedClone(value, 0));
  } catch (e) {
    if (e instanceof NotPlain || e instanceof RangeError) return null;
    throw e;
  }
  memo.set(value, text);
  return text;
}

/** The canonical text of each element of a list built by parseArraySharing: the next report compares against these. */
const elementTexts = new WeakMap<readonly unknown[], readonly (string | null | undefined)[]>();

/** Plain JSON.stringify per object, memoised: a cheap equality test between two reports' sections. */
const native = new WeakMap<object, string>();

function nativeJson(value: object): string {
  let text = native.get(value);
  if (text === undefined) {
    text = JSON.stringify(value);
    native.set(value, text);
  }
  return text;
}

/**
 * Canonical JSON of facts, built from each section's own canonical text (so the
 * sections' memo entries serve the timeline), and its SHA-256, equal to factsHash.
 *
 * With `previous` (the facts the device had), a section whose plain JSON is the
 * same text as the previous one's has the same content, so it takes the previous
 * section's canonical text instead of computing it: a report that changes little
 * costs one native JSON.stringify and one hash. (Validation gives every object its
 * schema's key order, so equal content gives equal text.)
 */
export function canonicalFacts(facts: Facts | PartialFacts, previous?: Facts | null): { json: string; hash: string } {
  if (previous && !memo.has(facts)) reuseUnchanged(facts as Record<string, unknown>, previous as Record<string, unknown>);
  // Not plain data: shared's own code, slower but the reference.
  return canonicalWithHash(facts) ?? { json: JSON.stringify(facts), hash: factsHash(facts) };
}

function canonicalWithHash(facts: object): { json: string; hash: string } | null {
  let json = memo.get(facts);
  if (json === undefined) {
    const text = canonicalTop(facts as Record<string, unknown>);
    if (text === null) return null;
    json = text;
    memo.set(facts, json);
  }
  let hash = hashes.get(facts);
  if (hash === undefined) {
    hash = sha256(json);
    hashes.set(facts, hash);
  }
  return { json, hash };
}

/**
 * Where each section's canonical text sits in the facts' canonical JSON (as canonicalTop lays it
 * out), so the facts can be rebuilt from the text section by section (factsFromCanonical). Null
 * when canonicalFacts did not take the fast path for these facts.
 */
export function canonicalSections(facts: object): [string, number, number][] | null {
  if (!memo.has(facts)) return null;
  const obj = facts as Record<string, unknown>;
  const out: [string, number, number][] = [];
  let at = 1; // after '{'
  for (const key of Object.keys(obj).sort()) {
    const text = canonicalJson(obj[key]);
    if (text === null) return null;
    if (text === undefined) continue;
    if (out.length > 0) at += 1; // ','
    const start = at + JSON.stringify(key).length + 1; // '"key":'
    out.push([key, start, start + text.length]);
    at = start + text.length;
  }
  return out;
}

/**
 * Facts rebuilt from their canonical JSON and the sections' places in it: each section parsed
 * from its own slice, which is its canonical text, so the memo needs no re-serialising nor
 * re-hashing (the hash was computed where the text was).
 *
 * With `previous` (the device's stored facts), what did not change is shared with it: a section
 * whose text is the previous one's is the previous object, not parsed again, and in a section that
 * changed, each array element equal to the previous array's is the previous element. A report that
 * updates one application thus has one new software item, not 300, and everything memoised per
 * item downstream (catalog verdicts, licenses entries, timeline labels) is found again.
 */
export function factsFromCanonical(json: string, hash: string, sections: readonly [string, number, number][], previous?: Facts | null): Facts {
  const facts: Record<string, unknown> = {};
  const prev = previous as unknown as Record<string, unknown> | null | undefined;
  for (const [key, start, end] of sections) {
    const text = json.slice(start, end);
    const before = prev?.[key];
    let value: unknown;
    if (typeof before === 'object' && before !== null && memo.get(before) === text) value = before;
    else value = parseCanonical(text, before);
    facts[key] = value;
  }
  memo.set(facts, json);
  hashes.set(facts, hash);
  return facts as unknown as Facts;
}

/**
 * For facts built another way (a delta applied on the previous facts): in each section that is
 * not the previous object, the elements equal to the previous section's are made those elements,
 * as factsFromCanonical does. Only for sections just parsed, which nobody else holds yet.
 */
export function shareUnchangedElements(facts: Facts, previous: Facts | null): void {
  if (!previous) return;
  const next = facts as unknown as Record<string, unknown>;
  const prev = previous as unknown as Record<string, unknown>;
  for (const key of Object.keys(next)) {
    const section = next[key];
    const before = prev[key];
    if (section !== before && isPlainObject(section) && isPlainObject(before) && !memo.has(section)) shareElements(section, before);
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/** How far the walk below looks ahead to find its place again after installs or removals. */
const RESYNC_WINDOW = 8;

/**
 * Walks two lists side by side and says, for each element of the next one, which element of the
 * previous one it equals (-1: none). The agents list software in a stable order, so an install or
 * a removal shifts the rest: after a mismatch the walk looks a few elements ahead in both lists to
 * find its place again.
 */
function alignElements(nextLength: number, beforeLength: number, equal: (i: number, j: number) => boolean): Int32Array {
  const match = new Int32Array(nextLength).fill(-1);
  let j = 0;
  for (let i = 0; i < nextLength && j < beforeLength; i++) {
    if (equal(i, j)) {
      match[i] = j++;
      continue;
    }
    // Removed before this element: it is further on in the previous list.
    let found = -1;
    for (let k = j + 1; k < Math.min(beforeLength, j + 1 + RESYNC_WINDOW); k++) {
      if (equal(i, k)) {
        found = k;
        break;
      }
    }
    if (found >= 0) {
      match[i] = found;
      j = found + 1;
      continue;
    }
    // Installed here: the previous element comes further on in this list, and the walk meets it there.
    let inserted = false;
    for (let k = i + 1; k < Math.min(nextLength, i + 1 + RESYNC_WINDOW); k++) {
      if (equal(k, j)) {
        inserted = true;
        break;
      }
    }
    // Otherwise this element replaced the previous one (an update).
    if (!inserted) j++;
  }
  return match;
}

/**
 * In a section just parsed (a delta's), each element of an array member that equals an element
 * of the same member of the previous section is replaced by that element (alignElements). Only
 * flat elements are compared, field by field, which costs far less than parsing them did.
 */
function shareElements(section: Record<string, unknown>, previous: Record<string, unknown>): void {
  for (const key in section) {
    const next = section[key];
    const before = previous[key];
    if (!Array.isArray(next) || !Array.isArray(before)) continue;
    const match = alignElements(next.length, before.length, (i, j) => flatEqual(next[i], before[j]));
    const kept = new Uint8Array(before.length);
    const added: unknown[] = [];
    for (let i = 0; i < next.length; i++) {
      const j = match[i] as number;
      if (j >= 0) {
        next[i] = before[j];
        kept[j] = 1;
      } else added.push(next[i]);
    }
    recordListChanges(next, before, added, before.filter((_, j) => kept[j] === 0));
  }
}

/** A value parsed from its canonical text, remembering that text as its canonical JSON. */
function parseRemembered(text: string): unknown {
  const value = JSON.parse(text) as unknown;
  if (typeof value === 'object' && value !== null) {
    memo.set(value, text);
    native.set(value, text);
  }
  return value;
}

/**
 * An array element parsed from its canonical text, remembering that text as a fresh string: the
 * element may be shared by the device's later facts for a long time, and a slice would keep this
 * report's whole text alive with it (one per report, for a device that changes an item each time).
 * The parse of canonical text serialises back to the same text.
 */
function parseElement(slice: string): unknown {
  const value = JSON.parse(slice) as unknown;
  if (typeof value === 'object' && value !== null) {
    const text = JSON.stringify(value);
    memo.set(value, text);
    native.set(value, text);
  }
  return value;
}

/**
 * A section parsed from its canonical text, sharing with the previous section the elements of its
 * arrays whose canonical text is unchanged: only the elements that changed are parsed (a report
 * that updates one application parses one software item, not 300, which was most of the main
 * thread's cost of a changed report). The text is canonical JSON the worker validated, so it is
 * well formed; anything unexpected is parsed whole.
 */
function parseCanonical(text: string, before: unknown): unknown {
  if (!isPlainObject(before) || text.length < 3 || text.charCodeAt(0) !== OPEN_OBJECT) return parseRemembered(text);
  const section: Record<string, unknown> = {};
  let at = 1;
  for (;;) {
    const keyEnd = valueEnd(text, at);
    if (keyEnd < 0 || text.charCodeAt(at) !== QUOTE || text.charCodeAt(keyEnd) !== COLON) return parseRemembered(text);
    const key = JSON.parse(text.slice(at, keyEnd)) as string;
    // A key JSON.parse would make an own property but an assignment would not.
    if (key === '__proto__') return parseRemembered(text);
    at = keyEnd + 1;
    const previous = before[key];
    let end: number;
    if (Array.isArray(previous) && text.charCodeAt(at) === OPEN_ARRAY) {
      const shared = parseArraySharing(text, at, previous);
      if (!shared) return parseRemembered(text);
      [section[key], end] = [shared.list, shared.end];
    } else {
      end = valueEnd(text, at);
      if (end < 0) return parseRemembered(text);
      section[key] = parseRemembered(text.slice(at, end));
    }
    const next = text.charCodeAt(end);
    if (next === CLOSE_OBJECT && end === text.length - 1) break;
    if (next !== COMMA) return parseRemembered(text);
    at = end + 1;
  }
  memo.set(section, text);
  native.set(section, text);
  return section;
}

/**
 * The array whose text opens at `start`, its elements matched against the previous array's by
 * their canonical text: at each place, the previous element in step (or one a few further on,
 * after removals) whose text the array's text continues with is taken as it is, without finding
 * where the element ends nor parsing it. An element no previous one matches is parsed; it replaced
 * the previous element in step (an update) unless that one follows within a few elements (an
 * install). The same walk as alignElements, on text.
 *
 * Most reports change a few elements of 300, so the walk first takes the longest run of previous
 * elements the array starts with (a binary search, each step one memory comparison), and after
 * each element it parses, tries the rest of the previous array in one comparison.
 */
function parseArraySharing(text: string, start: number, previous: readonly unknown[]): { list: unknown[]; end: number } | null {
  const previousTexts = elementTexts.get(previous) ?? previous.map((element) => (typeof element === 'object' && element !== null ? canonicalJson(element) : null));
  const continuesWith = (at: number, k: number): boolean => {
    const t = previousTexts[k];
    // A slice compared with === is a memory comparison, several times faster than startsWith's loop.
    return typeof t === 'string' && isDelimiter(text.charCodeAt(at + t.length)) && text.slice(at, at + t.length) === t;
  };
  const list: unknown[] = [];
  const texts: (string | null | undefined)[] = [];
  const added: unknown[] = [];
  const removed: unknown[] = [];
  let at = start + 1;
  if (text.charCodeAt(at) === CLOSE_ARRAY) {
    // A copy: the record must not hold the previous list itself (a chain of records would keep every list before alive).
    recordListChanges(list, previous, added, [...previous]);
    return { list, end: at + 1 };
  }
  const runs = previous.length > 0 ? previousRuns(previous, previousTexts) : null;
  const keep = (from: number, to: number) => {
    for (let k = from; k < to; k++) {
      list.push(previous[k]);
      texts.push(previousTexts[k]);
    }
  };
  const done = (end: number) => {
    memo.set(list, text.slice(start, end));
    recordListChanges(list, previous, added, removed);
    elementTexts.set(list, texts);
    return { list, end };
  };
  let j = 0;
  if (runs) {
    // runs.offsets[m]: where previous element m starts in the previous array's text, just after the delimiter before it.
    const { arrayText, offsets } = runs;
    let low = 0;
    let high = previous.length;
    while (low < high) {
      const m = (low + high + 1) >> 1;
      if (text.slice(start, start + (offsets[m] as number)) === arrayText.slice(0, offsets[m])) low = m;
      else high = m - 1;
    }
    keep(0, low);
    // All of them, closing bracket included: the array is the previous one.
    if (low === previous.length) return done(start + arrayText.length);
    at = start + (offsets[low] as number);
    j = low;
  }
  for (;;) {
    let found = -1;
    for (let k = j; k < Math.min(previous.length, j + 1 + RESYNC_WINDOW); k++) {
      if (continuesWith(at, k)) {
        found = k;
        break;
      }
    }
    let end: number;
    if (found >= 0) {
      list.push(previous[found]);
      texts.push(previousTexts[found]);
      end = at + (previousTexts[found] as string).length;
      for (; j < found; j++) removed.push(previous[j]);
      j = found + 1;
    } else {
      end = valueEnd(text, at);
      if (end < 0) return null;
      const element = parseElement(text.slice(at, end));
      list.push(element);
      texts.push(typeof element === 'object' && element !== null ? memo.get(element) : null);
      added.push(element);
      if (j < previous.length && !followsWithin(text, end, (k) => continuesWith(k, j))) removed.push(previous[j++]);
      // The rest of the previous array, closing bracket included, right after this element.
      if (runs && j < previous.length && text.charCodeAt(end) === COMMA) {
        const rest = runs.arrayText.length - (runs.offsets[j] as number);
        if (text.slice(end + 1, end + 1 + rest) === runs.arrayText.slice(runs.offsets[j])) {
          keep(j, previous.length);
          return done(end + 1 + rest);
        }
      }
    }
    const next = text.charCodeAt(end);
    if (next === CLOSE_ARRAY) {
      for (; j < previous.length; j++) removed.push(previous[j]);
      return done(end + 1);
    }
    if (next !== COMMA) return null;
    at = end + 1;
  }
}

/**
 * The previous array's canonical text and where each element starts in it (and, last, its length):
 * null unless every element is an object with its canonical text known.
 */
function previousRuns(previous: readonly unknown[], texts: readonly (string | null | undefined)[]): { arrayText: string; offsets: Int32Array } | null {
  const offsets = new Int32Array(previous.length + 1);
  let at = 1;
  for (let k = 0; k < texts.length; k++) {
    const t = texts[k];
    if (typeof t !== 'string') return null;
    offsets[k] = at;
    at += t.length + 1;
  }
  offsets[previous.length] = at;
  const known = memo.get(previous);
  const arrayText = known !== undefined && known.length === at ? known : `[${(texts as string[]).join(',')}]`;
  return { arrayText, offsets };
}

/** Whether one of the few elements after `from` (a delimiter) satisfies `is`, given its start. */
function followsWithin(text: string, from: number, is: (at: number) => boolean): boolean {
  let at = from;
  for (let n = 0; n < RESYNC_WINDOW && text.charCodeAt(at) === COMMA; n++) {
    if (is(at + 1)) return true;
    at = valueEnd(text, at + 1);
    if (at < 0) return false;
  }
  return false;
}

function flatEqual(a: unknown, b: unknown): boolean {
  if (!isPlainObject(a) || !isPlainObject(b)) return false;
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  for (const k of keys) {
    const v = a[k];
    if ((typeof v === 'object' && v !== null) || v !== b[k]) return false;
  }
  return true;
}

/**
 * The new facts with each section whose canonical text is the previous facts' own
 * replaced by the previous section object, so "unchanged" is an identity test
 * downstream (the timeline, the licenses inventory, the evaluation's memo).
 * Facts are never mutated once parsed, which makes sharing safe.
 */
export function shareUnchangedSections(facts: Facts, previous: Facts | null): Facts {
  if (!previous) return facts;
  const next = facts as unknown as Record<string, unknown>;
  const prev = previous as unknown as Record<string, unknown>;
  let out: Record<string, unknown> | null = null;
  for (const key of Object.keys(next)) {
    const a = next[key];
    const b = prev[key];
    if (a === b || typeof a !== 'object' || a === null || typeof b !== 'object' || b === null) continue;
    const textA = canonicalJson(a);
    if (textA === null || textA === undefined || textA !== canonicalJson(b)) continue;
    out ??= { ...next };
    out[key] = b;
  }
  if (!out) return facts;
  const json = memo.get(facts);
  const hash = hashes.get(facts);
  if (json !== undefined) memo.set(out, json);
  if (hash !== undefined) hashes.set(out, hash);
  return out as unknown as Facts;
}

function reuseUnchanged(next: Record<string, unknown>, previous: Record<string, unknown>): void {
  for (const key of Object.keys(next)) {
    const a = next[key];
    const b = previous[key];
    if (a === b || typeof a !== 'object' || a === null || typeof b !== 'object' || b === null || memo.has(a)) continue;
    const known = memo.get(b);
    if (known !== undefined && nativeJson(a) === nativeJson(b)) memo.set(a, known);
  }
}

/**
 * Facts just parsed from text the store wrote canonically: JSON.parse keeps the
 * sorted key order, so each section's plain JSON.stringify is its canonical text.
 * The stored hash confirms it (text written before the store wrote canonical JSON
 * fails the check and is canonicalised the slow way, when needed). Returns whether
 * the facts were primed.
 */
export function primeStoredFacts(facts: Facts, storedHash: string): boolean {
  const obj = facts as unknown as Record<string, unknown>;
  const parts: string[] = [];
  const texts: [object, string][] = [];
  for (const key of Object.keys(obj).sort()) {
    const v = obj[key];
    if (v === undefined) continue;
    const text = JSON.stringify(v);
    if (typeof v === 'object' && v !== null) texts.push([v, text]);
    parts.push(`${JSON.stringify(key)}:${text}`);
  }
  const json = `{${parts.join(',')}}`;
  if (sha256(json) !== storedHash) return false;
  memo.set(facts, json);
  hashes.set(facts, storedHash);
  for (const [v, text] of texts) {
    memo.set(v, text);
    native.set(v, text);
  }
  return true;
}

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

function canonicalTop(obj: Record<string, unknown>): string | null {
  const proto = Object.getPrototypeOf(obj) as unknown;
  if ((proto !== Object.prototype && proto !== null) || typeof obj.toJSON === 'function') return null;
  const keys = Object.keys(obj);
  if (keys.some((k) => INTEGER_KEY.test(k))) return null;
  const parts: string[] = [];
  for (const key of keys.sort()) {
    const text = canonicalJson(obj[key]);
    if (text === null) return null;
    if (text !== undefined) parts.push(`${JSON.stringify(key)}:${text}`);
  }
  return `{${parts.join(',')}}`;
}
