/**
 * The collector's per-report write path, reproduced statement for statement from
 * collector/src/store/sqlite/index.ts (applyReport → applyFindingsSync →
 * refreshDeviceStatusSync), run with better-sqlite3 (the collector's driver) and
 * node-sqlite3 (the usual async one) on fresh databases; and a raw bulk insert
 * of the same rows, the ceiling the end-to-end ingest is compared with.
 *
 * The rows come from the collector's own database after the end-to-end run: the
 * facts, findings, non-conformities and timeline lines real reports produced.
 */
import { join } from 'node:path';
import BetterSqlite3, { type Database } from 'better-sqlite3';
import sqlite3 from 'sqlite3';
import { severityRank, type Severity } from '@vigie/shared';

const root = join(__dirname, '..', '..', '..');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { PAGE_CACHE_KIB } = require(join(root, 'collector', 'dist', 'store', 'sqlite', 'index.js')) as { PAGE_CACHE_KIB: number };

interface DeviceRow {
  id: string;
  machine_id: string;
  token_hash: string;
  org: string;
  hostname: string;
  os: string;
  os_version: string;
  model: string;
  serial: string;
  user: string | null;
  enrolled_at: string;
}

export interface SampleReport {
  device: DeviceRow;
  /** As the collector stores it: deflated canonical JSON (collector/src/util/facts-column.ts). */
  facts: string | Buffer;
  hash: string;
  collectedAt: string;
  timeline: { section: string; summary: string }[];
  findings: { rule_id: string; status: string; severity: Severity; evidence: string; issp: string }[];
  graceDays: Map<string, number>;
}

/** Reads `count` devices' first-report rows from the collector's database (read-only). */
export function loadSample(dbPath: string, count: number): SampleReport[] {
  const db = new BetterSqlite3(dbPath, { readonly: true });
  try {
    const devices = db
      .prepare(
        `SELECT d.id, d.machine_id, d.token_hash, d.org, d.hostname, d.os, d.os_version, d.model, d.serial, d.user, d.enrolled_at, f.facts, f.hash, f.collected_at
         FROM devices d JOIN device_facts f ON f.device_id = d.id ORDER BY d.rowid LIMIT ?`,
      )
      .all(count) as (DeviceRow & { facts: string | Buffer; hash: string; collected_at: string })[];
    const timeline = db.prepare('SELECT at, section, summary FROM timeline WHERE device_id = ? ORDER BY id LIMIT 20');
    const findings = db.prepare('SELECT rule_id, status, severity, evidence, issp FROM findings WHERE device_id = ? ORDER BY rule_id');
    const ncs = db.prepare('SELECT rule_id, first_seen_at, due_at FROM nonconformities WHERE device_id = ?');
    return devices.map((d) => {
      const lines = timeline.all(d.id) as { at: string; section: string; summary: string }[];
      const firstAt = lines[0]?.at;
      const graceDays = new Map<string, number>();
      for (const n of ncs.all(d.id) as { rule_id: string; first_seen_at: string; due_at: string }[]) {
        graceDays.set(n.rule_id, Math.round((Date.parse(n.due_at) - Date.parse(n.first_seen_at)) / 86_400_000));
      }
      const { facts, hash, collected_at, ...device } = d;
      return {
        device,
        facts,
        hash,
        collectedAt: collected_at,
        // The first report's lines only (later check-ins added their own).
        timeline: lines.filter((l) => l.at === firstAt).map((l) => ({ section: l.section, summary: l.summary })),
        findings: findings.all(d.id) as SampleReport['findings'],
        graceDays,
      };
    });
  } finally {
    db.close();
  }
}

/** A fresh database with the collector's migrations and pragmas, and the sample's devices enrolled. */
function freshDb(path: string, sample: SampleReport[]): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { migrate } = require(join(root, 'collector', 'dist', 'store', 'sqlite', 'migrations.js')) as { migrate: (db: Database, now: Date) => number };
  const db = new BetterSqlite3(path);
  db.pragma('journal_mode = WAL');
  migrate(db, new Date());
  const org = db.prepare('INSERT INTO orgs (name, created_at) VALUES (?, ?) ON CONFLICT(name) DO NOTHING');
  const dev = db.prepare(`INSERT INTO devices (id, machine_id, token_hash, org, hostname, os, os_version, model, serial, user, enrolled_at)
                          VALUES (@id, @machine_id, @token_hash, @org, @hostname, @os, @os_version, @model, @serial, @user, @enrolled_at)`);
  db.transaction(() => {
    for (const s of sample) {
      org.run(s.device.org, s.device.enrolled_at);
      dev.run(s.device);
    }
  })();
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
}

