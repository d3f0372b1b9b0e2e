import { randomUUID } from 'node:crypto';
import { factsHash, statusMessage, type AckMessage, type ConfigMessage, type EnrolledMessage, type ErrorMessage, type Facts, type StatusMessage } from '@vigie/shared';
import { sampleDevice, sampleFacts, unencrypted } from '../testing/fixtures';
import { startTestCollector, type TestCollector } from '../testing/harness';
import type { TestAgent } from '../testing/agent-client';

const DAY_MS = 86_400_000;

function fullReport(facts: Facts, reportId: string = randomUUID(), seq = 1) {
  return { type: 'report' as const, reportId, seq, collectedAt: '2026-03-02T08:59:00.000Z', body: { kind: 'full' as const, facts }, dropped: 0 };
}

describe('agent ingest over WSS', () => {
  let t: TestCollector;
  beforeEach(async () => {
    t = await startTestCollector({ rateLimit: 10, helloTimeoutMs: 400, maxFrameBytes: 64 * 1024 });
  });
  afterEach(async () => {
    await t.stop();
  });

  /** A fresh connection that has authenticated with the device's token. */
  async function authenticated(deviceId: string, token: string): Promise<TestAgent> {
    const agent = await t.connect();
    agent.hello(deviceId, token);
    const config = await agent.next<ConfigMessage>();
    expect(config.type).toBe('config');
    return agent;
  }

  it('enrols a device with a secret, gives it a token, and audits it', async () => {
    const secret = await t.createSecret('acme');
    const agent = await t.connect();
    agent.hello('machine-0001');
    agent.send({ type: 'enroll', secret, device: sampleDevice() });
    const enrolled = await agent.next<EnrolledMessage>();
    expect(enrolled).toMatchObject({ type: 'enrolled', org: 'acme', deviceId: expect.any(String), token: expect.any(String) });
    const config = await agent.next<ConfigMessage>();
    expect(config).toMatchObject({ type: 'config', intervalSeconds: 900, policyVersion: 'issp-default@2026.11.1', capabilities: ['delta-reports', 'usb-events'] });
    expect(Object.keys(config.remediation)).toContain('disk-encryption');
    expect(config.remediation['disk-encryption']?.steps.en).toMatch(/LUKS/);

    const device = await t.store.getDevice(enrolled.deviceId);
    expect(device).toMatchObject({ org: 'acme', hostname: 'lap-alice', machineId: 'machine-0001' });
    // Only the token's hash is kept.
    expect(JSON.stringify(device)).not.toContain(enrolled.token);
    const audit = await t.store.listAudit({ action: 'agent.enroll', limit: 10, offset: 0 });
    expect(audit.items[0]).toMatchObject({ outcome: 'success', target: enrolled.deviceId, ip: expect.stringMatching(/127\.0\.0\.1/) });

    // The same machine enrolling again keeps its id and gets a new token; the old one stops working.
    const again = await t.connect();
    again.hello('machine-0001');
    again.send({ type: 'enroll', secret, device: sampleDevice() });
    const second = await again.next<EnrolledMessage>();
    expect(second.deviceId).toBe(enrolled.deviceId);
    expect(second.token).not.toBe(enrolled.token);
    const stale = await t.connect();
    stale.hello(enrolled.deviceId, enrolled.token);
    expect(await stale.next<ErrorMessage>()).toMatchObject({ type: 'error', code: 'unauthenticated' });
  });

  it('stores a full report, acks a replay as duplicate without storing it twice, applies a delta, and asks for a full report on an unknown base', async () => {
    const { deviceId, token } = await t.enrol();
    const agent = await authenticated(deviceId, token);
    const facts = sampleFacts();
    const reportId = randomUUID();
    agent.send(fullReport(facts, reportId));
    expect(await agent.next<AckMessage>()).toEqual({ type: 'ack', id: reportId, status: 'stored', factsHash: factsHash(facts) });
    // After the ack, the device's status for its tray: everything passes, nothing is due.
    const compliant = statusMessage.parse(await agent.next<StatusMessage>());
    expect(compliant).toMatchObject({ evaluatedAt: t.clock.now.toISOString(), policyVersion: 'issp-default@2026.11.1' });
    expect(compliant.findings.map((f) => [f.ruleId, f.status, f.dueAt])).toEqual(
      ['agent-reporting', 'approved-software', 'disk-encryption', 'screen-lock', 'usb-storage'].map((r) => [r, 'pass', null]),
    );
    expect((await t.store.getFacts(deviceId))?.facts).toEqual(facts);
    const findings = await t.store.listFindings({ scope: null, deviceId, limit: 10, offset: 0 });
    expect(Object.fromEntries(findings.items.map((f) => [f.ruleId, f.status]))).toEqual({
      'disk-encryption': 'pass',
      'screen-lock': 'pass',
      'approved-software': 'pass',
      'usb-storage': 'pass',
      'agent-reporting': 'pass',
    });
    expect((await t.store.getDevice(deviceId))?.status).toBe('compliant');

    agent.send(fullReport(sampleFacts({ encryption: unencrypted }), reportId));
    expect(await agent.next<AckMessage>()).toEqual({ type: 'ack', id: reportId, status: 'duplicate', factsHash: factsHash(facts) });
    expect(await t.store.countReports(deviceId)).toBe(1);
    expect((await t.store.getFacts(deviceId))?.facts).toEqual(facts);

    t.clock.now = new Date(t.clock.now.getTime() + 3_600_000);
    const deltaId = randomUUID();
    agent.send({ type: 'report', reportId: deltaId, seq: 2, collectedAt: t.clock.now.toISOString(), body: { kind: 'delta', baseHash: factsHash(facts), sections: { encryption: unencrypted } } });
    const merged = { ...facts, encryption: unencrypted };
    expect(await agent.next<AckMessage>()).toEqual({ type: 'ack', id: deltaId, status: 'stored', factsHash: factsHash(merged) });
    const failing = await agent.next<StatusMessage>();
    expect(failing.findings.find((f) => f.ruleId === 'disk-encryption')).toEqual({
      ruleId: 'disk-encryption',
      status: 'fail',
      severity: 'critical',
      evidence: expect.stringContaining('/dev/sda2'),
      firstSeenAt: t.clock.now.toISOString(),
      dueAt: new Date(t.clock.now.getTime() + 7 * DAY_MS).toISOString(),
      exempted: false,
    });
    const ncs = await t.store.listNonconformities({ scope: null, limit: 10, offset: 0 }, t.clock.now);
    expect(ncs.items.map((n) => [n.ruleId, n.status, n.firstSeenAt, n.dueAt])).toEqual([
      ['disk-encryption', 'open', t.clock.now.toISOString(), new Date(t.clock.now.getTime() + 7 * DAY_MS).toISOString()],
    ]);
    const timeline = await t.store.getTimeline(deviceId, 10);
    expect(timeline[0]).toMatchObject({ section: 'encryption', summary: expect.stringContaining('/dev/sda2 decrypted') });

    const staleId = randomUUID();
    agent.send({ type: 'report', reportId: staleId, seq: 3, collectedAt: t.clock.now.toISOString(), body: { kind: 'delta', baseHash: factsHash(facts), sections: { usb: { devices: [], events: [] } } } });
    expect(await agent.next<ErrorMessage>()).toMatchObject({ type: 'error', code: 'need-full-report', id: staleId });
    expect(await t.store.countReports(deviceId)).toBe(2);
  });

  it("sends the config's remediation steps for the device's own OS, in English and French", async () => {
    const secret = await t.createSecret('acme');
    const steps: Record<string, ConfigMessage['remediation'][string]['steps'] | undefined> = {};
    for (const os of ['windows', 'macos', 'linux'] as const) {
      const agent = await t.connect();
      agent.hello(`machine-${os}`, undefined, { os });
      agent.send({ type: 'enroll', secret, device: sampleDevice({ machineId: `machine-${os}`, os }) });
      expect(await agent.next()).toMatchObject({ type: 'enrolled' });
      const config = await agent.next<ConfigMessage>();
      steps[os] = config.remediation['disk-encryption']?.steps;
    }
    expect(steps.windows?.en).toMatch(/BitLocker/);
    expect(steps.windows?.fr).toMatch(/^Ouvrez Paramètres/);
    expect(steps.macos?.en).toMatch(/FileVault/);
    expect(steps.linux?.en).toMatch(/LUKS/);
    // Each device gets its own OS's wording only.
    expect(steps.windows?.en).not.toMatch(/FileVault|LUKS/);
    expect(steps.macos?.fr).not.toMatch(/BitLocker/);
  });

  it("marks an exempted failure in the device's status, and clears due dates once fixed", async () => {
    const { agent, deviceId } = await t.enrol();
    agent.send(fullReport(sampleFacts({ encryption: unencrypted })));
    expect(await agent.next()).toMatchObject({ type: 'ack', status: 'stored' });
    const first = (await agent.next<StatusMessage>()).findings.find((f) => f.ruleId === 'disk-encryption');
    expect(first).toMatchObject({ status: 'fail', exempted: false, dueAt: new Date(t.clock.now.getTime() + 7 * DAY_MS).toISOString() });

    await t.store.createExemption({ deviceId, ruleId: 'disk-encryption', reason: 'lab machine', grantedBy: 'admin', expiresAt: new Date(t.clock.now.getTime() + 30 * DAY_MS), now: t.clock.now });
    t.clock.now = new Date(t.clock.now.getTime() + 3_600_000);
    agent.send(fullReport(sampleFacts({ encryption: unencrypted }), randomUUID(), 2));
    expect(await agent.next()).toMatchObject({ type: 'ack', status: 'stored' });
    const exempted = (await agent.next<StatusMessage>()).findings.find((f) => f.ruleId === 'disk-encryption');
    expect(exempted).toMatchObject({ status: 'fail', exempted: true, firstSeenAt: first?.firstSeenAt, dueAt: first?.dueAt });

    agent.send(fullReport(sampleFacts(), randomUUID(), 3));
    expect(await agent.next()).toMatchObject({ type: 'ack', status: 'stored' });
    const fixed = (await agent.next<StatusMessage>()).findings.find((f) => f.ruleId === 'disk-encryption');
    expect(fixed).toMatchObject({ status: 'pass', exempted: false, firstSeenAt: null, dueAt: null });
  });

  it('stores a USB event once per event id', async () => {
    const { agent, deviceId } = await t.enrol();
    const eventId = randomUUID();
    const event = { at: '2026-03-02T08:00:00.000Z', action: 'connected' as const, user: 'alice', device: { vendorId: '0781', productId: '5581', vendor: 'SanDisk', product: 'Ultra', serial: 'S1', storage: true, mountPoints: ['/media/alice/S'] } };
    agent.send({ type: 'usb-event', eventId, event });
    expect(await agent.next<AckMessage>()).toEqual({ type: 'ack', id: eventId, status: 'stored' });
    agent.send({ type: 'usb-event', eventId, event });
    expect(await agent.next<AckMessage>()).toEqual({ type: 'ack', id: eventId, status: 'duplicate' });
    expect(await t.store.listUsbEvents(deviceId, 10)).toHaveLength(1);
  });

  it('opens the non-conformity of an unauthorised drive when its USB event arrives, and keeps it for the look-back, whatever the scans see', async () => {
    const { agent, deviceId } = await t.enrol();
    agent.send(fullReport(sampleFacts()));
    expect(await agent.next()).toMatchObject({ type: 'ack', status: 'stored' });
    expect((await agent.next<StatusMessage>()).findings.find((f) => f.ruleId === 'usb-storage')?.status).toBe('pass');

    // Plugged in and out between two scans: only the events tell.
    const stick = { vendorId: '0781', productId: '5581', vendor: 'SanDisk', product: 'Ultra', serial: 'S1', storage: true, mountPoints: ['/media/alice/S'] };
    const eventId = randomUUID();
    agent.send({ type: 'usb-event', eventId, event: { at: '2026-03-02T08:59:30.000Z', action: 'mounted', user: 'alice', device: stick } });
    expect(await agent.next<AckMessage>()).toEqual({ type: 'ack', id: eventId, status: 'stored' });
    const status = await agent.next<StatusMessage>();
    expect(status.findings.find((f) => f.ruleId === 'usb-storage')).toMatchObject({
      status: 'fail',
      evidence: 'Unauthorised USB storage used: SanDisk Ultra [0781:5581 s/n S1] at 2026-03-02T08:59:30.000Z by alice',
      firstSeenAt: t.clock.now.toISOString(),
    });
    const open = await t.store.listNonconformities({ scope: null, deviceId, rule: 'usb-storage', status: 'open', limit: 10, offset: 0 }, t.clock.now);
    expect(open.total).toBe(1);
    // Only the USB rule was evaluated again: the other findings did not move.
    expect(status.findings.filter((f) => f.status === 'fail').map((f) => f.ruleId)).toEqual(['usb-storage']);

    // The next scan sees no drive: the event still counts.
    t.clock.now = new Date(t.clock.now.getTime() + 3_600_000);
    agent.send(fullReport(sampleFacts(), randomUUID(), 2));
    expect(await agent.next()).toMatchObject({ type: 'ack', status: 'stored' });
    expect((await agent.next<StatusMessage>()).findings.find((f) => f.ruleId === 'usb-storage')?.status).toBe('fail');

    // 24 hours after the collector received it, it no longer does, and the non-conformity is resolved.
    t.clock.now = new Date(t.clock.now.getTime() + DAY_MS);
    agent.send(fullReport(sampleFacts(), randomUUID(), 3));
    expect(await agent.next()).toMatchObject({ type: 'ack', status: 'stored' });
    expect((await agent.next<StatusMessage>()).findings.find((f) => f.ruleId === 'usb-storage')?.status).toBe('pass');
    const resolved = await t.store.listNonconformities({ scope: null, deviceId, rule: 'usb-storage', status: 'resolved', limit: 10, offset: 0 }, t.clock.now);
    expect(resolved.items[0]?.resolvedAt).toBe(t.clock.now.toISOString());
  });

  it('does not re-evaluate for a keyboard, and refuses the USB events of a device revoked meanwhile', async () => {
    const { agent, deviceId } = await t.enrol();
    agent.send(fullReport(sampleFacts()));
    expect(await agent.next()).toMatchObject({ type: 'ack', status: 'stored' });
    await agent.next<StatusMessage>();
    const keyboard = { vendorId: '046d', productId: 'c31c', vendor: 'Logitech', product: 'Keyboard', serial: null, storage: false, mountPoints: [] };
    const eventId = randomUUID();
    agent.send({ type: 'usb-event', eventId, event: { at: '2026-03-02T08:59:30.000Z', action: 'connected', user: 'alice', device: keyboard } });
    expect(await agent.next<AckMessage>()).toEqual({ type: 'ack', id: eventId, status: 'stored' });
    await expect(agent.next(300)).rejects.toThrow();

    await t.store.revokeDevice(deviceId);
    agent.send({ type: 'usb-event', eventId: randomUUID(), event: { at: '2026-03-02T08:59:40.000Z', action: 'connected', user: 'alice', device: keyboard } });
    expect(await agent.next<ErrorMessage>()).toMatchObject({ type: 'error', code: 'revoked' });
    expect(await t.store.listUsbEvents(deviceId, 10)).toHaveLength(1);
  });

  it('answers malformed, invalid and oversized frames with typed errors and keeps serving', async () => {
    const { agent } = await t.enrol();
    agent.send('{"type": "report", ');
    expect(await agent.next<ErrorMessage>()).toMatchObject({ type: 'error', code: 'malformed' });
    agent.send({ type: 'report', reportId: 'not-a-uuid', seq: -1 });
    expect(await agent.next<ErrorMessage>()).toMatchObject({ type: 'error', code: 'schema', message: expect.stringContaining('reportId') });
    agent.send(JSON.stringify({ type: 'report', padding: 'x'.repeat(70 * 1024) }));
    expect(await agent.next<ErrorMessage>()).toMatchObject({ type: 'error', code: 'too-large' });
    // The same connection still works, and so does a new one.
    const facts = sampleFacts();
    const id = randomUUID();
    agent.send(fullReport(facts, id));
    expect(await agent.next<AckMessage>()).toMatchObject({ type: 'ack', id, status: 'stored' });
    expect(await agent.next()).toMatchObject({ type: 'status' });
    const other = await t.connect();
    other.hello('machine-x');
    other.send({ type: 'enroll', secret: await t.createSecret(), device: sampleDevice({ machineId: 'machine-x' }) });
    expect(await other.next<EnrolledMessage>()).toMatchObject({ type: 'enrolled' });
  });

  it('closes a connection whose first frame is not a valid hello', async () => {
    const agent = await t.connect();
    agent.send('garbage');
    expect(await agent.next<ErrorMessage>()).toMatchObject({ type: 'error', code: 'malformed' });
    expect((await agent.closed).code).toBe(1008);
    const early = await t.connect();
    early.send(fullReport(sampleFacts()));
    expect(await early.next<ErrorMessage>()).toMatchObject({ type: 'error', code: 'unauthenticated' });
  });

  it('refuses unknown, revoked and other devices\u2019 tokens, and a wrong protocol version', async () => {
    const a = await t.enrol('machine-a');
    const b = await t.enrol('machine-b');

    const unknown = await t.connect();
    unknown.hello('no-such-device', 'x'.repeat(43));
    expect(await unknown.next<ErrorMessage>()).toMatchObject({ type: 'error', code: 'unknown-device' });
    expect((await unknown.closed).code).toBe(1008);

    const mismatch = await t.connect();
    mismatch.hello(a.deviceId, b.token);
    expect(await mismatch.next<ErrorMessage>()).toMatchObject({ type: 'error', code: 'token-mismatch' });

    await t.store.revokeDevice(a.deviceId, t.clock.now);
    const revoked = await t.connect();
    revoked.hello(a.deviceId, a.token);
    expect(await revoked.next<ErrorMessage>()).toMatchObject({ type: 'error', code: 'revoked' });
    // A connection opened before the revocation is refused at its next report.
    a.agent.send(fullReport(sampleFacts()));
    expect(await a.agent.next<ErrorMessage>()).toMatchObject({ type: 'error', code: 'revoked' });

    const future = await t.connect();
    future.hello(b.deviceId, b.token, { protocolVersion: 99 });
    expect(await future.next<ErrorMessage>()).toMatchObject({ type: 'error', code: 'unsupported-version' });

    const failures = await t.store.listAudit({ action: 'agent.authenticate', limit: 10, offset: 0 });
    expect(failures.items.map((e) => (e.details as { code: string }).code).sort()).toEqual(['revoked', 'token-mismatch', 'unknown-device']);
  });

  it('refuses a wrong or expired enrolment secret', async () => {
    const bad = await t.connect();
    bad.hello('machine-0001');
    bad.send({ type: 'enroll', secret: 'not-the-secret', device: sampleDevice() });
    expect(await bad.next<ErrorMessage>()).toMatchObject({ type: 'error', code: 'bad-secret' });
    expect((await bad.closed).code).toBe(1008);

    const expired = await t.createSecret('acme', new Date(t.clock.now.getTime() - 1000));
    const late = await t.connect();
    late.hello('machine-0001');
    late.send({ type: 'enroll', secret: expired, device: sampleDevice() });
    expect(await late.next<ErrorMessage>()).toMatchObject({ type: 'error', code: 'secret-expired' });
    expect((await t.store.listDevices({ scope: null, limit: 10, offset: 0 })).total).toBe(0);
    expect((await t.store.listAudit({ action: 'agent.enroll', limit: 10, offset: 0 })).items.map((e) => e.outcome)).toEqual(['failure', 'failure']);
  });

  it("refuses another org's secret on an enrolled machine id, and a revoked device until an operator restores it", async () => {
    const a = await t.enrol('machine-a', 'acme');
    // Machine ids are not secret: a beta secret must not take acme's device over.
    const thief = await t.connect();
    thief.hello('machine-a');
    thief.send({ type: 'enroll', secret: await t.createSecret('beta'), device: sampleDevice({ machineId: 'machine-a', hostname: 'evil' }) });
    expect(await thief.next<ErrorMessage>()).toMatchObject({ type: 'error', code: 'bad-secret', message: expect.stringMatching(/another org/) });
    expect((await thief.closed).code).toBe(1008);
    expect(await t.store.getDevice(a.deviceId)).toMatchObject({ org: 'acme', hostname: 'lap-alice', revoked: false });
    (await authenticated(a.deviceId, a.token)).ws.close();
    const denied = (await t.store.listAudit({ action: 'agent.enroll', limit: 10, offset: 0 })).items[0];
    expect(denied).toMatchObject({ outcome: 'denied', target: a.deviceId, details: { code: 'other-org', org: 'beta', deviceOrg: 'acme' } });

    // A revocation is not lifted by enrolling again, even with the device's own org's secret.
    await t.store.revokeDevice(a.deviceId, t.clock.now);
    const secret = await t.createSecret('acme');
    const retry = await t.connect();
    retry.hello('machine-a');
    retry.send({ type: 'enroll', secret, device: sampleDevice({ machineId: 'machine-a' }) });
    expect(await retry.next<ErrorMessage>()).toMatchObject({ type: 'error', code: 'revoked', message: expect.stringContaining(`device restore ${a.deviceId}`) });
    expect((await t.store.getDevice(a.deviceId))?.revoked).toBe(true);

    // Once an operator restored it, the agent enrols again in its org; the revoked token stays refused.
    await t.store.restoreDevice(a.deviceId, t.clock.now);
    const stale = await t.connect();
    stale.hello(a.deviceId, a.token);
    expect(await stale.next<ErrorMessage>()).toMatchObject({ type: 'error', code: 'unauthenticated' });
    const back = await t.connect();
    back.hello('machine-a');
    back.send({ type: 'enroll', secret, device: sampleDevice({ machineId: 'machine-a' }) });
    expect(await back.next<EnrolledMessage>()).toMatchObject({ type: 'enrolled', deviceId: a.deviceId, org: 'acme' });
  });

  it('rate-limits a flooding connection', async () => {
    const { agent } = await t.enrol();
    for (let i = 0; i < 40; i++) agent.send({ type: 'usb-event', eventId: randomUUID(), event: { at: '2026-03-02T08:00:00.000Z', action: 'connected', user: null, device: { vendorId: '0781', productId: '5581', vendor: null, product: null, serial: null, storage: true, mountPoints: [] } } });
    const received: { type: string; code?: string }[] = [];
    for (;;) {
      const m = await agent.next<{ type: string; code?: string }>(500).catch(() => null);
      if (!m) break;
      received.push(m);
    }
    expect(received.filter((m) => m.type === 'error' && m.code === 'rate-limited').length).toBeGreaterThan(0);
    // The burst (twice the rate) went through; the rest was refused and not stored.
    const acks = received.filter((m) => m.type === 'ack').length;
    expect(acks).toBeGreaterThanOrEqual(17); // hello and enroll took two of the burst of 20
    expect(acks).toBeLessThan(40);
  });

  it('closes a connection that never says hello', async () => {
    const agent = await t.connect();
    expect(await agent.next<ErrorMessage>(2000)).toMatchObject({ type: 'error', code: 'timeout' });
    expect((await agent.closed).code).toBe(1008);
  });

  it('marks a silent device failing the check-in rule at the sweep', async () => {
    const { agent, deviceId } = await t.enrol();
    agent.send(fullReport(sampleFacts()));
    await agent.next();
    await t.collector.sweep(new Date(t.clock.now.getTime() + 23 * 3_600_000));
    expect((await t.store.getDevice(deviceId))?.status).toBe('compliant');
    const later = new Date(t.clock.now.getTime() + 25 * 3_600_000);
    await t.collector.sweep(later);
    const ncs = await t.store.listNonconformities({ scope: null, limit: 10, offset: 0 }, later);
    expect(ncs.items.map((n) => [n.ruleId, n.firstSeenAt, n.dueAt])).toEqual([['agent-reporting', later.toISOString(), new Date(later.getTime() + 2 * DAY_MS).toISOString()]]);
    expect(ncs.items[0]?.evidence).toMatch(/has not reported for 25 h/);
    expect((await t.store.getDevice(deviceId))?.status).toBe('noncompliant');
  });
});
