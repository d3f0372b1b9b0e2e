import { createHash, randomUUID } from 'node:crypto';
import { facts as factsSchema, validateMessage, type Facts, type ParseResult } from '@vigie/shared';
import { canonicalFacts, canonicalSections } from '../util/canonical-json';
import { factsText } from '../util/facts-column';
import { sampleFacts } from '../testing/fixtures';
import { fullReportFromText } from './full-report-text';

type Item = { installedAt: string | null; name: string; publisher: string | null; scope: 'machine' | 'user'; source: 'registry' | 'dpkg'; version: string | null };
const awkward = ['a "quoted" name', 'back\\slash\\', '},{"installedAt":', '{braces} [brackets], commas', 'é😀\u0001\n\t', '\\\\"', 'plain'];
const item = (n: number): Item => ({ installedAt: n % 3 ? '2026-01-02' : null, name: `${awkward[n % awkward.length]} ${n}`, publisher: n % 2 ? `Vendor "${n}"` : null, scope: 'machine', source: n % 4 ? 'registry' : 'dpkg', version: `${n}.0` });
const withItems = (items: unknown[]): Facts => sampleFacts({ software: { items } } as unknown as Partial<Facts>);
/** As an agent sends them: validated facts serialise in the schemas' (canonical) key order. */
const asSent = (facts: Facts): string => JSON.stringify(factsSchema.parse(JSON.parse(JSON.stringify(facts))));
const frame = (factsText: string): string => `{"type":"report","reportId":"${randomUUID()}","seq":1,"collectedAt":"2026-11-29T08:00:00.000Z","body":{"kind":"full","facts":${factsText}},"dropped":0}`;

/** What the full parse and validation make of a frame: the message without its facts, and the facts' canonical text. */
function fully(text: string): { result: ParseResult; json: string | null; sections: [string, number, number][] | null } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { result: { ok: false, error: { code: 'malformed', message: '' } }, json: null, sections: null };
  }
  const result = validateMessage(value);
  if (!result.ok || result.message.type !== 'report' || result.message.body.kind !== 'full') return { result, json: null, sections: null };
  const { json } = canonicalFacts(result.message.body.facts);
  return { result, json, sections: canonicalSections(result.message.body.facts) };
}

const withoutFactsOf = (result: ParseResult) => {
  if (!result.ok || result.message.type !== 'report' || result.message.body.kind !== 'full') return result;
  const { facts: _facts, ...body } = result.message.body;
  return { ...result, message: { ...result.message, body } };
};

