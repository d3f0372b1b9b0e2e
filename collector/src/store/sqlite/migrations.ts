import type { Database } from 'better-sqlite3';

/**
 * Versioned migrations, applied in order inside one transaction each. A released
 * migration is never edited: a change is a new entry at the end.
 * Times are ISO 8601 UTC strings (`Date.toISOString()`), so they sort as text.
 */
export const migrations: readonly { version: number; name: string; sql: string }[] = [
  {
    version: 1,
    name: 'initial schema',
    sql: `
CREATE TABLE orgs (name TEXT PRIMARY KEY, created_at TEXT NOT NULL);

CREATE TABLE enroll_secrets (
  id INTEGER PRIMARY KEY,
  secret_hash TEXT NOT NULL UNIQUE,
  org TEXT NOT NULL REFERENCES orgs(name),
  created_at TEXT NOT NULL,
  expires_at TEXT,
  created_by TEXT NOT NULL
);

CREATE TABLE devices (
  id TEXT PRIMARY KEY,
  machine_id TEXT NOT NULL UNIQUE,
  token_hash TEXT NOT NULL UNIQUE,
  org TEXT NOT NULL REFERENCES orgs(name),
  owner TEXT,
  ciat_level INTEGER NOT NULL DEFAULT 2 CHECK (ciat_level BETWEEN 0 AND 4),
  hostname TEXT NOT NULL,
  os TEXT NOT NULL,
  os_version TEXT NOT NULL,
  model TEXT NOT NULL,
  serial TEXT NOT NULL,
  user TEXT,
  enrolled_at TEXT NOT NULL,
  last_seen_at TEXT,
  revoked INTEGER NOT NULL DEFAULT 0,
  status TEXT NOT NULL DEFAULT 'unknown',
  failing INTEGER NOT NULL DEFAULT 0,
  facts_hash TEXT,
  dropped_reports INTEGER NOT NULL DEFAULT 0
);
-- The console's list filters by org and status and sorts by these columns; at 100k devices
-- an index per sort key keeps a page in milliseconds.
CREATE INDEX devices_org_status ON devices(org, status);
CREATE INDEX devices_status ON devices(status);
CREATE INDEX devices_hostname ON devices(hostname COLLATE NOCASE);
CREATE INDEX devices_last_seen ON devices(last_seen_at);
CREATE INDEX devices_owner ON devices(owner COLLATE NOCASE);

CREATE TABLE device_facts (
  device_id TEXT PRIMARY KEY REFERENCES devices(id),
  facts TEXT NOT NULL,
  hash TEXT NOT NULL,
  collected_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);

CREATE TABLE timeline (
  id INTEGER PRIMARY KEY,
  device_id TEXT NOT NULL REFERENCES devices(id),
  at TEXT NOT NULL,
  section TEXT NOT NULL,
  summary TEXT NOT NULL
);
CREATE INDEX timeline_device ON timeline(device_id, id);

CREATE TABLE reports (
  device_id TEXT NOT NULL REFERENCES devices(id),
  report_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  kind TEXT NOT NULL,
  collected_at TEXT NOT NULL,
  received_at TEXT NOT NULL,
  PRIMARY KEY (device_id, report_id)
) WITHOUT ROWID;

CREATE TABLE usb_events (
  device_id TEXT NOT NULL REFERENCES devices(id),
  event_id TEXT NOT NULL,
  at TEXT NOT NULL,
  received_at TEXT NOT NULL,
  event TEXT NOT NULL,
  PRIMARY KEY (device_id, event_id)
) WITHOUT ROWID;
CREATE INDEX usb_events_device_at ON usb_events(device_id, at);

-- org and active (not revoked) are copies of the device's, kept in step by the store, so the
-- per-rule summary counts from one covering index instead of joining 100k devices.
CREATE TABLE findings (
  device_id TEXT NOT NULL REFERENCES devices(id),
  rule_id TEXT NOT NULL,
  org TEXT NOT NULL,
  active INTEGER NOT NULL DEFAULT 1,
  status TEXT NOT NULL,
  severity TEXT NOT NULL,
  evidence TEXT NOT NULL,
  issp TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  PRIMARY KEY (device_id, rule_id)
) WITHOUT ROWID;
CREATE INDEX findings_rule_status ON findings(rule_id, status);
CREATE INDEX findings_summary ON findings(active, org, rule_id, status);

CREATE TABLE nonconformities (
  id INTEGER PRIMARY KEY,
  device_id TEXT NOT NULL REFERENCES devices(id),
  rule_id TEXT NOT NULL,
  severity TEXT NOT NULL,
  severity_rank INTEGER NOT NULL,
  evidence TEXT NOT NULL,
  issp TEXT NOT NULL,
  first_seen_at TEXT NOT NULL,
  due_at TEXT NOT NULL,
  resolved_at TEXT
);
-- At most one open non-conformity per device and rule.
CREATE UNIQUE INDEX nonconformities_open ON nonconformities(device_id, rule_id) WHERE resolved_at IS NULL;
CREATE INDEX nonconformities_first_seen ON nonconformities(first_seen_at);
CREATE INDEX nonconformities_due ON nonconformities(due_at);
CREATE INDEX nonconformities_rule ON nonconformities(rule_id, resolved_at);

CREATE TABLE exemptions (
  id INTEGER PRIMARY KEY,
  device_id TEXT NOT NULL REFERENCES devices(id),
  rule_id TEXT NOT NULL,
  reason TEXT NOT NULL,
  granted_by TEXT NOT NULL,
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  revoked_at TEXT,
  revoked_by TEXT
);
CREATE INDEX exemptions_device_rule ON exemptions(device_id, rule_id);
CREATE INDEX exemptions_expires ON exemptions(expires_at);

CREATE TABLE daily_snapshots (
  day TEXT NOT NULL,
  org TEXT NOT NULL,
  devices INTEGER NOT NULL,
  compliant INTEGER NOT NULL,
  PRIMARY KEY (day, org)
) WITHOUT ROWID;

CREATE TABLE authorised_usb (
  id INTEGER PRIMARY KEY,
  org TEXT,
  vendor_id TEXT NOT NULL,
  product_id TEXT NOT NULL,
  serial TEXT,
  note TEXT
);

CREATE TABLE catalog_rules (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  publisher TEXT,
  product TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('approved', 'denied', 'unreviewed'))
);

CREATE TABLE users (
  username TEXT PRIMARY KEY,
  password_hash TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('admin', 'license-manager', 'auditor')),
  orgs TEXT NOT NULL,
  created_at TEXT NOT NULL
);

CREATE TABLE login_throttle (
  username TEXT PRIMARY KEY,
  failures INTEGER NOT NULL,
  locked_until TEXT
);

CREATE TABLE sessions (
  token_hash TEXT PRIMARY KEY,
  username TEXT NOT NULL REFERENCES users(username),
  created_at TEXT NOT NULL,
  last_used_at TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  ip TEXT
);
CREATE INDEX sessions_expires ON sessions(expires_at);

CREATE TABLE audit_log (
  id INTEGER PRIMARY KEY,
  at TEXT NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  target TEXT,
  details TEXT,
  ip TEXT,
  outcome TEXT NOT NULL
);
CREATE INDEX audit_at ON audit_log(at);
CREATE INDEX audit_actor ON audit_log(actor, id);
CREATE INDEX audit_action ON audit_log(action, id);
-- The audit log is evidence: the database itself refuses to change or delete a line.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
`,
  },
];

export function migrate(db: Database, now: Date): number {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
  const current = (db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as { v: number | null }).v ?? 0;
  const latest = migrations[migrations.length - 1]?.version ?? 0;
  if (current > latest) {
    throw new Error(`the database schema is version ${current}, newer than this collector knows (${latest}); upgrade the collector`);
  }
  for (const m of migrations) {
    if (m.version <= current) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(m.version, m.name, now.toISOString());
    })();
  }
  return latest;
}
