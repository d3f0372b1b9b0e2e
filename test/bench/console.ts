/**
 * `npm run bench:console`: the console at fleet scale (issue 5's benchmark).
 *
 * 1. Seeds a store with VIGIE_BENCH_DEVICES (default 100,000) simulated devices and
 *    their findings (5 rules each, so about 500,000) through the collector's own
 *    Datastore (enrollDevice + applyReport with the real policy evaluator), in big
 *    transactions: seeding over WSS runs at about 100 reports/s, far too slow.
 * 2. Starts the real collector on that data folder, adds an admin with the CLI and
 *    logs in through the API.
 * 3. Measures the API calls behind the overview and the non-conformities view as
 *    the console makes them (warm, sequential): target p95 ≤ 100 ms each.
 * 4. Measures, in Debian's Chromium, the time from navigation to the first
 *    non-conformity row on screen, logged in: target ≤ 1.5 s.
 * Writes the `console` section of docs/benchmarks.md.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { formatPolicyError, loadPolicy, type DeviceFacts, type Facts, type Policy } from '@vigie/shared';
import { apiRequest, startCollectorProcess, type CollectorProcess } from '../helpers/processes';
import { simulatedDevice, simulatedFacts, seededRandom } from '../simulator/facts';
import { percentile, verdict, writeSection } from './report';

// test/helpers/processes.ts locates the CLIs from its source folder, which is wrong once compiled to test/dist: resolve from here.
const root = join(__dirname, '..', '..', '..');
const collectorCli = join(root, 'collector', 'dist', 'cli.js');

const DEVICES = Number(process.env.VIGIE_BENCH_DEVICES ?? 100_000);
const CALLS = Number(process.env.VIGIE_BENCH_CALLS ?? 50);
const RENDERS = Number(process.env.VIGIE_BENCH_RENDERS ?? 10);
const BATCH = 5_000;
const API_TARGET_MS = 100;
const RENDER_TARGET_MS = 1_500;
const password = 'bench password for the console 42';
const orgs = ['paris', 'lyon', 'nantes', 'lille', 'marseille', 'bordeaux', 'toulouse', 'rennes', 'strasbourg', 'nice', 'dijon', 'grenoble'];
const owners = ['Jeanne Dupont', 'Marc Martin', 'Sophie Bernard', 'Luc Petit', 'Claire Durand', 'Nadia Leroy', 'Paul Moreau', 'Inès Simon'];

// The collector is required from its build (test/ compiles on its own and may not import collector sources):
// only the few members the bench uses are typed here.
interface BenchStore {
  db: { exec(sql: string): void; pragma(sql: string): unknown; prepare(sql: string): { get(...a: unknown[]): unknown } };
  close(): Promise<void>;
  addCatalogRule(input: { name: string; publisher: string | null; product: string; status: 'approved' | 'denied' | 'unreviewed' }): Promise<unknown>;
  enrollDevice(input: { newId: string; machineId: string; org: string; tokenHash: string; device: DeviceFacts; now: Date }): Promise<{ device: { id: string } }>;
  updateDevice(id: string, patch: { owner?: string | null }, now: Date): Promise<unknown>;
  applyReport(input: { deviceId: string; reportId: string; seq: number; collectedAt: string; body: { kind: 'full'; facts: Facts }; dropped: number; now: Date }, derive: unknown): Promise<{ status: string }>;
  reevaluateDevice(id: string, derive: unknown, now: Date): Promise<unknown>;
  createExemption(input: { deviceId: string; ruleId: string; reason: string; grantedBy: string; expiresAt: Date; now: Date }): Promise<unknown>;
  recordDailySnapshot(now: Date): Promise<void>;
}
interface BenchEvaluator {
  refreshCatalog(): Promise<void>;
  derive(inputs: { authorisedUsb: [] }): unknown;
}
/* eslint-disable @typescript-eslint/no-require-imports */
const { openStore } = require(join(root, 'collector', 'dist', 'store', 'open.js')) as {
  openStore: (dbUrl: string | undefined, dataDir: string, now?: Date) => { ok: true; store: BenchStore } | { ok: false; message: string };
};
const { PolicyEvaluator } = require(join(root, 'collector', 'dist', 'evaluate', 'evaluator.js')) as { PolicyEvaluator: new (policy: Policy, store: BenchStore) => BenchEvaluator };
/* eslint-enable @typescript-eslint/no-require-imports */

function defaultPolicy(): Policy {
  const r = loadPolicy(readFileSync(join(root, 'shared', 'policies', 'issp-default.yaml'), 'utf8'), 'issp-default.yaml');
  if (!r.ok) throw new Error(r.errors.map(formatPolicyError).join('\n'));
  return r.policy;
}

