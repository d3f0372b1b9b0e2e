/** The character codes of JSON's structure, for scanning a text with charCodeAt. */
export const QUOTE = 0x22;
export const COLON = 0x3a;
export const COMMA = 0x2c;
export const OPEN_OBJECT = 0x7b;
export const CLOSE_OBJECT = 0x7d;
export const OPEN_ARRAY = 0x5b;
export const CLOSE_ARRAY = 0x5d;
const BACKSLASH = 0x5c;

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

/**
 * Just after the JSON value starting at `start`, following only strings and brackets (without
 * validating the JSON: literals, numbers and which brackets pair up are not checked; use it only
 * to locate text whose content is then validated or compared another way. Several times cheaper
 * than JSON.parse for a large value, since most of the text is strings, skipped with the native
 * indexOf), or -1 when it does not close.
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
