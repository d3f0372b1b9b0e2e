/**
 * Licenses end to end (issue 7), as a license manager's day goes: a real
 * collector holding 50 simulated devices, the console it serves at `/` in
 * Debian's Chromium. Import purchases from CSV (a bad file first: the row's
 * error shows and nothing is imported), see Adobe Acrobat over-deployed,
 * drill down to the devices beyond the count, export the report as CSV and
 * PDF, and check an auditor only reads. Screenshots: artifacts/licenses-*.png.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { apiRequest, collectorCli, root, runCli, startCollectorProcess, type CollectorProcess } from '../helpers/processes';
import { simulatedDevice, simulatedFacts } from '../simulator/facts';
import { runFleet } from '../simulator/fleet';

jest.setTimeout(90_000);

const FLEET = 50;
const SOFTWARE = 40;
const ACROBAT = 'Adobe Acrobat (64-bit)';
const ZOOM = 'Zoom Workplace (64-bit)';
/** Seats bought below what is installed: the over-deployment the test expects to see. */
const SHORT_BY = 3;
const password = 'correct horse battery staple 42';
const artifacts = join(root, 'artifacts');
const header = 'product,type,seats,purchased_at,expires_at,cost,currency,org,reference';

let dataDir: string;
let caPem: string;
let collector: CollectorProcess;
let token: string;
let browser: Browser;
let context: BrowserContext;
let page: Page;
/** Ground truth from the simulator itself: the hostnames that have each application installed. */
let acrobatHosts: Set<string>;
let zoomHosts: Set<string>;
let acrobatProduct: string;
let zoomProduct: string;

interface Reconciliation {
  product: string;
  status: string;
  purchased: number | null;
  used: number;
  overBy: number;
  beyondDevices: { deviceId: string; hostname: string }[];
}

function api<T>(path: string, init: { method?: string; body?: unknown } = {}) {
  return apiRequest<T>(collector.url, caPem, path, token, init);
}