const log = (s: string) => process.stderr.write(`${s}\n`);
const ms = (n: number) => `${n.toFixed(n < 10 ? 1 : 0)} ms`;

interface SeedResult {
  seconds: number;
  findings: number;
  open: number;
  resolved: number;
  exempted: number;
  dbMiB: number;
}

/**
 * Seeds the fleet as the collector would have stored it: each device enrolled, given
 * an owner, and its full report applied (facts, findings, non-conformities, status) by
 * the store and the real evaluator. Reports are spread over the last 20 hours so no
 * device is silent, except 1% last seen 2–10 days ago and already swept (as the
 * collector's silent sweep leaves them). 10% report a second time with other facts,
 * so some non-conformities are resolved; a few hundred are exempted.
 */
async function seed(dataDir: string, now: Date): Promise<SeedResult> {
  const opened = openStore(undefined, dataDir, now);
  if (!opened.ok) throw new Error(opened.message);
  const store = opened.store;
  // A bigger page cache than SQLite's 2 MiB default: the seeding writes a database of several hundred MiB.
  store.db.pragma('cache_size = -262144');
  const started = performance.now();
  // First match wins: uTorrent is denied, everything else approved, so approved-software fails on a share of the fleet.
  await store.addCatalogRule({ name: '^uTorrent', publisher: null, product: 'uTorrent', status: 'denied' });
  await store.addCatalogRule({ name: '.', publisher: null, product: 'Reviewed by the DSI', status: 'approved' });
  const evaluator = new PolicyEvaluator(defaultPolicy(), store);
  await evaluator.refreshCatalog();
  const derive = evaluator.derive({ authorisedUsb: [] });
  const rnd = seededRandom(42);
  const ids: string[] = [];
  const spanMs = 20 * 3_600_000;
  for (let from = 0; from < DEVICES; from += BATCH) {
    store.db.exec('BEGIN');
    for (let i = from; i < Math.min(DEVICES, from + BATCH); i++) {
      const sim = simulatedDevice(i);
      const facts = simulatedFacts(sim, { softwareCount: 30 });
      const silent = i % 100 === 99;
      const at = silent ? new Date(now.getTime() - (2 + rnd() * 8) * 86_400_000) : new Date(now.getTime() - spanMs + (i / DEVICES) * spanMs);
      const { device } = await store.enrollDevice({ newId: `dev-${String(i).padStart(6, '0')}`, machineId: sim.machineId, org: orgs[i % orgs.length] as string, tokenHash: `bench-token-${i}`, device: facts.device as DeviceFacts, now: at });
      ids.push(device.id);
      if (i % 5 !== 0) await store.updateDevice(device.id, { owner: owners[i % owners.length] as string }, at);
      const r = await store.applyReport({ deviceId: device.id, reportId: `r-${i}-1`, seq: 1, collectedAt: at.toISOString(), body: { kind: 'full', facts }, dropped: 0, now: at }, derive);
      if (r.status !== 'stored') throw new Error(`device ${i}: ${r.status}`);
      if (silent) await store.reevaluateDevice(device.id, derive, now);
    }
    store.db.exec('COMMIT');
    log(`  seeded ${Math.min(DEVICES, from + BATCH)}/${DEVICES} devices (${((performance.now() - started) / 1000).toFixed(0)} s)`);
  }
  // A second report from 10% of the fleet with another seed's compliance: some non-conformities resolve, some open.
  store.db.exec('BEGIN');
  for (let i = 0; i < DEVICES; i += 10) {
    if (i % 100 === 99) continue;
    const at = new Date(now.getTime() - 3_600_000 + (i / DEVICES) * 3_000_000);
    const facts = simulatedFacts({ ...simulatedDevice(i, 2), machineId: simulatedDevice(i).machineId }, { softwareCount: 30, seed: 2 });
    const r = await store.applyReport({ deviceId: ids[i] as string, reportId: `r-${i}-2`, seq: 2, collectedAt: at.toISOString(), body: { kind: 'full', facts }, dropped: 0, now: at }, derive);
    if (r.status !== 'stored') throw new Error(`device ${i} second report: ${r.status}`);
  }
  // Exemptions granted by the DSI on every 250th device's disk encryption.
  for (let i = 0; i < DEVICES; i += 250) {
    await store.createExemption({ deviceId: ids[i] as string, ruleId: 'disk-encryption', reason: 'Replacement laptop ordered', grantedBy: 'dsi', expiresAt: new Date(now.getTime() + 30 * 86_400_000), now });
  }
  // The trend: a snapshot per day for the last 30 days (the sweep writes one a day).
  for (let d = 29; d >= 0; d--) await store.recordDailySnapshot(new Date(now.getTime() - d * 86_400_000));
  store.db.exec('COMMIT');
  const seconds = (performance.now() - started) / 1000;
  const count = (sql: string) => (store.db.prepare(sql).get() as { n: number }).n;
  const nowIso = now.toISOString();
  const result = {
    seconds,
    findings: count('SELECT COUNT(*) AS n FROM findings'),
    open: count('SELECT COUNT(*) AS n FROM nonconformities WHERE resolved_at IS NULL'),
    resolved: count('SELECT COUNT(*) AS n FROM nonconformities WHERE resolved_at IS NOT NULL'),
    exempted: count(`SELECT COUNT(DISTINCT device_id || rule_id) AS n FROM exemptions WHERE revoked_at IS NULL AND expires_at > '${nowIso}'`),
    dbMiB: 0,
  };
  store.db.pragma('wal_checkpoint(TRUNCATE)');
  await store.close();
  result.dbMiB = statSync(join(dataDir, 'vigie.db')).size / 2 ** 20;
  return result;
}



