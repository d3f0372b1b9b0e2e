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
  {
    // The overview and the non-conformities list at 100k devices: counting findings, devices and
    // non-conformities at request time took ~0.5 s. Counters kept by triggers, in the same
    // transaction as the rows they count, whatever statement changes those rows.
    version: 2,
    name: 'summary counters',
    sql: `
-- Findings of active (not revoked) devices, per org, rule and status. findings.org and .active are the device's.
CREATE TABLE finding_counts (
  org TEXT NOT NULL,
  rule_id TEXT NOT NULL,
  status TEXT NOT NULL,
  n INTEGER NOT NULL,
  PRIMARY KEY (org, rule_id, status)
) WITHOUT ROWID;
CREATE TRIGGER finding_counts_insert AFTER INSERT ON findings WHEN new.active = 1 BEGIN
  INSERT INTO finding_counts (org, rule_id, status, n) VALUES (new.org, new.rule_id, new.status, 1)
    ON CONFLICT (org, rule_id, status) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER finding_counts_delete AFTER DELETE ON findings WHEN old.active = 1 BEGIN
  UPDATE finding_counts SET n = n - 1 WHERE org = old.org AND rule_id = old.rule_id AND status = old.status;
END;
-- Most reports rewrite findings unchanged: the WHEN keeps those free.
CREATE TRIGGER finding_counts_update AFTER UPDATE OF org, rule_id, active, status ON findings
WHEN old.org IS NOT new.org OR old.rule_id IS NOT new.rule_id OR old.active IS NOT new.active OR old.status IS NOT new.status BEGIN
  UPDATE finding_counts SET n = n - 1 WHERE old.active = 1 AND org = old.org AND rule_id = old.rule_id AND status = old.status;
  INSERT INTO finding_counts (org, rule_id, status, n) SELECT new.org, new.rule_id, new.status, 1 WHERE new.active = 1
    ON CONFLICT (org, rule_id, status) DO UPDATE SET n = n + 1;
END;

-- Active devices per org, and how many of them are compliant.
CREATE TABLE device_counts (
  org TEXT PRIMARY KEY,
  devices INTEGER NOT NULL,
  compliant INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TRIGGER device_counts_insert AFTER INSERT ON devices WHEN new.revoked = 0 BEGIN
  INSERT INTO device_counts (org, devices, compliant) VALUES (new.org, 1, new.status = 'compliant')
    ON CONFLICT (org) DO UPDATE SET devices = devices + 1, compliant = compliant + excluded.compliant;
END;
CREATE TRIGGER device_counts_delete AFTER DELETE ON devices WHEN old.revoked = 0 BEGIN
  UPDATE device_counts SET devices = devices - 1, compliant = compliant - (old.status = 'compliant') WHERE org = old.org;
END;
CREATE TRIGGER device_counts_update AFTER UPDATE OF org, revoked, status ON devices
WHEN old.org IS NOT new.org OR old.revoked IS NOT new.revoked OR old.status IS NOT new.status BEGIN
  UPDATE device_counts SET devices = devices - 1, compliant = compliant - (old.status = 'compliant') WHERE old.revoked = 0 AND org = old.org;
  INSERT INTO device_counts (org, devices, compliant) SELECT new.org, 1, new.status = 'compliant' WHERE new.revoked = 0
    ON CONFLICT (org) DO UPDATE SET devices = devices + 1, compliant = compliant + excluded.compliant;
END;

-- Non-conformities of active devices per org (the device's), rule, severity and whether resolved.
-- Exemptions are not in it: they end by the clock, so the store subtracts the few active ones at read time.
CREATE TABLE nc_counts (
  org TEXT NOT NULL,
  rule_id TEXT NOT NULL,
  severity TEXT NOT NULL,
  resolved INTEGER NOT NULL,
  n INTEGER NOT NULL,
  PRIMARY KEY (org, rule_id, severity, resolved)
) WITHOUT ROWID;
-- A device's non-conformities move with it (org change, revocation): this finds them, resolved ones too.
CREATE INDEX nonconformities_device ON nonconformities(device_id, resolved_at);
CREATE TRIGGER nc_counts_insert AFTER INSERT ON nonconformities BEGIN
  INSERT INTO nc_counts (org, rule_id, severity, resolved, n)
    SELECT d.org, new.rule_id, new.severity, new.resolved_at IS NOT NULL, 1 FROM devices d WHERE d.id = new.device_id AND d.revoked = 0
    ON CONFLICT (org, rule_id, severity, resolved) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER nc_counts_delete AFTER DELETE ON nonconformities BEGIN
  UPDATE nc_counts SET n = n - 1
    WHERE (org, rule_id, severity, resolved) = (SELECT d.org, old.rule_id, old.severity, old.resolved_at IS NOT NULL FROM devices d WHERE d.id = old.device_id AND d.revoked = 0);
END;
CREATE TRIGGER nc_counts_update AFTER UPDATE OF device_id, rule_id, severity, resolved_at ON nonconformities
WHEN old.device_id IS NOT new.device_id OR old.rule_id IS NOT new.rule_id OR old.severity IS NOT new.severity OR (old.resolved_at IS NULL) IS NOT (new.resolved_at IS NULL) BEGIN
  UPDATE nc_counts SET n = n - 1
    WHERE (org, rule_id, severity, resolved) = (SELECT d.org, old.rule_id, old.severity, old.resolved_at IS NOT NULL FROM devices d WHERE d.id = old.device_id AND d.revoked = 0);
  INSERT INTO nc_counts (org, rule_id, severity, resolved, n)
    SELECT d.org, new.rule_id, new.severity, new.resolved_at IS NOT NULL, 1 FROM devices d WHERE d.id = new.device_id AND d.revoked = 0
    ON CONFLICT (org, rule_id, severity, resolved) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER nc_counts_device AFTER UPDATE OF org, revoked ON devices
WHEN old.org IS NOT new.org OR old.revoked IS NOT new.revoked BEGIN
  INSERT INTO nc_counts (org, rule_id, severity, resolved, n)
    SELECT old.org, rule_id, severity, resolved_at IS NOT NULL, -COUNT(*) FROM nonconformities WHERE device_id = old.id AND old.revoked = 0 GROUP BY 2, 3, 4
    ON CONFLICT (org, rule_id, severity, resolved) DO UPDATE SET n = n + excluded.n;
  INSERT INTO nc_counts (org, rule_id, severity, resolved, n)
    SELECT new.org, rule_id, severity, resolved_at IS NOT NULL, COUNT(*) FROM nonconformities WHERE device_id = new.id AND new.revoked = 0 GROUP BY 2, 3, 4
    ON CONFLICT (org, rule_id, severity, resolved) DO UPDATE SET n = n + excluded.n;
END;

-- The summary no longer groups the findings: the counters replace this index, which every finding write paid for.
DROP INDEX findings_summary;

-- Counts for what version 1 already stored.
INSERT INTO finding_counts (org, rule_id, status, n) SELECT org, rule_id, status, COUNT(*) FROM findings WHERE active = 1 GROUP BY org, rule_id, status;
INSERT INTO device_counts (org, devices, compliant) SELECT org, COUNT(*), SUM(status = 'compliant') FROM devices WHERE revoked = 0 GROUP BY org;
INSERT INTO nc_counts (org, rule_id, severity, resolved, n)
  SELECT d.org, n.rule_id, n.severity, n.resolved_at IS NOT NULL, COUNT(*) FROM nonconformities n JOIN devices d ON d.id = n.device_id
  WHERE d.revoked = 0 GROUP BY d.org, n.rule_id, n.severity, n.resolved_at IS NOT NULL;
`,
  },
  {
    // Licenses (issue 7): the catalog rules become GLPI-style dictionary rules, approval moves to
    // the product, and the inventory gets a per-device normalised software table to reconcile from.
    version: 3,
    name: 'software catalog, approvals and licenses',
    sql: `
ALTER TABLE catalog_rules ADD COLUMN position INTEGER NOT NULL DEFAULT 0;
ALTER TABLE catalog_rules ADD COLUMN os TEXT CHECK (os IN ('windows', 'macos', 'linux'));
ALTER TABLE catalog_rules ADD COLUMN version_pattern TEXT;
ALTER TABLE catalog_rules ADD COLUMN ignore INTEGER NOT NULL DEFAULT 0;
UPDATE catalog_rules SET position = id * 10;
CREATE INDEX catalog_rules_position ON catalog_rules(position, id);

-- catalog_version, rules_seeded, software_fail_on.
CREATE TABLE catalog_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO catalog_meta (key, value) VALUES ('catalog_version', '1');

CREATE TABLE product_approvals (
  product TEXT PRIMARY KEY,
  status TEXT NOT NULL CHECK (status IN ('approved', 'denied', 'unreviewed')),
  reason TEXT,
  updated_at TEXT NOT NULL,
  updated_by TEXT NOT NULL
);
-- Version 1 kept the approval on the rule: it now belongs to the product.
INSERT OR IGNORE INTO product_approvals (product, status, reason, updated_at, updated_by)
  SELECT product, status, NULL, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), 'migration' FROM catalog_rules WHERE status <> 'unreviewed';

CREATE TABLE licenses (
  id INTEGER PRIMARY KEY,
  product TEXT NOT NULL,
  type TEXT NOT NULL CHECK (type IN ('per-device', 'per-user', 'site')),
  seats INTEGER,
  purchased_at TEXT NOT NULL,
  expires_at TEXT,
  cost REAL,
  currency TEXT NOT NULL DEFAULT 'EUR',
  org TEXT NOT NULL DEFAULT '*',
  reference TEXT NOT NULL DEFAULT '',
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX licenses_product ON licenses(product);

-- Distinct raw entries across the fleet (a few thousand: fleets repeat the same software), each with
-- its normalisation under the current catalog version. Re-applying the rules re-classifies these
-- rows, not the 100k devices' facts.
CREATE TABLE software_entries (
  id INTEGER PRIMARY KEY,
  os TEXT NOT NULL,
  name TEXT NOT NULL,
  publisher TEXT NOT NULL,
  version TEXT NOT NULL,
  product TEXT NOT NULL,
  norm_version TEXT,
  ignored INTEGER NOT NULL,
  UNIQUE (os, name, publisher, version)
);
-- A device's raw inventory as sorted software_entries ids (little-endian int32): 1.2 kB for 300 items.
CREATE TABLE device_inventory (device_id TEXT PRIMARY KEY REFERENCES devices(id), entries BLOB NOT NULL) WITHOUT ROWID;

-- One row per device and product (the normalised inventory). Rebuilt when the rules change,
-- updated from the report transaction when a device's software changes.
CREATE TABLE device_software (
  device_id TEXT NOT NULL REFERENCES devices(id),
  product TEXT NOT NULL,
  version TEXT,
  raw_name TEXT NOT NULL,
  publisher TEXT,
  first_seen_at TEXT NOT NULL,
  PRIMARY KEY (device_id, product)
) WITHOUT ROWID;
-- Covers the reconciliation's read: a product's installs and when each was first seen.
CREATE INDEX device_software_product ON device_software(product, device_id, first_seen_at);

-- When a product was first seen on a device; kept across rebuilds, so "beyond the count" is stable.
CREATE TABLE software_first_seen (
  device_id TEXT NOT NULL,
  product TEXT NOT NULL,
  first_seen_at TEXT NOT NULL,
  PRIMARY KEY (device_id, product)
) WITHOUT ROWID;

-- Fleet-level findings (ISSP 9.15.4 over-deployment): not tied to one device, so not in nonconformities.
CREATE TABLE license_findings (
  id INTEGER PRIMARY KEY,
  product TEXT NOT NULL,
  org TEXT NOT NULL,
  rule TEXT NOT NULL,
  over_by INTEGER NOT NULL,
  beyond TEXT NOT NULL,
  first_seen_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  resolved_at TEXT
);
CREATE UNIQUE INDEX license_findings_open ON license_findings(product, org, rule) WHERE resolved_at IS NULL;
`,
  },
  {
    // Licenses at 100k devices × 300 items: the device × product table held the product's name and
    // the device's id as text in each of ~9M rows (1 GB), so a rename rewrote tens of thousands of
    // wide rows and the reconciliation read text keys. Products and devices get integer keys, the
    // installed entry stands for version, name and publisher, and the first-seen date lives in the
    // same row (a product no longer installed keeps its row, without an entry).
    version: 4,
    name: 'licenses: integer product and device keys',
    sql: `
CREATE TABLE software_products (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
INSERT INTO software_products (name)
  SELECT product FROM software_entries UNION SELECT product FROM software_first_seen UNION SELECT product FROM device_software ORDER BY 1;

CREATE TABLE software_entries_v4 (
  id INTEGER PRIMARY KEY,
  os TEXT NOT NULL,
  name TEXT NOT NULL,
  publisher TEXT NOT NULL,
  version TEXT NOT NULL,
  product_id INTEGER NOT NULL REFERENCES software_products(id),
  norm_version TEXT,
  ignored INTEGER NOT NULL,
  UNIQUE (os, name, publisher, version)
);
-- The ids are kept: the inventories below list them.
INSERT INTO software_entries_v4 (id, os, name, publisher, version, product_id, norm_version, ignored)
  SELECT e.id, e.os, e.name, e.publisher, e.version, p.id, e.norm_version, e.ignored FROM software_entries e JOIN software_products p ON p.name = e.product;
DROP TABLE software_entries;
ALTER TABLE software_entries_v4 RENAME TO software_entries;

-- key: the device's number in device_products (devices.rowid is not stable across VACUUM).
CREATE TABLE device_inventory_v4 (
  key INTEGER PRIMARY KEY,
  device_id TEXT NOT NULL UNIQUE REFERENCES devices(id),
  entries BLOB NOT NULL
);
INSERT INTO device_inventory_v4 (device_id, entries) SELECT device_id, entries FROM device_inventory ORDER BY device_id;
DROP TABLE device_inventory;
ALTER TABLE device_inventory_v4 RENAME TO device_inventory;

-- One row per product ever seen on a device, clustered by product: a product's installs (the
-- reconciliation's read) are one range, and a rename moves one range to another.
-- entry_id: the installed entry giving version, raw name and publisher (the highest version when
-- several); NULL when the product is no longer installed, the row then keeping first_seen so a
-- product renamed away and back, or uninstalled and reinstalled, keeps its date.
-- first_seen: milliseconds since the epoch (not ISO text: 8.7M rows at 100k devices).
CREATE TABLE device_products (
  product_id INTEGER NOT NULL,
  device_key INTEGER NOT NULL,
  entry_id INTEGER,
  first_seen INTEGER NOT NULL,
  PRIMARY KEY (product_id, device_key)
) WITHOUT ROWID;
INSERT INTO device_products (product_id, device_key, entry_id, first_seen)
  SELECT p.id, i.key, NULL, MIN(CAST(ROUND(unixepoch(f.first_seen_at, 'subsec') * 1000) AS INTEGER))
  FROM (SELECT device_id, product, first_seen_at FROM software_first_seen UNION ALL SELECT device_id, product, first_seen_at FROM device_software) f
  JOIN software_products p ON p.name = f.product
  JOIN device_inventory i ON i.device_id = f.device_id
  GROUP BY p.id, i.key;
DROP TABLE device_software;
DROP TABLE software_first_seen;
-- Which entry each device has installed is rebuilt from the inventories by the licenses module
-- when it next opens (LicenseStore.rebuildInventory): SQL cannot read the id blobs.
INSERT INTO catalog_meta (key, value) VALUES ('inventory_rebuild', '1') ON CONFLICT(key) DO UPDATE SET value = excluded.value;
`,
  },
  {
    // The USB rule looks back on the events received in the last hours (shared/src/policy/evaluate.ts),
    // at every report of the device.
    version: 5,
    name: 'usb_events_by_received_time',
    sql: `
CREATE INDEX usb_events_device_received ON usb_events(device_id, received_at);
`,
  },
];

export function migrate(db: Database, now: Date): number {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
  const applied = new Set((db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[]).map((r) => r.version));
  const current = Math.max(0, ...applied);
  const latest = migrations[migrations.length - 1]?.version ?? 0;
  if (current > latest) {
    throw new Error(`the database schema is version ${current}, newer than this collector knows (${latest}); upgrade the collector`);
  }
  // Each migration not yet recorded, not only those above the highest: a database that got a later
  // version during development (2 and 3 were written in parallel) still gets the one it missed.
  for (const m of migrations) {
    if (applied.has(m.version)) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(m.version, m.name, now.toISOString());
    })();
  }
  return latest;
}