/** The statements applyReport runs for a report, in its order, copied from the SQLite store. */
const SQL = {
  deviceById: 'SELECT * FROM devices WHERE id = ?',
  reportExists: 'SELECT 1 FROM reports WHERE device_id = ? AND report_id = ?',
  factsByDevice: 'SELECT facts, hash, updated_at FROM device_facts WHERE device_id = ?',
  upsertFacts: `INSERT INTO device_facts (device_id, facts, hash, collected_at, updated_at) VALUES (@id, @facts, @hash, @collectedAt, @now)
                ON CONFLICT(device_id) DO UPDATE SET facts = excluded.facts, hash = excluded.hash, collected_at = excluded.collected_at, updated_at = excluded.updated_at`,
  updateDeviceAfterReport: `UPDATE devices SET last_seen_at = @now, facts_hash = @hash, dropped_reports = dropped_reports + @dropped,
                            hostname = COALESCE(@hostname, hostname), os = COALESCE(@os, os), os_version = COALESCE(@osVersion, os_version),
                            model = COALESCE(@model, model), serial = COALESCE(@serial, serial), user = CASE WHEN @hasDevice THEN @user ELSE user END
                            WHERE id = @id`,
  insertReport: 'INSERT INTO reports (device_id, report_id, seq, kind, collected_at, received_at) VALUES (?, ?, ?, ?, ?, ?)',
  insertTimeline: 'INSERT INTO timeline (device_id, at, section, summary) VALUES (?, ?, ?, ?)',
  openNcs: 'SELECT id, rule_id FROM nonconformities WHERE device_id = ? AND resolved_at IS NULL',
  upsertFinding: `INSERT INTO findings (device_id, rule_id, org, status, severity, evidence, issp, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                  ON CONFLICT(device_id, rule_id) DO UPDATE SET org = excluded.org, status = excluded.status, severity = excluded.severity,
                  evidence = excluded.evidence, issp = excluded.issp, updated_at = excluded.updated_at`,
  insertNc: `INSERT INTO nonconformities (device_id, rule_id, severity, severity_rank, evidence, issp, first_seen_at, due_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  refreshNc: 'UPDATE nonconformities SET severity = ?, severity_rank = ?, evidence = ? WHERE id = ?',
  resolveNc: 'UPDATE nonconformities SET resolved_at = ? WHERE id = ?',
  findingsByDevice: 'SELECT rule_id, status FROM findings WHERE device_id = ?',
  deleteFinding: 'DELETE FROM findings WHERE device_id = ? AND rule_id = ?',
  activeExemptRules: 'SELECT DISTINCT rule_id FROM exemptions WHERE device_id = ? AND revoked_at IS NULL AND expires_at > ?',
  setDeviceStatus: 'UPDATE devices SET status = ?, failing = ? WHERE id = ?',
} as const;
type StatementName = keyof typeof SQL;

/** One driver's view of the statements: every call may be sync (better-sqlite3) or async (node-sqlite3). */
interface Driver {
  exec(sql: string): Promise<void> | void;
  get(name: StatementName, params: unknown[] | Record<string, unknown>): Promise<unknown> | unknown;
  all(name: StatementName, params: unknown[] | Record<string, unknown>): Promise<unknown[]> | unknown[];
  run(name: StatementName, params: unknown[] | Record<string, unknown>): Promise<void> | void;
}

/**
 * The write transaction for one report, as applyReport runs it. `await` on a
 * better-sqlite3 value costs one microtask, so sharing this code with the async
 * driver costs that driver next to nothing.
 */
async function applyReport(d: Driver, s: SampleReport, reportId: string, nowIso: string): Promise<void> {
  const id = s.device.id;
  await d.exec('BEGIN');
  const row = (await d.get('deviceById', [id])) as { org: string; status: string; failing: number };
  await d.get('reportExists', [id, reportId]);
  await d.get('factsByDevice', [id]);
  await d.run('upsertFacts', { id, facts: s.facts, hash: s.hash, collectedAt: s.collectedAt, now: nowIso });
  await d.run('updateDeviceAfterReport', {
    id,
    now: nowIso,
    hash: s.hash,
    dropped: 0,
    hostname: s.device.hostname,
    os: s.device.os,
    osVersion: s.device.os_version,
    model: s.device.model,
    serial: s.device.serial,
    hasDevice: 1,
    user: s.device.user,
  });
  await d.run('insertReport', [id, reportId, 0, 'full', s.collectedAt, nowIso]);
  for (const t of s.timeline) await d.run('insertTimeline', [id, nowIso, t.section, t.summary]);
  const open = new Map(((await d.all('openNcs', [id])) as { id: number; rule_id: string }[]).map((r) => [r.rule_id, r.id]));
  const seen = new Set<string>();
  for (const f of s.findings) {
    seen.add(f.rule_id);
    await d.run('upsertFinding', [id, f.rule_id, row.org, f.status, f.severity, f.evidence, f.issp, nowIso]);
    const ncId = open.get(f.rule_id);
    if (f.status === 'fail') {
      if (ncId !== undefined) await d.run('refreshNc', [f.severity, severityRank[f.severity], f.evidence, ncId]);
      else {
        const due = new Date(Date.parse(nowIso) + (s.graceDays.get(f.rule_id) ?? 0) * 86_400_000).toISOString();
        await d.run('insertNc', [id, f.rule_id, f.severity, severityRank[f.severity], f.evidence, f.issp, nowIso, due]);
      }
    } else if (f.status === 'pass' && ncId !== undefined) await d.run('resolveNc', [nowIso, ncId]);
  }
  for (const r of (await d.all('findingsByDevice', [id])) as { rule_id: string }[]) if (!seen.has(r.rule_id)) await d.run('deleteFinding', [id, r.rule_id]);
  for (const [ruleId, ncId] of open) if (!seen.has(ruleId)) await d.run('resolveNc', [nowIso, ncId]);
  // refreshDeviceStatusSync
  const again = (await d.get('deviceById', [id])) as { status: string; failing: number };
  const exempt = new Set(((await d.all('activeExemptRules', [id, nowIso])) as { rule_id: string }[]).map((r) => r.rule_id));
  const fs = (await d.all('findingsByDevice', [id])) as { rule_id: string; status: string }[];
  const failing = fs.filter((f) => f.status === 'fail' && !exempt.has(f.rule_id)).length;
  const status = failing > 0 ? 'noncompliant' : fs.length === 0 || fs.some((f) => f.status === 'unknown') ? 'unknown' : 'compliant';
  if (status !== again.status || failing !== again.failing) await d.run('setDeviceStatus', [status, failing, id]);
  await d.exec('COMMIT');
}

function openBetter(path: string): { db: Database; driver: Driver } {
  const db = new BetterSqlite3(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  db.pragma(`cache_size = -${PAGE_CACHE_KIB}`);
  const st = Object.fromEntries(Object.entries(SQL).map(([k, sql]) => [k, db.prepare(sql)])) as Record<StatementName, BetterSqlite3.Statement>;
  const args = (p: unknown[] | Record<string, unknown>): unknown[] => (Array.isArray(p) ? p : [p]);
  return {
    db,
    driver: {
      exec: (sql) => void db.exec(sql),
      get: (n, p) => st[n].get(...args(p)),
      all: (n, p) => st[n].all(...args(p)),
      run: (n, p) => void st[n].run(...args(p)),
    },
  };
}

function promisify<T>(fn: (cb: (err: Error | null, value?: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => fn((err, value) => (err ? reject(err) : resolve(value as T))));
}

async function openNode(path: string): Promise<{ db: sqlite3.Database; driver: Driver; close: () => Promise<void> }> {
  const db = await promisify<sqlite3.Database>((cb) => {
    const d: sqlite3.Database = new sqlite3.Database(path, (err) => cb(err, d));
  });
  for (const p of ['PRAGMA journal_mode = WAL', 'PRAGMA synchronous = NORMAL', 'PRAGMA foreign_keys = ON', 'PRAGMA busy_timeout = 5000', `PRAGMA cache_size = -${PAGE_CACHE_KIB}`]) {
    await promisify<void>((cb) => db.run(p, (err) => cb(err)));
  }
  const st = {} as Record<StatementName, sqlite3.Statement>;
  for (const [k, sql] of Object.entries(SQL)) {
    st[k as StatementName] = await promisify<sqlite3.Statement>((cb) => {
      const s: sqlite3.Statement = db.prepare(sql, (err) => cb(err, s));
    });
  }
  // node-sqlite3 takes named parameters with their prefix: { '@id': … }.
  const bind = (p: unknown[] | Record<string, unknown>): unknown => (Array.isArray(p) ? p : Object.fromEntries(Object.entries(p).map(([k, v]) => [`@${k}`, v])));
  const close = async (): Promise<void> => {
    for (const s of Object.values(st)) await promisify<void>((cb) => s.finalize(() => cb(null)));
    await promisify<void>((cb) => db.close((err) => cb(err)));
  };
  return {
    db,
    close,
    driver: {
      exec: (sql) => promisify<void>((cb) => db.exec(sql, (err) => cb(err))),
      get: (n, p) => promisify<unknown>((cb) => st[n].get(bind(p), (err: Error | null, row?: unknown) => cb(err, row))),
      all: (n, p) => promisify<unknown[]>((cb) => st[n].all(bind(p), (err: Error | null, rows: unknown[]) => cb(err, rows))),
      run: (n, p) => promisify<void>((cb) => st[n].run(bind(p), (err: Error | null) => cb(err))),
    },
  };
}

export interface DriverResult {
  reports: number;
  seconds: number;
  perSecond: number;
}

const nowFor = (i: number): string => new Date(Date.UTC(2025, 0, 1) + i).toISOString();

/** better-sqlite3: the transaction as the collector runs it (synchronously, inside db.transaction in the store). */
export async function betterSqlite(path: string, sample: SampleReport[], count: number): Promise<DriverResult> {
  freshDb(path, sample);
  const { db, driver } = openBetter(path);
  const started = performance.now();
  for (let i = 0; i < count; i++) await applyReport(driver, sample[i % sample.length] as SampleReport, `bench-${i}`, nowFor(i));
  const seconds = (performance.now() - started) / 1000;
  db.close();
  return { reports: count, seconds, perSecond: count / seconds };
}

export async function nodeSqlite(path: string, sample: SampleReport[], count: number): Promise<DriverResult> {
  freshDb(path, sample);
  const { driver, close } = await openNode(path);
  const started = performance.now();
  for (let i = 0; i < count; i++) await applyReport(driver, sample[i % sample.length] as SampleReport, `bench-${i}`, nowFor(i));
  const seconds = (performance.now() - started) / 1000;
  await close();
  return { reports: count, seconds, perSecond: count / seconds };
}

/**
 * The same rows a first full report writes (facts, report, timeline, findings,
 * non-conformities), inserted in one transaction with prepared statements: the
 * fastest SQLite can store them on this machine.
 */
export function rawBulkInsert(path: string, sample: SampleReport[], count: number): DriverResult & { rows: number } {
  freshDb(path, sample);
  const db = new BetterSqlite3(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma(`cache_size = -${PAGE_CACHE_KIB}`);
  const facts = db.prepare('INSERT INTO device_facts (device_id, facts, hash, collected_at, updated_at) VALUES (?, ?, ?, ?, ?)');
  const report = db.prepare(SQL.insertReport);
  const timeline = db.prepare(SQL.insertTimeline);
  const finding = db.prepare('INSERT INTO findings (device_id, rule_id, org, status, severity, evidence, issp, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
  const nc = db.prepare(SQL.insertNc);
  let rows = 0;
  const started = performance.now();
  db.transaction(() => {
    for (let i = 0; i < count; i++) {
      const s = sample[i % sample.length] as SampleReport;
      const id = s.device.id;
      const now = nowFor(i);
      // A device's facts row exists once; past the sample's size the same devices report again.
      if (i < sample.length) {
        facts.run(id, s.facts, s.hash, s.collectedAt, now);
        rows++;
      }
      report.run(id, `bench-${i}`, 0, 'full', s.collectedAt, now);
      rows++;
      for (const t of s.timeline) {
        timeline.run(id, now, t.section, t.summary);
        rows++;
      }
      if (i < sample.length) {
        for (const f of s.findings) {
          finding.run(id, f.rule_id, s.device.org, f.status, f.severity, f.evidence, f.issp, now);
          rows++;
          if (f.status === 'fail') {
            nc.run(id, f.rule_id, f.severity, severityRank[f.severity], f.evidence, f.issp, now, now);
            rows++;
          }
        }
      }
    }
  })();
  const seconds = (performance.now() - started) / 1000;
  db.close();
  return { reports: count, rows, seconds, perSecond: count / seconds };
}
