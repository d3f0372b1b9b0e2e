import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { factsHash, type Facts, type SoftwareItem } from '@vigie/shared';
import { sampleFacts } from '../testing/fixtures';

// The compiled parser, whose worker script sits next to it (from the sources, frames parse inline).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const compiled = require(join(__dirname, '..', '..', 'dist', 'ingest', 'frame-parser.js')) as typeof import('./frame-parser');

const app = (n: number, padding = ''): SoftwareItem => ({ name: `App ${n}${padding}`, version: `${n}.0`, publisher: 'ACME', source: 'registry', scope: 'machine', installedAt: null });
const report = (facts: Facts) => ({ type: 'report', reportId: randomUUID(), seq: 1, collectedAt: '2026-11-29T08:00:00.000Z', dropped: 0, body: { kind: 'full', facts } });
const withApps = (count: number, padding = '') => sampleFacts({ software: { items: Array.from({ length: count }, (_, n) => app(n, padding)) } });

describe('frame parser: worker threads', () => {
  let parser: InstanceType<typeof compiled.FrameParser>;
  beforeAll(() => {
    parser = new compiled.FrameParser({ workers: 2, minWorkerBytes: 1024 });
  });
  afterAll(() => parser.close());

  it('parses frames in shared memory and frames too big for it, more at once than there are shared slots, each to its own facts', async () => {
    expect(parser.threaded).toBe(true);
    const frames: { facts: Facts; bytes: Buffer }[] = [];
    for (let n = 0; n < 300; n++) {
      // Every seventh frame is past the shared slot's size, so it is posted instead.
      const facts = n % 7 === 0 ? withApps(80, 'x'.repeat(900)) : withApps(5 + (n % 40));
      frames.push({ facts, bytes: Buffer.from(JSON.stringify(report(facts))) });
    }
    expect(frames.some((f) => f.bytes.byteLength > compiled.SHARED_SLOT_BYTES)).toBe(true);
    // Twice: the second burst reuses the slots the first one freed.
    for (let round = 0; round < 2; round++) {
      const parsed = await Promise.all(frames.map((f) => parser.parse(f.bytes, false, 1 << 20)));
      parsed.forEach((p, n) => {
        if (!p.ok || p.message.type !== 'report' || p.message.body.kind !== 'full') throw new Error(`frame ${n} was not parsed as a full report: ${JSON.stringify(p).slice(0, 300)}`);
        expect(p.factsHash).toBe(factsHash(frames[n]!.facts));
        expect(p.message.body.facts).toEqual(JSON.parse(JSON.stringify(frames[n]!.facts)));
      });
    }
  });

  it('refuses a malformed frame in shared memory with its typed error', async () => {
    const bad = Buffer.from(`{"type":"report",${' '.repeat(2000)}`);
    expect(await parser.parse(bad, false, 1 << 20)).toMatchObject({ ok: false, error: { code: 'malformed' } });
  });
});