interface Timing {
  name: string;
  path: string;
  view: string;
  p50: number;
  p95: number;
  max: number;
  bytes: number;
}

/** `calls` sequential requests after 5 warm-up ones; each must answer 200. */
async function timeCall(url: string, ca: string, token: string, view: string, path: string, calls: number): Promise<Timing> {
  const times: number[] = [];
  let bytes = 0;
  for (let i = 0; i < calls + 5; i++) {
    const t0 = performance.now();
    const r = await apiRequest<unknown>(url, ca, path, token);
    const t = performance.now() - t0;
    if (r.status !== 200) throw new Error(`GET ${path}: ${r.status} ${r.text.slice(0, 300)}`);
    bytes = r.text.length;
    if (i >= 5) times.push(t);
  }
  times.sort((a, b) => a - b);
  return { name: path.split('?')[0] as string, path, view, p50: percentile(times, 50), p95: percentile(times, 95), max: times[times.length - 1] as number, bytes };
}

interface RenderResult {
  first: number;
  p50: number;
  p95: number;
  max: number;
  rows: number;
}

/**
 * Logs in through the UI, then loads the non-conformities view `renders` times from a
 * blank page: navigation start to the first nc-row visible. The first load is the cold
 * one (empty HTTP cache); the others reuse the browser's cache as an admin's day does.
 */
