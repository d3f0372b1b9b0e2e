import { isAscii, isUtf8 } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { sectionNames, sectionSchemas, softwareItem, validateFullReportEnvelope, type ParseResult } from '@vigie/shared';
import { canonicalJson } from '../util/canonical-json';
import { sha256Hex } from '../util/crypto';
import { deflateFacts } from '../util/facts-column';
import { CLOSE_ARRAY, CLOSE_OBJECT, COLON, COMMA, OPEN_OBJECT, QUOTE, valueEnd } from '../util/json-scan';

/**
 * A full report read from its text on the parsing worker, without parsing its 45 KB as a whole.
 * Agents write their facts as canonical text (validated facts serialise in the schemas' key
 * order), so the facts are found in the frame by their brackets and:
 *
 * - when they are, byte for byte, the canonical text of the facts the collector holds for the
 *   device (same SHA-256), they are neither parsed nor validated again (an agent's first report
 *   after a reconnect: every agent after a collector restart);
 * - otherwise each section is validated against its schema, and each software item on its own:
 *   an item whose exact text was validated before (most of a device's 300 applications, and the
 *   same applications across the fleet) is not parsed nor validated again. The canonical text is
 *   then the sections' canonical texts, which is the received text when it was canonical already.
 *
 * The rest of the report is parsed with an unguessable placeholder where the facts were: finding
 * the placeholder as body.facts proves the facts' text sat exactly there (not under another key,
 * nor under one a later duplicate overrides), so the whole frame parses to those facts.
 *
 * Null whenever anything is not as expected: the frame is then parsed and validated whole, which
 * gives the precise errors. So this path accepts exactly what the full validation accepts, and
 * gives the same canonical text.
 */

/** Canonical JSON of a full report's facts, as canonical-json computes it, and its hash. */
export interface FactsCanonical {
  json: string;
  /** Its SHA-256 (the facts hash), computed on the worker too. */
  hash: string;
  /** Each section's [key, start, end] in `json`: its canonical text is that slice. */
  sections: [string, number, number][];
  /** `json` deflated as the store keeps it (collector/src/util/facts-column.ts); left out when the facts repeat the stored ones. */
  deflated?: Uint8Array;
}

const FACTS_KEY = '"facts":';
const ITEMS_OPEN = '{"items":[';
/** Stands in for the facts while the rest of a report is parsed: a key drawn at start, which no peer can know. */
const placeholderKey = randomBytes(16).toString('hex');
const placeholder = `{"${placeholderKey}":0}`;
const canonicalSectionOrder = [...sectionNames].sort();
/** The facts schema's cap on software items (shared/src/facts/sections.ts). */
const MAX_ITEMS = 20_000;

/**
 * The exact texts of software items validated before, each its own canonical JSON, as fresh
 * strings (a slice of the frame would keep the whole frame alive). Bounded in count and size:
 * when full it starts over, so a peer sending ever new (valid) items costs speed, never memory.
 * Only validated items get in, and only short ones: real items are 100-300 characters, and V8
 * hashes a string of 16K characters or more by its length only, so long same-length items would
 * all collide in the set.
 */
const validItems = new Set<string>();
const MAX_VALID_ITEMS = 50_000;
const MAX_VALID_ITEMS_CHARS = 10_000_000;
const MAX_REMEMBERED_ITEM_LENGTH = 2_048;
let validItemsChars = 0;

function rememberValidItem(canonical: string): void {
  if (canonical.length > MAX_REMEMBERED_ITEM_LENGTH) return;
  if (validItems.size >= MAX_VALID_ITEMS || validItemsChars + canonical.length > MAX_VALID_ITEMS_CHARS) {
    validItems.clear();
    validItemsChars = 0;
  }
  validItems.add(canonical);
  validItemsChars += canonical.length;
}

interface FactsText {
  /** Just after the facts' closing brace. */
  end: number;
  /** [key, start, end] of each section's value, as written. */
  members: [string, number, number][];
  /** The software items' spans, when the software section is written as {"items":[...]}. */
  items: [number, number][] | null;
}

