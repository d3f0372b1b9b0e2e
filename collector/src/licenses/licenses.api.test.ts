import { randomUUID } from 'node:crypto';
import * as https from 'node:https';
import type { SoftwareItem } from '@vigie/shared';
import type { Role } from '../store/datastore';
import { hashPassword } from '../util/crypto';
import { sampleFacts } from '../testing/fixtures';
import { startTestCollector, type TestCollector } from '../testing/harness';
import { request, type TestResponse } from '../testing/http-client';
import type { TestAgent } from '../testing/agent-client';
import { pdfText } from './pdf-text';
import { limitBeyond } from './routes';

const PASSWORD = 'correct horse battery staple';
const win = (name: string, version: string, publisher: string): SoftwareItem => ({ name, version, publisher, source: 'registry', scope: 'machine', installedAt: null });

describe('licenses API', () => {
  let t: TestCollector;
  let call: (method: string, path: string, options?: { token?: string; body?: unknown; rawBody?: string }) => Promise<TestResponse>;
  const devices: Record<string, string> = {};
  const agents: Record<string, TestAgent> = {};
  let passwordHash: string;

  beforeAll(async () => {
    passwordHash = await hashPassword(PASSWORD);
  });

  beforeEach(async () => {
    t = await startTestCollector();
    call = (method, path, options) => request(t.collector.url, t.collector.caCertPem, method, `/api/v1${path}`, options);
    const users: [string, Role, string[]][] = [
      ['root', 'admin', ['*']],
      ['auditor', 'auditor', ['*']],
      ['lm', 'license-manager', ['*']],
      ['lm-acme', 'license-manager', ['acme']],
      ['admin-acme', 'admin', ['acme']],
    ];
    for (const [username, role, orgs] of users) await t.store.createUser({ username, passwordHash, role, orgs, now: t.clock.now });
    // Three Windows laptops with Acrobat under different names and publisher spellings; one has an unknown tool.
    const fleet: [string, string, string, SoftwareItem[]][] = [
      ['m1', 'acme', 'lap-ann', [win('Adobe Acrobat (64-bit)', '24.003.20112', 'Adobe'), win('Microsoft 365 Apps for enterprise - fr-fr', '16.0.17928.20156', 'Microsoft Corporation')]],
      ['m2', 'acme', 'lap-bob', [win('Adobe Acrobat DC (64-bit)', '23.006.20360', 'Adobe Systems Incorporated'), win('Microsoft 365 Apps for enterprise - en-us', '16.0.17928.20156', 'Microsoft Corp.')]],
      ['m3', 'beta', 'lap-cyd', [win('Adobe Acrobat (64-bit)', '24.003.20112', 'Adobe'), win('Sketchy Toolbar', '1.0', 'Unknown')]],
    ];
    for (const [machineId, org, hostname, items] of fleet) {
      t.clock.now = new Date(t.clock.now.getTime() + 60_000); // a distinct first-seen per device
      const e = await t.enrol(machineId, org);
      const reportId = randomUUID();
      e.agent.send({ type: 'report', reportId, seq: 1, collectedAt: t.clock.now.toISOString(), body: { kind: 'full', facts: sampleFacts({ software: { items } }, { machineId, hostname, os: 'windows', user: hostname.slice(4) }) }, dropped: 0 });
      expect(await e.agent.answerTo(reportId)).toMatchObject({ type: 'ack', status: 'stored' });
      devices[hostname] = e.deviceId;
      agents[hostname] = e.agent;
    }
  });

  afterEach(async () => {
    await t.stop();
  });

  async function login(username: string): Promise<string> {
    const res = await call('POST', '/login', { body: { username, password: PASSWORD } });
    expect(res.status).toBe(200);
    return res.json.token as string;
  }

  const finding = async (deviceId: string) => (await t.store.listFindings({ scope: null, deviceId, rule: 'approved-software', limit: 5, offset: 0 })).items[0];

  it('normalises the inventory into products, and approvals re-evaluate the software rule', async () => {
    const token = await login('lm');
    const products = await call('GET', '/software/products', { token });
    expect(products.status).toBe(200);
    expect(products.json.items.map((p: { product: string; devices: number }) => [p.product, p.devices])).toEqual([
      ['Adobe Acrobat Pro', 3],
      ['Microsoft 365 Apps', 2],
      ['Sketchy Toolbar', 1],
    ]);
    expect(products.json.items[0]).toMatchObject({ status: 'unreviewed', users: 3, publishers: ['Adobe', 'Adobe Systems Incorporated'] });
    expect((await finding(devices['lap-ann']!))?.status).toBe('fail');

    for (const product of ['Adobe Acrobat Pro', 'Microsoft 365 Apps']) {
      const res = await call('PUT', `/software/products/${encodeURIComponent(product)}/approval`, { token, body: { status: 'approved' } });
      expect(res.status).toBe(200);
    }
    expect((await finding(devices['lap-ann']!))?.status).toBe('pass');
    expect((await finding(devices['lap-cyd']!))).toMatchObject({ status: 'fail', evidence: expect.stringContaining('Sketchy Toolbar') });
    // Only denied fails now: the unreviewed toolbar passes (an admin's setting).
    expect((await call('PUT', '/software/settings', { token, body: { failOn: ['denied'] } })).status).toBe(403);
    const root = await login('root');
    expect((await call('PUT', '/software/settings', { token: root, body: { failOn: ['denied'] } })).json).toEqual({ failOn: ['denied'], reevaluated: { devices: 3 } });
    expect((await finding(devices['lap-cyd']!))?.status).toBe('pass');
    expect((await call('GET', '/software/settings', { token })).json).toEqual({ failOn: ['denied'] });
    const drill = await call('GET', `/software/products/${encodeURIComponent('Adobe Acrobat Pro')}/devices`, { token });
    expect(drill.json.items.map((d: { hostname: string; rawName: string }) => `${d.hostname}:${d.rawName}`).sort()).toEqual(['lap-ann:Adobe Acrobat (64-bit)', 'lap-bob:Adobe Acrobat DC (64-bit)', 'lap-cyd:Adobe Acrobat (64-bit)']);
    // Other findings of the device were left alone by the partial re-evaluation.
    expect((await t.store.listFindings({ scope: null, deviceId: devices['lap-ann']!, limit: 50, offset: 0 })).total).toBeGreaterThan(1);
  });

  it('re-applies changed rules to the stored inventory and bumps the catalog version', async () => {
    const token = await login('lm');
    const before = (await call('GET', '/catalog/rules', { token })).json;
    expect(before.items.length).toBeGreaterThan(20);
    const bad = await call('POST', '/catalog/rules', { token, body: { namePattern: '(Sketchy', product: 'X' } });
    expect(bad.status).toBe(400);
    expect(bad.json.error.details[0].path).toBe('namePattern');
    const firstSeen = async (product: string) => (await call('GET', `/licenses/report/${encodeURIComponent(product)}`, { token })).json.devices.map((d: { hostname: string; firstSeenAt: string }) => `${d.hostname}@${d.firstSeenAt}`);
    const toolbarSeen = await firstSeen('Sketchy Toolbar');
    expect(toolbarSeen).toHaveLength(1);
    t.clock.now = new Date(t.clock.now.getTime() + 60_000);
    const created = await call('POST', '/catalog/rules', { token, body: { namePattern: '^Sketchy', publisherPattern: null, product: 'Sketchy Adware', position: 1 } });
    expect(created.status).toBe(201);
    const after = (await call('GET', '/catalog/rules', { token })).json;
    expect(after.catalogVersion).toBe(before.catalogVersion + 1);
    expect(after.items[0]).toMatchObject({ id: created.json.id, product: 'Sketchy Adware' });
    const names = (await call('GET', '/software/products', { token })).json.items.map((p: { product: string }) => p.product);
    expect(names).toContain('Sketchy Adware');
    expect(names).not.toContain('Sketchy Toolbar');
    expect(await firstSeen('Sketchy Adware')).toEqual([`lap-cyd@${t.clock.now.toISOString()}`]);
    await call('PUT', `/software/products/${encodeURIComponent('Sketchy Adware')}/approval`, { token, body: { status: 'denied', reason: 'adware' } });
    expect((await finding(devices['lap-cyd']!))?.evidence).toContain('1 denied (Sketchy Adware)');
    // Ignoring it removes it from the products, and the rule change re-evaluates the device.
    const patched = await call('PATCH', `/catalog/rules/${created.json.id}`, { token, body: { ignore: true } });
    expect(patched.status).toBe(200);
    expect((await call('GET', '/software/products', { token })).json.items.map((p: { product: string }) => p.product)).not.toContain('Sketchy Adware');
    expect((await finding(devices['lap-cyd']!))?.evidence).not.toContain('Sketchy');
    expect((await call('DELETE', `/catalog/rules/${created.json.id}`, { token })).status).toBe(200);
    expect((await call('GET', '/software/products', { token })).json.items.map((p: { product: string }) => p.product)).toContain('Sketchy Toolbar');
    // Renamed away and back: the device keeps the date the toolbar was first seen; the new name starts at the change.
    expect(await firstSeen('Sketchy Toolbar')).toEqual(toolbarSeen);
    const audit = await t.store.listAudit({ actor: 'lm', limit: 50, offset: 0 });
    expect(audit.items.map((a) => `${a.action}:${a.outcome}`).reverse()).toEqual([
      'login:success',
      'catalog.rule.create:failure',
      'catalog.rule.create:success',
      'software.approval:success',
      'catalog.rule.update:success',
      'catalog.rule.delete:success',
    ]);
  });

  it('imports purchases all or nothing, reports an over-deployment naming the devices beyond the count, and exports it', async () => {
    const token = await login('lm');
    const header = 'product,type,seats,purchased_at,expires_at,cost,currency,org,reference';
    const bad = `${header}\nAdobe Acrobat Pro,per-device,2,2025-06-01,2027-05-31,1200,EUR,*,PO-1\nMicrosoft 365 Apps,per-user,many,2025-06-01,,,,acme,PO-2\n`;
    const preview = await call('POST', '/licenses/import?dryRun=false', { token, rawBody: bad });
    expect(preview.status).toBe(200);
    expect(preview.json).toMatchObject({ valid: 1, invalid: 1, imported: 0, rows: [{ line: 2, errors: [] }, { line: 3, errors: ['seats must be a whole number, got "many"'] }] });
    expect((await call('GET', '/licenses', { token })).json.items).toEqual([]);

    const good = bad.replace('many', '5');
    expect((await call('POST', '/licenses/import?dryRun=true', { token, rawBody: good })).json).toMatchObject({ valid: 2, invalid: 0, imported: 0 });
    // A file over the import limit (2 MB) is refused whole, with a message naming the limit.
    const huge = await call('POST', '/licenses/import?dryRun=true', { token, rawBody: `${good}\n${'x,'.repeat(1_100_000)}` });
    expect(huge.status).toBe(413);
    expect(huge.json.error).toMatchObject({ code: 'too-large', message: `the file is over ${2 * 1024 * 1024} bytes` });
    expect((await call('GET', '/licenses', { token })).json.items).toEqual([]);
    expect((await call('POST', '/licenses/import?dryRun=false', { token, rawBody: good })).json).toMatchObject({ valid: 2, imported: 2 });

    const report = await call('GET', '/licenses/report', { token });
    expect(report.status).toBe(200);
    const acrobat = report.json.items.find((r: { product: string }) => r.product === 'Adobe Acrobat Pro');
    // Two seats, three devices: lap-cyd was enrolled last, so it is the one beyond the count.
    expect(acrobat).toMatchObject({ type: 'per-device', purchased: 2, used: 3, available: 0, status: 'over-deployed', overBy: 1, beyondDevices: [{ deviceId: devices['lap-cyd'], hostname: 'lap-cyd' }], beyondTotal: 1 });
    expect(report.json.items.find((r: { product: string }) => r.product === 'Microsoft 365 Apps')).toMatchObject({ type: 'per-user', org: 'acme', purchased: 5, used: 2, available: 3, status: 'ok' });
    expect(report.json.overDeployments).toEqual([expect.objectContaining({ product: 'Adobe Acrobat Pro', org: '*', issp: '9.15.4', overBy: 1, resolvedAt: null })]);

    // An acme-only license manager does not see beta's device named.
    const acmeToken = await login('lm-acme');
    const scoped = (await call('GET', '/licenses/report', { token: acmeToken })).json.items.find((r: { product: string }) => r.product === 'Adobe Acrobat Pro');
    expect(scoped).toMatchObject({ used: 3, overBy: 1, beyondDevices: [] });
    // Nor in the fleet-level finding of the '*' license, which names devices of every org.
    expect(report.json.overDeployments[0].beyondDevices).toEqual([{ deviceId: devices['lap-cyd'], hostname: 'lap-cyd' }]);
    const scopedFindings = (await call('GET', '/licenses/report', { token: acmeToken })).json.overDeployments;
    expect(scopedFindings).toEqual([expect.objectContaining({ product: 'Adobe Acrobat Pro', org: '*', overBy: 1, beyondDevices: [] })]);
    expect(JSON.stringify(scopedFindings)).not.toContain('lap-cyd');

    const drill = await call('GET', `/licenses/report/${encodeURIComponent('Adobe Acrobat Pro')}`, { token });
    expect(drill.json.devices.filter((d: { beyondCount: boolean }) => d.beyondCount).map((d: { hostname: string }) => d.hostname)).toEqual(['lap-cyd']);
    expect(drill.json.users.map((u: { user: string }) => u.user)).toEqual(['ann', 'bob', 'cyd']);

    const csv = await call('GET', '/licenses/report.csv', { token });
    expect(csv.headers['content-type']).toMatch(/text\/csv/);
    expect(csv.text).toContain('Adobe Acrobat Pro,*,per-device,2,3,0,over-deployed,1,');
    const pdf = await getBinary(`/licenses/report.pdf`, token);
    expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    const text = pdfText(pdf);
    expect(text).toContain('Adobe Acrobat Pro');
    expect(text).toContain('Microsoft 365 Apps');

    // The reconciliation follows the inventory: lap-cyd uninstalls Acrobat, then a rule renames the product.
    t.clock.now = new Date(t.clock.now.getTime() + 60_000);
    const uninstall = randomUUID();
    agents['lap-cyd']!.send({ type: 'report', reportId: uninstall, seq: 2, collectedAt: t.clock.now.toISOString(), body: { kind: 'full', facts: sampleFacts({ software: { items: [win('Sketchy Toolbar', '1.0', 'Unknown')] } }, { machineId: 'm3', hostname: 'lap-cyd', os: 'windows', user: 'cyd' }) }, dropped: 0 });
    expect(await agents['lap-cyd']!.answerTo(uninstall)).toMatchObject({ type: 'ack', status: 'stored' });
    const acrobatNow = async () => (await call('GET', '/licenses/report', { token })).json.items.find((r: { product: string }) => r.product === 'Adobe Acrobat Pro');
    expect(await acrobatNow()).toMatchObject({ used: 2, overBy: 0, status: 'ok' });
    expect((await call('GET', '/licenses/report', { token })).json.overDeployments).toEqual([]);
    const acrobatRule = (await call('GET', '/catalog/rules', { token })).json.items.find((r: { product: string }) => r.product === 'Adobe Acrobat Pro');
    expect((await call('PATCH', `/catalog/rules/${acrobatRule.id}`, { token, body: { product: 'Adobe Acrobat' } })).status).toBe(200);
    expect(await acrobatNow()).toMatchObject({ used: 0 });
    expect((await call('PATCH', `/catalog/rules/${acrobatRule.id}`, { token, body: { product: 'Adobe Acrobat Pro' } })).status).toBe(200);
    expect(await acrobatNow()).toMatchObject({ used: 2 });
    const reinstall = randomUUID();
    agents['lap-cyd']!.send({ type: 'report', reportId: reinstall, seq: 3, collectedAt: t.clock.now.toISOString(), body: { kind: 'full', facts: sampleFacts({ software: { items: [win('Adobe Acrobat (64-bit)', '24.003.20112', 'Adobe')] } }, { machineId: 'm3', hostname: 'lap-cyd', os: 'windows', user: 'cyd' }) }, dropped: 0 });
    expect(await agents['lap-cyd']!.answerTo(reinstall)).toMatchObject({ type: 'ack', status: 'stored' });
    expect(await acrobatNow()).toMatchObject({ used: 3, overBy: 1, beyondDevices: [{ deviceId: devices['lap-cyd'], hostname: 'lap-cyd' }] });

    // A third seat resolves the finding.
    const id = (await call('GET', '/licenses', { token })).json.items.find((l: { product: string }) => l.product === 'Adobe Acrobat Pro').id;
    expect((await call('PATCH', `/licenses/${id}`, { token, body: { seats: 3 } })).json).toMatchObject({ seats: 3 });
    expect((await call('GET', '/licenses/report', { token })).json.overDeployments).toEqual([]);
    expect((await call('DELETE', `/licenses/${id}`, { token })).status).toBe(200);
  });

  it('limits roles: auditors read, license managers edit licenses but not devices or policy settings, scoped users only their orgs', async () => {
    const auditor = await login('auditor');
    const lm = await login('lm');
    const lmAcme = await login('lm-acme');
    const license = { product: 'Zoom Workplace', type: 'site', purchasedAt: '2025-01-01' };
    expect((await call('GET', '/licenses/report', { token: auditor })).status).toBe(200);
    expect((await call('POST', '/licenses', { token: auditor, body: license })).status).toBe(403);
    expect((await call('PUT', '/software/products/Zoom/approval', { token: auditor, body: { status: 'approved' } })).status).toBe(403);
    expect((await call('POST', '/catalog/rules', { token: auditor, body: { namePattern: 'x', product: 'x' } })).status).toBe(403);
    expect((await call('PATCH', `/devices/${devices['lap-ann']}`, { token: lm, body: { owner: 'someone' } })).status).toBe(403);
    expect((await call('PUT', '/software/settings', { token: lm, body: { failOn: [] } })).status).toBe(403);
    expect((await call('POST', '/licenses', { token: lm, body: license })).status).toBe(201);
    // A '*' license needs every org; an acme license is fine for an acme license manager.
    expect((await call('POST', '/licenses', { token: lmAcme, body: license })).status).toBe(403);
    expect((await call('POST', '/licenses', { token: lmAcme, body: { ...license, org: 'acme' } })).status).toBe(201);
    expect((await call('POST', '/licenses', { token: lmAcme, body: { ...license, org: 'beta' } })).status).toBe(403);
    expect((await call('POST', '/licenses', { token: lm, body: { ...license, type: 'per-device' } })).json.error.details).toEqual([{ path: 'seats', message: 'a per-device or per-user license needs seats' }]);
    const denied = await t.store.listAudit({ action: 'license.create', limit: 50, offset: 0 });
    expect(denied.items.filter((a) => a.outcome === 'denied').map((a) => a.actor).sort()).toEqual(['auditor', 'lm-acme', 'lm-acme']);
  });

  it('refuses fleet-wide catalog, approval and settings changes from users limited to some orgs', async () => {
    const lmAcme = await login('lm-acme');
    const adminAcme = await login('admin-acme');
    const rulesBefore = (await call('GET', '/catalog/rules', { token: lmAcme })).json;
    const ruleId = rulesBefore.items[0].id as number;
    for (const token of [lmAcme, adminAcme]) {
      const created = await call('POST', '/catalog/rules', { token, body: { namePattern: '^Sketchy', product: 'Sketchy Adware', position: 1 } });
      expect(created.status).toBe(403);
      expect(created.json.error.message).toContain('all orgs');
      expect((await call('PATCH', `/catalog/rules/${ruleId}`, { token, body: { product: 'Renamed' } })).status).toBe(403);
      expect((await call('DELETE', `/catalog/rules/${ruleId}`, { token })).status).toBe(403);
      expect((await call('PUT', `/software/products/${encodeURIComponent('Sketchy Toolbar')}/approval`, { token, body: { status: 'approved' } })).status).toBe(403);
    }
    expect((await call('PUT', '/software/settings', { token: adminAcme, body: { failOn: [] } })).status).toBe(403);
    // Nothing moved: same catalog, the toolbar still unreviewed and failing on beta's device.
    expect((await call('GET', '/catalog/rules', { token: lmAcme })).json).toEqual(rulesBefore);
    expect((await call('GET', '/software/settings', { token: lmAcme })).json).toEqual({ failOn: ['denied', 'unreviewed'] });
    expect((await finding(devices['lap-cyd']!))?.status).toBe('fail');
    // An all-org license manager may.
    const lm = await login('lm');
    expect((await call('PUT', `/software/products/${encodeURIComponent('Sketchy Toolbar')}/approval`, { token: lm, body: { status: 'approved' } })).status).toBe(200);
  });

  it('refuses catalog patterns that can backtrack catastrophically, with a message naming the problem', async () => {
    const token = await login('lm');
    const evil = await call('POST', '/catalog/rules', { token, body: { namePattern: '^(a+)+$', product: 'X' } });
    expect(evil.status).toBe(400);
    expect(evil.json.error.code).toBe('bad-request');
    expect(evil.json.error.message).toContain('nested quantifiers');
    expect(evil.json.error.details).toEqual([{ path: 'namePattern', message: expect.stringContaining('nested quantifiers') }]);
    const long = await call('POST', '/catalog/rules', { token, body: { namePattern: 'a'.repeat(201), product: 'X' } });
    expect(long.status).toBe(400);
    expect(long.json.error.message).toContain('longer than 200');
    expect((await call('POST', '/catalog/rules', { token, body: { namePattern: 'Acrobat (Pro|Reader)', product: 'Acrobat' } })).status).toBe(201);
  });

  function getBinary(path: string, token: string): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      https
        .get(new URL(`/api/v1${path}`, t.collector.url), { ca: t.collector.caCertPem, headers: { authorization: `Bearer ${token}` } }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve(Buffer.concat(chunks)));
        })
        .on('error', reject);
    });
  }
});

describe('licenses report: devices beyond the count', () => {
  it('names at most the first devices of a line, and says how many there are', () => {
    const line = { product: 'Adobe Acrobat Pro', beyondDevices: [1, 2, 3, 4, 5].map((i) => ({ deviceId: `d${i}`, hostname: `lap-${i}` })) };
    expect(limitBeyond(line, 2)).toEqual({ product: 'Adobe Acrobat Pro', beyondDevices: line.beyondDevices.slice(0, 2), beyondTotal: 5 });
    expect(limitBeyond(line, 5)).toEqual({ ...line, beyondTotal: 5 });
  });
});
