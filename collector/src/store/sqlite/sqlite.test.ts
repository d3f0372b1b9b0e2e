import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { defineDatastoreContract } from '../contract';
import { SqliteStore } from '.';
import { openStore } from '../open';
import { migrate, migrations } from './migrations';
import type { Database } from 'better-sqlite3';
import BetterSqlite3 from 'better-sqlite3';
import { sampleDevice, sampleFacts } from '../../testing/fixtures';
import type { EvaluatedFinding } from '../datastore';

/** The counters (migration 2) and what they count, recounted from the rows. */
function countersAndRecount(db: Database) {
  const q = (sql: string) => db.prepare(sql).all();
  return {
    counters: {
      findings: q('SELECT org, rule_id, status, n FROM finding_counts WHERE n <> 0 ORDER BY 1, 2, 3'),
      devices: q('SELECT org, devices, compliant FROM device_counts WHERE devices <> 0 OR compliant <> 0 ORDER BY 1'),
      ncs: q('SELECT org, rule_id, severity, resolved, n FROM nc_counts WHERE n <> 0 ORDER BY 1, 2, 3, 4'),
    },
    recount: {
      findings: q('SELECT f.org, f.rule_id, f.status, COUNT(*) AS n FROM findings f JOIN devices d ON d.id = f.device_id WHERE d.revoked = 0 GROUP BY 1, 2, 3 ORDER BY 1, 2, 3'),
      devices: q("SELECT org, COUNT(*) AS devices, SUM(status = 'compliant') AS compliant FROM devices WHERE revoked = 0 GROUP BY org ORDER BY 1"),
      ncs: q(
        'SELECT d.org, n.rule_id, n.severity, n.resolved_at IS NOT NULL AS resolved, COUNT(*) AS n FROM nonconformities n JOIN devices d ON d.id = n.device_id WHERE d.revoked = 0 GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4',
      ),
    },
  };
}

defineDatastoreContract('sqlite (in memory)', async () => new SqliteStore({ path: ':memory:' }));