/**
 * `bytes`, when given, is the frame `text` was decoded from: the facts' UTF-8 for the hash and
 * the deflated copy is then read there instead of encoding their text again.
 */
export function fullReportFromText(text: string, storedFactsHash?: string, bytes?: Buffer): { result: ParseResult; canonical: FactsCanonical } | null {
  const at = text.indexOf(FACTS_KEY);
  if (at < 0) return null;
  const start = at + FACTS_KEY.length;
  const facts = readFacts(text, start);
  if (!facts) return null;
  const utf8 = utf8Reader(text, bytes);
  if (storedFactsHash !== undefined) {
    const json = text.slice(start, facts.end);
    const hash = sha256Hex(utf8?.(start, facts.end) ?? json);
    if (hash === storedFactsHash) {
      const result = envelopeAround(text, start, facts.end);
      return result ? { result, canonical: { json, hash, sections: facts.members.map(([key, from, to]) => [key, from - start, to - start]) } } : null;
    }
  }
  const canonical = validatedFacts(text, facts, start, utf8);
  if (!canonical) return null;
  const result = envelopeAround(text, start, facts.end);
  return result ? { result, canonical } : null;
}

/**
 * The UTF-8 of text[from, to) as a view of `bytes`, when `bytes` is exactly the UTF-8 of `text`:
 * true when they are valid UTF-8 (an invalid byte decodes to U+FFFD, whose UTF-8 is other bytes).
 */
function utf8Reader(text: string, bytes: Buffer | undefined): ((from: number, to: number) => Buffer) | null {
  if (bytes === undefined) return null;
  // ASCII: one byte per character.
  if (isAscii(bytes)) return (from, to) => bytes.subarray(from, to);
  if (!isUtf8(bytes)) return null;
  return (from, to) => {
    const at = Buffer.byteLength(text.slice(0, from));
    return bytes.subarray(at, at + Buffer.byteLength(text.slice(from, to)));
  };
}

/** The report around the facts at [start, end), validated with the placeholder in their place. */
function envelopeAround(text: string, start: number, end: number): ParseResult | null {
  let value: unknown;
  try {
    value = JSON.parse(text.slice(0, start) + placeholder + text.slice(end));
  } catch {
    return null;
  }
  const facts = (value as { body?: { facts?: unknown } } | null)?.body?.facts;
  if (typeof facts !== 'object' || facts === null || !Object.hasOwn(facts, placeholderKey)) return null;
  const result = validateFullReportEnvelope(value);
  return result.ok ? result : null;
}

/** The facts object opening at `start`, member by member, and the software items' spans; null if it is not written as expected. */
function readFacts(text: string, start: number): FactsText | null {
  if (text.charCodeAt(start) !== OPEN_OBJECT) return null;
  const members: [string, number, number][] = [];
  let items: [number, number][] | null = null;
  let at = start + 1;
  for (;;) {
    const keyEnd = valueEnd(text, at);
    if (keyEnd < 0 || text.charCodeAt(at) !== QUOTE || text.charCodeAt(keyEnd) !== COLON) return null;
    let key: string;
    try {
      key = JSON.parse(text.slice(at, keyEnd)) as string;
    } catch {
      return null;
    }
    at = keyEnd + 1;
    let end: number;
    // Items not split at their canonical boundaries (another key order, stored facts of an older
    // schema) leave the software section to be read, and validated, whole.
    const spans = key === 'software' && text.startsWith(ITEMS_OPEN, at) ? itemSpans(text, at + ITEMS_OPEN.length) : null;
    if (spans) [items, end] = [spans.items, spans.end];
    else end = valueEnd(text, at);
    if (end < 0) return null;
    members.push([key, at, end]);
    const next = text.charCodeAt(end);
    if (next === CLOSE_OBJECT) return { end: end + 1, members, items };
    if (next !== COMMA) return null;
    at = end + 1;
  }
}

