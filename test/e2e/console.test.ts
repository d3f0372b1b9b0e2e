/**
 * The console end to end, as a DSI admin sees it: a real collector process
 * holding 50 simulated devices, the renderer it serves at `/`, driven in
 * Debian's Chromium with playwright-core. Screenshots of each view go to
 * artifacts/console-e2e-<view>.png (git-ignored) for a human to look at.
 */
import { randomUUID } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { openStore } from '../../collector/src/store/open';
import { apiRequest, collectorCli, root, runCli, startCollectorProcess, type CollectorProcess } from '../helpers/processes';
import { SimulatedAgent } from '../simulator/agent';
import { simulatedDevice, simulatedFacts } from '../simulator/facts';
import { runFleet } from '../simulator/fleet';

jest.setTimeout(90_000);

const FLEET = 50;
const RULE = 'disk-encryption';
const password = 'correct horse battery staple 42';
const artifacts = join(root, 'artifacts');

let dataDir: string;
let caPem: string;
let collector: CollectorProcess;
let secret: string;
let token: string;
let browser: Browser;
let context: BrowserContext;
let page: Page;

function api<T>(path: string, init: { method?: string; body?: unknown } = {}) {
  return apiRequest<T>(collector.url, caPem, path, token, init);
}

async function shot(view: string): Promise<void> {
  await page.screenshot({ path: join(artifacts, `console-e2e-${view}.png`), fullPage: true });
}

/** Polls until `check` returns a value other than undefined (or throws its last error at the deadline). */
async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out: ${what}${last ? ` (${String(last)})` : ''}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

const attr = (selector: string, name: string) => page.locator(selector).first().getAttribute(name);

async function rowAttrs(): Promise<{ id: string; rule: string; status: string; device: string; live: string | null }[]> {
  return page.locator('[data-testid="nc-row"]').evaluateAll((rows) =>
    rows.map((r) => ({ id: r.getAttribute('data-id') ?? '', rule: r.getAttribute('data-rule') ?? '', status: r.getAttribute('data-status') ?? '', device: r.getAttribute('data-device') ?? '', live: r.getAttribute('data-live') })),
  );
}

/** Opens the non-conformities view filtered on RULE (open ones, the view's default) through the UI. */
async function openNcFilteredByRule(): Promise<void> {
  await page.click('[data-testid="nav-nonconformities"]');
  await page.waitForSelector('[data-testid="nc-filter-rule"]');
  await until('the rule filter lists the policy rules', async () => ((await page.locator(`[data-testid="nc-filter-rule"] option[value="${RULE}"]`).count()) > 0 ? true : undefined));
  await page.selectOption('[data-testid="nc-filter-rule"]', RULE);
  await page.waitForFunction((rule) => (globalThis as unknown as { location: { hash: string } }).location.hash.includes(`rule=${rule}`), RULE);
}

beforeAll(async () => {
  mkdirSync(artifacts, { recursive: true });
  if (!existsSync(join(root, 'console', 'dist', 'renderer', 'index.html'))) {
    const built = spawnSync('npm', ['run', 'build:console'], { cwd: root, encoding: 'utf8', timeout: 120_000 });
    if (built.status !== 0) throw new Error(`npm run build:console failed: ${built.stdout}${built.stderr}`);
  }
  dataDir = mkdtempSync(join(tmpdir(), 'vigie-e2e-console-'));
  // The software catalog has no CLI or API yet and an empty one leaves every application unreviewed, so every
  // simulated device would fail approved-software. Seed it (the collector reads it at start) so the fleet is mixed.
  const opened = openStore(undefined, dataDir);
  if (!opened.ok) throw new Error(opened.message);
  await opened.store.addCatalogRule({ name: '.', publisher: null, product: 'Reviewed by the DSI', status: 'approved' });
  opened.store.close();
  collector = await startCollectorProcess(dataDir);
  caPem = readFileSync(join(dataDir, 'tls', 'ca.pem'), 'utf8');

  const user = runCli(collectorCli, ['user', 'add', '--data', dataDir, '--username', 'dsi', '--role', 'admin', '--org', '*', '--password-stdin'], `${password}\n`);
  if (user.code !== 0) throw new Error(`user add failed: ${user.stderr}`);
  const created = runCli(collectorCli, ['enroll-secret', 'create', '--data', dataDir, '--org', 'paris', '--expires', '1']);
  if (created.code !== 0) throw new Error(`enroll-secret create failed: ${created.stderr}`);
  secret = created.stdout.trim().split('\n').pop() as string;

  const fleet = await runFleet({ server: collector.url.replace('https:', 'wss:'), secret, devices: FLEET, ca: caPem, softwareCount: 40 });
  if (fleet.failed.length || fleet.reported !== FLEET) throw new Error(`fleet: ${fleet.reported}/${FLEET} reported; ${fleet.failed.join('; ')}`);

  const login = await apiRequest<{ token: string }>(collector.url, caPem, '/login', undefined, { method: 'POST', body: { username: 'dsi', password } });
  if (login.status !== 200) throw new Error(`API login failed: ${login.text}`);
  token = login.body.token;

  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  // The collector's certificate comes from the local CA it generated in DATA/tls at first start, which
  // Chromium does not trust (and a throwaway profile cannot pin it). Certificate errors are ignored in this
  // browser context only; every API call the test makes from Node still checks the certificate against ca.pem.
  context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1440, height: 900 }, locale: 'en-US' });
  page = await context.newPage();
});