/** The CSV import takes text/csv, which the JSON helper does not send. */
function postCsv<T>(path: string, csv: string): Promise<{ status: number; body: T; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${collector.url}/api/v1${path}`, { method: 'POST', ca: caPem, headers: { 'content-type': 'text/csv', 'content-length': Buffer.byteLength(csv), authorization: `Bearer ${token}` } }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => {
        let body: unknown = null;
        try {
          body = JSON.parse(text);
        } catch {
          // not JSON: the status says what happened
        }
        resolve({ status: res.statusCode ?? 0, body: body as T, text });
      });
    });
    req.on('error', reject);
    req.end(csv);
  });
}

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: join(artifacts, `licenses-${name}.png`), fullPage: true });
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

function hostsWith(rawName: string): Set<string> {
  const hosts = new Set<string>();
  for (let i = 0; i < FLEET; i++) {
    const facts = simulatedFacts(simulatedDevice(i), { softwareCount: SOFTWARE });
    if (!('hostname' in facts.device) || !('items' in facts.software)) throw new Error('unexpected simulated facts');
    if (facts.software.items.some((s) => s.name === rawName)) hosts.add(facts.device.hostname);
  }
  return hosts;
}

/** The catalog's product for an installed name: the one whose devices list that raw name. */
async function productFor(rawName: string, search: string): Promise<string> {
  const products = await api<{ items: { product: string }[] }>(`/software/products?q=${encodeURIComponent(search)}&limit=100`);
  if (products.status !== 200) throw new Error(`GET /software/products: ${products.status} ${products.text}`);
  for (const p of products.body.items) {
    const devices = await api<{ items: { rawName: string }[] }>(`/software/products/${encodeURIComponent(p.product)}/devices`);
    if (devices.status === 200 && devices.body.items.length > 0 && devices.body.items.every((d) => d.rawName === rawName)) return p.product;
  }
  throw new Error(`no catalog product maps only "${rawName}" (candidates: ${products.body.items.map((p) => p.product).join(', ')})`);
}

function isoDay(offsetDays: number): string {
  return new Date(Date.now() + offsetDays * 86_400_000).toISOString().slice(0, 10);
}

async function login(p: Page, username: string): Promise<void> {
  await p.goto(`${collector.url}/`);
  await p.waitForSelector('[data-testid="login-username"]');
  await p.fill('[data-testid="login-username"]', username);
  await p.fill('[data-testid="login-password"]', password);
  await p.click('[data-testid="login-submit"]');
  await p.waitForSelector('[data-testid="nav-licenses"]');
}

async function reportRow(product: string) {
  const row = page.locator(`[data-testid="licenses-report-row"][data-product="${product}"]`);
  await row.first().waitFor();
  return row.first();
}

beforeAll(async () => {
  mkdirSync(artifacts, { recursive: true });
  if (!existsSync(join(root, 'console', 'dist', 'renderer', 'index.html'))) {
    const built = spawnSync('npm', ['run', 'build:console'], { cwd: root, encoding: 'utf8', timeout: 120_000 });
    if (built.status !== 0) throw new Error(`npm run build:console failed: ${built.stdout}${built.stderr}`);
  }
  acrobatHosts = hostsWith(ACROBAT);
  zoomHosts = hostsWith(ZOOM);
  // The simulator installs each application on ~60% of devices: enough to buy fewer seats than installs.
  if (acrobatHosts.size <= SHORT_BY + 1 || zoomHosts.size === 0) throw new Error(`the simulated fleet has ${acrobatHosts.size} Acrobat and ${zoomHosts.size} Zoom installs`);

  dataDir = mkdtempSync(join(tmpdir(), 'vigie-e2e-licenses-'));
  collector = await startCollectorProcess(dataDir);
  caPem = readFileSync(join(dataDir, 'tls', 'ca.pem'), 'utf8');
  for (const [username, role] of [
    ['licences', 'license-manager'],
    ['auditrice', 'auditor'],
  ] as const) {
    const user = runCli(collectorCli, ['user', 'add', '--data', dataDir, '--username', username, '--role', role, '--org', '*', '--password-stdin'], `${password}\n`);
    if (user.code !== 0) throw new Error(`user add ${username} failed: ${user.stderr}`);
  }
  const created = runCli(collectorCli, ['enroll-secret', 'create', '--data', dataDir, '--org', 'paris', '--expires', '1']);
  if (created.code !== 0) throw new Error(`enroll-secret create failed: ${created.stderr}`);
  const secret = created.stdout.trim().split('\n').pop() as string;

  const fleet = await runFleet({ server: collector.url.replace('https:', 'wss:'), secret, devices: FLEET, ca: caPem, softwareCount: SOFTWARE });
  if (fleet.failed.length || fleet.reported !== FLEET) throw new Error(`fleet: ${fleet.reported}/${FLEET} reported; ${fleet.failed.join('; ')}`);

  const session = await apiRequest<{ token: string }>(collector.url, caPem, '/login', undefined, { method: 'POST', body: { username: 'licences', password } });
  if (session.status !== 200) throw new Error(`API login failed: ${session.text}`);
  token = session.body.token;
  const licenses = await api<unknown>('/licenses');
  if (licenses.status !== 200) throw new Error(`the collector has no licenses API yet: GET /api/v1/licenses → ${licenses.status} ${licenses.text.slice(0, 200)}`);
  acrobatProduct = await productFor(ACROBAT, 'Acrobat');
  zoomProduct = await productFor(ZOOM, 'Zoom');

  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  // The collector's certificate comes from the local CA it generated; Chromium ignores the error in this context
  // only, while every API call from Node checks the certificate against ca.pem.
  context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1440, height: 900 }, locale: 'en-US', acceptDownloads: true });
  page = await context.newPage();
});

afterAll(async () => {
  await context?.close().catch(() => undefined);
  await browser?.close().catch(() => undefined);
  await collector?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe('licenses in the console, against a real collector with 50 simulated devices', () => {
  it('signs a license manager in and opens Licenses and Software from the navigation', async () => {
    await login(page, 'licences');
    expect(await page.locator('[data-testid="nav-software"]').count()).toBe(1);
    await page.click('[data-testid="nav-licenses"]');
    await page.waitForSelector('[data-testid="licenses-report"]');
    await until('the report has loaded', async () => ((await page.locator('[data-testid="licenses-report"] [data-testid="loading"]').count()) === 0 ? true : undefined));
    expect(await page.locator('[data-testid="licenses-import"]').count()).toBe(1);
    expect(await page.locator('[data-testid="licenses-readonly"]').count()).toBe(0);
  });

  it('shows a bad row’s error in the preview, keeps Import disabled, and imports nothing', async () => {
    const bad = [header, `${acrobatProduct},per-seat,ten,2025-13-01,,4200,EUR,*,PO-BAD-1`, `${acrobatProduct},per-device,${acrobatHosts.size - SHORT_BY},${isoDay(-200)},${isoDay(400)},4200,EUR,*,PO-2025-117`].join('\n');
    await page.click('[data-testid="licenses-import"]');
    await page.waitForSelector('[data-testid="licenses-import-dialog"]');
    await page.setInputFiles('[data-testid="licenses-import-file"]', { name: 'purchases-bad.csv', mimeType: 'text/csv', buffer: Buffer.from(bad) });
    const summary = page.locator('[data-testid="licenses-import-summary"]');
    await summary.waitFor();
    expect(await summary.getAttribute('data-invalid')).toBe('1');
    expect(await summary.getAttribute('data-valid')).toBe('1');
    const badRow = page.locator('[data-testid="licenses-import-row"][data-line="2"]');
    expect(await badRow.getAttribute('data-valid')).toBe('false');
    expect((await badRow.locator('[data-testid="licenses-import-errors"]').innerText()).trim().length).toBeGreaterThan(0);
    expect(await page.locator('[data-testid="licenses-import-row"][data-line="3"]').getAttribute('data-valid')).toBe('true');
    expect(await page.locator('[data-testid="licenses-import-submit"]').isDisabled()).toBe(true);
    await shot('import-error');

    // Nothing was imported by the check; and the collector itself refuses the file whole when asked to import it.
    expect((await api<{ items: unknown[] }>('/licenses')).body.items).toHaveLength(0);
    const forced = await postCsv<{ invalid: number; imported: number }>('/licenses/import?dryRun=false', bad);
    expect(forced.body).toMatchObject({ invalid: 1, imported: 0 });
    expect((await api<{ items: unknown[] }>('/licenses')).body.items).toHaveLength(0);
  });

  it('imports a good file', async () => {
    const good = [
      header,
      `${acrobatProduct},per-device,${acrobatHosts.size - SHORT_BY},${isoDay(-200)},${isoDay(400)},4200,EUR,*,PO-2025-117`,
      `${zoomProduct},per-device,${zoomHosts.size + 5},${isoDay(-340)},${isoDay(20)},1800,EUR,*,"Zoom, renewal 2025"`,
    ].join('\n');
    await page.setInputFiles('[data-testid="licenses-import-file"]', { name: 'purchases.csv', mimeType: 'text/csv', buffer: Buffer.from(good) });
    await until('the new preview', async () => ((await page.locator('[data-testid="licenses-import-summary"]').getAttribute('data-invalid')) === '0' ? true : undefined));
    expect(await page.locator('[data-testid="licenses-import-row"][data-valid="true"]').count()).toBe(2);
    expect(await page.locator('[data-testid="licenses-import-submit"]').isEnabled()).toBe(true);
    await shot('import-preview');
    await page.click('[data-testid="licenses-import-submit"]');
    await page.waitForSelector('[data-testid="licenses-import-dialog"]', { state: 'detached' });

    const listed = await api<{ items: { product: string; seats: number | null; reference: string }[] }>('/licenses');
    expect(listed.body.items.map((l) => [l.product, l.seats, l.reference]).sort()).toEqual(
      [
        [acrobatProduct, acrobatHosts.size - SHORT_BY, 'PO-2025-117'],
        [zoomProduct, zoomHosts.size + 5, 'Zoom, renewal 2025'],
      ].sort(),
    );
    await until('the purchased licenses table', async () => ((await page.locator('[data-testid="licenses-list-row"]').count()) === 2 ? true : undefined));
  });

  it('shows Acrobat over-deployed by the seats it lacks, as the report API says', async () => {
    const report = await api<{ items: Reconciliation[] }>('/licenses/report?expiringWithinDays=60');
    expect(report.status).toBe(200);
    const acrobat = report.body.items.find((r) => r.product === acrobatProduct);
    expect(acrobat).toMatchObject({ status: 'over-deployed', purchased: acrobatHosts.size - SHORT_BY, used: acrobatHosts.size, overBy: SHORT_BY });

    const row = await until('the over-deployed row', async () => {
      const r = await reportRow(acrobatProduct);
      return (await r.getAttribute('data-status')) === 'over-deployed' ? r : undefined;
    });
    expect(Number(await row.getAttribute('data-over-by'))).toBe(SHORT_BY);
    expect(Number(await row.getAttribute('data-used'))).toBe(acrobatHosts.size);
    expect(Number(await row.getAttribute('data-purchased'))).toBe(acrobatHosts.size - SHORT_BY);
    expect(await row.innerText()).toContain('Over-deployed');
    expect(await row.evaluate((el) => el.classList.contains('row-over'))).toBe(true);
    // Zoom has more seats than installs, and its license expires within 60 days.
    expect(await (await reportRow(zoomProduct)).getAttribute('data-status')).not.toBe('over-deployed');
    expect(await page.locator('[data-testid="licenses-expiring-row"]').count()).toBeGreaterThanOrEqual(1);
    expect(Number(await page.locator('[data-testid="licenses-stat-over"]').getAttribute('data-value'))).toBeGreaterThanOrEqual(1);
    await shot('report');
  });

  it('drills down to the devices beyond the count', async () => {
    await (await reportRow(acrobatProduct)).locator('[data-testid="licenses-drill-open"]').click();
    await page.waitForSelector(`[data-testid="licenses-drill"][data-product="${acrobatProduct}"]`);
    const devices = await until('the drill-down devices', async () => {
      const rows = await page.locator('[data-testid="licenses-drill-device"]').evaluateAll((els) => els.map((e) => ({ id: e.getAttribute('data-device') ?? '', beyond: e.getAttribute('data-beyond') === 'true', host: (e.querySelector('a')?.textContent ?? '').trim() })));
      return rows.length === acrobatHosts.size ? rows : undefined;
    });
    expect(new Set(devices.map((d) => d.host))).toEqual(acrobatHosts);
    const beyond = devices.filter((d) => d.beyond);
    expect(beyond).toHaveLength(SHORT_BY);
    const drill = await api<{ devices: { deviceId: string; beyondCount: boolean }[] }>(`/licenses/report/${encodeURIComponent(acrobatProduct)}`);
    expect(new Set(beyond.map((d) => d.id))).toEqual(new Set(drill.body.devices.filter((d) => d.beyondCount).map((d) => d.deviceId)));
    expect(await page.locator('[data-testid="licenses-drill-beyond-note"]').innerText()).toContain(String(SHORT_BY));
    expect(await page.evaluate(() => (globalThis as unknown as { location: { hash: string } }).location.hash)).toContain('product=');
    await shot('drill-down');
  });

  it('exports the reconciliation report as CSV and as PDF', async () => {
    const [csv] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid="licenses-export-csv"]')]);
    expect(csv.suggestedFilename()).toMatch(/^vigie-licenses-\d{4}-\d{2}-\d{2}\.csv$/);
    const csvPath = join(artifacts, 'licenses-report.csv');
    await csv.saveAs(csvPath);
    const csvText = readFileSync(csvPath, 'utf8');
    expect(csvText).toContain(acrobatProduct);
    expect(csvText).toMatch(/over-deployed/i);

    const [pdf] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid="licenses-export-pdf"]')]);
    expect(pdf.suggestedFilename()).toMatch(/^vigie-licenses-\d{4}-\d{2}-\d{2}\.pdf$/);
    const pdfPath = join(artifacts, 'licenses-report.pdf');
    await pdf.saveAs(pdfPath);
    const bytes = readFileSync(pdfPath);
    // Byte-exact: a PDF read as text and re-encoded would break its binary header and xref offsets.
    expect(bytes.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    expect(bytes.subarray(-8).toString('latin1')).toContain('%%EOF');
    const direct = await new Promise<Buffer>((resolve, reject) => {
      request(`${collector.url}/api/v1/licenses/report.pdf?expiringWithinDays=60`, { ca: caPem, headers: { authorization: `Bearer ${token}` } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () => resolve(Buffer.concat(chunks)));
      })
        .on('error', reject)
        .end();
    });
    // The PDF carries its creation time, so compare sizes within a few bytes rather than exact bytes.
    expect(Math.abs(direct.length - bytes.length)).toBeLessThan(64);
  });

  it('lists Acrobat in Software with its device count, and records an approval', async () => {
    await page.click('[data-testid="nav-software"]');
    await page.fill('[data-testid="software-search"]', 'Acrobat');
    const row = page.locator(`[data-testid="software-row"][data-product="${acrobatProduct}"]`);
    await row.waitFor();
    expect(Number(await row.getAttribute('data-devices'))).toBe(acrobatHosts.size);
    await row.locator('[data-testid="software-approve"]').click();
    await page.waitForSelector('[data-testid="approval-dialog"]');
    await page.click('[data-testid="approval-approved"]');
    expect(await page.locator('[data-testid="approval-approved"]').getAttribute('data-checked')).toBe('true');
    await page.fill('[data-testid="approval-reason"]', 'Bought under PO-2025-117');
    await shot('approval');
    await page.click('[data-testid="approval-submit"]');
    await page.waitForSelector('[data-testid="approval-dialog"]', { state: 'detached' });
    await until('the approved status', async () => ((await row.getAttribute('data-status')) === 'approved' ? true : undefined));
    const products = await api<{ items: { product: string; status: string }[] }>(`/software/products?q=Acrobat`);
    expect(products.body.items.find((p) => p.product === acrobatProduct)?.status).toBe('approved');
    await shot('software');
    await page.click('[data-testid="software-tab-rules"]');
    await page.waitForSelector('[data-testid="rule-row"]');
    await shot('rules');
  });

  it('shows an auditor the same report read-only', async () => {
    const auditorContext = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1440, height: 900 }, locale: 'en-US' });
    try {
      const p = await auditorContext.newPage();
      await login(p, 'auditrice');
      await p.click('[data-testid="nav-licenses"]');
      await p.waitForSelector(`[data-testid="licenses-report-row"][data-product="${acrobatProduct}"]`);
      expect(await p.locator('[data-testid="licenses-readonly"]').count()).toBe(1);
      for (const action of ['licenses-import', 'licenses-add', 'license-edit', 'license-delete-open']) expect([action, await p.locator(`[data-testid="${action}"]`).count()]).toEqual([action, 0]);
      expect(await p.locator('[data-testid="licenses-export-csv"]').count()).toBe(1);
      await p.click('[data-testid="nav-software"]');
      await p.waitForSelector('[data-testid="software-row"]');
      expect(await p.locator('[data-testid="software-approve"]').count()).toBe(0);
      // The API refuses the auditor too; the hidden buttons are not the only guard.
      const session = await apiRequest<{ token: string }>(collector.url, caPem, '/login', undefined, { method: 'POST', body: { username: 'auditrice', password } });
      const refused = await apiRequest(collector.url, caPem, '/licenses', session.body.token, { method: 'POST', body: { product: acrobatProduct, type: 'per-device', seats: 100, purchasedAt: isoDay(0), expiresAt: null, cost: null, currency: 'EUR', org: '*', reference: 'x' } });
      expect(refused.status).toBe(403);
    } finally {
      await auditorContext.close();
    }
  });
});
