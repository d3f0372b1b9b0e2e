import { randomBytes, randomUUID } from 'node:crypto';
import { loadPolicy, type Facts } from '@vigie/shared';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SqliteStore } from '.';
import { PolicyEvaluator } from '../../evaluate/evaluator';
import { buildStatusMessage, loadStatusMessage } from '../../ingest/status';
import { sampleDevice, sampleFacts, unencrypted } from '../../testing/fixtures';

// The report path skips work when nothing changed, and builds the device's status from its own
// transaction: these check that what it skips and builds is what the full path would give.
const at = (m: number) => new Date(Date.UTC(2026, 2, 2, 9, m));
const policyFile = join(__dirname, '..', '..', '..', '..', 'shared', 'policies', 'issp-default.yaml');

async function setup() {
  const store = new SqliteStore({ path: ':memory:' });
  const loaded = loadPolicy(readFileSync(policyFile, 'utf8'), policyFile);
  if (!loaded.ok) throw new Error(loaded.errors.map((e) => e.message).join('; '));
  const evaluator = new PolicyEvaluator(loaded.policy, store);
  const id = (await store.enrollDevice({ newId: 'd1', machineId: 'm1', org: 'acme', tokenHash: 't1', device: sampleDevice({ machineId: 'm1' }), now: at(0) })).device.id;
  const report = async (facts: Facts, m: number) =>
    store.applyReport({ deviceId: id, reportId: randomUUID(), seq: m, collectedAt: at(m).toISOString(), body: { kind: 'full', facts }, dropped: 0, now: at(m) }, evaluator.derive({ authorisedUsb: [] }));
  return { store, evaluator, id, report };
}

