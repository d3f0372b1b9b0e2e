import { randomUUID } from 'node:crypto';
import { factsHash, type Facts } from '@vigie/shared';
import { canonicalFacts } from '../util/canonical-json';
import { sampleFacts } from '../testing/fixtures';
import { adopt, parseFrameBytes, withoutFacts } from './frame-parser';

// The worker's round trip, without the thread: parse and canonicalise, drop the facts object, and
// build it back on the "main thread" side from the canonical text.
function roundTrip(message: unknown) {
  const bytes = Buffer.from(JSON.stringify(message));
  return adopt(withoutFacts({ id: 1, ...parseFrameBytes(bytes, 1 << 20, true) }));
}

describe('frame parser: full reports from a worker', () => {
  const report = (facts: Facts) => ({ type: 'report', reportId: randomUUID(), seq: 1, collectedAt: '2026-11-29T08:00:00.000Z', dropped: 0, body: { kind: 'full', facts } });

  it('sends the facts as canonical text only, and builds the same facts from it when read', () => {
    const facts = sampleFacts();
    const posted = withoutFacts({ id: 1, ...parseFrameBytes(Buffer.from(JSON.stringify(report(facts))), 1 << 20, true) });
    expect(posted.result.ok && posted.result.message.type === 'report' && 'facts' in posted.result.message.body).toBe(false);

    const parsed = roundTrip(report(facts));
    if (!parsed.ok || parsed.message.type !== 'report' || parsed.message.body.kind !== 'full') throw new Error('expected a full report');
    expect(parsed.factsHash).toBe(factsHash(facts));
    const built = parsed.message.body.facts;
    expect(built).toEqual(JSON.parse(JSON.stringify(facts)));
    // Built once, and already known to the canonical memo with the worker's hash.
    expect(parsed.message.body.facts).toBe(built);
    expect(canonicalFacts(built).hash).toBe(factsHash(facts));
  });

  it('passes refusals and other messages through unchanged', () => {
    const bad = roundTrip({ ...report(sampleFacts()), reportId: 'not-a-uuid' });
    expect(bad).toMatchObject({ ok: false, error: { code: 'schema' } });
    expect('factsHash' in bad).toBe(false);
    const delta = roundTrip({ ...report(sampleFacts()), body: { kind: 'delta', baseHash: 'a'.repeat(64), sections: {} } });
    expect(delta.ok && delta.message.type === 'report' && delta.message.body.kind).toBe('delta');
  });

  it('builds the facts against the previous ones: unchanged sections and software items are the previous objects', () => {
    const withItems = (): Facts =>
      sampleFacts({
        software: {
          items: Array.from({ length: 5 }, (_, n) => ({ name: `App ${n}`, version: `${n}.0`, publisher: 'Vendor', source: 'dpkg' as const, scope: 'machine' as const, installedAt: null })),
        },
      });
    const previous = roundTrip(report(withItems()));
    if (!previous.ok || previous.message.type !== 'report' || previous.message.body.kind !== 'full') throw new Error('expected a full report');
    const before = previous.message.body.facts;
    const changed = withItems();
    const items = (f: Facts) => (f.software as { items: { name: string; version: string | null }[] }).items;
    items(changed)[0]!.version = '999.1';
    const next = roundTrip(report(changed));
    const built = next.factsFrom!(before);
    expect(built).toEqual(JSON.parse(JSON.stringify(changed)));
    expect(built.encryption).toBe(before.encryption);
    expect(items(built)[0]).not.toBe(items(before)[0]);
    expect(items(built).slice(1).every((item, i) => item === items(before)[i + 1])).toBe(true);
    // body.facts is the same build.
    expect(next.ok && next.message.type === 'report' && next.message.body.kind === 'full' && next.message.body.facts).toBe(built);
  });

  describe('a full report expected to repeat the stored facts', () => {
    const frame = (message: unknown) => Buffer.from(JSON.stringify(message));
    // As an agent sends them: validated facts serialise in the schemas' (canonical) key order.
    const asSent = (facts: Facts) => JSON.parse(canonicalFacts(JSON.parse(JSON.stringify(facts)) as Facts).json) as Facts;

    it('gives the same result and canonical text as the full validation when the facts are the stored ones', () => {
      const message = report(asSent(sampleFacts()));
      const stored = factsHash(sampleFacts());
      const quick = parseFrameBytes(frame(message), 1 << 20, true, stored);
      const full = parseFrameBytes(frame(message), 1 << 20, true);
      // Without the deflated text: facts that repeat the stored ones are not written again.
      const { deflated, ...fullText } = full.canonical!;
      expect(deflated).toBeDefined();
      expect(quick.canonical).toEqual(fullText);
      expect(quick.canonical?.hash).toBe(stored);
      expect(withoutFacts({ id: 1, ...quick }).result).toEqual(withoutFacts({ id: 1, ...full }).result);
    });

    it('skips validating facts recognised by their hash, but still validates the rest of the report', () => {
      // Facts the schema refuses, whose hash the collector is told it holds: not re-validated (a case
      // only a test can build, since the store holds validated facts only), which shows the path taken.
      const odd = asSent({ ...sampleFacts(), screenlock: { idleSeconds: 'never' } } as unknown as Facts);
      const held = canonicalFacts(odd).hash;
      expect(parseFrameBytes(frame(report(odd)), 1 << 20, true, held).result.ok).toBe(true);
      expect(parseFrameBytes(frame(report(odd)), 1 << 20, true).result).toMatchObject({ ok: false, error: { code: 'schema' } });
      const badId = parseFrameBytes(frame({ ...report(asSent(sampleFacts())), reportId: 'not-a-uuid' }), 1 << 20, true, factsHash(sampleFacts()));
      expect(badId.result).toMatchObject({ ok: false, error: { code: 'schema', message: expect.stringContaining('reportId') } });
    });

    it('validates everything when the facts are not in canonical order, or hold a number JSON cannot write back', () => {
      // Facts the schema refuses, and the hash of their canonical text given as the stored one (see above).
      const odd = asSent({ ...sampleFacts(), screenlock: { idleSeconds: 'never' } } as unknown as Facts);
      const held = canonicalFacts(odd).hash;
      // The same content in another key order is not taken on trust: the full validation runs and refuses it.
      const outOfOrder = { ...odd, device: Object.fromEntries(Object.entries(odd.device as object).reverse()) } as unknown as Facts;
      expect(parseFrameBytes(frame(report(outOfOrder)), 1 << 20, true, held).result).toMatchObject({ ok: false, error: { code: 'schema' } });
      // 1e400 parses to Infinity, which JSON writes as null: it does not pass for the stored null.
      const infinite = Buffer.from(JSON.stringify(report(odd)).replace('"percent":null', '"percent":1e400'));
      expect(infinite.toString()).toContain('"percent":1e400');
      expect(parseFrameBytes(infinite, 1 << 20, true, held).result).toMatchObject({ ok: false, error: { code: 'schema' } });
    });

    it('takes the facts only where they parse as body.facts: not under another "facts" key, nor under a key a duplicate overrides', () => {
      // Facts the schema refuses, whose hash the collector is told it holds (see above): a frame
      // taken on trust would pass, one validated in full is refused.
      const odd = asSent({ ...sampleFacts(), screenlock: { idleSeconds: 'never' } } as unknown as Facts);
      const held = canonicalFacts(odd).hash;
      const oddText = canonicalFacts(odd).json;
      const valid = asSent(sampleFacts());
      const head = `"type":"report","reportId":"${randomUUID()}","seq":1,"collectedAt":"2026-11-29T08:00:00.000Z","dropped":0`;
      const attempts = [
        // The held text under another "facts" key, before the real facts (refused ones).
        `{${head},"extra":{"facts":${oddText}},"body":{"kind":"full","facts":${JSON.stringify(odd)}}}`,
        // The held text under a first "facts" key, overridden by a second one (JSON.parse keeps the last).
        `{${head},"body":{"kind":"full","facts":${oddText},"facts":{"device":1}}}`,
        // The held text under a first "body", overridden by a second one.
        `{${head},"body":{"kind":"full","facts":${oddText}},"body":{"kind":"full","facts":{"device":1}}}`,
      ];
      for (const text of attempts) {
        expect(() => JSON.parse(text) as unknown).not.toThrow();
        expect(parseFrameBytes(Buffer.from(text), 1 << 20, true, held).result).toMatchObject({ ok: false, error: { code: 'schema' } });
      }
      // The same held text in its place is taken as the stored facts; valid facts stored under another hash are validated as usual.
      expect(parseFrameBytes(Buffer.from(`{${head},"body":{"kind":"full","facts":${oddText}}}`), 1 << 20, true, held).result.ok).toBe(true);
      expect(parseFrameBytes(Buffer.from(`{${head},"body":{"kind":"full","facts":${JSON.stringify(valid)}}}`), 1 << 20, true, held).result.ok).toBe(true);
    });

    it('refuses a repeated report whose text around the facts is not JSON', () => {
      const facts = asSent(sampleFacts());
      const text = JSON.stringify(report(facts));
      const broken = Buffer.from(text.replace('"seq":1', '"seq":1,,'));
      expect(parseFrameBytes(broken, 1 << 20, true, factsHash(sampleFacts())).result).toMatchObject({ ok: false, error: { code: 'malformed' } });
    });

    it('validates everything when the facts differ from the stored ones', () => {
      const changed = { ...sampleFacts(), screenlock: { idleSeconds: 'never' } };
      const result = parseFrameBytes(frame(report(changed as unknown as Facts)), 1 << 20, true, factsHash(sampleFacts())).result;
      expect(result).toMatchObject({ ok: false, error: { code: 'schema', message: expect.stringContaining('screenlock') } });
    });
  });
});