describe('SQLite store', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-store-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('uses WAL and records its migrations, and reopens an existing database', async () => {
    const file = path.join(dir, 'vigie.db');
    const store = new SqliteStore({ path: file });
    expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal');
    const versions = store.db.prepare('SELECT version FROM schema_migrations').all();
    expect(versions).toEqual(migrations.map((m) => ({ version: m.version })));
    await store.createUser({ username: 'root', passwordHash: 'x', role: 'admin', orgs: ['*'], now: new Date() });
    await store.close();
    const again = new SqliteStore({ path: file });
    expect(await again.getUser('root')).not.toBeNull();
    await again.close();
  });

  it('keeps the counters equal to a recount through random reports, exemptions, sweeps, moves and revocations', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    const T0 = Date.parse('2026-03-02T09:00:00.000Z');
    // A seeded generator, so a failure replays.
    let seed = 7;
    const rnd = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
    const rules = ['disk-encryption', 'screen-lock', 'usb-storage', 'agent-reporting'];
    const orgs = ['acme', 'beta', 'gamma'];
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) {
      const machineId = `m-${i}`;
      ids.push((await store.enrollDevice({ newId: `d-${i}`, machineId, org: pick(orgs), tokenHash: `t-${i}`, device: sampleDevice({ machineId }), now: new Date(T0) })).device.id);
    }
    for (let step = 1; step <= 300; step++) {
      const now = new Date(T0 + step * 3_600_000);
      const id = pick(ids);
      const op = rnd();
      const findings = (): EvaluatedFinding[] =>
        rules.filter(() => rnd() < 0.85).map((ruleId) => ({ ruleId, status: pick(['pass', 'fail', 'fail', 'unknown'] as const), severity: pick(['critical', 'high', 'medium', 'low'] as const), evidence: 'e', issp: [], graceDays: 3 }));
      const derive = () => ({ findings: findings(), timeline: [] });
      if (op < 0.5) await store.applyReport({ deviceId: id, reportId: `r-${step}`, seq: step, collectedAt: now.toISOString(), body: { kind: 'full', facts: sampleFacts() }, dropped: 0, now }, derive);
      else if (op < 0.65) await store.reevaluateDevice(id, derive, now);
      else if (op < 0.75) await store.createExemption({ deviceId: id, ruleId: pick(rules), reason: 'r', grantedBy: 'root', expiresAt: new Date(now.getTime() + rnd() * 20 * 3_600_000), now });
      else if (op < 0.8) await store.refreshDeviceStatus(id, now);
      else if (op < 0.87) await store.updateDevice(id, { org: pick(orgs) }, now);
      else if (op < 0.93) await store.revokeDevice(id, now);
      else {
        // Re-enrolment only works in the device's own org, and after an operator lifted a revocation.
        const other = pick(orgs);
        const device = await store.getDevice(id);
        if (device?.revoked) await store.restoreDevice(id, now);
        await store.enrollDevice({ newId: `new-${step}`, machineId: `m-${ids.indexOf(id)}`, org: device?.org ?? other, tokenHash: `re-${step}`, device: sampleDevice(), now });
      }
      const { counters, recount } = countersAndRecount(store.db);
      expect({ step, ...counters }).toEqual({ step, ...recount });
    }
    // The walk went through every kind of change, not only a few.
    const ncs = store.db.prepare('SELECT SUM(resolved_at IS NULL) AS open, SUM(resolved_at IS NOT NULL) AS resolved FROM nonconformities').get() as { open: number; resolved: number };
    expect(ncs.open).toBeGreaterThan(5);
    expect(ncs.resolved).toBeGreaterThan(5);
    expect((store.db.prepare('SELECT COUNT(*) AS n FROM devices WHERE revoked = 1').get() as { n: number }).n).toBeGreaterThan(0);
    await store.close();
  });

  it('counts what a version 1 database already holds when it migrates', async () => {
    const file = path.join(dir, 'v1.db');
    const v1 = new BetterSqlite3(file);
    v1.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
    v1.exec(migrations[0]!.sql);
    v1.prepare("INSERT INTO schema_migrations VALUES (1, 'initial schema', '2026-01-01T00:00:00.000Z')").run();
    v1.exec(`
      INSERT INTO orgs VALUES ('acme', 'x'), ('beta', 'x');
      INSERT INTO devices (id, machine_id, token_hash, org, hostname, os, os_version, model, serial, enrolled_at, revoked, status)
        VALUES ('a', 'ma', 'ta', 'acme', 'a', 'linux', '12', 'm', 's', 'x', 0, 'compliant'), ('b', 'mb', 'tb', 'acme', 'b', 'linux', '12', 'm', 's', 'x', 0, 'noncompliant'),
               ('c', 'mc', 'tc', 'beta', 'c', 'linux', '12', 'm', 's', 'x', 1, 'noncompliant');
      INSERT INTO findings (device_id, rule_id, org, active, status, severity, evidence, issp, updated_at)
        VALUES ('a', 'r1', 'acme', 1, 'pass', 'high', '', '[]', 'x'), ('b', 'r1', 'acme', 1, 'fail', 'high', '', '[]', 'x'), ('c', 'r1', 'beta', 0, 'fail', 'high', '', '[]', 'x');
      INSERT INTO nonconformities (device_id, rule_id, severity, severity_rank, evidence, issp, first_seen_at, due_at, resolved_at)
        VALUES ('b', 'r1', 'high', 3, '', '[]', 'x', 'y', NULL), ('b', 'r2', 'low', 1, '', '[]', 'x', 'y', 'z'), ('c', 'r1', 'high', 3, '', '[]', 'x', 'y', NULL);`);
    migrate(v1, new Date());
    const { counters, recount } = countersAndRecount(v1);
    expect(counters).toEqual(recount);
    expect(counters.devices).toEqual([{ org: 'acme', devices: 2, compliant: 1 }]);
    expect(counters.ncs).toEqual([
      { org: 'acme', rule_id: 'r1', severity: 'high', resolved: 0, n: 1 },
      { org: 'acme', rule_id: 'r2', severity: 'low', resolved: 1, n: 1 },
    ]);
    v1.close();
  });

  it('applies a migration a database missed even when a later one is recorded', () => {
    const db = new BetterSqlite3(':memory:');
    migrate(db, new Date());
    db.exec('DROP TABLE finding_counts');
    db.prepare('DELETE FROM schema_migrations WHERE version = 2').run();
    db.exec('DROP TRIGGER finding_counts_insert; DROP TRIGGER finding_counts_delete; DROP TRIGGER finding_counts_update; DROP TABLE device_counts; DROP TABLE nc_counts');
    db.exec('DROP TRIGGER device_counts_insert; DROP TRIGGER device_counts_delete; DROP TRIGGER device_counts_update; DROP TRIGGER nc_counts_insert; DROP TRIGGER nc_counts_delete; DROP TRIGGER nc_counts_update; DROP TRIGGER nc_counts_device');
    db.exec('DROP INDEX nonconformities_device; CREATE INDEX findings_summary ON findings(active, org, rule_id, status)');
    migrate(db, new Date());
    expect((db.prepare('SELECT version FROM schema_migrations ORDER BY version').all() as { version: number }[]).map((r) => r.version)).toEqual(migrations.map((m) => m.version));
    expect(db.prepare('SELECT COUNT(*) AS n FROM finding_counts').get()).toEqual({ n: 0 });
    db.close();
  });

  it('refuses to change or delete an audit line, even through SQL', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    await store.appendAudit({ at: new Date(), actor: 'root', action: 'login', target: null, details: null, ip: null, outcome: 'success' });
    expect(() => store.db.prepare("UPDATE audit_log SET outcome = 'failure'").run()).toThrow(/append-only/);
    expect(() => store.db.prepare('DELETE FROM audit_log').run()).toThrow(/append-only/);
    await store.close();
  });

  it('opens sqlite: URLs and the default file, and refuses PostgreSQL for now', async () => {
    const byDefault = openStore(undefined, dir);
    expect(byDefault.ok && byDefault.description).toBe(`sqlite:${path.join(dir, 'vigie.db')}`);
    if (byDefault.ok) await byDefault.store.close();
    const explicit = openStore(`sqlite:${path.join(dir, 'other.db')}`, dir);
    expect(explicit.ok).toBe(true);
    if (explicit.ok) await explicit.store.close();
    expect(openStore('postgres://db/vigie', dir)).toEqual({ ok: false, message: expect.stringMatching(/not supported yet/) });
    expect(openStore('mysql://x', dir).ok).toBe(false);
  });
});