describe('SQLite report path: unchanged facts and the status from the transaction', () => {
  it('leaves the stored facts, findings and inventory alone when a full report repeats them', async () => {
    const { store, id, report } = await setup();
    const hook = jest.fn();
    store.onFactsStored = hook;
    const facts = sampleFacts({ encryption: unencrypted });
    await report(facts, 1);
    expect(hook).toHaveBeenCalledTimes(1);
    const before = store.db.prepare('SELECT updated_at FROM device_facts WHERE device_id = ?').get(id);
    const findingsBefore = store.db.prepare('SELECT rule_id, updated_at FROM findings WHERE device_id = ? ORDER BY rule_id').all(id);
    const timelineBefore = (await store.getTimeline(id, 100)).length;

    // The same content as a new object, as a re-sent full report parses to.
    const again = await report(JSON.parse(JSON.stringify(facts)) as Facts, 2);
    expect(again.status).toBe('stored');
    expect(hook).toHaveBeenCalledTimes(1);
    expect(store.db.prepare('SELECT updated_at FROM device_facts WHERE device_id = ?').get(id)).toEqual(before);
    expect(store.db.prepare('SELECT rule_id, updated_at FROM findings WHERE device_id = ? ORDER BY rule_id').all(id)).toEqual(findingsBefore);
    expect((await store.getTimeline(id, 100)).length).toBe(timelineBefore);
    expect((await store.getDevice(id))?.lastSeenAt).toBe(at(2).toISOString());
    expect(await store.countReports(id)).toBe(2);

    // A change to one section reaches the hook with the other sections' objects unchanged.
    await report({ ...facts, screenlock: { enabled: true, idleSeconds: 60, graceSeconds: 0, requirePassword: true, source: 'gsettings', user: 'jd' } }, 3);
    expect(hook).toHaveBeenCalledTimes(2);
    const [, , previous, next] = hook.mock.calls[1] as [string, string, Facts, Facts];
    expect(next.software).toBe(previous.software);
    expect(next.screenlock).not.toEqual(previous.screenlock);
    await store.close();
  });

  it('returns the status rows a fresh read gives: failing, exempted, resolved', async () => {
    const { store, evaluator, id, report } = await setup();
    const statusOf = async (r: Awaited<ReturnType<typeof report>>, m: number) => {
      if (r.status !== 'stored' || !r.current) throw new Error('expected the status rows with the stored report');
      const fromReport = buildStatusMessage({ evaluatedAt: at(m), policyVersion: evaluator.policyVersion(), ...r.current });
      const fromRead = await loadStatusMessage(store, id, evaluator.policyVersion(), at(m));
      expect(fromReport).toEqual(fromRead);
      return fromReport;
    };
    const failing = await statusOf(await report(sampleFacts({ encryption: unencrypted }), 1), 1);
    const failed = failing.findings.filter((f) => f.status === 'fail');
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.every((f) => f.dueAt !== null && f.firstSeenAt === at(1).toISOString())).toBe(true);

    await store.createExemption({ deviceId: id, ruleId: failed[0]!.ruleId, reason: 'lab machine', grantedBy: 'admin', expiresAt: at(600), now: at(2) });
    const exempted = await statusOf(await report(sampleFacts({ encryption: unencrypted }), 3), 3);
    expect(exempted.findings.find((f) => f.ruleId === failed[0]!.ruleId)).toMatchObject({ status: 'fail', exempted: true, firstSeenAt: at(1).toISOString() });

    const fixed = await statusOf(await report(sampleFacts(), 4), 4);
    expect(fixed.findings.find((f) => f.ruleId === failed[0]!.ruleId)).toMatchObject({ dueAt: null, exempted: false });
    await store.close();
  });

  it('commits reports sent together in one batch, where one that fails is undone alone', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) {
      ids.push((await store.enrollDevice({ newId: `d${i}`, machineId: `m${i}`, org: 'acme', tokenHash: `t${i}`, device: sampleDevice({ machineId: `m${i}` }), now: at(0) })).device.id);
    }
    const results = await Promise.allSettled(
      ids.map((id, i) =>
        store.applyReport({ deviceId: id, reportId: randomUUID(), seq: 1, collectedAt: at(1).toISOString(), body: { kind: 'full', facts: sampleFacts() }, dropped: 0, now: at(1) }, () => {
          if (i === 2) throw new Error('evaluation failed');
          return { findings: [], timeline: [] };
        }),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    expect(await Promise.all(ids.map((id) => store.countReports(id)))).toEqual([1, 1, 0, 1]);
    expect(await store.getFacts(ids[2]!)).toBeNull();
    await store.close();
  });

  it('answers every report of a batch as failed, and runs the rest later, when SQLite undoes the whole transaction (disk full)', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      ids.push((await store.enrollDevice({ newId: `d${i}`, machineId: `m${i}`, org: 'acme', tokenHash: `t${i}`, device: sampleDevice({ machineId: `m${i}` }), now: at(0) })).device.id);
    }
    // A database that cannot grow by more than a few pages: the middle report does not fit, and SQLITE_FULL rolls everything back.
    store.db.pragma(`max_page_count = ${(store.db.pragma('page_count', { simple: true }) as number) + 40}`);
    // Random names: the store deflates facts, and these must stay too big once deflated.
    const big = sampleFacts({ software: { items: Array.from({ length: 3000 }, () => ({ installedAt: null, name: randomBytes(100).toString('hex'), publisher: null, scope: 'machine' as const, source: 'dpkg' as const, version: '1' })) } });
    const send = (id: string, facts: Facts) =>
      store.applyReport({ deviceId: id, reportId: randomUUID(), seq: 1, collectedAt: at(1).toISOString(), body: { kind: 'full', facts }, dropped: 0, now: at(1) }, () => ({ findings: [], timeline: [] }));
    const results = await Promise.allSettled([send(ids[0]!, sampleFacts()), send(ids[1]!, big), send(ids[2]!, sampleFacts())]);
    // The first two were undone with the transaction; the third ran in the next batch and is stored, and says so.
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'fulfilled']);
    expect(await Promise.all(ids.map((id) => store.countReports(id)))).toEqual([0, 0, 1]);
    await store.close();
  });

  it('takes a report that repeats the stored facts from its hash alone, without reading its facts', async () => {
    const { store, id, report } = await setup();
    const facts = sampleFacts({ encryption: unencrypted });
    const first = await report(facts, 1);
    if (first.status !== 'stored') throw new Error('expected the first report stored');
    // What the frame parser hands over: facts that would only be built from their text when read.
    const body = { kind: 'full' as const } as { kind: 'full'; facts: Facts };
    Object.defineProperty(body, 'facts', { enumerable: true, get: () => { throw new Error('the facts were read'); } });
    const again = await store.applyReport({ deviceId: id, reportId: randomUUID(), seq: 2, collectedAt: at(2).toISOString(), body, dropped: 0, now: at(2), factsHash: first.factsHash }, () => ({ findings: [], timeline: [] }));
    expect(again).toMatchObject({ status: 'stored', factsHash: first.factsHash });
    // A hash other than the stored one: the facts are read (and here, refused by the getter).
    await expect(store.applyReport({ deviceId: id, reportId: randomUUID(), seq: 3, collectedAt: at(3).toISOString(), body, dropped: 0, now: at(3), factsHash: 'f'.repeat(64) }, () => ({ findings: [], timeline: [] }))).rejects.toThrow('the facts were read');
    await store.close();
  });
});
