import type { DeviceFacts, Facts, Finding, FindingStatus, OsName, ReportBody, SectionName, Severity, UsbEvent } from '@vigie/shared';

/**
 * The collector's storage, behind one interface so SQLite (embedded, the default)
 * and PostgreSQL (large fleets) pass the same contract tests (store/contract.ts).
 *
 * Every method is async, though better-sqlite3 is synchronous, so a networked
 * database can implement it. Time is always passed in (`now`), never read here.
 * Times in records are ISO 8601 strings in UTC, as the API returns them.
 */

export type Role = 'admin' | 'license-manager' | 'auditor';
export const roles: readonly Role[] = ['admin', 'license-manager', 'auditor'];

/** The orgs a caller may see; null means every org (a user granted `*`). */
export type OrgScope = readonly string[] | null;

export type DeviceStatus = 'compliant' | 'noncompliant' | 'unknown';

export interface Page<T> {
  total: number;
  items: T[];
}

export interface EnrollSecretRecord {
  id: number;
  org: string;
  createdAt: string;
  expiresAt: string | null;
  createdBy: string;
}

export interface DeviceRecord {
  id: string;
  machineId: string;
  org: string;
  owner: string | null;
  ciatLevel: number;
  hostname: string;
  os: OsName;
  osVersion: string;
  model: string;
  serial: string;
  user: string | null;
  enrolledAt: string;
  lastSeenAt: string | null;
  revoked: boolean;
  /** Derived from the findings at the last evaluation: a failing rule without an active exemption makes it noncompliant. */
  status: DeviceStatus;
  /** Failing rules without an active exemption. */
  failing: number;
  factsHash: string | null;
  droppedReports: number;
}

/** A finding with what the store needs to open a non-conformity for it. */
export interface EvaluatedFinding extends Finding {
  /** The rule's grace period: the non-conformity is due this many days after it is first seen. */
  graceDays: number;
}

export interface TimelineChange {
  section: SectionName | 'agent';
  summary: string;
}

/**
 * What the store asks the evaluator while it holds the transaction: the findings
 * for these facts, and the timeline lines for what changed. Must be synchronous
 * and pure, so the findings commit with the facts they come from.
 */
export type DeriveFn = (input: { device: DeviceRecord; previous: Facts | null; facts: Facts; lastSeenAt: Date; now: Date }) => {
  findings: EvaluatedFinding[];
  timeline: TimelineChange[];
};

export interface ApplyReportInput {
  deviceId: string;
  reportId: string;
  seq: number;
  collectedAt: string;
  body: ReportBody;
  dropped: number;
  now: Date;
  /**
   * The hash of a full report's facts when the collector computed it already (the frame-parsing
   * worker, from the validated facts; never a value an agent sent): facts equal to the stored
   * ones are then recognised without reading body.facts.
   */
  factsHash?: string;
  /**
   * Builds a full report's facts (body.facts) given the device's previous facts, so that what did
   * not change is shared with them instead of parsed again (the frame parser's; collector/src/util/canonical-json.ts).
   */
  factsFrom?: (previous: Facts | null) => Facts;
  /** The full report's canonical facts JSON deflated (collector/src/util/facts-column.ts), when computed already. */
  factsDeflated?: Uint8Array;
}

export type ApplyReportResult =
  | { status: 'duplicate'; factsHash: string | null }
  | { status: 'need-full-report' }
  | { status: 'unknown-device' }
  | { status: 'revoked' }
  | { status: 'stored'; factsHash: string; device: DeviceRecord; opened: NonconformityRecord[]; resolved: number[]; statusChanged: boolean; current?: DeviceStatusRows };

/**
 * A device's findings and unresolved non-conformities as a report's transaction left them: what
 * its `status` message needs. A store that knows them from the transaction returns them with the
 * report, which spares reading them again.
 */
