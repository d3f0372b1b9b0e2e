import { factsHash, type Facts } from '@vigie/shared';
import { randomUUID } from 'node:crypto';
import { sampleDevice, sampleFacts, unencrypted } from '../testing/fixtures';
import type { Datastore, DeriveFn, EvaluatedFinding } from './datastore';

/**
 * The behaviour every Datastore must have. The SQLite suite runs it
 * (sqlite/sqlite.test.ts); the PostgreSQL implementation will run the same
 * function with its own factory. Only jest globals are used, so this file may
 * sit in src without being a test itself.
 */
export function defineDatastoreContract(name: string, factory: () => Promise<Datastore>): void {
  const T0 = new Date('2026-03-02T09:00:00.000Z');
  const at = (hours: number) => new Date(T0.getTime() + hours * 3_600_000);
  const DAY = 24;

  const finding = (ruleId: string, status: EvaluatedFinding['status'], graceDays = 7, severity: EvaluatedFinding['severity'] = 'high'): EvaluatedFinding => ({
    ruleId,
    status,
    severity,
    evidence: `${ruleId} is ${status}`,
    issp: ['9.10.6'],
    graceDays,
  });
  /** A derive that returns fixed findings and records what the store gave it. */
  const fixed = (findings: EvaluatedFinding[], seen: { previous: Facts | null; facts: Facts }[] = []): DeriveFn => {
    return ({ previous, facts }) => {
      seen.push({ previous, facts });
      return { findings, timeline: [{ section: 'agent', summary: 'test line' }] };
    };
  };

  describe(`Datastore contract: ${name}`, () => {
    let store: Datastore;
    beforeEach(async () => {
      store = await factory();
    });
    afterEach(async () => {
      await store.close();
    });

    async function enrol(machineId = 'machine-0001', org = 'acme', hostname = 'lap-alice') {
      const { device } = await store.enrollDevice({ newId: randomUUID(), machineId, org, tokenHash: `hash-${machineId}-${randomUUID()}`, device: sampleDevice({ machineId, hostname }), now: T0 });
      return device;
    }

    async function report(deviceId: string, facts: Facts, derive: DeriveFn, now = T0, reportId: string = randomUUID()) {
      return store.applyReport({ deviceId, reportId, seq: 1, collectedAt: now.toISOString(), body: { kind: 'full', facts }, dropped: 0, now }, derive);
    }

    describe('enrolment', () => {
      it('keeps enrolment secrets by hash with their org and expiry', async () => {
        const expires = at(7 * DAY);
        const created = await store.createEnrollSecret({ secretHash: 'h1', org: 'acme', expiresAt: expires, createdBy: 'cli', now: T0 });
        expect(created).toMatchObject({ org: 'acme', expiresAt: expires.toISOString(), createdBy: 'cli' });
        expect(await store.findEnrollSecret('h1')).toEqual(created);
        expect(await store.findEnrollSecret('other')).toBeNull();
      });

      it('re-enrolling the same machine in its own org keeps its id and replaces its token', async () => {
        const first = await store.enrollDevice({ newId: 'dev-1', machineId: 'm-1', org: 'acme', tokenHash: 'tok-a', device: sampleDevice({ machineId: 'm-1' }), now: T0 });
        expect(first).toMatchObject({ replaced: false });
        expect(first.device).toMatchObject({ id: 'dev-1', org: 'acme', hostname: 'lap-alice', os: 'linux', revoked: false, lastSeenAt: null, status: 'unknown' });
        expect((await store.findDeviceByTokenHash('tok-a'))?.id).toBe('dev-1');
        const again = await store.enrollDevice({ newId: 'dev-2', machineId: 'm-1', org: 'acme', tokenHash: 'tok-b', device: sampleDevice({ machineId: 'm-1' }), now: at(1) });
        expect(again).toMatchObject({ replaced: true, device: { id: 'dev-1', org: 'acme', revoked: false } });
        expect(await store.findDeviceByTokenHash('tok-a')).toBeNull();
        expect((await store.findDeviceByTokenHash('tok-b'))?.id).toBe('dev-1');
        expect(await store.getDevice('dev-2')).toBeNull();
      });

      it("refuses, unchanged, a re-enrolment from another org's secret or of a revoked device until it is restored", async () => {
        await store.enrollDevice({ newId: 'dev-1', machineId: 'm-1', org: 'acme', tokenHash: 'tok-a', device: sampleDevice({ machineId: 'm-1' }), now: T0 });
        const takeover = await store.enrollDevice({ newId: 'dev-2', machineId: 'm-1', org: 'beta', tokenHash: 'tok-x', device: sampleDevice({ machineId: 'm-1' }), now: at(1) });
        expect(takeover).toMatchObject({ refused: 'other-org', device: { id: 'dev-1', org: 'acme' } });
        expect((await store.findDeviceByTokenHash('tok-a'))?.org).toBe('acme');
        expect(await store.findDeviceByTokenHash('tok-x')).toBeNull();

        await store.revokeDevice('dev-1', at(2));
        const own = await store.enrollDevice({ newId: 'dev-2', machineId: 'm-1', org: 'acme', tokenHash: 'tok-b', device: sampleDevice({ machineId: 'm-1' }), now: at(3) });
        expect(own).toMatchObject({ refused: 'revoked', device: { id: 'dev-1', revoked: true } });
        expect((await store.getDevice('dev-1'))?.revoked).toBe(true);
        expect(await store.findDeviceByTokenHash('tok-b')).toBeNull();

        expect(await store.restoreDevice('nope', at(4))).toBeNull();
        expect(await store.restoreDevice('dev-1', at(4))).toMatchObject({ id: 'dev-1', revoked: false });
        // The revoked token is not revived: the agent enrols again.
        expect(await store.findDeviceByTokenHash('tok-a')).toBeNull();
        const back = await store.enrollDevice({ newId: 'dev-2', machineId: 'm-1', org: 'acme', tokenHash: 'tok-c', device: sampleDevice({ machineId: 'm-1' }), now: at(5) });
        expect(back).toMatchObject({ replaced: true, device: { id: 'dev-1', org: 'acme', revoked: false } });
      });

      it('edits owner, CIAT level and org', async () => {
        const d = await enrol();
        const updated = await store.updateDevice(d.id, { owner: 'Alice Martin', ciatLevel: 4, org: 'beta' }, T0);
        expect(updated).toMatchObject({ owner: 'Alice Martin', ciatLevel: 4, org: 'beta' });
        expect(await store.updateDevice('nope', { owner: 'x' }, T0)).toBeNull();
      });
    });

    describe('reports', () => {
      it('stores a full report with its canonical hash, and refuses to store a replay twice', async () => {
        const d = await enrol();
        const facts = sampleFacts();
        const reportId = randomUUID();
        const first = await report(d.id, facts, fixed([finding('disk-encryption', 'pass')]), T0, reportId);
        expect(first).toMatchObject({ status: 'stored', factsHash: factsHash(facts) });
        expect((await store.getFacts(d.id))?.facts).toEqual(facts);
        const device = await store.getDevice(d.id);
        expect(device).toMatchObject({ lastSeenAt: T0.toISOString(), factsHash: factsHash(facts), status: 'compliant' });

        const replay = await report(d.id, sampleFacts({ encryption: unencrypted }), fixed([finding('disk-encryption', 'fail')]), at(1), reportId);
        expect(replay).toEqual({ status: 'duplicate', factsHash: factsHash(facts) });
        expect(await store.countReports(d.id)).toBe(1);
        expect((await store.getFacts(d.id))?.facts).toEqual(facts);
        expect((await store.listNonconformities({ scope: null, limit: 10, offset: 0 }, at(1))).total).toBe(0);
      });

      it('applies a delta on the stored base and asks for a full report on any other base', async () => {
        const d = await enrol();
        const facts = sampleFacts();
        await report(d.id, facts, fixed([]));
        const seen: { previous: Facts | null; facts: Facts }[] = [];
        const delta = await store.applyReport(
          { deviceId: d.id, reportId: randomUUID(), seq: 2, collectedAt: at(1).toISOString(), body: { kind: 'delta', baseHash: factsHash(facts), sections: { encryption: unencrypted } }, dropped: 0, now: at(1) },
          fixed([], seen),
        );
        const merged = { ...facts, encryption: unencrypted };
        expect(delta).toMatchObject({ status: 'stored', factsHash: factsHash(merged) });
        expect(seen[0]).toEqual({ previous: facts, facts: merged });
        expect((await store.getFacts(d.id))?.facts).toEqual(merged);

        const staleId = randomUUID();
        const stale = await store.applyReport(
          { deviceId: d.id, reportId: staleId, seq: 3, collectedAt: at(2).toISOString(), body: { kind: 'delta', baseHash: factsHash(facts), sections: { usb: { devices: [], events: [] } } }, dropped: 0, now: at(2) },
          fixed([]),
        );
        expect(stale).toEqual({ status: 'need-full-report' });
        // Not recorded as processed: the agent resends it as a full report under a new id, or the same.
        expect(await store.hasReport(d.id, staleId)).toBe(false);
        expect((await store.getFacts(d.id))?.facts).toEqual(merged);
      });

      it('refuses a delta for a device without stored facts, and a report for an unknown device', async () => {
        const d = await enrol();
        const body = { kind: 'delta' as const, baseHash: 'a'.repeat(64), sections: {} };
        expect(await store.applyReport({ deviceId: d.id, reportId: randomUUID(), seq: 0, collectedAt: T0.toISOString(), body, dropped: 0, now: T0 }, fixed([]))).toEqual({ status: 'need-full-report' });
        expect(await report('no-such-device', sampleFacts(), fixed([]))).toEqual({ status: 'unknown-device' });
        await store.revokeDevice(d.id, T0);
        expect(await report(d.id, sampleFacts(), fixed([]))).toEqual({ status: 'revoked' });
      });

      it('writes the timeline and counts dropped reports', async () => {
        const d = await enrol();
        await store.applyReport({ deviceId: d.id, reportId: randomUUID(), seq: 5, collectedAt: T0.toISOString(), body: { kind: 'full', facts: sampleFacts() }, dropped: 3, now: T0 }, fixed([]));
        const lines = await store.getTimeline(d.id, 10);
        expect(lines.map((l) => l.summary)).toEqual([expect.stringContaining('dropped 3'), 'test line']);
        expect((await store.getDevice(d.id))?.droppedReports).toBe(3);
      });

      it('stores a USB event once per event id', async () => {
        const d = await enrol();
        const event = { at: T0.toISOString(), action: 'connected' as const, user: 'alice', device: { vendorId: '0781', productId: '5581', vendor: 'SanDisk', product: 'Ultra', serial: 'S1', storage: true, mountPoints: [] } };
        const eventId = randomUUID();
        expect(await store.recordUsbEvent({ deviceId: d.id, eventId, event, now: T0 })).toBe('stored');
        expect(await store.recordUsbEvent({ deviceId: d.id, eventId, event, now: at(1) })).toBe('duplicate');
        expect(await store.listUsbEvents(d.id, 10)).toEqual([{ eventId, receivedAt: T0.toISOString(), event }]);
      });

      it('gives the newest connection of each USB device received since a time, without removals', async () => {
        const d = await enrol();
        const event = (serial: string, action: 'connected' | 'mounted' | 'disconnected' = 'connected') => ({
          at: T0.toISOString(),
          action,
          user: null,
          device: { vendorId: '0781', productId: '5581', vendor: null, product: null, serial, storage: true, mountPoints: [] },
        });
        const record = (e: ReturnType<typeof event>, hours: number) => store.recordUsbEvent({ deviceId: d.id, eventId: randomUUID(), event: e, now: at(hours) });
        await record(event('old'), 0);
        await record(event('stick'), 30);
        await record(event('stick', 'mounted'), 30.5);
        await record(event('stick', 'disconnected'), 31);
        // A flood of removals and replugs of another device cannot push the stick out of the limit.
        for (let i = 0; i < 5; i++) {
          await record(event('dock'), 32 + i / 10);
          await record(event('dock', 'disconnected'), 32 + i / 10 + 0.05);
        }
        const recent = await store.recentUsbConnections(d.id, at(30), 10);
        expect(recent.map((r) => [r.event.device.serial, r.event.action, r.receivedAt.toISOString()])).toEqual([
          ['dock', 'connected', at(32.4).toISOString()],
          ['stick', 'mounted', at(30.5).toISOString()],
        ]);
        expect(await store.recentUsbConnections(d.id, at(30), 1)).toHaveLength(1);
      });
    });

    describe('non-conformities', () => {
      it('opens at the first failure with its due date, keeps one open, and resolves when the rule passes', async () => {
        const d = await enrol();
        const first = await report(d.id, sampleFacts(), fixed([finding('disk-encryption', 'fail', 7, 'critical'), finding('screen-lock', 'pass')]), T0);
        expect(first.status === 'stored' && first.opened.map((n) => [n.ruleId, n.firstSeenAt, n.dueAt, n.status])).toEqual([
          ['disk-encryption', T0.toISOString(), at(7 * DAY).toISOString(), 'open'],
        ]);
        expect(first.status === 'stored' && first.statusChanged).toBe(true);
        expect(await store.getDevice(d.id)).toMatchObject({ status: 'noncompliant', failing: 1 });

        const second = await report(d.id, sampleFacts(), fixed([finding('disk-encryption', 'fail', 7, 'critical'), finding('screen-lock', 'unknown')]), at(5));
        expect(second.status === 'stored' && second.opened).toEqual([]);
        let page = await store.listNonconformities({ scope: null, limit: 10, offset: 0 }, at(5));
        expect(page.total).toBe(1);

        const third = await report(d.id, sampleFacts(), fixed([finding('disk-encryption', 'pass'), finding('screen-lock', 'pass')]), at(30));
        const ncId = page.items[0]!.id;
        expect(third.status === 'stored' && third.resolved).toEqual([ncId]);
        page = await store.listNonconformities({ scope: null, limit: 10, offset: 0 }, at(30));
        expect(page.items[0]).toMatchObject({ id: ncId, status: 'resolved', resolvedAt: at(30).toISOString(), firstSeenAt: T0.toISOString(), hostname: 'lap-alice', org: 'acme' });
        expect(await store.getDevice(d.id)).toMatchObject({ status: 'compliant', failing: 0 });

        // Failing again is a new non-conformity, with a new due date.
        const fourth = await report(d.id, sampleFacts(), fixed([finding('disk-encryption', 'fail', 2)]), at(40));
        expect(fourth.status === 'stored' && fourth.opened[0]?.dueAt).toBe(at(40 + 2 * DAY).toISOString());
        expect((await store.listNonconformities({ scope: null, status: 'open', limit: 10, offset: 0 }, at(40))).total).toBe(1);
        expect((await store.listNonconformities({ scope: null, status: 'resolved', limit: 10, offset: 0 }, at(40))).total).toBe(1);
      });

      it('resolves non-conformities of rules that no longer apply', async () => {
        const d = await enrol();
        await report(d.id, sampleFacts(), fixed([finding('usb-storage', 'fail')]), T0);
        const result = await store.reevaluateDevice(d.id, fixed([finding('disk-encryption', 'pass')]), at(1));
        expect(result?.resolved).toHaveLength(1);
        expect((await store.listFindings({ scope: null, deviceId: d.id, limit: 10, offset: 0 })).items.map((f) => f.ruleId)).toEqual(['disk-encryption']);
      });

      it('an exemption marks the non-conformity exempted until it expires or is revoked', async () => {
        const d = await enrol();
        await report(d.id, sampleFacts(), fixed([finding('disk-encryption', 'fail')]), T0);
        const ex = await store.createExemption({ deviceId: d.id, ruleId: 'disk-encryption', reason: 'Replacement laptop ordered', grantedBy: 'root', expiresAt: at(48), now: at(1) });
        expect(ex).toMatchObject({ reason: 'Replacement laptop ordered', grantedBy: 'root', expiresAt: at(48).toISOString(), revokedAt: null });
        expect(await store.getDevice(d.id)).toMatchObject({ status: 'compliant', failing: 0 });
        const exempted = await store.listNonconformities({ scope: null, status: 'exempted', limit: 10, offset: 0 }, at(2));
        expect(exempted.items[0]).toMatchObject({ status: 'exempted', exemption: { id: ex.id, reason: 'Replacement laptop ordered', grantedBy: 'root', expiresAt: at(48).toISOString() } });
        expect((await store.summary({ scope: null, now: at(2), days: 1, silentCutoff: null })).bySeverity.high).toBe(0);

        // After its expiry it is open again; the sweep finds the device to refresh.
        expect((await store.listNonconformities({ scope: null, status: 'open', limit: 10, offset: 0 }, at(49))).total).toBe(1);
        expect(await store.listDevicesWithExemptionsEndingBetween(at(47), at(49))).toEqual([d.id]);
        expect(await store.refreshDeviceStatus(d.id, at(49))).toBe(true);
        expect(await store.getDevice(d.id)).toMatchObject({ status: 'noncompliant', failing: 1 });

        const ex2 = await store.createExemption({ deviceId: d.id, ruleId: 'disk-encryption', reason: 'again', grantedBy: 'root', expiresAt: at(100), now: at(50) });
        expect((await store.getDevice(d.id))?.status).toBe('compliant');
        const revoked = await store.revokeExemption(ex2.id, 'boss', at(51));
        expect(revoked).toMatchObject({ revokedAt: at(51).toISOString(), revokedBy: 'boss' });
        expect((await store.getDevice(d.id))?.status).toBe('noncompliant');
        expect(await store.revokeExemption(99999, 'boss', at(51))).toBeNull();
      });

      it('finds silent devices whose check-in finding is not yet failing', async () => {
        const d1 = await enrol('m-1', 'acme', 'one');
        const d2 = await enrol('m-2', 'acme', 'two');
        await report(d1.id, sampleFacts(), fixed([finding('agent-reporting', 'pass')]), T0);
        await report(d2.id, sampleFacts(), fixed([finding('agent-reporting', 'pass')]), at(20));
        expect(await store.listSilentDevices('agent-reporting', at(25 - 24), 10)).toEqual([d1.id]);
        await store.reevaluateDevice(d1.id, fixed([finding('agent-reporting', 'fail')]), at(25));
        expect(await store.listSilentDevices('agent-reporting', at(1), 10)).toEqual([]);
      });
    });

    describe('queries', () => {
      async function fleet() {
        const a = await enrol('m-a', 'acme', 'alpha');
        const b = await enrol('m-b', 'acme', 'Bravo');
        const c = await enrol('m-c', 'beta', 'charlie');
        await store.updateDevice(b.id, { owner: 'Bob 100%' }, T0);
        // The facts carry the hostname: a report updates the device's inventory fields.
        await report(a.id, sampleFacts({}, { hostname: 'alpha' }), fixed([finding('disk-encryption', 'pass')]), at(1));
        await report(b.id, sampleFacts({}, { hostname: 'Bravo' }), fixed([finding('disk-encryption', 'fail', 7, 'critical')]), at(2));
        await report(c.id, sampleFacts({}, { hostname: 'charlie' }), fixed([finding('disk-encryption', 'unknown')]), at(3));
        return { a, b, c };
      }

      it('lists devices with org scope, filters, sort and paging', async () => {
        const { a, b, c } = await fleet();
        const all = await store.listDevices({ scope: null, limit: 10, offset: 0 });
        expect(all.items.map((d) => d.hostname)).toEqual(['alpha', 'Bravo', 'charlie']);
        expect((await store.listDevices({ scope: ['acme'], limit: 10, offset: 0 })).items.map((d) => d.id)).toEqual([a.id, b.id]);
        expect((await store.listDevices({ scope: [], limit: 10, offset: 0 })).total).toBe(0);
        expect((await store.listDevices({ scope: null, status: 'noncompliant', limit: 10, offset: 0 })).items.map((d) => d.id)).toEqual([b.id]);
        expect((await store.listDevices({ scope: null, status: 'unknown', limit: 10, offset: 0 })).items.map((d) => d.id)).toEqual([c.id]);
        expect((await store.listDevices({ scope: null, q: '100%', limit: 10, offset: 0 })).items.map((d) => d.id)).toEqual([b.id]);
        expect((await store.listDevices({ scope: null, q: '%', limit: 10, offset: 0 })).items.map((d) => d.id)).toEqual([b.id]);
        const sorted = await store.listDevices({ scope: null, sort: 'lastSeenAt', order: 'desc', limit: 2, offset: 1 });
        expect(sorted).toMatchObject({ total: 3, items: [{ id: b.id }, { id: a.id }] });
        expect((await store.listDevices({ scope: null, org: 'beta', limit: 10, offset: 0 })).items.map((d) => d.id)).toEqual([c.id]);
        await store.revokeDevice(c.id, T0);
        expect((await store.listDevices({ scope: null, limit: 10, offset: 0 })).total).toBe(2);
      });

      it('lists findings and non-conformities within the scope only', async () => {
        const { b } = await fleet();
        expect((await store.listFindings({ scope: null, limit: 10, offset: 0 })).total).toBe(3);
        expect((await store.listFindings({ scope: ['beta'], limit: 10, offset: 0 })).items.map((f) => f.status)).toEqual(['unknown']);
        expect((await store.listFindings({ scope: null, status: 'fail', limit: 10, offset: 0 })).items).toEqual([
          expect.objectContaining({ deviceId: b.id, ruleId: 'disk-encryption', severity: 'critical', owner: 'Bob 100%', issp: ['9.10.6'] }),
        ]);
        expect((await store.listNonconformities({ scope: ['beta'], limit: 10, offset: 0 }, at(3))).total).toBe(0);
        const ncs = await store.listNonconformities({ scope: ['acme'], severity: 'critical', q: 'bravo', limit: 10, offset: 0 }, at(3));
        expect(ncs.items.map((n) => [n.deviceId, n.status, n.exemption])).toEqual([[b.id, 'open', null]]);
        // The owner filter takes any part of the name, any case; % is a character like the others.
        expect((await store.listNonconformities({ scope: null, owner: 'bob', limit: 10, offset: 0 }, at(3))).total).toBe(1);
        expect((await store.listNonconformities({ scope: null, owner: '100%', limit: 10, offset: 0 }, at(3))).total).toBe(1);
        expect((await store.listNonconformities({ scope: null, owner: '0%b', limit: 10, offset: 0 }, at(3))).total).toBe(0);
      });

      it('summarises conformity overall, per rule and per org, with a daily trend', async () => {
        await fleet();
        await store.recordDailySnapshot(at(3));
        await store.recordDailySnapshot(at(3 + DAY));
        const s = await store.summary({ scope: null, now: at(3 + DAY), days: 30, silentCutoff: at(2) });
        expect(s).toMatchObject({ devices: 3, compliantDevices: 1, bySeverity: { critical: 1, high: 0, medium: 0, low: 0 } });
        expect(s.byRule).toEqual([{ ruleId: 'disk-encryption', pass: 1, fail: 1, unknown: 1 }]);
        expect(s.byOrg).toEqual([
          { org: 'acme', devices: 2, compliantDevices: 1 },
          { org: 'beta', devices: 1, compliantDevices: 0 },
        ]);
        expect(s.trend).toEqual([
          { day: '2026-03-02', devices: 3, compliantDevices: 1 },
          { day: '2026-03-03', devices: 3, compliantDevices: 1 },
        ]);
        expect(s.silent.map((x) => x.hostname)).toEqual(['alpha']);
        const scoped = await store.summary({ scope: ['beta'], now: at(3), days: 30, silentCutoff: null });
        expect(scoped).toMatchObject({ devices: 1, compliantDevices: 0, bySeverity: { critical: 0 }, trend: [{ day: '2026-03-02', devices: 1, compliantDevices: 0 }], silent: [] });
        // Per-rule counts follow a device into its new org, and leave with a revocation.
        const { b, c } = await store.listDevices({ scope: null, limit: 10, offset: 0 }).then((p) => ({ b: p.items[1]!, c: p.items[2]! }));
        await store.updateDevice(b.id, { org: 'beta' }, at(4));
        await store.revokeDevice(c.id, at(4));
        const moved = await store.summary({ scope: ['beta'], now: at(4), days: 1, silentCutoff: null });
        expect(moved.byRule).toEqual([{ ruleId: 'disk-encryption', pass: 0, fail: 1, unknown: 0 }]);
        expect((await store.summary({ scope: ['acme'], now: at(4), days: 1, silentCutoff: null })).byRule).toEqual([{ ruleId: 'disk-encryption', pass: 1, fail: 0, unknown: 0 }]);
      });
    });

    describe('counts at scale', () => {
      /** The summary and list totals as a recount of the listed rows: a store may keep counters, never stale ones. */
      async function expectCountsMatchRows(now: Date): Promise<void> {
        const devices = (await store.listDevices({ scope: null, limit: 500, offset: 0 })).items;
        const findings = (await store.listFindings({ scope: null, limit: 500, offset: 0 })).items;
        const ncs = (await store.listNonconformities({ scope: null, limit: 500, offset: 0 }, now)).items;
        for (const scope of [null, ['acme'], ['beta'], []]) {
          const inScope = <T extends { org: string }>(xs: T[]) => xs.filter((x) => scope === null || scope.includes(x.org));
          const s = await store.summary({ scope, now, days: 1, silentCutoff: null });
          const ds = inScope(devices);
          expect({ devices: s.devices, compliantDevices: s.compliantDevices }).toEqual({ devices: ds.length, compliantDevices: ds.filter((d) => d.status === 'compliant').length });
          const orgs = [...new Set(ds.map((d) => d.org))].sort();
          expect(s.byOrg).toEqual(orgs.map((org) => ({ org, devices: ds.filter((d) => d.org === org).length, compliantDevices: ds.filter((d) => d.org === org && d.status === 'compliant').length })));
          const fs = inScope(findings);
          const rules = [...new Set(fs.map((f) => f.ruleId))].sort();
          const count = (ruleId: string, status: string) => fs.filter((f) => f.ruleId === ruleId && f.status === status).length;
          expect([...s.byRule].sort((a, b) => a.ruleId.localeCompare(b.ruleId))).toEqual(rules.map((ruleId) => ({ ruleId, pass: count(ruleId, 'pass'), fail: count(ruleId, 'fail'), unknown: count(ruleId, 'unknown') })));
          const open = inScope(ncs).filter((n) => n.status === 'open');
          expect(s.bySeverity).toEqual({ critical: 0, high: 0, medium: 0, low: 0, ...Object.fromEntries(['critical', 'high', 'medium', 'low'].map((sev) => [sev, open.filter((n) => n.severity === sev).length])) });
          for (const status of [undefined, 'open', 'exempted', 'resolved'] as const) {
            for (const filter of [{}, { org: 'acme' }, { rule: 'disk-encryption' }, { severity: 'critical' as const }]) {
              const page = await store.listNonconformities({ scope, status, ...filter, limit: 500, offset: 0 }, now);
              expect({ status, filter, total: page.total }).toEqual({ status, filter, total: page.items.length });
            }
          }
        }
      }

      it('keeps the summary and the list totals equal to a recount through opens, resolves, exemptions, sweeps, moves and revocations', async () => {
        const a = await enrol('m-a', 'acme', 'alpha');
        const b = await enrol('m-b', 'acme', 'bravo');
        const c = await enrol('m-c', 'beta', 'charlie');
        await expectCountsMatchRows(T0);
        // Opens, with severities.
        await report(a.id, sampleFacts(), fixed([finding('disk-encryption', 'fail', 7, 'critical'), finding('screen-lock', 'fail', 7, 'medium'), finding('agent-reporting', 'pass')]), at(1));
        await report(b.id, sampleFacts(), fixed([finding('disk-encryption', 'pass'), finding('screen-lock', 'unknown'), finding('agent-reporting', 'pass')]), at(1));
        await report(c.id, sampleFacts(), fixed([finding('disk-encryption', 'fail', 7, 'high'), finding('agent-reporting', 'pass')]), at(2));
        await expectCountsMatchRows(at(2));
        // A severity change on an open one, an unknown that keeps it open, a pass that resolves one.
        await report(a.id, sampleFacts(), fixed([finding('disk-encryption', 'fail', 7, 'high'), finding('screen-lock', 'unknown'), finding('agent-reporting', 'pass')]), at(3));
        await report(c.id, sampleFacts(), fixed([finding('disk-encryption', 'pass'), finding('agent-reporting', 'pass')]), at(3));
        await expectCountsMatchRows(at(3));
        // Exemptions: one that expires, one revoked, two on the same non-conformity.
        await store.createExemption({ deviceId: a.id, ruleId: 'disk-encryption', reason: 'r', grantedBy: 'root', expiresAt: at(10), now: at(4) });
        await store.createExemption({ deviceId: a.id, ruleId: 'disk-encryption', reason: 'r2', grantedBy: 'root', expiresAt: at(8), now: at(4) });
        const ex = await store.createExemption({ deviceId: a.id, ruleId: 'screen-lock', reason: 'r', grantedBy: 'root', expiresAt: at(100), now: at(4) });
        await expectCountsMatchRows(at(5));
        await store.revokeExemption(ex.id, 'root', at(6));
        await expectCountsMatchRows(at(6));
        await store.refreshDeviceStatus(a.id, at(11));
        await expectCountsMatchRows(at(11));
        // The silent sweep: the check-in rule fails for a device not seen for a day.
        for (const id of await store.listSilentDevices('agent-reporting', at(30 - DAY), 10)) {
          await store.reevaluateDevice(id, fixed([finding('disk-encryption', 'pass'), finding('agent-reporting', 'fail', 0, 'low')]), at(30));
        }
        await expectCountsMatchRows(at(30));
        // A rule that no longer applies, a move to another org, a revocation and a re-enrolment.
        await store.reevaluateDevice(b.id, fixed([finding('agent-reporting', 'fail', 0, 'low')]), at(31));
        await store.updateDevice(b.id, { org: 'beta' }, at(31));
        await expectCountsMatchRows(at(31));
        await store.revokeDevice(c.id, at(32));
        await expectCountsMatchRows(at(32));
        await store.restoreDevice(c.id, at(33));
        await expectCountsMatchRows(at(33));
        await store.enrollDevice({ newId: randomUUID(), machineId: 'm-c', org: 'beta', tokenHash: 'tok-c2', device: sampleDevice({ machineId: 'm-c', hostname: 'charlie' }), now: at(33) });
        await expectCountsMatchRows(at(33));
      });
    });

    describe('users, sessions and audit', () => {
      it('creates a user once', async () => {
        expect(await store.createUser({ username: 'root', passwordHash: 'scrypt$x', role: 'admin', orgs: ['*'], now: T0 })).toBe('created');
        expect(await store.createUser({ username: 'root', passwordHash: 'other', role: 'auditor', orgs: [], now: T0 })).toBe('exists');
        expect(await store.getUser('root')).toEqual({ username: 'root', passwordHash: 'scrypt$x', role: 'admin', orgs: ['*'], createdAt: T0.toISOString() });
        expect(await store.getUser('nobody')).toBeNull();
      });

      it('locks a name after too many failures, for a while', async () => {
        const policy = { maxFailures: 3, lockSeconds: 300 };
        await store.recordLoginFailure('root', T0, policy);
        expect(await store.recordLoginFailure('root', T0, policy)).toEqual({ failures: 2, lockedUntil: null });
        const locked = await store.recordLoginFailure('root', T0, policy);
        expect(locked.lockedUntil).toBe(new Date(T0.getTime() + 300_000).toISOString());
        expect((await store.getLoginThrottle('root')).lockedUntil).toBe(locked.lockedUntil);
        // After the lock, a new failure starts a new count.
        expect(await store.recordLoginFailure('root', at(1), policy)).toEqual({ failures: 1, lockedUntil: null });
        await store.clearLoginFailures('root');
        expect(await store.getLoginThrottle('root')).toEqual({ failures: 0, lockedUntil: null });
      });

      it('expires a session after the idle time, and each use extends it', async () => {
        await store.createUser({ username: 'root', passwordHash: 'x', role: 'admin', orgs: ['*'], now: T0 });
        await store.createSession({ tokenHash: 's1', username: 'root', now: T0, idleSeconds: 900, ip: '10.0.0.1' });
        const t = (s: number) => new Date(T0.getTime() + s * 1000);
        expect(await store.touchSession('s1', t(600), 900)).toMatchObject({ username: 'root', expiresAt: t(1500).toISOString() });
        expect(await store.touchSession('s1', t(1400), 900)).not.toBeNull();
        expect(await store.getSession('s1', t(2200))).toMatchObject({ expiresAt: t(2300).toISOString() });
        expect(await store.getSession('s1', t(2300))).toBeNull();
        expect(await store.touchSession('s1', t(2300), 900)).toBeNull();
        expect(await store.touchSession('s1', t(2301), 900)).toBeNull();
        await store.createSession({ tokenHash: 's2', username: 'root', now: T0, idleSeconds: 900, ip: null });
        await store.deleteSession('s2');
        expect(await store.touchSession('s2', T0, 900)).toBeNull();
      });

      it('appends audit entries and lists them newest first with filters', async () => {
        await store.appendAudit({ at: T0, actor: 'anonymous', action: 'login', target: 'root', details: { reason: 'bad password' }, ip: '10.0.0.1', outcome: 'failure' });
        await store.appendAudit({ at: at(1), actor: 'root', action: 'login', target: 'root', details: null, ip: '10.0.0.1', outcome: 'success' });
        await store.appendAudit({ at: at(2), actor: 'root', action: 'device.update', target: 'dev-1', details: { owner: 'x' }, ip: '10.0.0.1', outcome: 'success' });
        const all = await store.listAudit({ limit: 10, offset: 0 });
        expect(all.total).toBe(3);
        expect(all.items.map((e) => e.action)).toEqual(['device.update', 'login', 'login']);
        expect(all.items[2]).toMatchObject({ at: T0.toISOString(), actor: 'anonymous', details: { reason: 'bad password' }, ip: '10.0.0.1', outcome: 'failure' });
        expect((await store.listAudit({ actor: 'root', action: 'login', limit: 10, offset: 0 })).total).toBe(1);
        // Any part, any case: what an admin types in the console's filters.
        expect((await store.listAudit({ action: 'DEVICE', limit: 10, offset: 0 })).items.map((e) => e.action)).toEqual(['device.update']);
        expect((await store.listAudit({ actor: 'anon', limit: 10, offset: 0 })).total).toBe(1);
        expect((await store.listAudit({ action: '%', limit: 10, offset: 0 })).total).toBe(0);
      });
    });

    it('keeps the evaluation context tables', async () => {
      await store.addAuthorisedUsb({ org: null, vendorId: '0781', productId: '5581', serial: null, note: 'all orgs' });
      await store.addAuthorisedUsb({ org: 'beta', vendorId: '0951', productId: '1666', serial: 'K1', note: null });
      expect((await store.listAuthorisedUsb('acme')).map((u) => u.vendorId)).toEqual(['0781']);
      expect((await store.listAuthorisedUsb('beta')).map((u) => u.vendorId)).toEqual(['0781', '0951']);
      // What an admin of some orgs manages: theirs and the every-org ones; removed by id.
      expect((await store.listAuthorisedUsbEntries(['acme'])).map((u) => [u.org, u.vendorId])).toEqual([[null, '0781']]);
      const all = await store.listAuthorisedUsbEntries(null);
      expect(all.map((u) => [u.org, u.vendorId])).toEqual([[null, '0781'], ['beta', '0951']]);
      expect(await store.getAuthorisedUsb(all[1]!.id)).toEqual(all[1]);
      expect(await store.removeAuthorisedUsb(all[1]!.id)).toBe(true);
      expect(await store.removeAuthorisedUsb(all[1]!.id)).toBe(false);
      expect(await store.getAuthorisedUsb(all[1]!.id)).toBeNull();
      expect((await store.listAuthorisedUsb('beta')).map((u) => u.vendorId)).toEqual(['0781']);
      await store.addCatalogRule({ name: '^firefox', publisher: null, product: 'Firefox', status: 'approved' });
      expect(await store.listCatalogRules()).toEqual([{ id: expect.any(Number), name: '^firefox', publisher: null, product: 'Firefox', status: 'approved' }]);
    });
  });
}