/**
 * Where one item ends and the next begins: `},{"installedAt":` (the items' first key in canonical
 * order). Inside a JSON string a quote is always escaped, so this text can only be structure; each
 * piece between two is then validated as a whole item (or is the text of one validated before),
 * so the pieces are exactly the array's elements. One native search per item, instead of
 * following the dozen strings of each.
 */
const ITEM_BOUNDARY = `},{${JSON.stringify(Object.keys(softwareItem.shape).sort()[0])}:`;

/** The items' spans from `at` (just after the array's '['), and the end of the {"items":[...]} object. */
function itemSpans(text: string, from: number): { items: [number, number][]; end: number } | null {
  const items: [number, number][] = [];
  let at = from;
  if (text.charCodeAt(at) !== CLOSE_ARRAY) {
    for (;;) {
      const boundary = text.indexOf(ITEM_BOUNDARY, at);
      if (boundary < 0) {
        // The last item ends where its brackets close.
        const end = valueEnd(text, at);
        if (end < 0) return null;
        items.push([at, end]);
        at = end;
        break;
      }
      items.push([at, boundary + 1]);
      if (items.length > MAX_ITEMS) return null;
      at = boundary + 2;
    }
  }
  if (items.length > MAX_ITEMS) return null;
  // The array closes, then the object: {"items":[...]} and nothing else.
  if (text.charCodeAt(at) !== CLOSE_ARRAY || text.charCodeAt(at + 1) !== CLOSE_OBJECT) return null;
  return { items, end: at + 2 };
}

/** Each section validated against its schema, and the facts' canonical text built from the sections' canonical texts. */
function validatedFacts(text: string, facts: FactsText, start: number, utf8: ((from: number, to: number) => Buffer) | null): FactsCanonical | null {
  // Every section, each once, in canonical order: what the facts schema (strict, every section required) accepts, laid out as the canonical text lays it out.
  if (facts.members.length !== canonicalSectionOrder.length || facts.members.some(([key], i) => key !== canonicalSectionOrder[i])) return null;
  const parts: string[] = [];
  const sections: [string, number, number][] = [];
  let length = 1;
  for (const [key, from, to] of facts.members) {
    const canonical = key === 'software' && facts.items ? softwareText(text, from, to, facts.items) : sectionText(key as keyof typeof sectionSchemas, text.slice(from, to));
    if (canonical === null) return null;
    if (parts.length > 0) length += 1;
    const start = length + key.length + 3;
    parts.push(`"${key}":${canonical}`);
    sections.push([key, start, start + canonical.length]);
    length = start + canonical.length;
  }
  const json = `{${parts.join(',')}}`;
  // Facts written canonically (as agents write them) are their own text in the frame: hashed and deflated from its bytes.
  const source = utf8 !== null && json === text.slice(start, facts.end) ? utf8(start, facts.end) : json;
  return { json, hash: sha256Hex(source), sections, deflated: deflateFacts(source) };
}

function sectionText(key: keyof typeof sectionSchemas, raw: string): string | null {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return null;
  }
  const parsed = sectionSchemas[key].safeParse(value);
  if (!parsed.success) return null;
  const text = canonicalJson(parsed.data);
  return typeof text === 'string' ? text : null;
}

/** The software section's canonical text, each item validated unless its exact text was before. */
function softwareText(text: string, from: number, to: number, items: readonly [number, number][]): string | null {
  const texts: string[] = [];
  let asReceived = true;
  for (const [start, end] of items) {
    const raw = text.slice(start, end);
    let canonical = raw;
    if (!validItems.has(raw)) {
      let value: unknown;
      try {
        value = JSON.parse(raw);
      } catch {
        return null;
      }
      const parsed = softwareItem.safeParse(value);
      if (!parsed.success) return null;
      // Validated items hold strings and nulls in the schema's (sorted) key order: JSON.stringify is their canonical text.
      canonical = JSON.stringify(parsed.data);
      if (canonical === raw) rememberValidItem(canonical);
      else asReceived = false;
    }
    texts.push(canonical);
  }
  return asReceived ? text.slice(from, to) : `${ITEMS_OPEN}${texts.join(',')}]}`;
}