export interface DeviceStatusRows {
  findings: Pick<FindingRecord, 'ruleId' | 'status' | 'severity' | 'evidence'>[];
  nonconformities: Pick<NonconformityRecord, 'ruleId' | 'firstSeenAt' | 'dueAt' | 'status' | 'resolvedAt'>[];
}

export interface EvaluationResult {
  device: DeviceRecord;
  opened: NonconformityRecord[];
  resolved: number[];
  statusChanged: boolean;
}

export interface FindingRecord {
  deviceId: string;
  hostname: string;
  org: string;
  owner: string | null;
  ruleId: string;
  status: FindingStatus;
  severity: Severity;
  evidence: string;
  issp: string[];
  updatedAt: string;
}

export interface ExemptionRecord {
  id: number;
  deviceId: string;
  ruleId: string;
  reason: string;
  grantedBy: string;
  createdAt: string;
  expiresAt: string;
  revokedAt: string | null;
  revokedBy: string | null;
}

export type NonconformityStatus = 'open' | 'resolved' | 'exempted';

export interface NonconformityRecord {
  id: number;
  deviceId: string;
  hostname: string;
  owner: string | null;
  org: string;
  ruleId: string;
  severity: Severity;
  evidence: string;
  issp: string[];
  firstSeenAt: string;
  dueAt: string;
  resolvedAt: string | null;
  status: NonconformityStatus;
  exemption: { id: number; reason: string; grantedBy: string; expiresAt: string } | null;
}

export interface TimelineRecord {
  at: string;
  section: string;
  summary: string;
}

export interface UsbEventRecord {
  eventId: string;
  receivedAt: string;
  event: UsbEvent;
}

export interface UserRecord {
  username: string;
  passwordHash: string;
  role: Role;
  /** `*` grants every org. */
  orgs: string[];
  createdAt: string;
}

export interface SessionRecord {
  username: string;
  createdAt: string;
  lastUsedAt: string;
  expiresAt: string;
  ip: string | null;
}

export interface LoginThrottle {
  failures: number;
  lockedUntil: string | null;
}

export type AuditOutcome = 'success' | 'failure' | 'denied';

export interface AuditEntry {
  at: Date;
  /** A username, `device:<id>` or `cli`; `anonymous` before a login succeeds. */
  actor: string;
  action: string;
  target: string | null;
  details: Record<string, unknown> | null;
  ip: string | null;
  outcome: AuditOutcome;
}

export interface AuditRecord extends Omit<AuditEntry, 'at'> {
  id: number;
  at: string;
}

export interface AuthorisedUsbRecord {
  id: number;
  /** null: authorised in every org. */
  org: string | null;
  vendorId: string;
  productId: string;
  serial: string | null;
  note: string | null;
}

export interface CatalogRuleRecord {
  id: number;
  name: string;
  publisher: string | null;
  product: string;
  status: 'approved' | 'denied' | 'unreviewed';
}

export type DeviceSort = 'hostname' | 'lastSeenAt' | 'org' | 'owner';
export type Order = 'asc' | 'desc';

export interface DeviceQuery {
  scope: OrgScope;
  org?: string;
  /** Matches hostname, owner, user or serial, case-insensitive. */
  q?: string;
  status?: DeviceStatus;
  sort?: DeviceSort;
  order?: Order;
  limit: number;
  offset: number;
  includeRevoked?: boolean;
}

export interface FindingQuery {
  scope: OrgScope;
  deviceId?: string;
  rule?: string;
  severity?: Severity;
  org?: string;
  status?: FindingStatus;
  q?: string;
  limit: number;
  offset: number;
}

export type NonconformitySort = 'firstSeenAt' | 'dueAt' | 'severity' | 'hostname';

export interface NonconformityQuery {
  scope: OrgScope;
  deviceId?: string;
  rule?: string;
  severity?: Severity;
  org?: string;
  status?: NonconformityStatus;
  /** Any part of the owner's name, any case. */
  owner?: string;
  q?: string;
  sort?: NonconformitySort;
  order?: Order;
  limit: number;
  offset: number;
}

