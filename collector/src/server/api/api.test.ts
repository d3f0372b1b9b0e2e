import { randomUUID } from 'node:crypto';
import * as tls from 'node:tls';
import { WebSocket } from 'ws';
import type { StatusMessage } from '@vigie/shared';
import type { Role } from '../../store/datastore';
import { hashPassword } from '../../util/crypto';
import { sampleFacts, unencrypted } from '../../testing/fixtures';
import { startTestCollector, type TestCollector } from '../../testing/harness';
import { request, type TestResponse } from '../../testing/http-client';

const PASSWORD = 'correct horse battery staple';

describe('console API', () => {
  let t: TestCollector;
  let call: (method: string, path: string, options?: { token?: string; body?: unknown; rawBody?: string }) => Promise<TestResponse>;
  let acmeDevice: string;
  let betaDevice: string;
  let acmeToken: string;
  let passwordHash: string;

  beforeAll(async () => {
    passwordHash = await hashPassword(PASSWORD);
  });

  beforeEach(async () => {
    t = await startTestCollector({ auth: { lockout: { maxFailures: 3, lockSeconds: 300 } }, apiBodyLimit: 4096 });
    call = (method, path, options) => request(t.collector.url, t.collector.caCertPem, method, `/api/v1${path}`, options);
    const users: [string, Role, string[]][] = [
      ['root', 'admin', ['*']],
      ['acme-admin', 'admin', ['acme']],
      ['beta-admin', 'admin', ['beta']],
      ['auditor', 'auditor', ['*']],
      ['licenses', 'license-manager', ['acme']],
    ];
    for (const [username, role, orgs] of users) await t.store.createUser({ username, passwordHash, role, orgs, now: t.clock.now });
    const a = await t.enrol('machine-a', 'acme');
    a.agent.send({ type: 'report', reportId: randomUUID(), seq: 1, collectedAt: t.clock.now.toISOString(), body: { kind: 'full', facts: sampleFacts({ encryption: unencrypted }, { machineId: 'machine-a', hostname: 'acme-lap' }) }, dropped: 0 });
    await a.agent.next();
    const b = await t.enrol('machine-b', 'beta');
    b.agent.send({ type: 'report', reportId: randomUUID(), seq: 1, collectedAt: t.clock.now.toISOString(), body: { kind: 'full', facts: sampleFacts({}, { machineId: 'machine-b', hostname: 'beta-lap' }) }, dropped: 0 });
    await b.agent.next();
    acmeDevice = a.deviceId;
    acmeToken = a.token;
    betaDevice = b.deviceId;
  });

  afterEach(async () => {
    await t.stop();
  });

  async function login(username: string): Promise<string> {
    const res = await call('POST', '/login', { body: { username, password: PASSWORD } });
    expect(res.status).toBe(200);
    return res.json.token as string;
  }

  it('logs in, audits every attempt, and locks a name after repeated failures', async () => {
    const ok = await call('POST', '/login', { body: { username: 'root', password: PASSWORD } });
    expect(ok.status).toBe(200);
    expect(ok.json).toEqual({ token: expect.any(String), user: { username: 'root', role: 'admin', orgs: ['*'] }, idleTimeoutSeconds: 900 });
    expect((await call('GET', '/me', { token: ok.json.token })).json).toEqual({ username: 'root', role: 'admin', orgs: ['*'] });

    const unknown = await call('POST', '/login', { body: { username: 'nobody', password: PASSWORD } });
    expect(unknown.status).toBe(401);
    expect(unknown.json.error.code).toBe('unauthenticated');
    for (let i = 0; i < 3; i++) expect((await call('POST', '/login', { body: { username: 'auditor', password: 'wrong' } })).status).toBe(401);
    // Locked now, even with the right password.
    const locked = await call('POST', '/login', { body: { username: 'auditor', password: PASSWORD } });
    expect(locked.status).toBe(429);
    expect(locked.json.error.code).toBe('rate-limited');
    t.clock.now = new Date(t.clock.now.getTime() + 301_000);
    expect((await call('POST', '/login', { body: { username: 'auditor', password: PASSWORD } })).status).toBe(200);

    expect((await call('POST', '/login', { body: { username: 'root' } })).json.error).toMatchObject({ code: 'bad-request', details: [{ path: 'password' }] });
    const audit = await t.store.listAudit({ action: 'login', limit: 50, offset: 0 });
    expect(audit.items.map((e) => e.outcome).reverse()).toEqual(['success', 'failure', 'failure', 'failure', 'failure', 'denied', 'success', 'failure']);
    expect(audit.items.every((e) => e.ip !== null && e.at)).toBe(true);
  });

  it('checks no more passwords than the lockout allows, even for parallel attempts', async () => {
    const attempts = await Promise.all(Array.from({ length: 40 }, () => call('POST', '/login', { body: { username: 'auditor', password: 'wrong' } })));
    const statuses = attempts.map((r) => r.status);
    expect(statuses.filter((s) => s === 401)).toHaveLength(3);
    expect(statuses.filter((s) => s === 429)).toHaveLength(37);
    expect((await call('POST', '/login', { body: { username: 'auditor', password: PASSWORD } })).status).toBe(429);
    const audit = await t.store.listAudit({ action: 'login', limit: 50, offset: 0 });
    expect(audit.items.filter((e) => e.outcome === 'failure')).toHaveLength(3);
  });

  it('shows the audit log, which spans every org, only to users granted every org', async () => {
    const root = await login('root');
    await call('PATCH', `/devices/${acmeDevice}`, { token: root, body: { owner: 'Alice Martin' } });
    for (const username of ['root', 'auditor']) {
      const log = await call('GET', '/audit?action=device.update', { token: await login(username) });
      expect(log.status).toBe(200);
      expect(log.json.items).toEqual([expect.objectContaining({ actor: 'root', target: acmeDevice, outcome: 'success' })]);
    }
    for (const username of ['beta-admin', 'acme-admin']) {
      const log = await call('GET', '/audit', { token: await login(username) });
      expect(log.status).toBe(403);
      expect(log.json.error).toMatchObject({ code: 'forbidden', message: expect.stringMatching(/every org/) });
      expect(JSON.stringify(log.json)).not.toContain(acmeDevice);
    }
  });

  it('answers a malformed percent-encoding in a path parameter with 400, not 500', async () => {
    const root = await login('root');
    const res = await call('GET', '/devices/%E0%A4%A', { token: root });
    expect(res.status).toBe(400);
    expect(res.json.error).toMatchObject({ code: 'bad-request', message: expect.stringMatching(/percent-encoding/) });
    expect((await call('GET', `/devices/${encodeURIComponent(acmeDevice)}`, { token: root })).status).toBe(200);
  });

  it('ends a session after the idle time and on logout', async () => {
    const token = await login('root');
    expect((await call('GET', '/me')).status).toBe(401);
    t.clock.now = new Date(t.clock.now.getTime() + 14 * 60_000);
    expect((await call('GET', '/me', { token })).status).toBe(200);
    t.clock.now = new Date(t.clock.now.getTime() + 16 * 60_000);
    const expired = await call('GET', '/me', { token });
    expect(expired.status).toBe(401);
    expect(expired.json.error.code).toBe('unauthenticated');
    const other = await login('root');
    expect((await call('POST', '/logout', { token: other })).status).toBe(200);
    expect((await call('GET', '/me', { token: other })).status).toBe(401);
  });

  it("gives each software item of a device its catalog product and approval, as the software rule sees them", async () => {
    const c = await t.enrol('machine-soft', 'acme');
    const app = (name: string, version: string) => ({ name, version, publisher: null, source: 'registry' as const, scope: 'machine' as const, installedAt: null });
    const software = { items: [app('Mozilla Firefox 128.0 (x64 en-US)', '128.0'), app('uTorrent', '3.6')] };
    c.agent.send({ type: 'report', reportId: randomUUID(), seq: 1, collectedAt: t.clock.now.toISOString(), body: { kind: 'full', facts: sampleFacts({ software }, { machineId: 'machine-soft' }) }, dropped: 0 });
    await c.agent.next();
    const detail = (await call('GET', `/devices/${c.deviceId}`, { token: await login('root') })).json;
    const items = detail.facts.software.items as { name: string; product: string; approval: string }[];
    expect(items.map((i) => i.name)).toEqual(software.items.map((i) => i.name));
    for (const i of items) {
      expect(i.product).toEqual(expect.any(String));
      expect(['approved', 'denied', 'unreviewed']).toContain(i.approval);
    }
    // The software rule names the same products as not approved.
    const rule = (detail.findings as { ruleId: string; status: string; evidence: string }[]).find((f) => f.ruleId === 'approved-software')!;
    for (const i of items.filter((x) => x.approval !== 'approved')) expect(rule.evidence).toContain(i.product);
  });

  it('scopes every read to the user\u2019s orgs', async () => {
    const acme = await login('acme-admin');
    const beta = await login('beta-admin');
    const root = await login('root');
    expect((await call('GET', '/devices', { token: root })).json.total).toBe(2);
    const mine = await call('GET', '/devices', { token: acme });
    expect(mine.json).toEqual({ total: 1, items: [expect.objectContaining({ id: acmeDevice, hostname: 'acme-lap', org: 'acme', status: 'noncompliant', failing: 1, ciatLevel: 2 })] });
    expect((await call('GET', `/devices/${acmeDevice}`, { token: beta })).status).toBe(404);
    expect((await call('GET', '/nonconformities', { token: beta })).json.total).toBe(0);
    expect((await call('GET', '/nonconformities', { token: acme })).json.total).toBe(1);
    expect((await call('GET', '/findings?status=fail', { token: beta })).json.total).toBe(0);
    const summary = (await call('GET', '/summary', { token: beta })).json;
    expect(summary).toMatchObject({ devices: 1, compliantDevices: 1, conformity: 1, bySeverity: { critical: 0 }, byOrg: [{ org: 'beta', devices: 1, compliantDevices: 1, conformity: 1 }] });
    expect((await call('PATCH', `/devices/${betaDevice}`, { token: acme, body: { owner: 'x' } })).status).toBe(404);
    expect((await call('PATCH', `/devices/${acmeDevice}`, { token: acme, body: { org: 'beta' } })).status).toBe(403);
  });

  it('enforces roles and audits every change, allowed or not', async () => {
    const auditor = await login('auditor');
    const licenses = await login('licenses');
    const root = await login('root');
    const denied = await call('PATCH', `/devices/${acmeDevice}`, { token: auditor, body: { owner: 'Mallory' } });
    expect(denied.status).toBe(403);
    expect(denied.json.error.code).toBe('forbidden');
    expect((await call('GET', '/audit', { token: licenses })).status).toBe(403);
    expect((await call('GET', '/audit', { token: auditor })).status).toBe(200);

    const patched = await call('PATCH', `/devices/${acmeDevice}`, { token: root, body: { owner: 'Alice Martin', ciatLevel: 4 } });
    expect(patched.status).toBe(200);
    expect(patched.json.device).toMatchObject({ owner: 'Alice Martin', ciatLevel: 4 });
    expect((await call('PATCH', `/devices/${acmeDevice}`, { token: root, body: { ciatLevel: 7 } })).json.error).toMatchObject({ code: 'bad-request', details: [{ path: 'ciatLevel' }] });
    expect((await call('PATCH', `/devices/${acmeDevice}`, { token: root, body: { hostname: 'x' } })).status).toBe(400);
    expect((await call('PATCH', `/devices/${acmeDevice}`, { token: root, rawBody: '{"owner":' })).status).toBe(400);
    expect((await call('PATCH', `/devices/${acmeDevice}`, { token: root, body: { owner: 'x'.repeat(5000) } })).status).toBe(413);

    const log = (await call('GET', '/audit?action=device.update', { token: auditor })).json;
    expect(log.items.map((e: { actor: string; outcome: string }) => [e.actor, e.outcome])).toEqual([
      ['root', 'failure'],
      ['root', 'failure'],
      ['root', 'failure'],
      ['root', 'failure'],
      ['root', 'success'],
      ['auditor', 'denied'],
    ]);
    expect(log.items[4]).toMatchObject({ target: acmeDevice, details: { patch: { owner: 'Alice Martin', ciatLevel: 4 }, before: { owner: null, ciatLevel: 2 } }, ip: expect.any(String) });
    // At CIAT level 4 the same failure is re-evaluated (severity rises where the policy says so).
    const detail = (await call('GET', `/devices/${acmeDevice}`, { token: root })).json;
    expect(detail.device).toMatchObject({ owner: 'Alice Martin', ciatLevel: 4, model: 'ThinkPad T14 Gen 4', revoked: false });
    expect(detail.facts.encryption).toEqual(unencrypted);
    expect(detail.findings.find((f: { ruleId: string }) => f.ruleId === 'disk-encryption')).toMatchObject({ status: 'fail', severity: 'critical', title: { en: expect.any(String), fr: expect.any(String) } });
    expect(detail.nonconformities).toHaveLength(1);
    expect(detail.timeline[0]).toMatchObject({ section: 'agent', summary: 'First report received' });
  });

  it('lists, filters, sorts and pages devices, and validates the query', async () => {
    const root = await login('root');
    expect((await call('GET', '/devices?sort=hostname&order=desc', { token: root })).json.items.map((d: { hostname: string }) => d.hostname)).toEqual(['beta-lap', 'acme-lap']);
    expect((await call('GET', '/devices?status=compliant', { token: root })).json.items.map((d: { id: string }) => d.id)).toEqual([betaDevice]);
    expect((await call('GET', '/devices?q=acme&limit=1&offset=0', { token: root })).json.total).toBe(1);
    expect((await call('GET', '/devices?org=', { token: root })).json.total).toBe(2);
    const bad = await call('GET', '/devices?limit=100000&sort=serial', { token: root });
    expect(bad.status).toBe(400);
    expect(bad.json.error.details.map((d: { path: string }) => d.path).sort()).toEqual(['limit', 'sort']);
    expect((await call('GET', '/nothing-here', { token: root })).status).toBe(404);
  });

  it('grants and revokes exemptions, with a reason and a future expiry', async () => {
    const root = await login('root');
    const expiresAt = new Date(t.clock.now.getTime() + 7 * 86_400_000).toISOString();
    expect((await call('POST', '/exemptions', { token: root, body: { deviceId: acmeDevice, ruleId: 'disk-encryption', reason: ' ', expiresAt } })).status).toBe(400);
    expect((await call('POST', '/exemptions', { token: root, body: { deviceId: acmeDevice, ruleId: 'disk-encryption', reason: 'r', expiresAt: '2020-01-01T00:00:00Z' } })).status).toBe(400);
    expect((await call('POST', '/exemptions', { token: root, body: { deviceId: acmeDevice, ruleId: 'no-such-rule', reason: 'r', expiresAt } })).status).toBe(400);
    const created = await call('POST', '/exemptions', { token: root, body: { deviceId: acmeDevice, ruleId: 'disk-encryption', reason: 'New laptop on order', expiresAt } });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ deviceId: acmeDevice, ruleId: 'disk-encryption', reason: 'New laptop on order', grantedBy: 'root', expiresAt });
    const ncs = (await call('GET', '/nonconformities?status=exempted', { token: root })).json;
    expect(ncs.items).toEqual([expect.objectContaining({ status: 'exempted', exemption: { id: created.json.id, reason: 'New laptop on order', grantedBy: 'root', expiresAt }, title: expect.any(Object) })]);
    expect((await call('GET', '/devices?status=compliant', { token: root })).json.total).toBe(2);

    expect((await call('DELETE', `/exemptions/${created.json.id}`, { token: root })).status).toBe(200);
    expect((await call('DELETE', `/exemptions/${created.json.id}`, { token: root })).status).toBe(409);
    expect((await call('DELETE', '/exemptions/999', { token: root })).status).toBe(404);
    expect((await call('GET', '/nonconformities?status=open', { token: root })).json.total).toBe(1);
    const actions = (await t.store.listAudit({ limit: 100, offset: 0 })).items.filter((e) => e.action.startsWith('exemption.')).map((e) => [e.action, e.outcome]);
    expect(actions).toEqual([
      ['exemption.revoke', 'failure'],
      ['exemption.revoke', 'failure'],
      ['exemption.revoke', 'success'],
      ['exemption.create', 'success'],
      ['exemption.create', 'failure'],
      ['exemption.create', 'failure'],
      ['exemption.create', 'failure'],
    ]);
  });

  it('authorises a USB drive for an org, which clears the findings it caused at once and tells the connected agent, and scopes the list', async () => {
    const stick = { vendorId: '0781', productId: '5581', vendor: 'SanDisk', product: 'Ultra', serial: 'S1', storage: true, mountPoints: ['/media/s'] };
    const c = await t.enrol('machine-c', 'acme');
    c.agent.send({ type: 'report', reportId: randomUUID(), seq: 1, collectedAt: t.clock.now.toISOString(), body: { kind: 'full', facts: sampleFacts({ usb: { devices: [stick], events: [] } }, { machineId: 'machine-c' }) }, dropped: 0 });
    await c.agent.next();
    const usbFinding = async () => (await t.store.listFindings({ scope: null, deviceId: c.deviceId, rule: 'usb-storage', limit: 1, offset: 0 })).items[0]?.status;
    expect(await usbFinding()).toBe('fail');

    const acme = await login('acme-admin');
    const bad = await call('POST', '/usb/authorised', { token: acme, body: { org: 'acme', vendorId: 'sandisk', productId: '5581' } });
    expect(bad.status).toBe(400);
    expect((await call('POST', '/usb/authorised', { token: acme, body: { org: null, vendorId: '0781', productId: '5581' } })).status).toBe(403);
    expect((await call('POST', '/usb/authorised', { token: acme, body: { org: 'beta', vendorId: '0781', productId: '5581' } })).status).toBe(403);
    expect((await call('POST', '/usb/authorised', { token: await login('auditor'), body: { org: 'acme', vendorId: '0781', productId: '5581' } })).status).toBe(403);

    const created = await call('POST', '/usb/authorised', { token: acme, body: { org: 'acme', vendorId: '0781', productId: '5581', serial: 'S1', note: 'encrypted, issued to the finance team' } });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ id: expect.any(Number), org: 'acme', vendorId: '0781', productId: '5581', serial: 'S1' });
    expect(await usbFinding()).toBe('pass');
    // The employee's tray hears of it now, not at the device's next report: after the status of its
    // report (failing), the collector pushes the new one to the connected agent.
    const usbStatus = (m: StatusMessage) => m.findings.find((f) => f.ruleId === 'usb-storage')?.status;
    expect(usbStatus(await c.agent.next<StatusMessage>())).toBe('fail');
    expect(usbStatus(await c.agent.next<StatusMessage>())).toBe('pass');
    expect((await t.store.listAudit({ action: 'usb.authorise', limit: 10, offset: 0 })).items[0]).toMatchObject({ actor: 'acme-admin', outcome: 'success' });

    const beta = await login('beta-admin');
    expect((await call('GET', '/usb/authorised', { token: beta })).json.items).toEqual([]);
    expect((await call('GET', '/usb/authorised', { token: acme })).json.items).toHaveLength(1);
    expect((await call('DELETE', `/usb/authorised/${created.json.id as number}`, { token: beta })).status).toBe(404);
    expect((await call('DELETE', `/usb/authorised/${created.json.id as number}`, { token: acme })).status).toBe(200);
    expect((await call('GET', '/usb/authorised', { token: acme })).json.items).toEqual([]);
  });

  it('exports non-conformities as CSV with the same filters', async () => {
    const root = await login('root');
    const res = await call('GET', '/nonconformities.csv?status=open', { token: root });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
    const lines = res.text.split('\r\n');
    expect(lines[0]).toMatch(/^id,deviceId,hostname,owner,org,ruleId,title,severity,status,evidence/);
    expect(lines).toHaveLength(3);
    expect(lines[1]).toContain('acme-lap');
    expect(lines[1]).toContain('disk-encryption');
    const none = await call('GET', '/nonconformities.csv?status=resolved', { token: root });
    expect(none.text.split('\r\n')).toHaveLength(2);
  });

  it('summarises conformity per rule and org, with the trend, and serves the policy', async () => {
    const root = await login('root');
    const s = (await call('GET', '/summary?days=7', { token: root })).json;
    expect(s).toMatchObject({ devices: 2, compliantDevices: 1, conformity: 0.5, bySeverity: { critical: 1, high: 0, medium: 0, low: 0 } });
    expect(s.byRule.find((r: { ruleId: string }) => r.ruleId === 'disk-encryption')).toMatchObject({ pass: 1, fail: 1, unknown: 0, conformity: 0.5, issp: ['9.10.6', '9.17.1', '9.17.2'], title: { en: expect.any(String) } });
    expect(s.byOrg).toEqual([
      { org: 'acme', devices: 1, compliantDevices: 0, conformity: 0 },
      { org: 'beta', devices: 1, compliantDevices: 1, conformity: 1 },
    ]);
    await t.collector.sweep(t.clock.now);
    const after = (await call('GET', '/summary?days=7', { token: root })).json;
    expect(after.trend).toEqual([{ day: '2026-03-02', conformity: 0.5, devices: 2 }]);
    expect((await call('GET', '/summary?days=0', { token: root })).status).toBe(400);
    const policy = (await call('GET', '/policy', { token: root })).json;
    expect(policy.rules.map((r: { id: string }) => r.id)).toContain('screen-lock');
  });

  it('pushes live changes to consoles, filtered by their orgs', async () => {
    const acme = await login('acme-admin');
    const beta = await login('beta-admin');
    const wsUrl = `${t.collector.url.replace('https', 'wss')}/api/v1/live`;
    const open = (protocols: string[] | undefined, query = '') =>
      new Promise<{ ws: WebSocket; events: unknown[] }>((resolve, reject) => {
        const ws = new WebSocket(wsUrl + query, protocols, { ca: t.collector.caCertPem });
        const events: unknown[] = [];
        ws.on('message', (d) => events.push(JSON.parse(String(d))));
        ws.once('open', () => resolve({ ws, events }));
        ws.once('error', reject);
      });
    const acmeLive = await open(['vigie-live', `bearer.${acme}`]);
    const betaLive = await open(undefined, `?token=${beta}`);
    await expect(open([`bearer.${'x'.repeat(43)}`])).rejects.toThrow(/401/);

    const agent = await t.connect();
    agent.hello(acmeDevice, acmeToken);
    await agent.next();
    agent.send({ type: 'report', reportId: randomUUID(), seq: 2, collectedAt: t.clock.now.toISOString(), body: { kind: 'full', facts: sampleFacts({}, { machineId: 'machine-a', hostname: 'acme-lap' }) }, dropped: 0 });
    await agent.next();
    t.collector.live.flush();
    await new Promise((r) => setTimeout(r, 100));
    expect(acmeLive.events).toEqual(expect.arrayContaining([{ type: 'nonconformity-resolved', id: expect.any(Number) }, { type: 'device-updated', deviceId: acmeDevice }, { type: 'summary-changed' }]));
    expect(betaLive.events).toEqual([]);
    acmeLive.ws.close();
    betaLive.ws.close();
  });

  it('drops upgrades on unknown paths and serves a placeholder page without a UI build', async () => {
    const res = await request(t.collector.url, t.collector.caCertPem, 'GET', '/');
    expect(res.status).toBe(200);
    expect(res.text).toMatch(/UI is not built/);
    const ws = new WebSocket(`${t.collector.url.replace('https', 'wss')}/elsewhere`, { ca: t.collector.caCertPem });
    await expect(new Promise((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject)))).rejects.toThrow();
  });

  it('refuses TLS older than 1.2', async () => {
    const url = new URL(t.collector.url);
    const attempt = new Promise<void>((resolve, reject) => {
      const socket = tls.connect({ host: url.hostname, port: Number(url.port), ca: t.collector.caCertPem, maxVersion: 'TLSv1.1', minVersion: 'TLSv1' }, () => resolve());
      socket.on('error', reject);
    });
    await expect(attempt).rejects.toThrow();
  });
});
