const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;

/** The index of the quote closing the JSON string opened at `open`, or -1. */
function stringEnd(text: string, open: number): number {
  let at = open;
  for (;;) {
    at = text.indexOf('"', at + 1);
    if (at < 0) return -1;
    let slashes = 0;
    while (text.charCodeAt(at - 1 - slashes) === BACKSLASH) slashes++;
    if (slashes % 2 === 0) return at;
  }
}

function stringValue(literal: string): string | null {
  try {
    return JSON.parse(literal) as string;
  } catch {
    return null;
  }
}

/** A JSON object found in a text: where it ends, and each member's key and value span. */
export interface ObjectSpan {
  /** Just after the object's closing brace. */
  end: number;
  /** [key, start, end] of each member's value, in the order written. */
  members: [string, number, number][];
}

/**
 * Where the JSON object opening at `start` ends, and its members' spans, by following only its
 * strings and brackets: several times cheaper than JSON.parse for a large object, since most of the
 * text is strings, skipped with the native indexOf. It does not validate the JSON (literals,
 * numbers, which brackets pair up): use it only to locate a text whose content is then checked
 * another way (frame-parser.ts compares its hash with the stored facts'). Null when the brackets
 * or strings do not close.
 */
export function objectSpanAt(text: string, start: number): ObjectSpan | null {
  if (text.charCodeAt(start) !== OPEN_OBJECT) return null;
  const members: [string, number, number][] = [];
  let depth = 0;
  let keyStart = -1;
  let keyEnd = -1;
  let key = '';
  let valueStart = -1;
  for (let i = start; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const close = stringEnd(text, i);
      if (close < 0) return null;
      if (depth === 1 && valueStart < 0) [keyStart, keyEnd] = [i, close + 1];
      i = close;
    } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) depth++;
    else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      if (--depth === 0) {
        if (valueStart >= 0) members.push([key, valueStart, i]);
        return { end: i + 1, members };
      }
    } else if (depth === 1) {
      if (c === COLON && valueStart < 0) {
        const parsed = keyStart < 0 ? null : stringValue(text.slice(keyStart, keyEnd));
        if (parsed === null) return null;
        key = parsed;
        valueStart = i + 1;
      } else if (c === COMMA) {
        if (valueStart < 0) return null;
        members.push([key, valueStart, i]);
        [keyStart, valueStart] = [-1, -1];
      }
    }
  }
  return null;
}

/**
 * Just after the JSON value starting at `start`, following only strings and brackets (the same
 * caveats as objectSpanAt), or -1 when it does not close.
 */
export function valueEnd(text: string, start: number): number {
  const first = text.charCodeAt(start);
  if (first === QUOTE) {
    const close = stringEnd(text, start);
    return close < 0 ? -1 : close + 1;
  }
  if (first !== OPEN_OBJECT && first !== OPEN_ARRAY) {
    // A number or a literal: up to the next delimiter.
    let i = start;
    while (i < text.length && !isDelimiter(text.charCodeAt(i))) i++;
    return i > start ? i : -1;
  }
  let depth = 0;
  for (let i = start; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const close = stringEnd(text, i);
      if (close < 0) return -1;
      i = close;
    } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) depth++;
    else if ((c === CLOSE_OBJECT || c === CLOSE_ARRAY) && --depth === 0) return i + 1;
  }
  return -1;
}

/** Whether a character ends a value in JSON written without spaces (JSON.stringify's). */
export function isDelimiter(c: number): boolean {
  return c === COMMA || c === CLOSE_OBJECT || c === CLOSE_ARRAY;
}