export interface AuditQuery {
  /** Any part of the actor or action, any case (audit actions are dotted names: `exemption` finds them all). */
  actor?: string;
  action?: string;
  limit: number;
  offset: number;
}

export interface SummaryData {
  devices: number;
  compliantDevices: number;
  bySeverity: Record<Severity, number>;
  byRule: { ruleId: string; pass: number; fail: number; unknown: number }[];
  byOrg: { org: string; devices: number; compliantDevices: number }[];
  trend: { day: string; devices: number; compliantDevices: number }[];
  silent: { id: string; hostname: string; lastSeenAt: string | null }[];
}

export type EnrollResult = { device: DeviceRecord; replaced: boolean } | { refused: 'other-org' | 'revoked'; device: DeviceRecord };

export interface Datastore {
  close(): Promise<void>;

  // Enrolment
  createEnrollSecret(input: { secretHash: string; org: string; expiresAt: Date | null; createdBy: string; now: Date }): Promise<EnrollSecretRecord>;
  findEnrollSecret(secretHash: string): Promise<EnrollSecretRecord | null>;
  /**
   * Enrols a machine, or re-enrols it: the same machine id keeps its device id and
   * gets the new token (the old one stops working). Machine ids are not secret, so a
   * re-enrolment is refused, unchanged, when the device is in another org than the
   * secret's (`other-org`) or revoked (`revoked`: only restoreDevice re-admits it).
   */
  enrollDevice(input: { newId: string; machineId: string; org: string; tokenHash: string; device: DeviceFacts; now: Date }): Promise<EnrollResult>;

  // Devices
  getDevice(id: string): Promise<DeviceRecord | null>;
  findDeviceByTokenHash(tokenHash: string): Promise<DeviceRecord | null>;
  /** Refuses the device's token from now on; `now` is for stores that record when. */
  revokeDevice(id: string, now: Date): Promise<DeviceRecord | null>;
  /** An operator lifts a revocation; the old token stays refused, so the agent must enrol again with its org's secret. */
  restoreDevice(id: string, now: Date): Promise<DeviceRecord | null>;
  updateDevice(id: string, patch: { owner?: string | null; ciatLevel?: number; org?: string }, now: Date): Promise<DeviceRecord | null>;
  listDevices(query: DeviceQuery): Promise<Page<DeviceRecord>>;

  // Ingest: facts, findings and non-conformities change together, in one transaction.
  applyReport(input: ApplyReportInput, derive: DeriveFn): Promise<ApplyReportResult>;
  /** Evaluates the stored facts again (a CIAT level changed, a device fell silent, an exemption changed). */
  /** With `partial`, only the findings derive returns are written; the device's other findings stay. */
  reevaluateDevice(deviceId: string, derive: DeriveFn, now: Date, options?: { partial?: boolean }): Promise<EvaluationResult | null>;
  /** Devices last seen before `cutoff` whose finding for `ruleId` is not already a failure: the silent-device sweep's work. */
  listSilentDevices(ruleId: string, cutoff: Date, limit: number): Promise<string[]>;
  /** Devices with an exemption that ended (expired) in [from, to): their status must be recomputed. */
  listDevicesWithExemptionsEndingBetween(from: Date, to: Date): Promise<string[]>;
  /** Recomputes the device's status from its findings and active exemptions; true when it changed. */
  refreshDeviceStatus(deviceId: string, now: Date): Promise<boolean>;
  getFacts(deviceId: string): Promise<{ facts: Facts; hash: string; updatedAt: string } | null>;
  recordUsbEvent(input: { deviceId: string; eventId: string; event: UsbEvent; now: Date }): Promise<'stored' | 'duplicate'>;
  listUsbEvents(deviceId: string, limit: number): Promise<UsbEventRecord[]>;
  /**
   * What the USB rule looks back on: for each USB device the agent reported connected or mounted
   * since `since` (vendor, product, serial), its newest such event; newest first, at most `limit`.
   */
  recentUsbConnections(deviceId: string, since: Date, limit: number): Promise<{ event: UsbEvent; receivedAt: Date }[]>;
  getTimeline(deviceId: string, limit: number): Promise<TimelineRecord[]>;
  /** Whether a report id was already processed for this device (idempotency). */
  hasReport(deviceId: string, reportId: string): Promise<boolean>;
  countReports(deviceId: string): Promise<number>;

