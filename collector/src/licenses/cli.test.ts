import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCli, type CliIo } from '../cli';
import { SqliteStore } from '../store/sqlite';
import { sampleDevice, sampleFacts } from '../testing/fixtures';

describe('vigie-collector licenses and software commands', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-cli-lic-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  function io() {
    const out: string[] = [];
    const err: string[] = [];
    const value: CliIo = {
      stdout: (t) => void out.push(t),
      stderr: (t) => void err.push(t),
      readStdin: async () => '',
      env: { VIGIE_DATA: dir },
      cwd: dir,
      now: () => new Date('2026-03-02T09:00:00.000Z'),
      waitForShutdown: () => new Promise(() => undefined),
    };
    return { io: value, out: () => out.join(''), err: () => err.join('') };
  }

  /** Two Windows laptops reported before the licenses module indexed anything: the CLI backfills them. */
  async function seed(): Promise<void> {
    const store = new SqliteStore({ path: path.join(dir, 'vigie.db') });
    try {
      for (const [i, name] of ['Adobe Acrobat (64-bit)', 'Adobe Acrobat DC (64-bit)'].entries()) {
        const machineId = `m-${i}`;
        await store.enrollDevice({ newId: `dev-${i}`, machineId, org: 'acme', tokenHash: `t${i}`, device: sampleDevice({ machineId, os: 'windows' }), now: new Date() });
        const facts = sampleFacts({ software: { items: [{ name, version: '24.1', publisher: 'Adobe', source: 'registry', scope: 'machine', installedAt: null }] } }, { machineId, os: 'windows', hostname: `lap-${i}` });
        await store.applyReport({ deviceId: `dev-${i}`, reportId: `r${i}`, seq: 1, collectedAt: new Date().toISOString(), body: { kind: 'full', facts }, dropped: 0, now: new Date(`2026-03-0${i + 1}T00:00:00Z`) }, () => ({ findings: [], timeline: [] }));
      }
    } finally {
      await store.close();
    }
  }

  it.each(['licenses import', 'licenses report', 'software products'])('prints --help for "%s" and exits 0', async (command) => {
    const t = io();
    expect(await runCli([...command.split(' '), '--help'], t.io)).toBe(0);
    expect(t.out()).toContain('--data <dir>');
  });

  it('imports a CSV all or nothing, then reports the reconciliation and the products', async () => {
    await seed();
    const file = path.join(dir, 'purchases.csv');
    fs.writeFileSync(file, 'product,type,seats,purchased_at,expires_at,cost,currency,org,reference\nAdobe Acrobat Pro,per-device,1,2025-01-01,,,,*,PO-9\nBad,per-device,x,2025-01-01,,,,*,\n');
    const bad = io();
    expect(await runCli(['licenses', 'import', file], bad.io)).toBe(1);
    expect(bad.err()).toContain('purchases.csv:3: seats must be a whole number, got "x"');
    expect(bad.err()).toContain('nothing imported');

    fs.writeFileSync(file, 'product,type,seats,purchased_at,expires_at,cost,currency,org,reference\nAdobe Acrobat Pro,per-device,1,2025-01-01,,,,*,PO-9\n');
    const dry = io();
    expect(await runCli(['licenses', 'import', file, '--dry-run'], dry.io)).toBe(0);
    expect(dry.out()).toContain('dry run');
    const ok = io();
    expect(await runCli(['licenses', 'import', file], ok.io)).toBe(0);
    expect(ok.out()).toContain('imported 1 license(s)');

    const report = io();
    expect(await runCli(['licenses', 'report', '--json'], report.io)).toBe(0);
    expect(JSON.parse(report.out())).toEqual([expect.objectContaining({ product: 'Adobe Acrobat Pro', purchased: 1, used: 2, status: 'over-deployed', beyondDevices: [{ deviceId: 'dev-1', hostname: 'lap-1' }] })]);
    const text = io();
    expect(await runCli(['licenses', 'report'], text.io)).toBe(0);
    expect(text.out()).toMatch(/Adobe Acrobat Pro\s+\*\s+per-device\s+1\s+2\s+0\s+over-deployed \(\+1\)\s+lap-1/);

    const products = io();
    expect(await runCli(['software', 'products', '--json'], products.io)).toBe(0);
    expect(JSON.parse(products.out())).toEqual([expect.objectContaining({ product: 'Adobe Acrobat Pro', devices: 2, status: 'unreviewed' })]);
  });
});
