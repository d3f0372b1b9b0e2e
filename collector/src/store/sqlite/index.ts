import BetterSqlite3, { type Database, type Statement } from 'better-sqlite3';
import { applyDelta, isUnknown, severityRank, type DeviceFacts, type Facts, type FindingStatus, type OsName, type Severity, type UsbEvent } from '@vigie/shared';
import type {
  ApplyReportInput,
  ApplyReportResult,
  AuditEntry,
  AuditQuery,
  AuditRecord,
  AuthorisedUsbRecord,
  CatalogRuleRecord,
  Datastore,
  DeriveFn,
  DeviceQuery,
  DeviceRecord,
  DeviceStatus,
  DeviceStatusRows,
  EnrollSecretRecord,
  EvaluatedFinding,
  EvaluationResult,
  ExemptionRecord,
  FindingQuery,
  FindingRecord,
  LoginThrottle,
  NonconformityQuery,
  NonconformityRecord,
  OrgScope,
  Page,
  Role,
  SessionRecord,
  SummaryData,
  TimelineRecord,
  UsbEventRecord,
  UserRecord,
} from '../datastore';
import { WalCheckpointer } from './checkpointer';
import { migrate } from './migrations';
import { canonicalFacts, primeStoredFacts, shareUnchangedElements, shareUnchangedSections } from '../../util/canonical-json';
import { deflateFacts, factsText } from '../../util/facts-column';

const DAY_MS = 86_400_000;
/** Reports committed together at most (see applyReport): a batch runs as one synchronous block. */
const MAX_REPORTS_PER_COMMIT = 64;
/** Devices whose last facts applyReport keeps in memory (about 0.3 MB each for 300 software items). */
const FACTS_CACHE_SIZE = 128;
/** The page cache of the store's connection, in KiB (see the constructor); the bench's replays use it too. */
export const PAGE_CACHE_KIB = 65_536;

/** What one report's statements decided, before the commit. */
type ReportTxResult = ApplyReportResult | { status: 'committing'; stored: Extract<ApplyReportResult, { status: 'stored' }>; facts: Facts };

interface FindingStateRow {
  rule_id: string;
  status: FindingStatus;
  severity: Severity;
  evidence: string;
  issp: string;
  org: string;
  active: number;
}

interface DeviceRow {
  id: string;
  machine_id: string;
  token_hash: string;
  org: string;
  owner: string | null;
  ciat_level: number;
  hostname: string;
  os: string;
  os_version: string;
  model: string;
  serial: string;
  user: string | null;
  enrolled_at: string;
  last_seen_at: string | null;
  revoked: number;
  status: string;
  failing: number;
  facts_hash: string | null;
  dropped_reports: number;
}

function toDevice(r: DeviceRow): DeviceRecord {
  return {
    id: r.id,
    machineId: r.machine_id,
    org: r.org,
    owner: r.owner,
    ciatLevel: r.ciat_level,
    hostname: r.hostname,
    os: r.os as OsName,
    osVersion: r.os_version,
    model: r.model,
    serial: r.serial,
    user: r.user,
    enrolledAt: r.enrolled_at,
    lastSeenAt: r.last_seen_at,
    revoked: r.revoked === 1,
    status: r.status as DeviceStatus,
    failing: r.failing,
    factsHash: r.facts_hash,
    droppedReports: r.dropped_reports,
  };
}

/** A findings row joined with its device's hostname, org and owner. */
interface FindingRow {
  device_id: string;
  hostname: string;
  org: string;
  owner: string | null;
  rule_id: string;
  status: FindingStatus;
  severity: Severity;
  evidence: string;
  issp: string;
  updated_at: string;
}

function toFinding(r: FindingRow): FindingRecord {
  return {
    deviceId: r.device_id,
    hostname: r.hostname,
    org: r.org,
    owner: r.owner,
    ruleId: r.rule_id,
    status: r.status,
    severity: r.severity,
    evidence: r.evidence,
    issp: JSON.parse(r.issp) as string[],
    updatedAt: r.updated_at,
  };
}

interface NcRow {
  id: number;
  device_id: string;
  hostname: string;
  owner: string | null;
  org: string;
  rule_id: string;
  severity: string;
  evidence: string;
  issp: string;
  first_seen_at: string;
  due_at: string;
  resolved_at: string | null;
  ex_id: number | null;
  ex_reason: string | null;
  ex_granted_by: string | null;
  ex_expires_at: string | null;
}

function toNonconformity(r: NcRow): NonconformityRecord {
  const exempt = r.resolved_at === null && r.ex_id !== null;
  return {
    id: r.id,
    deviceId: r.device_id,
    hostname: r.hostname,
    owner: r.owner,
    org: r.org,
    ruleId: r.rule_id,
    severity: r.severity as Severity,
    evidence: r.evidence,
    issp: JSON.parse(r.issp) as string[],
    firstSeenAt: r.first_seen_at,
    dueAt: r.due_at,
    resolvedAt: r.resolved_at,
    status: r.resolved_at !== null ? 'resolved' : exempt ? 'exempted' : 'open',
    exemption: exempt ? { id: r.ex_id!, reason: r.ex_reason!, grantedBy: r.ex_granted_by!, expiresAt: r.ex_expires_at! } : null,
  };
}

interface AuthorisedUsbRow {
  id: number;
  org: string | null;
  vendor_id: string;
  product_id: string;
  serial: string | null;
  note: string | null;
}

function toAuthorisedUsb(r: AuthorisedUsbRow): AuthorisedUsbRecord {
  return { id: r.id, org: r.org, vendorId: r.vendor_id, productId: r.product_id, serial: r.serial, note: r.note };
}

interface ExemptionRow {
  id: number;
  device_id: string;
  rule_id: string;
  reason: string;
  granted_by: string;
  created_at: string;
  expires_at: string;
  revoked_at: string | null;
  revoked_by: string | null;
}

function toExemption(r: ExemptionRow): ExemptionRecord {
  return {
    id: r.id,
    deviceId: r.device_id,
    ruleId: r.rule_id,
    reason: r.reason,
    grantedBy: r.granted_by,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
    revokedAt: r.revoked_at,
    revokedBy: r.revoked_by,
  };
}