afterAll(async () => {
  await context?.close().catch(() => undefined);
  await browser?.close().catch(() => undefined);
  await collector?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe('the console served by a real collector with 50 simulated devices', () => {
  it('refuses a wrong password, then logs in', async () => {
    await page.goto(`${collector.url}/`);
    await page.waitForSelector('[data-testid="login-username"]');
    await page.fill('[data-testid="login-username"]', 'dsi');
    await page.fill('[data-testid="login-password"]', 'not the password');
    await page.click('[data-testid="login-submit"]');
    await page.waitForSelector('[data-testid="login-error"]');
    await shot('login-error');

    await page.fill('[data-testid="login-password"]', password);
    await page.click('[data-testid="login-submit"]');
    await page.waitForSelector('[data-testid="nav-overview"]');
    expect(await page.locator('[data-testid="login-error"]').count()).toBe(0);
  });

  it('shows overview numbers that match the store', async () => {
    await page.click('[data-testid="nav-overview"]');
    await page.waitForSelector('[data-testid="overview-devices"]');

    const listed = runCli(collectorCli, ['devices', '--json', '--data', dataDir]);
    expect(listed.code).toBe(0);
    const parsed = JSON.parse(listed.stdout) as { status: string }[] | { items: { status: string }[] };
    const devices = Array.isArray(parsed) ? parsed : parsed.items;
    expect(devices).toHaveLength(FLEET);
    const compliant = devices.filter((d) => d.status === 'compliant').length;
    // The simulator fails ~12% on encryption, ~20% on screen lock: a mixed fleet, not all green or all red.
    expect(compliant).toBeGreaterThan(0);
    expect(compliant).toBeLessThan(FLEET);

    const summary = await api<{ devices: number; compliantDevices: number; conformity: number; bySeverity: Record<string, number> }>('/summary');
    expect(summary.status).toBe(200);
    expect(summary.body).toMatchObject({ devices: FLEET, compliantDevices: compliant });

    expect(Number(await attr('[data-testid="overview-devices"]', 'data-value'))).toBe(FLEET);
    expect(Number(await attr('[data-testid="overview-conformity"]', 'data-value'))).toBeCloseTo(compliant / FLEET, 6);
    const openNc = Object.values(summary.body.bySeverity).reduce((a, b) => a + b, 0);
    expect(Number(await attr('[data-testid="overview-open-nc"]', 'data-value'))).toBe(openNc);
    // What the admin reads, not only the data attributes.
    expect(await page.locator('[data-testid="overview-devices"]').innerText()).toContain(String(FLEET));
    expect(await page.locator('[data-testid="overview-conformity"]').innerText()).toContain(String(Math.round((compliant / FLEET) * 100)));
    await shot('overview');
  });

  it('filters non-conformities by rule, with the total the API gives for the same filter', async () => {
    await openNcFilteredByRule();
    const expected = await api<{ total: number; items: { id: string | number }[] }>(`/nonconformities?rule=${RULE}&status=open&limit=50`);
    expect(expected.status).toBe(200);
    expect(expected.body.total).toBeGreaterThan(0);

    const rows = await until('the filtered rows', async () => {
      const r = await rowAttrs();
      const total = Number(await attr('[data-testid="nc-total"]', 'data-value'));
      return r.length === expected.body.items.length && total === expected.body.total && r.every((x) => x.rule === RULE) ? r : undefined;
    });
    expect(rows.every((r) => r.rule === RULE && r.status === 'open')).toBe(true);
    expect(new Set(rows.map((r) => r.id))).toEqual(new Set(expected.body.items.map((x) => String(x.id))));
    expect(Number(await attr('[data-testid="nc-total"]', 'data-value'))).toBe(expected.body.total);
    await shot('nonconformities');
  });

  it('opens a device and shows its findings', async () => {
    const link = page.locator('[data-testid="nc-device-link"]').first();
    const hostname = (await link.innerText()).trim();
    await link.click();
    await page.waitForSelector('[data-testid="device-detail"]');
    const deviceId = (await attr('[data-testid="device-detail"]', 'data-id')) as string;
    const detail = await api<{ device: { hostname: string }; findings: { ruleId: string; status: string }[] }>(`/devices/${encodeURIComponent(deviceId)}`);
    expect(detail.status).toBe(200);
    expect(detail.body.device.hostname).toBe(hostname);
    expect(await page.locator('[data-testid="device-hostname"]').innerText()).toContain(hostname);

    await until('the findings table', async () => ((await page.locator('[data-testid="device-finding"]').count()) === detail.body.findings.length ? true : undefined));
    expect(detail.body.findings.length).toBeGreaterThan(0);
    expect(await page.locator(`[data-testid="device-finding"][data-rule="${RULE}"]`).getAttribute('data-status')).toBe('fail');
    await shot('device');
  });

  it('grants an exemption and shows it in the audit log', async () => {
    await openNcFilteredByRule();
    await page.waitForSelector('[data-testid="nc-row"] [data-testid="nc-exempt"]');
    const row = page.locator('[data-testid="nc-row"]').first();
    const ncId = (await row.getAttribute('data-id')) as string;
    const deviceId = (await row.getAttribute('data-device')) as string;
    await row.locator('[data-testid="nc-exempt"]').click();
    await page.waitForSelector('[data-testid="exemption-dialog"]');
    const expires = new Date(Date.now() + 60 * 86_400_000).toISOString().slice(0, 10);
    await page.fill('[data-testid="exemption-reason"]', 'Encryption scheduled with the hardware refresh (ticket DSI-4242)');
    await page.fill('[data-testid="exemption-expires"]', expires);
    await shot('exemption');
    await page.click('[data-testid="exemption-submit"]');
    // Granted: the open-only list drops it, and the API has it exempted.
    await until('the exempted row leaves the open list', async () => ((await page.locator(`[data-testid="nc-row"][data-id="${ncId}"]`).count()) === 0 ? true : undefined));
    const exempted = await api<{ items: { id: string | number; status: string; exemption: { reason: string; expiresAt: string } | null }[] }>(`/nonconformities?rule=${RULE}&status=exempted`);
    const nc = exempted.body.items.find((x) => String(x.id) === ncId);
    expect(nc?.exemption?.reason).toMatch(/DSI-4242/);
    expect(nc?.exemption?.expiresAt.slice(0, 10)).toBe(expires);

    await page.click('[data-testid="nav-audit"]');
    const entry = page.locator('[data-testid="audit-row"][data-action="exemption.create"]');
    await entry.first().waitFor();
    expect(await entry.count()).toBe(1);
    expect(await entry.first().getAttribute('data-actor')).toBe('dsi');
    expect(await entry.first().innerText()).toContain(deviceId);
    await shot('audit');
  });

  it('shows a device that turns non-compliant live, without a reload', async () => {
    await openNcFilteredByRule();
    await until('the filtered list', async () => ((await page.locator('[data-testid="nc-row"]').count()) > 0 ? true : undefined));
    await until('the live connection', async () => ((await attr('[data-testid="live-status"]', 'data-status')) === 'connected' ? true : undefined));
    const before = new Set((await rowAttrs()).map((r) => r.id));
    await page.evaluate(() => ((globalThis as unknown as { vigieNoReload: boolean }).vigieNoReload = true));

    // A fleet device whose disk is encrypted enrols again (same machine id: same device, new token)
    // and reports its system volume decrypted.
    const index = Array.from({ length: FLEET }, (_, i) => i).find((i) => simulatedDevice(i).compliant.encryption) as number;
    const sim = simulatedDevice(index);
    const facts = simulatedFacts(sim, { softwareCount: 40 });
    if (!('machineId' in facts.device) || !('volumes' in facts.encryption)) throw new Error('unexpected simulated facts');
    facts.encryption.volumes = facts.encryption.volumes.map((v) => (v.system ? { ...v, technology: 'none', status: 'decrypted', percent: null, protection: 'off', method: null } : v));
    const agent = new SimulatedAgent({ server: collector.url.replace('https:', 'wss:'), machineId: sim.machineId, os: facts.device.os, ca: caPem });
    try {
      await agent.enroll(secret, facts.device);
      await agent.start();
      const ack = await agent.report(facts, { full: true });
      expect(ack.type).toBe('ack');
    } finally {
      agent.close();
    }

    const live = await until('the new non-conformity row', async () => (await rowAttrs()).find((r) => r.device === agent.deviceId && !before.has(r.id)), 20_000);
    expect(live).toMatchObject({ rule: RULE, status: 'open', live: 'true' });
    expect(await page.evaluate(() => (globalThis as unknown as { vigieNoReload?: boolean }).vigieNoReload)).toBe(true);
    await shot('live');
  });

  it('authorises a USB drive from a device\u2019s USB history, which clears its finding at once', async () => {
    // A fleet device without USB storage enrols again and reports, then a drive is mounted between two scans.
    const index = Array.from({ length: FLEET }, (_, i) => i).find((i) => simulatedDevice(i).compliant.usb) as number;
    const sim = simulatedDevice(index);
    const facts = simulatedFacts(sim, { softwareCount: 40 });
    if (!('machineId' in facts.device)) throw new Error('unexpected simulated facts');
    const agent = new SimulatedAgent({ server: collector.url.replace('https:', 'wss:'), machineId: sim.machineId, os: facts.device.os, ca: caPem });
    const stick = { vendorId: '0781', productId: '5583', vendor: 'SanDisk', product: 'Ultra Fit', serial: 'E2E-0001', storage: true, mountPoints: ['/media/e2e'] };
    try {
      await agent.enroll(secret, facts.device);
      await agent.start();
      expect((await agent.report(facts, { full: true })).type).toBe('ack');
      const eventId = randomUUID();
      agent.send({ type: 'usb-event', eventId, event: { at: new Date().toISOString(), action: 'mounted', user: 'e2e', device: stick } });
      expect(await agent.waitFor((m) => m.type === 'ack' && m.id === eventId)).toMatchObject({ status: 'stored' });
    } finally {
      agent.close();
    }
    const usbStatus = async () => (await api<{ findings: { ruleId: string; status: string }[] }>(`/devices/${encodeURIComponent(agent.deviceId)}`)).body.findings.find((f) => f.ruleId === 'usb-storage')?.status;
    expect(await usbStatus()).toBe('fail');

    // Within the page: the session lives in its memory only, so a reload would sign out.
    await page.evaluate((hash) => ((globalThis as unknown as { location: { hash: string } }).location.hash = hash), `#/devices/${encodeURIComponent(agent.deviceId)}`);
    await page.waitForSelector('[data-testid="device-usb-row"]');
    await until('the failing USB finding', async () => ((await page.locator('[data-testid="device-finding"][data-rule="usb-storage"]').getAttribute('data-status')) === 'fail' ? true : undefined));
    await page.click('[data-testid="device-usb-authorise"]');
    await until('the USB finding passing', async () => ((await page.locator('[data-testid="device-finding"][data-rule="usb-storage"]').getAttribute('data-status')) === 'pass' ? true : undefined), 20_000);
    expect(await usbStatus()).toBe('pass');
    const listed = await api<{ items: { org: string | null; vendorId: string; serial: string | null }[] }>('/usb/authorised');
    expect(listed.body.items).toContainEqual(expect.objectContaining({ vendorId: '0781', serial: 'E2E-0001' }));
    await shot('usb-authorised');
  });

  it('lists the authorised drives on their page, adds one by its ids and removes one, as the API then shows', async () => {
    type Listed = { items: { id: number; org: string | null; vendorId: string; productId: string; serial: string | null; note: string | null }[] };
    const before = (await api<Listed>('/usb/authorised')).body.items;
    const earlier = before.find((a) => a.vendorId === '0781' && a.productId === '5583' && a.serial === 'E2E-0001');
    if (!earlier) throw new Error('the drive authorised from the device page is not listed');
    const shownIds = () => page.locator('[data-testid="usb-row"]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-id') ?? ''));

    await page.click('[data-testid="nav-usb"]');
    await page.waitForFunction(() => (globalThis as unknown as { location: { hash: string } }).location.hash === '#/usb');
    await page.waitForSelector('[data-testid="usb-table"]');
    // The API's entries, in its order.
    expect(await shownIds()).toEqual(before.map((a) => String(a.id)));
    const row = page.locator(`[data-testid="usb-row"][data-id="${earlier.id}"]`);
    expect(await row.innerText()).toMatch(/0781:5583[\s\S]*E2E-0001/);

    // Every org, any unit of a model. An id that is not four hex digits is refused before anything is sent.
    await page.selectOption('[data-testid="usb-form-org"]', '*');
    await page.fill('[data-testid="usb-form-vendor"]', 'king');
    await page.fill('[data-testid="usb-form-product"]', '1666');
    await page.fill('[data-testid="usb-form-note"]', 'Kingston DataTraveler, e2e');
    await page.click('[data-testid="usb-form-submit"]');
    expect(await page.locator('[data-testid="usb-form-error-vendorId"]').innerText()).toContain('hexadecimal');
    expect((await api<Listed>('/usb/authorised')).body.items).toHaveLength(before.length);
    await page.fill('[data-testid="usb-form-vendor"]', '0951');
    await page.click('[data-testid="usb-form-submit"]');
    const added = page.locator('[data-testid="usb-row"][data-vendor="0951"][data-product="1666"]');
    await added.waitFor();
    expect(await added.getAttribute('data-org')).toBe('');
    expect(await added.innerText()).toMatch(/Every org[\s\S]*Any unit[\s\S]*Kingston DataTraveler, e2e/);
    expect((await api<Listed>('/usb/authorised')).body.items).toContainEqual(expect.objectContaining({ org: null, vendorId: '0951', productId: '1666', serial: null, note: 'Kingston DataTraveler, e2e' }));
    await shot('usb-page');

    // Removed through the row's confirmation; the API no longer lists it.
    await row.locator('[data-testid="usb-remove"]').click();
    await page.waitForSelector('[data-testid="usb-remove-dialog"]');
    expect(await page.locator('[data-testid="usb-remove-dialog"]').innerText()).toContain('0781:5583');
    await page.click('[data-testid="usb-remove-dialog-confirm"]');
    await until('the removed row leaves the list', async () => ((await row.count()) === 0 ? true : undefined));
    expect(await page.locator('[data-testid="usb-remove-dialog"]').count()).toBe(0);
    const after = (await api<Listed>('/usb/authorised')).body.items;
    expect(after.map((a) => a.id)).not.toContain(earlier.id);
    expect(after).toHaveLength(before.length);
    expect(await shownIds()).toEqual(after.map((a) => String(a.id)));
  });

  it('saves a catalog rule that ignores entries, named by the product it ignores', async () => {
    await page.evaluate(() => ((globalThis as unknown as { location: { hash: string } }).location.hash = '#/software?tab=rules'));
    await page.click('[data-testid="rule-add"]');
    await page.waitForSelector('[data-testid="rule-dialog"]');
    await page.fill('[data-testid="rule-form-name"]', '^Vigie e2e runtime');
    await page.check('[data-testid="rule-form-ignore"]');
    // The product stays asked for: the collector refuses a rule without one.
    expect(await page.locator('[data-testid="rule-form-product"]').isEnabled()).toBe(true);
    await page.click('[data-testid="rule-form-submit"]');
    await page.waitForSelector('[data-testid="rule-form-error-product"]');
    await page.fill('[data-testid="rule-form-product"]', 'Runtimes');
    await page.click('[data-testid="rule-form-submit"]');
    await page.locator('[data-testid="rule-row"][data-product="Runtimes"]').waitFor();
    expect(await page.locator('[data-testid="rule-dialog"]').count()).toBe(0);
    const rules = await api<{ items: { id: number; namePattern: string; product: string; ignore: boolean }[] }>('/catalog/rules');
    expect(rules.body.items).toContainEqual(expect.objectContaining({ id: expect.any(Number), namePattern: '^Vigie e2e runtime', product: 'Runtimes', ignore: true }));
  });

  it('shows a user granted one org only what the collector lets them do', async () => {
    const added = runCli(collectorCli, ['user', 'add', '--data', dataDir, '--username', 'paris-admin', '--role', 'admin', '--org', 'paris', '--password-stdin'], `${password}\n`);
    if (added.code !== 0) throw new Error(`user add failed: ${added.stderr}`);
    const allOrgs = await api<{ id: number }>('/licenses', { method: 'POST', body: { product: 'Vigie e2e suite', type: 'site', seats: null, purchasedAt: '2026-01-01', org: '*' } });
    expect(allOrgs.status).toBe(201);

    const limited = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1440, height: 900 }, locale: 'en-US' });
    try {
      const p = await limited.newPage();
      const go = (hash: string) => p.evaluate((h) => ((globalThis as unknown as { location: { hash: string } }).location.hash = h), hash);
      await p.goto(`${collector.url}/`);
      await p.fill('[data-testid="login-username"]', 'paris-admin');
      await p.fill('[data-testid="login-password"]', password);
      await p.click('[data-testid="login-submit"]');
      await p.waitForSelector('[data-testid="nav-overview"]');

      // The audit log covers every org: no link, and the notice rather than a 403 at its URL.
      expect(await p.locator('[data-testid="nav-audit"]').count()).toBe(0);
      await go('#/audit');
      await p.waitForSelector('[data-testid="audit-forbidden"]');
      expect(await p.locator('[data-testid="audit-table"]').count()).toBe(0);

      // Catalog rules, approvals and the failing statuses apply to every org: read-only, with the reason.
      await go('#/software');
      await p.waitForSelector('[data-testid="software-every-org-only"]');
      await p.waitForSelector('[data-testid="software-failon-denied"]');
      expect(await p.locator('[data-testid="software-failon-denied"]').isDisabled()).toBe(true);
      expect(await p.locator('[data-testid="software-failon-save"]').count()).toBe(0);
      await p.waitForSelector('[data-testid="software-row"]');
      expect(await p.locator('[data-testid="software-approve"]').count()).toBe(0);
      await go('#/software?tab=rules');
      await p.waitForSelector('[data-testid="rules-table"]');
      expect(await p.locator('[data-testid="rule-add"]').count()).toBe(0);
      expect(await p.locator('[data-testid="rule-edit"]').count()).toBe(0);

      // A new license starts on the user's org, the only one offered; zero seats are accepted.
      await go('#/licenses');
      await p.click('[data-testid="licenses-add"]');
      await p.waitForSelector('[data-testid="license-dialog"]');
      expect(await p.locator('[data-testid="license-form-org"]').inputValue()).toBe('paris');
      expect(await p.locator('[data-testid="license-form-org"] option').evaluateAll((os) => os.map((o) => o.getAttribute('value')))).toEqual(['paris']);
      await p.fill('[data-testid="license-form-product"]', 'Vigie e2e seats');
      await p.fill('[data-testid="license-form-seats"]', '0');
      await p.click('[data-testid="license-form-submit"]');
      const mine = p.locator('[data-testid="licenses-list-row"][data-product="Vigie e2e seats"]');
      await mine.waitFor();
      expect(await mine.getAttribute('data-seats')).toBe('0');
      // The license for all orgs is listed but not offered for editing; the org's own is.
      expect(await mine.locator('[data-testid="license-edit"]').count()).toBe(1);
      const shared = p.locator(`[data-testid="licenses-list-row"][data-id="${allOrgs.body.id}"]`);
      await shared.waitFor();
      expect(await shared.locator('[data-testid="license-edit"]').count()).toBe(0);
      expect(await shared.locator('[data-testid="license-delete-open"]').count()).toBe(0);
      const listed = await api<{ items: { product: string; org: string; seats: number | null }[] }>('/licenses');
      expect(listed.body.items).toContainEqual(expect.objectContaining({ product: 'Vigie e2e seats', org: 'paris', seats: 0 }));
    } finally {
      await limited.close();
    }
  });

  it('switches to French', async () => {
    await page.click('[data-testid="lang-fr"]');
    await until('the French labels', async () => ((await page.locator('[data-testid="nav-overview"]').innerText()).includes('Vue d’ensemble') ? true : undefined));
    expect(await attr('[data-testid="lang-switch"]', 'data-lang')).toBe('fr');
    expect(await page.locator('[data-testid="nav-audit"]').innerText()).toContain('Journal d’audit');
    expect(await page.locator('[data-testid="nav-usb"]').innerText()).toContain('Clés USB autorisées');
    await shot('fr');
  });
});
