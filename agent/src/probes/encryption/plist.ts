/**
 * A small reader for Apple's XML property lists (what `diskutil … -plist`
 * prints), so the agent needs no XML dependency. It understands dict, array,
 * key, string, integer, real, true, false, date and data, the entities XML
 * defines, comments, and the XML/DOCTYPE prolog. It never throws: bad input
 * comes back as { ok: false, error }.
 */

export type PlistValue = string | number | boolean | Date | PlistValue[] | { [key: string]: PlistValue };

export type PlistResult = { ok: true; value: PlistValue } | { ok: false; error: string };

class PlistError extends Error {}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#\d+|[a-zA-Z]+);/g, (whole, name: string) => {
    if (name.startsWith('#x')) return String.fromCodePoint(parseInt(name.slice(2), 16));
    if (name.startsWith('#')) return String.fromCodePoint(parseInt(name.slice(1), 10));
    const known = ENTITIES[name];
    if (known === undefined) throw new PlistError(`unknown entity ${whole}`);
    return known;
  });
}

type Token = { kind: 'open' | 'close' | 'empty'; name: string; at: number } | { kind: 'text'; text: string; at: number };

function tokenize(xml: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < xml.length) {
    const lt = xml.indexOf('<', i);
    if (lt === -1) {
      tokens.push({ kind: 'text', text: xml.slice(i), at: i });
      break;
    }
    if (lt > i) tokens.push({ kind: 'text', text: xml.slice(i, lt), at: i });
    if (xml.startsWith('<!--', lt)) {
      const end = xml.indexOf('-->', lt + 4);
      if (end === -1) throw new PlistError('unterminated comment');
      i = end + 3;
      continue;
    }
    if (xml.startsWith('<?', lt) || xml.startsWith('<!', lt)) {
      const end = xml.indexOf('>', lt);
      if (end === -1) throw new PlistError('unterminated declaration');
      i = end + 1;
      continue;
    }
    const end = xml.indexOf('>', lt);
    if (end === -1) throw new PlistError(`unterminated tag at ${lt}`);
    const body = xml.slice(lt + 1, end).trim();
    const match = /^(\/?)([A-Za-z][\w.-]*)(?:\s.*?)?(\/?)$/s.exec(body);
    if (!match?.[2]) throw new PlistError(`malformed tag <${body.slice(0, 40)}> at ${lt}`);
    const kind = match[1] ? 'close' : match[3] ? 'empty' : 'open';
    tokens.push({ kind, name: match[2], at: lt });
    i = end + 1;
  }
  return tokens;
}

class Reader {
  private pos = 0;
  constructor(private readonly tokens: Token[]) {}

  private skipWhitespace(): void {
    for (;;) {
      const t = this.tokens[this.pos];
      if (t?.kind === 'text' && t.text.trim() === '') this.pos++;
      else return;
    }
  }

  private next(): Token {
    this.skipWhitespace();
    const t = this.tokens[this.pos++];
    if (!t) throw new PlistError('unexpected end of document');
    return t;
  }

  private peek(): Token | undefined {
    this.skipWhitespace();
    return this.tokens[this.pos];
  }

  private textUntilClose(name: string): string {
    let text = '';
    for (;;) {
      const t = this.tokens[this.pos++];
      if (!t) throw new PlistError(`unterminated <${name}>`);
      if (t.kind === 'text') text += t.text;
      else if (t.kind === 'close' && t.name === name) return decodeEntities(text);
      else throw new PlistError(`unexpected <${t.name}> inside <${name}> at ${t.at}`);
    }
  }

  document(): PlistValue {
    const root = this.next();
    if (root.kind !== 'open' || root.name !== 'plist') throw new PlistError('the document does not start with <plist>');
    const value = this.value();
    const close = this.next();
    if (close.kind !== 'close' || close.name !== 'plist') throw new PlistError('expected </plist> after the root value');
    if (this.peek()) throw new PlistError('content after </plist>');
    return value;
  }

  value(): PlistValue {
    const t = this.next();
    if (t.kind === 'text') throw new PlistError(`unexpected text "${t.text.trim().slice(0, 40)}" at ${t.at}`);
    if (t.kind === 'close') throw new PlistError(`unexpected </${t.name}> at ${t.at}`);
    if (t.kind === 'empty') {
      switch (t.name) {
        case 'true':
          return true;
        case 'false':
          return false;
        case 'array':
          return [];
        case 'dict':
          return {};
        case 'string':
          return '';
        default:
          throw new PlistError(`unexpected <${t.name}/> at ${t.at}`);
      }
    }
    switch (t.name) {
      case 'dict':
        return this.dict();
      case 'array':
        return this.array();
      case 'string':
        return this.textUntilClose('string');
      case 'data':
        return this.textUntilClose('data').replace(/\s+/g, '');
      case 'integer': {
        const text = this.textUntilClose('integer').trim();
        if (!/^[+-]?\d+$/.test(text)) throw new PlistError(`bad integer "${text}"`);
        return Number(text);
      }
      case 'real': {
        const n = Number(this.textUntilClose('real').trim());
        if (Number.isNaN(n)) throw new PlistError('bad real');
        return n;
      }
      case 'date': {
        const d = new Date(this.textUntilClose('date').trim());
        if (Number.isNaN(d.getTime())) throw new PlistError('bad date');
        return d;
      }
      case 'true':
      case 'false': {
        const text = this.textUntilClose(t.name);
        if (text.trim() !== '') throw new PlistError(`<${t.name}> must be empty`);
        return t.name === 'true';
      }
      default:
        throw new PlistError(`unknown element <${t.name}> at ${t.at}`);
    }
  }

  private dict(): { [key: string]: PlistValue } {
    const out: { [key: string]: PlistValue } = {};
    for (;;) {
      const t = this.next();
      if (t.kind === 'close' && t.name === 'dict') return out;
      if (t.kind !== 'open' || t.name !== 'key') throw new PlistError(`expected <key> in <dict> at ${t.at}`);
      const key = this.textUntilClose('key');
      out[key] = this.value();
    }
  }

  private array(): PlistValue[] {
    const out: PlistValue[] = [];
    for (;;) {
      const t = this.peek();
      if (t?.kind === 'close' && t.name === 'array') {
        this.pos++;
        return out;
      }
      out.push(this.value());
    }
  }
}

export function parsePlist(xml: string): PlistResult {
  try {
    const text = xml.charCodeAt(0) === 0xfeff ? xml.slice(1) : xml;
    return { ok: true, value: new Reader(tokenize(text)).document() };
  } catch (err) {
    if (err instanceof PlistError || err instanceof RangeError) return { ok: false, error: err.message };
    throw err;
  }
}

export function isDict(value: PlistValue | undefined): value is { [key: string]: PlistValue } {
  return value !== undefined && typeof value === 'object' && !Array.isArray(value) && !(value instanceof Date);
}