/** LIKE pattern for a free-text search; % and _ in the user's text match themselves. */
function likePattern(q: string): string {
  return `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** A WHERE clause built from optional filters, with named parameters. */
class Where {
  readonly parts: string[] = [];
  readonly params: Record<string, unknown> = {};
  add(sql: string, params: Record<string, unknown> = {}): this {
    this.parts.push(sql);
    Object.assign(this.params, params);
    return this;
  }
  scope(column: string, scope: OrgScope): this {
    // The org list is bound as one JSON array, so the SQL text stays fixed whatever its length.
    if (scope !== null) this.add(`${column} IN (SELECT value FROM json_each(@scope))`, { scope: JSON.stringify(scope) });
    return this;
  }
  toString(): string {
    return this.parts.length ? `WHERE ${this.parts.join(' AND ')}` : '';
  }
}

const NC_SELECT = `
SELECT n.id, n.device_id, d.hostname, d.owner, d.org, n.rule_id, n.severity, n.evidence, n.issp,
       n.first_seen_at, n.due_at, n.resolved_at,
       e.id AS ex_id, e.reason AS ex_reason, e.granted_by AS ex_granted_by, e.expires_at AS ex_expires_at
FROM nonconformities n
JOIN devices d ON d.id = n.device_id
LEFT JOIN exemptions e ON e.id = (
  SELECT x.id FROM exemptions x
  WHERE x.device_id = n.device_id AND x.rule_id = n.rule_id AND x.revoked_at IS NULL AND x.expires_at > @now
  ORDER BY x.expires_at DESC LIMIT 1)`;

export interface SqliteStoreOptions {
  /** A file path, or `:memory:` for tests. */
  path: string;
  /** Checkpoint the WAL from a worker thread (the server); short-lived commands leave SQLite's default. */
  backgroundCheckpoints?: boolean;
  now?: Date;
}

/**
 * The embedded store: better-sqlite3 in WAL mode. better-sqlite3 is synchronous,
 * which suits the collector's single event loop: a report's transaction runs to its
 * end without interleaving, and is far faster than an async driver's round trips.
 */
export class SqliteStore implements Datastore {
  readonly db: Database;
  /** Called inside the report transaction after the facts are written; must be synchronous and cheap. */
  onFactsStored: ((deviceId: string, os: OsName, previous: Facts | null, facts: Facts, now: Date) => void) | null = null;
  private readonly st: Record<string, Statement>;
  /** The last facts of recently reporting devices, so a report does not re-read and re-parse them (previousFacts). */
  private readonly factsCache = new Map<string, { facts: Facts; hash: string }>();
  private statusStatements: { findings: Statement; ncs: Statement } | undefined;
  private readonly checkpointer: WalCheckpointer | null;
  private pendingReports: { input: ApplyReportInput; derive: DeriveFn; resolve: (r: ApplyReportResult) => void; reject: (e: unknown) => void }[] = [];

  constructor(options: SqliteStoreOptions) {
    this.db = new BetterSqlite3(options.path);
    this.db.pragma('journal_mode = WAL');
    // NORMAL in WAL mode: a commit survives a process crash; only an OS crash may lose the last ones.
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('busy_timeout = 5000');
    // SQLite's default page cache is 2 MiB: at fleet scale (about 12 KB of rows per device) a report's
    // reads then miss it on most tables' leaves. 64 MiB keeps the indexes a report walks in memory;
    // it is a ceiling, filled only as pages are read.
    this.db.pragma(`cache_size = -${PAGE_CACHE_KIB}`);
    migrate(this.db, options.now ?? new Date());
    this.checkpointer = options.backgroundCheckpoints ? new WalCheckpointer(this.db) : null;
    const p = (sql: string) => this.db.prepare(sql);
    this.st = {
      insertOrg: p('INSERT INTO orgs (name, created_at) VALUES (?, ?) ON CONFLICT(name) DO NOTHING'),
      insertSecret: p('INSERT INTO enroll_secrets (secret_hash, org, created_at, expires_at, created_by) VALUES (?, ?, ?, ?, ?)'),
      secretByHash: p('SELECT id, org, created_at, expires_at, created_by FROM enroll_secrets WHERE secret_hash = ?'),
      deviceById: p('SELECT * FROM devices WHERE id = ?'),
      deviceByMachine: p('SELECT * FROM devices WHERE machine_id = ?'),
      deviceByToken: p('SELECT * FROM devices WHERE token_hash = ?'),
      insertDevice: p(`INSERT INTO devices (id, machine_id, token_hash, org, hostname, os, os_version, model, serial, user, enrolled_at)
                       VALUES (@id, @machineId, @tokenHash, @org, @hostname, @os, @osVersion, @model, @serial, @user, @now)`),
      reenrollDevice: p(`UPDATE devices SET token_hash = @tokenHash, org = @org, hostname = @hostname, os = @os, os_version = @osVersion,
                         model = @model, serial = @serial, user = @user, enrolled_at = @now, revoked = 0 WHERE id = @id`),
      revokeDevice: p('UPDATE devices SET revoked = 1 WHERE id = ?'),
      // A token hash nobody holds: the token that was revoked (perhaps because it leaked) stays refused.
      restoreDevice: p("UPDATE devices SET revoked = 0, token_hash = 'restored:' || lower(hex(randomblob(32))) WHERE id = ?"),
      findingsActive: p('UPDATE findings SET active = ?, org = ? WHERE device_id = ?'),
      reportExists: p('SELECT 1 FROM reports WHERE device_id = ? AND report_id = ?'),
      countReports: p('SELECT COUNT(*) AS n FROM reports WHERE device_id = ?'),
      insertReport: p('INSERT INTO reports (device_id, report_id, seq, kind, collected_at, received_at) VALUES (?, ?, ?, ?, ?, ?)'),
      factsByDevice: p('SELECT facts, hash, updated_at FROM device_facts WHERE device_id = ?'),
      upsertFacts: p(`INSERT INTO device_facts (device_id, facts, hash, collected_at, updated_at) VALUES (@id, @facts, @hash, @collectedAt, @now)
                      ON CONFLICT(device_id) DO UPDATE SET facts = excluded.facts, hash = excluded.hash, collected_at = excluded.collected_at, updated_at = excluded.updated_at`),
      updateDeviceAfterReport: p(`UPDATE devices SET last_seen_at = @now, facts_hash = @hash, dropped_reports = dropped_reports + @dropped,
                                  hostname = COALESCE(@hostname, hostname), os = COALESCE(@os, os), os_version = COALESCE(@osVersion, os_version),
                                  model = COALESCE(@model, model), serial = COALESCE(@serial, serial), user = CASE WHEN @hasDevice THEN @user ELSE user END
                                  WHERE id = @id`),
      insertTimeline: p('INSERT INTO timeline (device_id, at, section, summary) VALUES (?, ?, ?, ?)'),
      timeline: p('SELECT at, section, summary FROM timeline WHERE device_id = ? ORDER BY id DESC LIMIT ?'),
      findingsByDevice: p('SELECT rule_id, status, severity, evidence, issp, org, active FROM findings WHERE device_id = ?'),
      upsertFinding: p(`INSERT INTO findings (device_id, rule_id, org, active, status, severity, evidence, issp, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                        ON CONFLICT(device_id, rule_id) DO UPDATE SET org = excluded.org, active = excluded.active, status = excluded.status, severity = excluded.severity,
                        evidence = excluded.evidence, issp = excluded.issp, updated_at = excluded.updated_at`),
      deleteFinding: p('DELETE FROM findings WHERE device_id = ? AND rule_id = ?'),
      openNcs: p('SELECT id, rule_id, severity, evidence, first_seen_at, due_at FROM nonconformities WHERE device_id = ? AND resolved_at IS NULL'),
      insertNc: p(`INSERT INTO nonconformities (device_id, rule_id, severity, severity_rank, evidence, issp, first_seen_at, due_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
      refreshNc: p('UPDATE nonconformities SET severity = ?, severity_rank = ?, evidence = ? WHERE id = ?'),
      resolveNc: p('UPDATE nonconformities SET resolved_at = ? WHERE id = ?'),
      activeExemptRules: p('SELECT DISTINCT rule_id FROM exemptions WHERE device_id = ? AND revoked_at IS NULL AND expires_at > ?'),
      setDeviceStatus: p('UPDATE devices SET status = ?, failing = ? WHERE id = ?'),
      insertUsb: p('INSERT INTO usb_events (device_id, event_id, at, received_at, event) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING'),
      usbEvents: p('SELECT event_id, received_at, event FROM usb_events WHERE device_id = ? ORDER BY at DESC LIMIT ?'),
      // One row per physical device (the newest), removals left out: a flood of harmless events cannot push an unauthorised drive out of the limit.
      anyUsbSince: p('SELECT 1 FROM usb_events WHERE device_id = ? AND received_at >= ? LIMIT 1'),
      recentUsbConnections: p(`SELECT MAX(received_at) AS received_at, event FROM usb_events
                               WHERE device_id = ? AND received_at >= ? AND json_extract(event, '$.action') <> 'disconnected'
                               GROUP BY json_extract(event, '$.device.vendorId'), json_extract(event, '$.device.productId'), json_extract(event, '$.device.serial')
                               ORDER BY received_at DESC LIMIT ?`),
      insertExemption: p(`INSERT INTO exemptions (device_id, rule_id, reason, granted_by, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)`),
      exemptionById: p('SELECT * FROM exemptions WHERE id = ?'),
      revokeExemption: p('UPDATE exemptions SET revoked_at = ?, revoked_by = ? WHERE id = ? AND revoked_at IS NULL'),
      silent: p(`SELECT d.id FROM devices d LEFT JOIN findings f ON f.device_id = d.id AND f.rule_id = ?
                 WHERE d.revoked = 0 AND d.last_seen_at < ? AND (f.status IS NULL OR f.status <> 'fail') ORDER BY d.last_seen_at LIMIT ?`),
      exemptionsEnding: p(`SELECT DISTINCT device_id FROM exemptions WHERE revoked_at IS NULL AND expires_at >= ? AND expires_at < ?`),
      insertUsbAuth: p('INSERT INTO authorised_usb (org, vendor_id, product_id, serial, note) VALUES (?, ?, ?, ?, ?)'),
      usbAuth: p('SELECT * FROM authorised_usb WHERE org IS NULL OR org = ?'),
      insertCatalog: p('INSERT INTO catalog_rules (name, publisher, product, status) VALUES (?, ?, ?, ?)'),
      catalog: p('SELECT id, name, publisher, product, status FROM catalog_rules ORDER BY id'),
      insertUser: p('INSERT INTO users (username, password_hash, role, orgs, created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT(username) DO NOTHING'),
      userByName: p('SELECT * FROM users WHERE username = ?'),
      throttle: p('SELECT failures, locked_until FROM login_throttle WHERE username = ?'),
      upsertThrottle: p(`INSERT INTO login_throttle (username, failures, locked_until) VALUES (?, ?, ?)
                         ON CONFLICT(username) DO UPDATE SET failures = excluded.failures, locked_until = excluded.locked_until`),
      clearThrottle: p('DELETE FROM login_throttle WHERE username = ?'),
      insertSession: p('INSERT INTO sessions (token_hash, username, created_at, last_used_at, expires_at, ip) VALUES (?, ?, ?, ?, ?, ?)'),
      sessionByHash: p('SELECT * FROM sessions WHERE token_hash = ?'),
      touchSession: p('UPDATE sessions SET last_used_at = ?, expires_at = ? WHERE token_hash = ?'),
      deleteSession: p('DELETE FROM sessions WHERE token_hash = ?'),
      insertAudit: p('INSERT INTO audit_log (at, actor, action, target, details, ip, outcome) VALUES (?, ?, ?, ?, ?, ?, ?)'),
    };
  }

  private get(name: string): Statement {
    const s = this.st[name];
    if (!s) throw new Error(`no statement ${name}`);
    return s;
  }

  async close(): Promise<void> {
    // Reports waiting for their batch's commit are committed (and settled) first.
    if (this.db.open && this.pendingReports.length) this.commitPendingReports();
    await this.checkpointer?.close();
    if (this.db.open) this.db.close();
  }

  // ---- Enrolment ----

  async createEnrollSecret(input: { secretHash: string; org: string; expiresAt: Date | null; createdBy: string; now: Date }): Promise<EnrollSecretRecord> {
    const now = input.now.toISOString();
    const expiresAt = input.expiresAt ? input.expiresAt.toISOString() : null;
    const id = this.db.transaction(() => {
      this.get('insertOrg').run(input.org, now);
      return Number(this.get('insertSecret').run(input.secretHash, input.org, now, expiresAt, input.createdBy).lastInsertRowid);
    })();
    return { id, org: input.org, createdAt: now, expiresAt, createdBy: input.createdBy };
  }

  async findEnrollSecret(secretHash: string): Promise<EnrollSecretRecord | null> {
    const r = this.get('secretByHash').get(secretHash) as { id: number; org: string; created_at: string; expires_at: string | null; created_by: string } | undefined;
    return r ? { id: r.id, org: r.org, createdAt: r.created_at, expiresAt: r.expires_at, createdBy: r.created_by } : null;
  }

  async enrollDevice(input: { newId: string; machineId: string; org: string; tokenHash: string; device: DeviceFacts; now: Date }) {
    return this.db.transaction(() => {
      const now = input.now.toISOString();
      this.get('insertOrg').run(input.org, now);
      const existing = this.get('deviceByMachine').get(input.machineId) as DeviceRow | undefined;
      // Machine ids are not secret: re-enrolment may only replace the token of a live device of the secret's own org.
      if (existing?.revoked) return { refused: 'revoked' as const, device: toDevice(existing) };
      if (existing && existing.org !== input.org) return { refused: 'other-org' as const, device: toDevice(existing) };
      const params = {
        id: existing?.id ?? input.newId,
        machineId: input.machineId,
        tokenHash: input.tokenHash,
        org: input.org,
        hostname: input.device.hostname,
        os: input.device.os,
        osVersion: input.device.osVersion,
        model: input.device.model,
        serial: input.device.serial,
        user: input.device.user,
        now,
      };
      if (existing) {
        this.get('reenrollDevice').run(params);
        this.get('findingsActive').run(1, input.org, existing.id);
      } else this.get('insertDevice').run(params);
      const row = this.get('deviceById').get(params.id) as DeviceRow;
      return { device: toDevice(row), replaced: existing !== undefined };
    })();
  }

  // ---- Devices ----

  async getDevice(id: string): Promise<DeviceRecord | null> {
    const r = this.get('deviceById').get(id) as DeviceRow | undefined;
    return r ? toDevice(r) : null;
  }

  async findDeviceByTokenHash(tokenHash: string): Promise<DeviceRecord | null> {
    const r = this.get('deviceByToken').get(tokenHash) as DeviceRow | undefined;
    return r ? toDevice(r) : null;
  }

  async restoreDevice(id: string, _now?: Date): Promise<DeviceRecord | null> {
    return this.db.transaction(() => {
      const row = this.get('deviceById').get(id) as DeviceRow | undefined;
      if (!row) return null;
      this.get('restoreDevice').run(id);
      this.get('findingsActive').run(1, row.org, id);
      return toDevice(this.get('deviceById').get(id) as DeviceRow);
    })();
  }

  async revokeDevice(id: string, _now?: Date): Promise<DeviceRecord | null> {
    return this.db.transaction(() => {
      const row = this.get('deviceById').get(id) as DeviceRow | undefined;
      if (!row) return null;
      this.get('revokeDevice').run(id);
      this.get('findingsActive').run(0, row.org, id);
      return toDevice(this.get('deviceById').get(id) as DeviceRow);
    })();
  }

  async updateDevice(id: string, patch: { owner?: string | null; ciatLevel?: number; org?: string }, now: Date): Promise<DeviceRecord | null> {
    return this.db.transaction(() => {
      const sets: string[] = [];
      const params: Record<string, unknown> = { id };
      if (patch.owner !== undefined) {
        sets.push('owner = @owner');
        params.owner = patch.owner;
      }
      if (patch.ciatLevel !== undefined) {
        sets.push('ciat_level = @ciatLevel');
        params.ciatLevel = patch.ciatLevel;
      }
      if (patch.org !== undefined) {
        this.get('insertOrg').run(patch.org, now.toISOString());
        sets.push('org = @org');
        params.org = patch.org;
      }
      if (sets.length) this.db.prepare(`UPDATE devices SET ${sets.join(', ')} WHERE id = @id`).run(params);
      const r = this.get('deviceById').get(id) as DeviceRow | undefined;
      if (r && patch.org !== undefined) this.get('findingsActive').run(r.revoked ? 0 : 1, r.org, id);
      return r ? toDevice(r) : null;
    })();
  }

  async listDevices(query: DeviceQuery): Promise<Page<DeviceRecord>> {
    const where = new Where().scope('org', query.scope);
    if (!query.includeRevoked) where.add('revoked = 0');
    if (query.org !== undefined) where.add('org = @org', { org: query.org });
    if (query.status !== undefined) where.add('status = @status', { status: query.status });
    if (query.q) where.add(`(hostname LIKE @q ESCAPE '\\' OR owner LIKE @q ESCAPE '\\' OR user LIKE @q ESCAPE '\\' OR serial LIKE @q ESCAPE '\\')`, { q: likePattern(query.q) });
    const column = { hostname: 'hostname COLLATE NOCASE', lastSeenAt: 'last_seen_at', org: 'org', owner: 'owner COLLATE NOCASE' }[query.sort ?? 'hostname'];
    const order = query.order === 'desc' ? 'DESC' : 'ASC';
    const total = (this.db.prepare(`SELECT COUNT(*) AS n FROM devices ${where}`).get(where.params) as { n: number }).n;
    const rows = this.db
      .prepare(`SELECT * FROM devices ${where} ORDER BY ${column} ${order}, rowid ${order} LIMIT @limit OFFSET @offset`)
      .all({ ...where.params, limit: query.limit, offset: query.offset }) as DeviceRow[];
    return { total, items: rows.map(toDevice) };
  }

  // ---- Ingest ----

  /**
   * Reports that arrive together share one commit (group commit): each runs in its own savepoint,
   * so one that fails rolls back alone, and every promise settles after the commit, so the ack
   * that follows still means the report is durable. Under load, the commit's cost (the WAL write
   * of pages many reports touch: the devices, reports and findings indexes) is paid once per batch.
   */
  async applyReport(input: ApplyReportInput, derive: DeriveFn): Promise<ApplyReportResult> {
    return new Promise<ApplyReportResult>((resolve, reject) => {
      this.pendingReports.push({ input, derive, resolve, reject });
      // After this turn's I/O callbacks: the reports parsed in the same turn join the batch.
      if (this.pendingReports.length === 1) setImmediate(() => this.commitPendingReports());
    });
  }

  private commitPendingReports(): void {
    // A bounded batch: one synchronous block must not hold TLS, pings and the console for long.
    const batch = this.pendingReports.splice(0, MAX_REPORTS_PER_COMMIT);
    if (this.pendingReports.length) setImmediate(() => this.commitPendingReports());
    const outcomes: ({ ok: true; result: ReportTxResult } | { ok: false; error: unknown })[] = [];
    let aborted: unknown = null;
    try {
      // IMMEDIATE: the write lock is taken at BEGIN, so another process (the CLI) committing in
      // between cannot fail the whole batch with a stale snapshot.
      this.db
        .transaction(() => {
          for (const job of batch) {
            try {
              // A transaction inside a transaction is a savepoint (better-sqlite3): a throw undoes this report only.
              outcomes.push({ ok: true, result: this.applyReportTx(job.input, job.derive) });
            } catch (error) {
              outcomes.push({ ok: false, error });
              // Some errors (disk full, I/O) make SQLite roll the whole transaction back, not just the
              // savepoint: the reports before were undone too, and the rest must not run outside it.
              if (!this.db.inTransaction) {
                aborted = error;
                return;
              }
            }
          }
        })
        .immediate();
    } catch (error) {
      aborted ??= error;
    }
    if (aborted !== null) {
      // Nothing of the batch is stored and nothing is acked; the reports not yet run go to the next batch.
      const ran = outcomes.length;
      for (const job of batch.slice(0, ran)) job.reject(aborted);
      if (ran < batch.length) {
        this.pendingReports.unshift(...batch.slice(ran));
        if (this.pendingReports.length === batch.length - ran) setImmediate(() => this.commitPendingReports());
      }
      return;
    }
    batch.forEach((job, i) => {
      const outcome = outcomes[i]!;
      if (!outcome.ok) return job.reject(outcome.error);
      job.resolve(this.finishReport(job.input, outcome.result));
    });
  }

  /** One report's statements, in one transaction. */
  private applyReportTx(input: ApplyReportInput, derive: DeriveFn): ReportTxResult {
    return this.db.transaction((): ReportTxResult => {
      const row = this.get('deviceById').get(input.deviceId) as DeviceRow | undefined;
      if (!row) return { status: 'unknown-device' };
      // A revocation made elsewhere (the CLI) takes effect at the device's next report.
      if (row.revoked) return { status: 'revoked' };
      if (this.get('reportExists').get(input.deviceId, input.reportId)) return { status: 'duplicate', factsHash: row.facts_hash };
      // A full report whose hash is the stored one: its own facts are the stored facts, so they need not be read back.
      const body = input.body;
      const repeatsStored = body.kind === 'full' && input.factsHash !== undefined && input.factsHash === row.facts_hash;
      const stored = this.previousFacts(input.deviceId, row.facts_hash, repeatsStored && body.kind === 'full' ? () => body.facts : null);
      const previous = stored?.facts ?? null;
      let facts: Facts;
      if (input.body.kind === 'full') {
        // The stored facts again, known by their hash: the report's own copy is never built.
        facts = stored && input.factsHash === stored.hash ? stored.facts : (input.factsFrom?.(previous) ?? input.body.facts);
      } else {
        // A delta is only meaningful on the exact base it was computed from.
        if (!stored || !previous || stored.hash !== input.body.baseHash) return { status: 'need-full-report' };
        facts = applyDelta(previous, input.body.sections);
        // The sections it carries were just parsed: their unchanged items become the stored ones (see canonical-json).
        shareUnchangedElements(facts, previous);
      }
      // factsHash's canonical JSON and SHA-256, fast (collector/src/util/canonical-json.ts); the
      // canonical text is also what is stored, so the stored text hashes to the stored hash.
      const { json: factsJson, hash } = canonicalFacts(facts, previous);
      // The same facts again (a full report re-sent after a reconnect, a delta that changed nothing):
      // the stored row stays as it is, and downstream sees the very same objects, so nothing is redone.
      const unchanged = previous !== null && stored?.hash === hash;
      facts = unchanged ? previous : shareUnchangedSections(facts, previous);
      const nowIso = input.now.toISOString();
      const device = toDevice(row);
      const derived = derive({ device, previous, facts, lastSeenAt: input.now, now: input.now });

      // device_facts.updated_at is thus when the facts last changed; the report row and last_seen_at say when they came.
      if (!unchanged) {
        // The worker deflated the report's own facts; facts built here (a delta applied) are deflated here.
        const column = input.factsDeflated !== undefined && input.factsHash === hash ? input.factsDeflated : deflateFacts(factsJson);
        this.get('upsertFacts').run({ id: input.deviceId, facts: column, hash, collectedAt: input.collectedAt, now: nowIso });
      }
      const d = isUnknown(facts.device) ? null : facts.device;
      this.get('updateDeviceAfterReport').run({
        id: input.deviceId,
        now: nowIso,
        hash,
        dropped: input.dropped,
        hostname: d?.hostname ?? null,
        os: d?.os ?? null,
        osVersion: d?.osVersion ?? null,
        model: d?.model ?? null,
        serial: d?.serial ?? null,
        hasDevice: d ? 1 : 0,
        user: d?.user ?? null,
      });
      // The licenses module's normalised inventory moves with the facts (collector/src/licenses).
      if (!unchanged) this.onFactsStored?.(input.deviceId, d?.os ?? (row.os as OsName), previous, facts, input.now);
      this.get('insertReport').run(input.deviceId, input.reportId, input.seq, input.body.kind, input.collectedAt, nowIso);
      for (const change of derived.timeline) this.get('insertTimeline').run(input.deviceId, nowIso, change.section, change.summary);
      if (input.dropped > 0) {
        this.get('insertTimeline').run(input.deviceId, nowIso, 'agent', `The agent's outbox was full and dropped ${input.dropped} report(s)`);
      }
      const applied = this.applyFindingsSync(input.deviceId, row, derived.findings, input.now, true);
      // Everything the caller gets is read here, inside the transaction: once committed, nothing can fail.
      const result: Extract<ApplyReportResult, { status: 'stored' }> = {
        status: 'stored',
        factsHash: hash,
        device: toDevice(this.get('deviceById').get(input.deviceId) as DeviceRow),
        opened: this.nonconformitiesById(applied.opened, input.now),
        resolved: applied.resolved,
        statusChanged: applied.statusChanged,
        ...(applied.current ? { current: applied.current } : {}),
      };
      return { status: 'committing', stored: result, facts };
    })();
  }

  /** After the commit: the result the caller gets, and the facts remembered for the device's next report. */
  private finishReport(input: ApplyReportInput, result: ReportTxResult): ApplyReportResult {
    if (result.status !== 'committing') return result;
    this.rememberFacts(input.deviceId, { hash: result.stored.factsHash, facts: result.facts });
    return result.stored;
  }

  /**
   * The device's stored facts: from the cache when it holds the facts whose hash the
   * device row names (both are written in the same transaction, so a hash match means
   * they are the stored facts, whoever wrote them), else read and parsed.
   */
  private previousFacts(deviceId: string, rowHash: string | null, sameAsStored: (() => Facts) | null): { facts: Facts; hash: string } | null {
    const cached = this.factsCache.get(deviceId);
    if (cached && rowHash !== null && cached.hash === rowHash) {
      // Most recently used last: the Map's order is the eviction order.
      this.factsCache.delete(deviceId);
      this.factsCache.set(deviceId, cached);
      return cached;
    }
    if (sameAsStored && rowHash !== null) return { facts: sameAsStored(), hash: rowHash };
    const stored = this.get('factsByDevice').get(deviceId) as { facts: string | Buffer; hash: string } | undefined;
    if (!stored) return null;
    const facts = JSON.parse(factsText(stored.facts)) as Facts;
    primeStoredFacts(facts, stored.hash);
    return { facts, hash: stored.hash };
  }

  /** Called after the commit only, so the cache never holds facts a rolled-back transaction wrote. */
  private rememberFacts(deviceId: string, entry: { facts: Facts; hash: string }): void {
    this.factsCache.delete(deviceId);
    this.factsCache.set(deviceId, entry);
    if (this.factsCache.size > FACTS_CACHE_SIZE) {
      const oldest = this.factsCache.keys().next().value;
      if (oldest !== undefined) this.factsCache.delete(oldest);
    }
  }

  /**
   * What the device's `status` message needs after each report (collector/src/ingest/status.ts):
   * the same rows as listFindings and the open and exempted listNonconformities of one device,
   * in two fixed, prepared queries instead of six built and prepared per call.
   */
  deviceStatusRows(deviceId: string, now: Date, limit: number): { findings: FindingRecord[]; nonconformities: NonconformityRecord[] } {
    const st = (this.statusStatements ??= {
      findings: this.db.prepare(`SELECT f.*, d.hostname, d.org, d.owner FROM findings f JOIN devices d ON d.id = f.device_id
                                 WHERE f.device_id = ? AND d.revoked = 0 ORDER BY f.rule_id LIMIT ?`),
      ncs: this.db.prepare(`${NC_SELECT} WHERE n.device_id = @deviceId AND d.revoked = 0 AND n.resolved_at IS NULL ORDER BY n.first_seen_at DESC, n.id DESC LIMIT @limit`),
    });
    const findings = (st.findings.all(deviceId, limit) as FindingRow[]).map(toFinding);
    const nonconformities = (st.ncs.all({ deviceId, now: now.toISOString(), limit }) as NcRow[]).map(toNonconformity);
    return { findings, nonconformities };
  }

  async reevaluateDevice(deviceId: string, derive: DeriveFn, now: Date, options?: { partial?: boolean }): Promise<EvaluationResult | null> {
    const applied = this.db.transaction(() => {
      const row = this.get('deviceById').get(deviceId) as DeviceRow | undefined;
      const stored = this.get('factsByDevice').get(deviceId) as { facts: string | Buffer } | undefined;
      if (!row) return null;
      if (!stored) return { opened: [], resolved: [], statusChanged: false };
      const facts = JSON.parse(factsText(stored.facts)) as Facts;
      const lastSeenAt = row.last_seen_at ? new Date(row.last_seen_at) : now;
      const derived = derive({ device: toDevice(row), previous: facts, facts, lastSeenAt, now });
      return this.applyFindingsSync(deviceId, row, derived.findings, now, !options?.partial);
    })();
    if (!applied) return null;
    return { device: (await this.getDevice(deviceId))!, opened: this.nonconformitiesById(applied.opened, now), resolved: applied.resolved, statusChanged: applied.statusChanged };
  }

  /**
   * Writes the findings and moves the non-conformities on: a failure opens one (due
   * after the rule's grace days) unless one is open; a pass resolves it; an unknown
   * leaves it as it is, since unknown is never read as compliant nor as a new failure.
   * A finding whose content did not change is not rewritten (its updated_at is when it
   * last changed; the device's last_seen_at is when it was last evaluated).
   * With replaceAll, also returns the device's status rows, as deviceStatusRows would read them.
   */
  private applyFindingsSync(deviceId: string, row: DeviceRow, findings: EvaluatedFinding[], now: Date, replaceAll: boolean) {
    const nowIso = now.toISOString();
    const org = row.org;
    // findings.active mirrors the device: re-evaluating a revoked device must not bring its findings back into the summary.
    const active = row.revoked ? 0 : 1;
    const open = new Map((this.get('openNcs').all(deviceId) as { id: number; rule_id: string; severity: Severity; evidence: string; first_seen_at: string; due_at: string }[]).map((r) => [r.rule_id, r]));
    const existing = new Map((this.get('findingsByDevice').all(deviceId) as FindingStateRow[]).map((r) => [r.rule_id, r]));
    const opened: number[] = [];
    const resolved: number[] = [];
    const unresolved = new Map<string, { firstSeenAt: string; dueAt: string }>();
    const seen = new Set<string>();
    for (const f of findings) {
      seen.add(f.ruleId);
      const issp = JSON.stringify(f.issp);
      const was = existing.get(f.ruleId);
      if (!was || was.status !== f.status || was.severity !== f.severity || was.evidence !== f.evidence || was.issp !== issp || was.org !== org || was.active !== active) {
        this.get('upsertFinding').run(deviceId, f.ruleId, org, active, f.status, f.severity, f.evidence, issp, nowIso);
      }
      const nc = open.get(f.ruleId);
      if (f.status === 'fail') {
        if (nc !== undefined) {
          if (nc.severity !== f.severity || nc.evidence !== f.evidence) this.get('refreshNc').run(f.severity, severityRank[f.severity], f.evidence, nc.id);
          unresolved.set(f.ruleId, { firstSeenAt: nc.first_seen_at, dueAt: nc.due_at });
        } else {
          const due = new Date(now.getTime() + f.graceDays * DAY_MS).toISOString();
          const info = this.get('insertNc').run(deviceId, f.ruleId, f.severity, severityRank[f.severity], f.evidence, issp, nowIso, due);
          opened.push(Number(info.lastInsertRowid));
          unresolved.set(f.ruleId, { firstSeenAt: nowIso, dueAt: due });
        }
      } else if (f.status === 'pass' && nc !== undefined) {
        this.get('resolveNc').run(nowIso, nc.id);
        resolved.push(nc.id);
      } else if (nc !== undefined) unresolved.set(f.ruleId, { firstSeenAt: nc.first_seen_at, dueAt: nc.due_at });
    }
    if (!replaceAll) return { opened, resolved, statusChanged: this.refreshDeviceStatusSync(deviceId, now).changed, current: null };
    // A rule that no longer applies (the CIAT level or the policy changed) leaves no finding behind.
    for (const ruleId of existing.keys()) if (!seen.has(ruleId)) this.get('deleteFinding').run(deviceId, ruleId);
    for (const [ruleId, nc] of open) {
      if (!seen.has(ruleId)) {
        this.get('resolveNc').run(nowIso, nc.id);
        resolved.push(nc.id);
      }
    }
    // The device's findings are now exactly `findings`: its status needs no re-read.
    const refreshed = this.refreshDeviceStatusSync(deviceId, now, { row, findings: findings.map((f) => ({ rule_id: f.ruleId, status: f.status })) });
    const current: DeviceStatusRows = {
      findings: findings.map((f) => ({ ruleId: f.ruleId, status: f.status, severity: f.severity, evidence: f.evidence })).sort((a, b) => (a.ruleId < b.ruleId ? -1 : a.ruleId > b.ruleId ? 1 : 0)),
      nonconformities: [...unresolved].map(([ruleId, nc]) => ({ ruleId, ...nc, resolvedAt: null, status: refreshed.exempt.has(ruleId) ? 'exempted' : 'open' })),
    };
    return { opened, resolved, statusChanged: refreshed.changed, current };
  }

  /** Recomputes the denormalised status the device list filters on: whether it changed, and the rules exempted now. */
  private refreshDeviceStatusSync(
    deviceId: string,
    now: Date,
    known?: { row: DeviceRow; findings: { rule_id: string; status: FindingStatus }[] },
  ): { changed: boolean; exempt: Set<string> } {
    const row = known?.row ?? (this.get('deviceById').get(deviceId) as DeviceRow | undefined);
    const exempt = new Set((this.get('activeExemptRules').all(deviceId, now.toISOString()) as { rule_id: string }[]).map((r) => r.rule_id));
    if (!row) return { changed: false, exempt };
    const findings = known?.findings ?? (this.get('findingsByDevice').all(deviceId) as { rule_id: string; status: FindingStatus }[]);
    const failing = findings.filter((f) => f.status === 'fail' && !exempt.has(f.rule_id)).length;
    const anyUnknown = findings.some((f) => f.status === 'unknown');
    const status: DeviceStatus = failing > 0 ? 'noncompliant' : findings.length === 0 || anyUnknown ? 'unknown' : 'compliant';
    if (status === row.status && failing === row.failing) return { changed: false, exempt };
    this.get('setDeviceStatus').run(status, failing, deviceId);
    return { changed: status !== row.status, exempt };
  }

  private nonconformitiesById(ids: number[], now: Date): NonconformityRecord[] {
    if (ids.length === 0) return [];
    const rows = this.db.prepare(`${NC_SELECT} WHERE n.id IN (SELECT value FROM json_each(@ids)) ORDER BY n.id`).all({ ids: JSON.stringify(ids), now: now.toISOString() }) as NcRow[];
    return rows.map(toNonconformity);
  }

  async listSilentDevices(ruleId: string, cutoff: Date, limit: number): Promise<string[]> {
    return (this.get('silent').all(ruleId, cutoff.toISOString(), limit) as { id: string }[]).map((r) => r.id);
  }

  async listDevicesWithExemptionsEndingBetween(from: Date, to: Date): Promise<string[]> {
    return (this.get('exemptionsEnding').all(from.toISOString(), to.toISOString()) as { device_id: string }[]).map((r) => r.device_id);
  }

  async getFacts(deviceId: string) {
    const r = this.get('factsByDevice').get(deviceId) as { facts: string | Buffer; hash: string; updated_at: string } | undefined;
    return r ? { facts: JSON.parse(factsText(r.facts)) as Facts, hash: r.hash, updatedAt: r.updated_at } : null;
  }

  async recordUsbEvent(input: { deviceId: string; eventId: string; event: UsbEvent; now: Date }): Promise<'stored' | 'duplicate'> {
    const info = this.get('insertUsb').run(input.deviceId, input.eventId, input.event.at, input.now.toISOString(), JSON.stringify(input.event));
    return info.changes === 1 ? 'stored' : 'duplicate';
  }

  async listUsbEvents(deviceId: string, limit: number): Promise<UsbEventRecord[]> {
    const rows = this.get('usbEvents').all(deviceId, limit) as { event_id: string; received_at: string; event: string }[];
    return rows.map((r) => ({ eventId: r.event_id, receivedAt: r.received_at, event: JSON.parse(r.event) as UsbEvent }));
  }

  async recentUsbConnections(deviceId: string, since: Date, limit: number): Promise<{ event: UsbEvent; receivedAt: Date }[]> {
    // Most reports come from devices without a recent USB event: an index probe answers them, not the grouping query.
    if (this.get('anyUsbSince').get(deviceId, since.toISOString()) === undefined) return [];
    // SQLite gives the bare column `event` from the row holding MAX(received_at).
    const rows = this.get('recentUsbConnections').all(deviceId, since.toISOString(), limit) as { received_at: string; event: string }[];
    return rows.map((r) => ({ event: JSON.parse(r.event) as UsbEvent, receivedAt: new Date(r.received_at) }));
  }

  async getTimeline(deviceId: string, limit: number): Promise<TimelineRecord[]> {
    return this.get('timeline').all(deviceId, limit) as TimelineRecord[];
  }

  async hasReport(deviceId: string, reportId: string): Promise<boolean> {
    return this.get('reportExists').get(deviceId, reportId) !== undefined;
  }

  async countReports(deviceId: string): Promise<number> {
    return (this.get('countReports').get(deviceId) as { n: number }).n;
  }

  // ---- Findings and non-conformities ----

  async listFindings(query: FindingQuery): Promise<Page<FindingRecord>> {
    const where = new Where().scope('d.org', query.scope).add('d.revoked = 0');
    if (query.deviceId !== undefined) where.add('f.device_id = @deviceId', { deviceId: query.deviceId });
    if (query.rule !== undefined) where.add('f.rule_id = @rule', { rule: query.rule });
    if (query.severity !== undefined) where.add('f.severity = @severity', { severity: query.severity });
    if (query.org !== undefined) where.add('d.org = @org', { org: query.org });
    if (query.status !== undefined) where.add('f.status = @status', { status: query.status });
    if (query.q) where.add(`(d.hostname LIKE @q ESCAPE '\\' OR d.owner LIKE @q ESCAPE '\\' OR f.evidence LIKE @q ESCAPE '\\')`, { q: likePattern(query.q) });
    const from = 'FROM findings f JOIN devices d ON d.id = f.device_id';
    const total = (this.db.prepare(`SELECT COUNT(*) AS n ${from} ${where}`).get(where.params) as { n: number }).n;
    const rows = this.db
      .prepare(`SELECT f.*, d.hostname, d.org, d.owner ${from} ${where} ORDER BY d.hostname COLLATE NOCASE, f.device_id, f.rule_id LIMIT @limit OFFSET @offset`)
      .all({ ...where.params, limit: query.limit, offset: query.offset }) as FindingRow[];
    return { total, items: rows.map(toFinding) };
  }

  async listNonconformities(query: NonconformityQuery, now: Date): Promise<Page<NonconformityRecord>> {
    const where = new Where().scope('d.org', query.scope).add('d.revoked = 0');
    where.params.now = now.toISOString();
    if (query.deviceId !== undefined) where.add('n.device_id = @deviceId', { deviceId: query.deviceId });
    if (query.rule !== undefined) where.add('n.rule_id = @rule', { rule: query.rule });
    if (query.severity !== undefined) where.add('n.severity = @severity', { severity: query.severity });
    if (query.org !== undefined) where.add('d.org = @org', { org: query.org });
    if (query.owner !== undefined) where.add(`d.owner LIKE @owner ESCAPE '\\'`, { owner: likePattern(query.owner) });
    if (query.status === 'resolved') where.add('n.resolved_at IS NOT NULL');
    // (NOT) EXISTS rather than e.id IS (NOT) NULL, which is the same test: with it SQLite walks the sort
    // column's index and stops at the page, instead of sorting every open non-conformity.
    const exempt = 'EXISTS (SELECT 1 FROM exemptions x WHERE x.device_id = n.device_id AND x.rule_id = n.rule_id AND x.revoked_at IS NULL AND x.expires_at > @now)';
    if (query.status === 'open') where.add(`n.resolved_at IS NULL AND NOT ${exempt}`);
    if (query.status === 'exempted') where.add(`n.resolved_at IS NULL AND ${exempt}`);
    if (query.q) where.add(`(d.hostname LIKE @q ESCAPE '\\' OR d.owner LIKE @q ESCAPE '\\' OR n.evidence LIKE @q ESCAPE '\\' OR n.rule_id LIKE @q ESCAPE '\\')`, { q: likePattern(query.q) });
    const column = { firstSeenAt: 'n.first_seen_at', dueAt: 'n.due_at', severity: 'n.severity_rank', hostname: 'd.hostname COLLATE NOCASE' }[query.sort ?? 'firstSeenAt'];
    const order = query.order === 'asc' ? 'ASC' : 'DESC';
    const total = this.countNonconformities(query, where);
    const rows = this.db
      .prepare(`${NC_SELECT} ${where} ORDER BY ${column} ${order}, n.id ${order} LIMIT @limit OFFSET @offset`)
      .all({ ...where.params, limit: query.limit, offset: query.offset }) as NcRow[];
    return { total, items: rows.map(toNonconformity) };
  }

  /**
   * The list's total. Filters the counters carry (scope, org, rule, severity, status) are read from
   * nc_counts less the exempted ones; a device, owner or text filter narrows the rows enough to count them.
   */
  private countNonconformities(query: NonconformityQuery, where: Where): number {
    if (query.deviceId !== undefined || query.owner !== undefined || query.q) {
      return (this.db.prepare(`SELECT COUNT(*) AS n FROM (${NC_SELECT} ${where})`).get(where.params) as { n: number }).n;
    }
    const exemptedOpen = () => {
      const ex = new Where().scope('d.org', query.scope);
      if (query.org !== undefined) ex.add('d.org = @org', { org: query.org });
      if (query.rule !== undefined) ex.add('n.rule_id = @rule', { rule: query.rule });
      if (query.severity !== undefined) ex.add('n.severity = @severity', { severity: query.severity });
      return this.exemptedOpen(ex, where.params.now as string, null)[0]?.n ?? 0;
    };
    if (query.status === 'exempted') return exemptedOpen();
    const c = new Where().scope('org', query.scope);
    if (query.org !== undefined) c.add('org = @org', { org: query.org });
    if (query.rule !== undefined) c.add('rule_id = @rule', { rule: query.rule });
    if (query.severity !== undefined) c.add('severity = @severity', { severity: query.severity });
    if (query.status === 'open') c.add('resolved = 0');
    if (query.status === 'resolved') c.add('resolved = 1');
    const counted = (this.db.prepare(`SELECT COALESCE(SUM(n), 0) AS n FROM nc_counts ${c}`).get(c.params) as { n: number }).n;
    return query.status === 'open' ? counted - exemptedOpen() : counted;
  }

  async createExemption(input: { deviceId: string; ruleId: string; reason: string; grantedBy: string; expiresAt: Date; now: Date }): Promise<ExemptionRecord> {
    return this.db.transaction(() => {
      const info = this.get('insertExemption').run(input.deviceId, input.ruleId, input.reason, input.grantedBy, input.now.toISOString(), input.expiresAt.toISOString());
      this.refreshDeviceStatusSync(input.deviceId, input.now);
      return toExemption(this.get('exemptionById').get(Number(info.lastInsertRowid)) as ExemptionRow);
    })();
  }

  async getExemption(id: number): Promise<ExemptionRecord | null> {
    const r = this.get('exemptionById').get(id) as ExemptionRow | undefined;
    return r ? toExemption(r) : null;
  }

  async revokeExemption(id: number, by: string, now: Date): Promise<ExemptionRecord | null> {
    return this.db.transaction(() => {
      const r = this.get('exemptionById').get(id) as ExemptionRow | undefined;
      if (!r) return null;
      this.get('revokeExemption').run(now.toISOString(), by, id);
      this.refreshDeviceStatusSync(r.device_id, now);
      return toExemption(this.get('exemptionById').get(id) as ExemptionRow);
    })();
  }

  /** Recomputes a device's status (an exemption ended). */
  async refreshDeviceStatus(deviceId: string, now: Date): Promise<boolean> {
    return this.refreshDeviceStatusSync(deviceId, now).changed;
  }

  async summary(input: { scope: OrgScope; now: Date; days: number; silentCutoff: Date | null }): Promise<SummaryData> {
    const now = input.now.toISOString();
    // The counters (migration 2) answer in a few rows whatever the fleet's size; the triggers keep them in step.
    const dev = new Where().scope('org', input.scope).add('devices > 0');
    const byOrg = this.db.prepare(`SELECT org, devices AS n, compliant AS c FROM device_counts ${dev} ORDER BY org`).all(dev.params) as { org: string; n: number; c: number }[];
    const totals = byOrg.reduce((t, r) => ({ n: t.n + r.n, c: t.c + r.c }), { n: 0, c: 0 });

    const bySeverity: Record<Severity, number> = { critical: 0, high: 0, medium: 0, low: 0 };
    const open = new Where().scope('org', input.scope).add('resolved = 0 AND n > 0');
    for (const s of this.db.prepare(`SELECT severity, SUM(n) AS n FROM nc_counts ${open} GROUP BY severity`).all(open.params) as { severity: Severity; n: number }[]) {
      bySeverity[s.severity] = s.n;
    }
    // An exempted non-conformity is not counted as open: exemptions end by the clock, so they are taken off here.
    const exempted = this.exemptedOpen(new Where().scope('d.org', input.scope), now, 'n.severity');
    for (const s of exempted as { key: Severity; n: number }[]) bySeverity[s.key] -= s.n;

    const fw = new Where().scope('org', input.scope).add('n > 0');
    const ruleRows = this.db.prepare(`SELECT rule_id, status, SUM(n) AS n FROM finding_counts ${fw} GROUP BY rule_id, status`).all(fw.params) as {
      rule_id: string;
      status: FindingStatus;
      n: number;
    }[];
    const byRuleMap = new Map<string, { ruleId: string; pass: number; fail: number; unknown: number }>();
    for (const r of ruleRows) {
      const entry = byRuleMap.get(r.rule_id) ?? { ruleId: r.rule_id, pass: 0, fail: 0, unknown: 0 };
      entry[r.status] += r.n;
      byRuleMap.set(r.rule_id, entry);
    }

    const firstDay = new Date(input.now.getTime() - (input.days - 1) * DAY_MS).toISOString().slice(0, 10);
    const snap = new Where().scope('org', input.scope).add('day >= @firstDay AND day <= @today', { firstDay, today: now.slice(0, 10) });
    const trend = this.db
      .prepare(`SELECT day, SUM(devices) AS n, SUM(compliant) AS c FROM daily_snapshots ${snap} GROUP BY day ORDER BY day`)
      .all(snap.params) as { day: string; n: number; c: number }[];

    let silent: SummaryData['silent'] = [];
    if (input.silentCutoff) {
      const w = new Where().scope('org', input.scope).add('revoked = 0').add('last_seen_at < @cutoff', { cutoff: input.silentCutoff.toISOString() });
      silent = (this.db.prepare(`SELECT id, hostname, last_seen_at FROM devices ${w} ORDER BY last_seen_at LIMIT 50`).all(w.params) as { id: string; hostname: string; last_seen_at: string }[]).map(
        (r) => ({ id: r.id, hostname: r.hostname, lastSeenAt: r.last_seen_at }),
      );
    }
    return {
      devices: totals.n,
      compliantDevices: totals.c,
      bySeverity,
      byRule: [...byRuleMap.values()],
      byOrg: byOrg.map((r) => ({ org: r.org, devices: r.n, compliantDevices: r.c })),
      trend: trend.map((r) => ({ day: r.day, devices: r.n, compliantDevices: r.c })),
      silent,
    };
  }

  /**
   * Open non-conformities of active devices that an active exemption covers, grouped by `key`.
   * Read from the exemptions side: the active ones are few (an admin grants each), the open ones many.
   */
  private exemptedOpen(where: Where, now: string, key: string | null): { key: string | null; n: number }[] {
    const w = new Where().add('d.revoked = 0').add('n.resolved_at IS NULL');
    w.parts.push(...where.parts);
    Object.assign(w.params, where.params, { now });
    return this.db
      .prepare(
        `SELECT ${key ?? 'NULL'} AS key, COUNT(*) AS n
         FROM (SELECT DISTINCT device_id, rule_id FROM exemptions WHERE revoked_at IS NULL AND expires_at > @now) x
         CROSS JOIN nonconformities n ON n.device_id = x.device_id AND n.rule_id = x.rule_id AND n.resolved_at IS NULL
         JOIN devices d ON d.id = n.device_id ${w} ${key ? `GROUP BY ${key}` : ''}`,
      )
      .all(w.params) as { key: string | null; n: number }[];
  }

  async recordDailySnapshot(now: Date): Promise<void> {
    const day = now.toISOString().slice(0, 10);
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM daily_snapshots WHERE day = ?').run(day);
      this.db
        .prepare('INSERT INTO daily_snapshots (day, org, devices, compliant) SELECT ?, org, devices, compliant FROM device_counts WHERE devices > 0')
        .run(day);
    })();
  }

  // ---- Evaluation context ----

  async listAuthorisedUsb(org: string): Promise<AuthorisedUsbRecord[]> {
    return (this.get('usbAuth').all(org) as AuthorisedUsbRow[]).map(toAuthorisedUsb);
  }

  async addAuthorisedUsb(input: Omit<AuthorisedUsbRecord, 'id'>): Promise<AuthorisedUsbRecord> {
    const info = this.get('insertUsbAuth').run(input.org, input.vendorId, input.productId, input.serial, input.note);
    return { id: Number(info.lastInsertRowid), ...input };
  }

  async listAuthorisedUsbEntries(scope: OrgScope): Promise<AuthorisedUsbRecord[]> {
    const where = new Where();
    if (scope !== null) where.add(`(org IS NULL OR org IN (SELECT value FROM json_each(@scope)))`, { scope: JSON.stringify(scope) });
    const rows = this.db.prepare(`SELECT * FROM authorised_usb ${where} ORDER BY org IS NOT NULL, org, vendor_id, product_id, serial`).all(where.params) as AuthorisedUsbRow[];
    return rows.map(toAuthorisedUsb);
  }

  async getAuthorisedUsb(id: number): Promise<AuthorisedUsbRecord | null> {
    const row = this.db.prepare('SELECT * FROM authorised_usb WHERE id = ?').get(id) as AuthorisedUsbRow | undefined;
    return row ? toAuthorisedUsb(row) : null;
  }

  async removeAuthorisedUsb(id: number): Promise<boolean> {
    return this.db.prepare('DELETE FROM authorised_usb WHERE id = ?').run(id).changes === 1;
  }

  async listCatalogRules(): Promise<CatalogRuleRecord[]> {
    return this.get('catalog').all() as CatalogRuleRecord[];
  }

  async addCatalogRule(input: Omit<CatalogRuleRecord, 'id'>): Promise<CatalogRuleRecord> {
    return this.db.transaction(() => {
      const info = this.get('insertCatalog').run(input.name, input.publisher, input.product, input.status);
      // Since migration 3 the approval belongs to the product (collector/src/licenses): a rule added
      // the old way keeps its meaning, and the catalog version moves so the rules are re-applied.
      if (input.status !== 'unreviewed') {
        this.db
          .prepare(`INSERT INTO product_approvals (product, status, reason, updated_at, updated_by) VALUES (?, ?, NULL, ?, 'catalog-rule')
                    ON CONFLICT(product) DO UPDATE SET status = excluded.status`)
          .run(input.product, input.status, new Date(0).toISOString());
      }
      this.db.prepare(`UPDATE catalog_meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'catalog_version'`).run();
      return { id: Number(info.lastInsertRowid), ...input };
    })();
  }

  // ---- Users and sessions ----

  async createUser(input: { username: string; passwordHash: string; role: Role; orgs: string[]; now: Date }): Promise<'created' | 'exists'> {
    const info = this.get('insertUser').run(input.username, input.passwordHash, input.role, JSON.stringify(input.orgs), input.now.toISOString());
    return info.changes === 1 ? 'created' : 'exists';
  }

  async getUser(username: string): Promise<UserRecord | null> {
    const r = this.get('userByName').get(username) as { username: string; password_hash: string; role: Role; orgs: string; created_at: string } | undefined;
    return r ? { username: r.username, passwordHash: r.password_hash, role: r.role, orgs: JSON.parse(r.orgs) as string[], createdAt: r.created_at } : null;
  }

  async getLoginThrottle(username: string): Promise<LoginThrottle> {
    const r = this.get('throttle').get(username) as { failures: number; locked_until: string | null } | undefined;
    return { failures: r?.failures ?? 0, lockedUntil: r?.locked_until ?? null };
  }

  async recordLoginFailure(username: string, now: Date, policy: { maxFailures: number; lockSeconds: number }): Promise<LoginThrottle> {
    return this.db.transaction(() => {
      const r = this.get('throttle').get(username) as { failures: number; locked_until: string | null } | undefined;
      const lockOver = r?.locked_until != null && r.locked_until <= now.toISOString();
      const failures = (lockOver ? 0 : (r?.failures ?? 0)) + 1;
      // Once locked, the count starts again, so the next lock comes after another full series.
      const lockedUntil = failures >= policy.maxFailures ? new Date(now.getTime() + policy.lockSeconds * 1000).toISOString() : lockOver ? null : (r?.locked_until ?? null);
      const stored = lockedUntil && failures >= policy.maxFailures ? 0 : failures;
      this.get('upsertThrottle').run(username, stored, lockedUntil);
      return { failures: stored, lockedUntil };
    })();
  }

  async claimLoginAttempt(username: string, now: Date, policy: { maxFailures: number; lockSeconds: number }): Promise<{ allowed: boolean; lockedUntil: string | null }> {
    // One transaction, so parallel attempts each see the count the previous one left.
    return this.db.transaction(() => {
      const r = this.get('throttle').get(username) as { failures: number; locked_until: string | null } | undefined;
      if (r?.locked_until != null && r.locked_until > now.toISOString()) return { allowed: false, lockedUntil: r.locked_until };
      // A lock that is over starts a new series.
      const failures = (r?.locked_until != null ? 0 : (r?.failures ?? 0)) + 1;
      const lockedUntil = failures >= policy.maxFailures ? new Date(now.getTime() + policy.lockSeconds * 1000).toISOString() : null;
      this.get('upsertThrottle').run(username, lockedUntil ? 0 : failures, lockedUntil);
      return { allowed: true, lockedUntil };
    })();
  }

  async clearLoginFailures(username: string): Promise<void> {
    this.get('clearThrottle').run(username);
  }

  async createSession(input: { tokenHash: string; username: string; now: Date; idleSeconds: number; ip: string | null }): Promise<void> {
    const now = input.now.toISOString();
    this.get('insertSession').run(input.tokenHash, input.username, now, now, new Date(input.now.getTime() + input.idleSeconds * 1000).toISOString(), input.ip);
  }

  async touchSession(tokenHash: string, now: Date, idleSeconds: number): Promise<SessionRecord | null> {
    const r = this.get('sessionByHash').get(tokenHash) as { username: string; created_at: string; last_used_at: string; expires_at: string; ip: string | null } | undefined;
    if (!r) return null;
    if (r.expires_at <= now.toISOString()) {
      this.get('deleteSession').run(tokenHash);
      return null;
    }
    const expiresAt = new Date(now.getTime() + idleSeconds * 1000).toISOString();
    this.get('touchSession').run(now.toISOString(), expiresAt, tokenHash);
    return { username: r.username, createdAt: r.created_at, lastUsedAt: now.toISOString(), expiresAt, ip: r.ip };
  }

  async getSession(tokenHash: string, now: Date): Promise<SessionRecord | null> {
    const r = this.get('sessionByHash').get(tokenHash) as { username: string; created_at: string; last_used_at: string; expires_at: string; ip: string | null } | undefined;
    if (!r || r.expires_at <= now.toISOString()) return null;
    return { username: r.username, createdAt: r.created_at, lastUsedAt: r.last_used_at, expiresAt: r.expires_at, ip: r.ip };
  }

  async deleteSession(tokenHash: string): Promise<void> {
    this.get('deleteSession').run(tokenHash);
  }

  // ---- Audit ----

  async appendAudit(entry: AuditEntry): Promise<void> {
    this.get('insertAudit').run(entry.at.toISOString(), entry.actor, entry.action, entry.target, entry.details ? JSON.stringify(entry.details) : null, entry.ip, entry.outcome);
  }

  async listAudit(query: AuditQuery): Promise<Page<AuditRecord>> {
    const where = new Where();
    // Free text, as the console's filters are typed: any part of the name, any case.
    if (query.actor !== undefined) where.add(`actor LIKE @actor ESCAPE '\\'`, { actor: likePattern(query.actor) });
    if (query.action !== undefined) where.add(`action LIKE @action ESCAPE '\\'`, { action: likePattern(query.action) });
    const total = (this.db.prepare(`SELECT COUNT(*) AS n FROM audit_log ${where}`).get(where.params) as { n: number }).n;
    const rows = this.db
      .prepare(`SELECT * FROM audit_log ${where} ORDER BY id DESC LIMIT @limit OFFSET @offset`)
      .all({ ...where.params, limit: query.limit, offset: query.offset }) as {
      id: number;
      at: string;
      actor: string;
      action: string;
      target: string | null;
      details: string | null;
      ip: string | null;
      outcome: AuditRecord['outcome'];
    }[];
    return {
      total,
      items: rows.map((r) => ({ ...r, details: r.details ? (JSON.parse(r.details) as Record<string, unknown>) : null })),
    };
  }
}
