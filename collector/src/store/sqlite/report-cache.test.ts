import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { factsHash, type Facts } from '@vigie/shared';
import { factsText } from '../../util/facts-column';
import { SqliteStore } from '.';
import { sampleDevice, sampleFacts, unencrypted } from '../../testing/fixtures';
import type { DeriveFn } from '../datastore';

// applyReport keeps each device's last facts in memory (and stores them as canonical JSON):
// these check that what it hashes, stores and diffs stays what a fresh read would give.
const derive: DeriveFn = () => ({ findings: [], timeline: [] });
const at = (m: number) => new Date(Date.UTC(2026, 2, 2, 9, m));

describe('SQLite report path: facts cache and canonical facts', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-report-cache-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  async function enrolled(store: SqliteStore): Promise<string> {
    return (await store.enrollDevice({ newId: 'd1', machineId: 'm1', org: 'acme', tokenHash: 't1', device: sampleDevice({ machineId: 'm1' }), now: at(0) })).device.id;
  }

  it('acks the factsHash of the facts, stores text that hashes to it, and applies deltas on it', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    const id = await enrolled(store);
    const facts = sampleFacts();
    const first = await store.applyReport({ deviceId: id, reportId: 'r1', seq: 1, collectedAt: at(1).toISOString(), body: { kind: 'full', facts }, dropped: 0, now: at(1) }, derive);
    expect(first).toMatchObject({ status: 'stored', factsHash: factsHash(facts) });
    const stored = store.db.prepare('SELECT facts, hash FROM device_facts WHERE device_id = ?').get(id) as { facts: Buffer; hash: string };
    // Kept deflated (collector/src/util/facts-column.ts): the canonical text, a fraction of its size.
    expect(Buffer.isBuffer(stored.facts)).toBe(true);
    const text = factsText(stored.facts);
    expect(stored.facts.length).toBeLessThan(text.length);
    expect(factsHash(JSON.parse(text) as Facts)).toBe(stored.hash);
    expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(facts)));

    const delta = await store.applyReport(
      { deviceId: id, reportId: 'r2', seq: 2, collectedAt: at(2).toISOString(), body: { kind: 'delta', baseHash: factsHash(facts), sections: { encryption: unencrypted } }, dropped: 0, now: at(2) },
      derive,
    );
    expect(delta).toMatchObject({ status: 'stored', factsHash: factsHash({ ...facts, encryption: unencrypted }) });
    expect((await store.getFacts(id))?.facts.encryption).toEqual(unencrypted);
    await store.close();
  });

  it('does not trust its cache once another writer changed the facts', async () => {
    const file = path.join(dir, 'vigie.db');
    const a = new SqliteStore({ path: file });
    const id = await enrolled(a);
    const facts = sampleFacts();
    await a.applyReport({ deviceId: id, reportId: 'r1', seq: 1, collectedAt: at(1).toISOString(), body: { kind: 'full', facts }, dropped: 0, now: at(1) }, derive);
    // Another process (a second collector on the same file) stores other facts for the device.
    const b = new SqliteStore({ path: file });
    const other = { ...facts, encryption: unencrypted };
    await b.applyReport({ deviceId: id, reportId: 'r2', seq: 2, collectedAt: at(2).toISOString(), body: { kind: 'full', facts: other }, dropped: 0, now: at(2) }, derive);
    await b.close();
    // A delta on the old base is refused, one on the new base applies to the new facts.
    const stale = await a.applyReport(
      { deviceId: id, reportId: 'r3', seq: 3, collectedAt: at(3).toISOString(), body: { kind: 'delta', baseHash: factsHash(facts), sections: {} }, dropped: 0, now: at(3) },
      derive,
    );
    expect(stale.status).toBe('need-full-report');
    const fresh = await a.applyReport(
      { deviceId: id, reportId: 'r4', seq: 4, collectedAt: at(4).toISOString(), body: { kind: 'delta', baseHash: factsHash(other), sections: {} }, dropped: 0, now: at(4) },
      derive,
    );
    expect(fresh).toMatchObject({ status: 'stored', factsHash: factsHash(other) });
    await a.close();
  });

  it('does not keep the facts of a report whose transaction rolled back', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    const id = await enrolled(store);
    const facts = sampleFacts();
    await store.applyReport({ deviceId: id, reportId: 'r1', seq: 1, collectedAt: at(1).toISOString(), body: { kind: 'full', facts }, dropped: 0, now: at(1) }, derive);
    const other = { ...facts, encryption: unencrypted };
    const failing: DeriveFn = () => {
      throw new Error('evaluation failed');
    };
    await expect(store.applyReport({ deviceId: id, reportId: 'r2', seq: 2, collectedAt: at(2).toISOString(), body: { kind: 'full', facts: other }, dropped: 0, now: at(2) }, failing)).rejects.toThrow(
      'evaluation failed',
    );
    const onOld = await store.applyReport(
      { deviceId: id, reportId: 'r3', seq: 3, collectedAt: at(3).toISOString(), body: { kind: 'delta', baseHash: factsHash(facts), sections: {} }, dropped: 0, now: at(3) },
      derive,
    );
    expect(onOld).toMatchObject({ status: 'stored', factsHash: factsHash(facts) });
    await store.close();
  });

  it('reads back facts stored by an older collector (plain JSON, not canonical) and applies a delta on them', async () => {
    const file = path.join(dir, 'vigie.db');
    const old = new SqliteStore({ path: file });
    const id = await enrolled(old);
    const facts = sampleFacts();
    await old.applyReport({ deviceId: id, reportId: 'r1', seq: 1, collectedAt: at(1).toISOString(), body: { kind: 'full', facts }, dropped: 0, now: at(1) }, derive);
    // As an older collector wrote them: JSON.stringify in the agent's key order.
    old.db.prepare('UPDATE device_facts SET facts = ? WHERE device_id = ?').run(JSON.stringify(facts), id);
    await old.close();
    // A new store, so nothing is cached: the delta's base comes from the stored text.
    const store = new SqliteStore({ path: file });
    const previous: (Facts | null)[] = [];
    const spy: DeriveFn = (input) => {
      previous.push(input.previous);
      return { findings: [], timeline: [] };
    };
    const r = await store.applyReport(
      { deviceId: id, reportId: 'r2', seq: 2, collectedAt: at(2).toISOString(), body: { kind: 'delta', baseHash: factsHash(facts), sections: { encryption: unencrypted } }, dropped: 0, now: at(2) },
      spy,
    );
    expect(r).toMatchObject({ status: 'stored', factsHash: factsHash({ ...facts, encryption: unencrypted }) });
    expect(previous[0]).toEqual(JSON.parse(JSON.stringify(facts)));
    await store.close();
  });
});