async function timeRender(url: string, renders: number): Promise<RenderResult> {
  let browser: Browser | undefined;
  try {
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    // The collector's certificate comes from the local CA in DATA/tls, which this throwaway profile does not trust.
    const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1440, height: 900 }, locale: 'en-US' });
    const page = await context.newPage();
    page.setDefaultTimeout(30_000);
    await page.goto(`${url}/`);
    await page.fill('[data-testid="login-username"]', 'dsi');
    await page.fill('[data-testid="login-password"]', password);
    await page.click('[data-testid="login-submit"]');
    await page.waitForSelector('[data-testid="nav-overview"]');
    const times: number[] = [];
    let rows = 0;
    for (let i = 0; i < renders; i++) {
      await page.goto('about:blank');
      const t0 = performance.now();
      await page.goto(`${url}/#/nonconformities`);
      await page.locator('[data-testid="nc-row"]').first().waitFor({ state: 'visible' });
      times.push(performance.now() - t0);
      rows = await page.locator('[data-testid="nc-row"]').count();
    }
    const first = times[0] as number;
    const sorted = [...times].sort((a, b) => a - b);
    return { first, p50: percentile(sorted, 50), p95: percentile(sorted, 95), max: sorted[sorted.length - 1] as number, rows };
  } finally {
    await browser?.close().catch(() => undefined);
  }
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'vigie-bench-console-'));
  let collector: CollectorProcess | undefined;
  try {
    const now = new Date();
    log(`seeding ${DEVICES} devices in ${dataDir}`);
    const seeded = await seed(dataDir, now);
    log(`seeded in ${seeded.seconds.toFixed(1)} s: ${seeded.findings} findings, ${seeded.open} open and ${seeded.resolved} resolved non-conformities, ${seeded.dbMiB.toFixed(0)} MiB`);

    const t0 = performance.now();
    collector = await startCollectorProcess(dataDir, '127.0.0.1:0', [], { echoStderr: true, startTimeoutMs: 60_000 });
    const startMs = performance.now() - t0;
    const ca = readFileSync(join(dataDir, 'tls', 'ca.pem'), 'utf8');
    const user = spawnSync(process.execPath, [collectorCli, 'user', 'add', '--data', dataDir, '--username', 'dsi', '--role', 'admin', '--org', '*', '--password-stdin'], {
      encoding: 'utf8',
      input: `${password}\n`,
      timeout: 60_000,
      env: { ...process.env, VIGIE_LOG_LEVEL: 'warn' },
    });
    if (user.status !== 0) throw new Error(`user add failed: ${user.stderr}`);
    const login = await apiRequest<{ token: string }>(collector.url, ca, '/login', undefined, { method: 'POST', body: { username: 'dsi', password } });
    if (login.status !== 200) throw new Error(`login failed: ${login.text}`);
    const token = login.body.token;

    // The calls each view makes, with the query strings the console's api.ts builds (empty filters dropped).
    const calls: [view: string, path: string][] = [
      ['overview', '/me'],
      ['overview', '/summary?days=30'],
      ['non-conformities', '/policy'],
      ['non-conformities', '/summary?days=1'],
      ['non-conformities', '/nonconformities?status=open&sort=firstSeenAt&order=desc&limit=50&offset=0'],
    ];
    const timings: Timing[] = [];
    for (const [view, path] of calls) {
      const t = await timeCall(collector.url, ca, token, view, path, CALLS);
      log(`  GET ${path}: p50 ${ms(t.p50)}, p95 ${ms(t.p95)}, max ${ms(t.max)}`);
      timings.push(t);
    }
    const ncTotal = (await apiRequest<{ total: number }>(collector.url, ca, '/nonconformities?status=open&limit=1', token)).body.total;

    log('rendering the non-conformities view in Chromium');
    const render = await timeRender(collector.url, RENDERS);
    log(`  first nc-row visible: first load ${ms(render.first)}, p50 ${ms(render.p50)}, p95 ${ms(render.p95)}, max ${ms(render.max)}`);

    const apiOk = timings.every((t) => t.p95 <= API_TARGET_MS);
    const rows = timings.map((t) => `| ${t.view} | \`GET /api/v1${t.path}\` | ${ms(t.p50)} | ${ms(t.p95)} | ${ms(t.max)} | ${(t.bytes / 1024).toFixed(1)} KiB | ${verdict(t.p95 <= API_TARGET_MS)} |`);
    writeSection(
      'console',
      `## Console at fleet scale (\`npm run bench:console\`)

${DEVICES.toLocaleString('en-US')} simulated devices in ${orgs.length} orgs, ${seeded.findings.toLocaleString('en-US')} findings (5 rules each), ${seeded.open.toLocaleString('en-US')} open and ${seeded.resolved.toLocaleString('en-US')} resolved non-conformities, ${seeded.exempted} active exemptions, 30 daily snapshots; a ${seeded.dbMiB.toFixed(0)} MiB SQLite database.

**Seeding** goes through the collector's own Datastore (\`enrollDevice\`, \`updateDevice\`, \`applyReport\` with the real policy evaluator, \`createExemption\`, \`recordDailySnapshot\`) in transactions of ${BATCH.toLocaleString('en-US')} devices, not over WSS (about 100 reports/s there): **${seeded.seconds.toFixed(1)} s** (${Math.round(DEVICES / seeded.seconds).toLocaleString('en-US')} devices/s, each with a full report of 30 software items). The real collector then starts on that folder (${ms(startMs)} to its listening line, migrations included), an admin is added with \`user add --password-stdin\`, and logs in through the API.

### API calls behind the views (target p95 ≤ ${API_TARGET_MS} ms)
${CALLS} sequential calls each after 5 warm-up calls, over HTTPS on 127.0.0.1, as \`console/src/renderer/api.ts\` builds them: the overview calls \`/me\` (at start) and \`/summary?days=30\`; the non-conformities view calls \`/policy\` and \`/summary?days=1\` (its filter menus, once per session) and its first page (open ones, newest first, 50 a page; ${ncTotal.toLocaleString('en-US')} match).

| view | call | p50 | p95 | max | body | target |
| --- | --- | --- | --- | --- | --- | --- |
${rows.join('\n')}

All calls: target ${verdict(apiOk)}.

### Non-conformities view in Chromium (target ≤ ${(RENDER_TARGET_MS / 1000).toFixed(1)} s)
Debian's Chromium through playwright-core, logged in through the login view, then ${RENDERS} loads of \`/#/nonconformities\` from \`about:blank\`: time from navigation to the first \`nc-row\` visible (the page, the bundle, \`/me\`, the view's calls and React's render; ${render.rows} rows on the page). The first load starts with an empty HTTP cache.

| first load | p50 | p95 | max | target |
| --- | --- | --- | --- | --- |
| ${ms(render.first)} | ${ms(render.p50)} | ${ms(render.p95)} | ${ms(render.max)} | ${verdict(Math.max(render.first, render.p95) <= RENDER_TARGET_MS)} |`,
    );
    log('wrote the console section of docs/benchmarks.md');
  } finally {
    await collector?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