  // Findings and non-conformities
  listFindings(query: FindingQuery): Promise<Page<FindingRecord>>;
  listNonconformities(query: NonconformityQuery, now: Date): Promise<Page<NonconformityRecord>>;
  createExemption(input: { deviceId: string; ruleId: string; reason: string; grantedBy: string; expiresAt: Date; now: Date }): Promise<ExemptionRecord>;
  getExemption(id: number): Promise<ExemptionRecord | null>;
  revokeExemption(id: number, by: string, now: Date): Promise<ExemptionRecord | null>;
  summary(input: { scope: OrgScope; now: Date; days: number; silentCutoff: Date | null }): Promise<SummaryData>;
  /** Writes today's per-org conformity (upsert), the daily trend's source. */
  recordDailySnapshot(now: Date): Promise<void>;

  // Evaluation context
  listAuthorisedUsb(org: string): Promise<AuthorisedUsbRecord[]>;
  addAuthorisedUsb(input: Omit<AuthorisedUsbRecord, 'id'>): Promise<AuthorisedUsbRecord>;
  /** The authorised USB devices an admin of these orgs manages: those of the orgs, and those of every org (org null). */
  listAuthorisedUsbEntries(scope: OrgScope): Promise<AuthorisedUsbRecord[]>;
  getAuthorisedUsb(id: number): Promise<AuthorisedUsbRecord | null>;
  /** True when it existed. */
  removeAuthorisedUsb(id: number): Promise<boolean>;
  listCatalogRules(): Promise<CatalogRuleRecord[]>;
  addCatalogRule(input: Omit<CatalogRuleRecord, 'id'>): Promise<CatalogRuleRecord>;

  // Console users
  createUser(input: { username: string; passwordHash: string; role: Role; orgs: string[]; now: Date }): Promise<'created' | 'exists'>;
  getUser(username: string): Promise<UserRecord | null>;
  getLoginThrottle(username: string): Promise<LoginThrottle>;
  /** Counts a failed login; after `maxFailures` the name is locked for `lockSeconds`. */
  recordLoginFailure(username: string, now: Date, policy: { maxFailures: number; lockSeconds: number }): Promise<LoginThrottle>;
  /**
   * Counts a login attempt as a failure before its password is checked, atomically, so
   * parallel attempts cannot all pass a check made before any of them is counted; the
   * attempt that reaches `maxFailures` is still allowed and sets the lock. A success clears it.
   */
  claimLoginAttempt(username: string, now: Date, policy: { maxFailures: number; lockSeconds: number }): Promise<{ allowed: boolean; lockedUntil: string | null }>;
  clearLoginFailures(username: string): Promise<void>;
  createSession(input: { tokenHash: string; username: string; now: Date; idleSeconds: number; ip: string | null }): Promise<void>;
  /** Returns the session and extends its idle expiry, or null (and forgets it) when it has expired. */
  touchSession(tokenHash: string, now: Date, idleSeconds: number): Promise<SessionRecord | null>;
  /** Reads a session without extending it (a live socket checks its session is still valid). */
  getSession(tokenHash: string, now: Date): Promise<SessionRecord | null>;
  deleteSession(tokenHash: string): Promise<void>;

  // Audit log: append-only.
  appendAudit(entry: AuditEntry): Promise<void>;
  listAudit(query: AuditQuery): Promise<Page<AuditRecord>>;
}