describe('a full report read from its text', () => {
  it('gives what the full validation gives: the report, the canonical text, its hash and sections', () => {
    for (const facts of [sampleFacts(), withItems(Array.from({ length: 40 }, (_, n) => item(n))), withItems([]), withItems([item(1)])]) {
      const text = frame(asSent(facts));
      const read = fullReportFromText(text);
      const full = fully(text);
      expect(read).not.toBeNull();
      expect(read!.canonical.json).toBe(full.json);
      expect(read!.canonical.sections).toEqual(full.sections);
      expect(read!.canonical.hash).toBe(canonicalFacts(factsSchema.parse(JSON.parse(full.json!))).hash);
      expect(withoutFactsOf(read!.result)).toEqual(withoutFactsOf(full.result));
    }
  });

  it('canonicalises items and sections not written canonically, as the full validation does, or leaves them to it', () => {
    const sent = asSent(withItems([item(0)]));
    const reordered = (x: Item) => JSON.stringify({ installedAt: x.installedAt, version: x.version, name: x.name, publisher: x.publisher, scope: x.scope, source: x.source });
    for (const facts of [
      sent.replace(JSON.stringify(item(0)), [item(1), item(2)].map(reordered).join(',')),
      sent.replace('"items":[', '"items": ['),
      sent.replace('"volumes":[', '"volumes" : [ '),
    ]) {
      const text = frame(facts);
      const read = fullReportFromText(text);
      expect(read).not.toBeNull();
      expect(read!.canonical.json).toBe(fully(text).json);
    }
    // Items whose first key is not the canonical first cannot be split: the section is validated whole.
    const reversed = frame(sent.replace(JSON.stringify(item(0)), [item(1), item(2)].map((x) => JSON.stringify(Object.fromEntries(Object.entries(x).reverse()))).join(',')));
    expect(fullReportFromText(reversed)?.canonical.json).toBe(fully(reversed).json);
  });

  it('leaves to the full validation anything it would refuse, whatever was validated before', () => {
    const good = asSent(withItems(Array.from({ length: 10 }, (_, n) => item(n))));
    expect(fullReportFromText(frame(good))).not.toBeNull();
    const broken = [
      good.replace('"scope":"machine"', '"scope":"everywhere"'),
      good.replace('"scope":"machine"', '"scope":"machine","extra":1'),
      good.replace('"version":"3.0"', '"version":{"installedAt":1}'),
      good.replace('"usb":', '"usb2":'),
      good.replace(/,"usb":\{.*\}\}$/, '}'),
      good.replace('{"device":', '{"zzz":1,"device":'),
    ];
    for (const [i, facts] of broken.entries()) {
      expect([i, facts === good]).toEqual([i, false]);
      const text = frame(facts);
      expect([i, fullReportFromText(text)]).toEqual([i, null]);
      expect([i, fully(text).result.ok]).toEqual([i, false]);
    }
  });

  it("refuses one item over the schema's cap, as the full validation does", () => {
    const small = (n: number): Item => ({ installedAt: null, name: `a${n}`, publisher: null, scope: 'machine', source: 'registry', version: null });
    const atCap = asSent(withItems(Array.from({ length: 20_000 }, (_, n) => small(n))));
    expect(fullReportFromText(frame(atCap))).not.toBeNull();
    const over = frame(atCap.replace('{"items":[', `{"items":[${JSON.stringify(small(-1))},`));
    expect(fullReportFromText(over)).toBeNull();
    expect(fully(over).result.ok).toBe(false);
  });

  it('validates in full the stored facts of an older schema whose items it cannot split', () => {
    // An item without installedAt (not in the current schema): the software section is read whole, and refused.
    const sent = asSent(withItems([item(1), item(2)]));
    const legacy = sent.replace('{"installedAt":"2026-01-02",', '{');
    const text = frame(legacy);
    expect(fullReportFromText(text)).toBeNull();
    expect(fully(text).result.ok).toBe(false);
  });

  it('takes nothing the full validation would not, for thousands of random edits of a valid frame', () => {
    let seed = 17;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const valid = frame(asSent(withItems(Array.from({ length: 12 }, (_, n) => item(n)))));
    const alphabet = ['{', '}', '[', ']', '"', ':', ',', '\\', ' ', 'a', '0', 'null', '},{"installedAt":'];
    let accepted = 0;
    for (let round = 0; round < 3000; round++) {
      let text = valid;
      for (let edits = 1 + random(3); edits > 0; edits--) {
        const at = random(text.length);
        const cut = random(3);
        text = text.slice(0, at) + (random(2) ? alphabet[random(alphabet.length)] : '') + text.slice(at + cut);
      }
      const read = fullReportFromText(text);
      if (!read) continue;
      accepted++;
      const full = fully(text);
      expect(full.result.ok).toBe(true);
      expect(read.canonical.json).toBe(full.json);
      expect(withoutFactsOf(read.result)).toEqual(withoutFactsOf(full.result));
    }
    // Edits inside strings keep many frames valid: the comparison above ran on those.
    expect(accepted).toBeGreaterThan(100);
  });

  it('recognises facts repeating the stored ones by their hash, and validates them when the hash differs', () => {
    const facts = asSent(sampleFacts());
    const stored = canonicalFacts(factsSchema.parse(JSON.parse(facts))).hash;
    const repeated = fullReportFromText(frame(facts), stored);
    expect(repeated?.canonical).toMatchObject({ json: facts, hash: stored });
    // Left out: the store does not write facts it holds already.
    expect(repeated?.canonical.deflated).toBeUndefined();
    expect(fullReportFromText(frame(facts), 'f'.repeat(64))?.canonical.deflated).toBeDefined();
  });

  it("hashes and deflates the facts' bytes in the frame exactly as their text: ASCII, other UTF-8, and bytes that are not UTF-8", () => {
    const check = (bytes: Buffer) => {
      const text = bytes.toString('utf8');
      const fromBytes = fullReportFromText(text, undefined, bytes);
      const fromText = fullReportFromText(text);
      expect(fromBytes).not.toBeNull();
      expect(fromBytes!.canonical.hash).toBe(fromText!.canonical.hash);
      expect(fromBytes!.canonical.hash).toBe(createHash('sha256').update(fromBytes!.canonical.json).digest('hex'));
      expect(factsText(Buffer.from(fromBytes!.canonical.deflated!))).toBe(fromBytes!.canonical.json);
      // Repeated facts too: recognised by the hash of their bytes.
      expect(fullReportFromText(text, fromText!.canonical.hash, bytes)?.canonical.deflated).toBeUndefined();
    };
    const named = (name: string) => frame(asSent(withItems([item(1), { ...item(2), name }, item(3)])));
    check(Buffer.from(frame(asSent(withItems([item(6)])))));
    check(Buffer.from(named('plain ascii')));
    check(Buffer.from(named('Tâches planifiées, Übersicht, 日本語 😀')));
    // A byte that is not UTF-8 reads as U+FFFD, whose UTF-8 is three other bytes: the text is what counts.
    const invalid = Buffer.from(named('bad X byte'));
    invalid[invalid.indexOf('X')] = 0xff;
    expect(invalid.toString('utf8')).toContain('\ufffd');
    check(invalid);
  });
});
