import { statusMessage } from '@vigie/shared';
import type { Datastore, EvaluatedFinding, FindingRecord, NonconformityRecord } from '../store/datastore';
import { SqliteStore } from '../store/sqlite';
import { sampleDevice, sampleFacts } from '../testing/fixtures';
import { buildStatusMessage, loadStatusMessage } from './status';

const at = new Date('2026-03-02T09:00:00.000Z');

function finding(ruleId: string, status: FindingRecord['status'], evidence = `${ruleId} evidence`): FindingRecord {
  return { deviceId: 'd1', hostname: 'lap', org: 'acme', owner: null, ruleId, status, severity: 'high', evidence, issp: ['9.10.6'], updatedAt: at.toISOString() };
}

function nc(ruleId: string, status: NonconformityRecord['status'], firstSeenAt: string, dueAt: string): NonconformityRecord {
  return {
    id: 1,
    deviceId: 'd1',
    hostname: 'lap',
    owner: null,
    org: 'acme',
    ruleId,
    severity: 'high',
    evidence: '',
    issp: [],
    firstSeenAt,
    dueAt,
    resolvedAt: status === 'resolved' ? at.toISOString() : null,
    status,
    exemption: status === 'exempted' ? { id: 1, reason: 'r', grantedBy: 'admin', expiresAt: '2026-04-01T00:00:00.000Z' } : null,
  };
}

describe('buildStatusMessage', () => {
  it('gives failing rules the due date of their open non-conformity, and passing or unknown rules none', () => {
    const msg = buildStatusMessage({
      evaluatedAt: at,
      policyVersion: 'p@1',
      findings: [finding('disk-encryption', 'fail'), finding('screen-lock', 'fail'), finding('usb-storage', 'pass'), finding('software', 'unknown')],
      nonconformities: [
        nc('disk-encryption', 'open', '2026-03-01T00:00:00.000Z', '2026-03-08T00:00:00.000Z'),
        nc('screen-lock', 'exempted', '2026-02-01T00:00:00.000Z', '2026-02-08T00:00:00.000Z'),
        // A non-conformity for a rule that passes now (resolved, or not yet marked so) gives it no date.
        nc('usb-storage', 'open', '2026-02-01T00:00:00.000Z', '2026-02-08T00:00:00.000Z'),
      ],
    });
    expect(statusMessage.parse(msg)).toEqual(msg);
    expect(msg).toMatchObject({ type: 'status', evaluatedAt: at.toISOString(), policyVersion: 'p@1' });
    expect(msg.findings.map((f) => [f.ruleId, f.status, f.firstSeenAt, f.dueAt, f.exempted])).toEqual([
      ['disk-encryption', 'fail', '2026-03-01T00:00:00.000Z', '2026-03-08T00:00:00.000Z', false],
      ['screen-lock', 'fail', '2026-02-01T00:00:00.000Z', '2026-02-08T00:00:00.000Z', true],
      ['usb-storage', 'pass', null, null, false],
      ['software', 'unknown', null, null, false],
    ]);
  });

  it('ignores resolved non-conformities, so an old due date never comes back', () => {
    const msg = buildStatusMessage({
      evaluatedAt: at,
      policyVersion: 'p@1',
      findings: [finding('disk-encryption', 'fail')],
      nonconformities: [nc('disk-encryption', 'resolved', '2026-01-01T00:00:00.000Z', '2026-01-08T00:00:00.000Z')],
    });
    expect(msg.findings[0]).toMatchObject({ firstSeenAt: null, dueAt: null, exempted: false });
  });

  it("keeps within the protocol's limits: long evidence is cut, at most 500 findings", () => {
    const many = Array.from({ length: 600 }, (_, i) => finding(`rule-${i}`, 'pass', 'x'.repeat(5000)));
    const msg = buildStatusMessage({ evaluatedAt: at, policyVersion: 'p@1', findings: many, nonconformities: [] });
    expect(msg.findings).toHaveLength(500);
    expect(msg.findings[0]?.evidence).toHaveLength(4000);
    expect(statusMessage.safeParse(msg).success).toBe(true);
  });
});

describe('loadStatusMessage', () => {
  it('reads the same status through the SQLite fast path as through the list queries', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    const t0 = new Date('2026-03-02T09:00:00.000Z');
    const { device } = await store.enrollDevice({ newId: 'd1', machineId: 'm1', org: 'acme', tokenHash: 't1', device: sampleDevice({ machineId: 'm1' }), now: t0 });
    const f = (ruleId: string, status: EvaluatedFinding['status']): EvaluatedFinding => ({ ruleId, status, severity: 'high', evidence: `${ruleId} ${status}`, issp: ['9.10.6'], graceDays: 7 });
    const report = (n: number, findings: EvaluatedFinding[]) =>
      store.applyReport({ deviceId: device.id, reportId: `r${n}`, seq: n, collectedAt: t0.toISOString(), body: { kind: 'full', facts: sampleFacts() }, dropped: 0, now: new Date(t0.getTime() + n * 60_000) }, () => ({
        findings,
        timeline: [],
      }));
    // a resolved non-conformity (fail then pass), an open one, an exempted one, a pass and an unknown.
    await report(1, [f('a-resolved', 'fail'), f('b-open', 'fail'), f('c-exempt', 'fail'), f('d-pass', 'pass'), f('e-unknown', 'unknown')]);
    await report(2, [f('a-resolved', 'pass'), f('b-open', 'fail'), f('c-exempt', 'fail'), f('d-pass', 'pass'), f('e-unknown', 'unknown')]);
    const now = new Date(t0.getTime() + 3_600_000);
    await store.createExemption({ deviceId: device.id, ruleId: 'c-exempt', reason: 'r', grantedBy: 'admin', expiresAt: new Date(now.getTime() + 86_400_000), now });

    const fast = await loadStatusMessage(store, device.id, 'p@1', now);
    // The same store seen only through the Datastore interface's list queries.
    const listOnly = new Proxy(store, { get: (target, key) => (key === 'deviceStatusRows' ? undefined : Reflect.get(target, key, target)) }) as Datastore;
    const slow = await loadStatusMessage(listOnly, device.id, 'p@1', now);
    expect(fast).toEqual(slow);
    expect(fast.findings.map((x) => [x.ruleId, x.status, x.dueAt !== null, x.exempted])).toEqual([
      ['a-resolved', 'pass', false, false],
      ['b-open', 'fail', true, false],
      ['c-exempt', 'fail', true, true],
      ['d-pass', 'pass', false, false],
      ['e-unknown', 'unknown', false, false],
    ]);
    await store.close();
  });
});
