import type { Database, Statement } from 'better-sqlite3';
import type { ApprovalStatus, OsName, SoftwareItem } from '@vigie/shared';
import type { OrgScope } from '../store/datastore';
import { Normaliser, compareVersions, type CatalogRule, type Normalised, type RuleInput, type RuleOs } from './normalise';
import type { License, LicenseInput, OverDeployment, ProductUsage } from './reconcile';

/**
 * The licenses module's tables (migration 3), on the SQLite store's connection. SQLite only, as
 * the rest of the store today; the PostgreSQL store will implement the same methods.
 * Every method is synchronous (better-sqlite3), so the report transaction can call indexDevice.
 */

export interface ProductRow {
  product: string;
  status: ApprovalStatus;
  devices: number;
  users: number;
  versions: { version: string | null; devices: number }[];
  publishers: string[];
}

export interface ProductDevice {
  deviceId: string;
  hostname: string;
  owner: string | null;
  user: string | null;
  org: string;
  version: string | null;
  rawName: string;
  firstSeenAt: string;
  lastSeenAt: string | null;
}

interface RuleRow {
  id: number;
  position: number;
  name: string;
  publisher: string | null;
  os: RuleOs | null;
  product: string;
  version_pattern: string | null;
  ignore: number;
}

const toRule = (r: RuleRow): CatalogRule => ({
  id: r.id,
  position: r.position,
  namePattern: r.name,
  publisherPattern: r.publisher,
  os: r.os,
  product: r.product,
  versionPattern: r.version_pattern,
  ignore: r.ignore === 1,
});

interface LicenseRow {
  id: number;
  product: string;
  type: License['type'];
  seats: number | null;
  purchased_at: string;
  expires_at: string | null;
  cost: number | null;
  currency: string;
  org: string;
  reference: string;
}

const toLicense = (r: LicenseRow): License => ({
  id: r.id,
  product: r.product,
  type: r.type,
  seats: r.seats,
  purchasedAt: r.purchased_at,
  expiresAt: r.expires_at,
  cost: r.cost,
  currency: r.currency,
  org: r.org,
  reference: r.reference,
});

interface Entry {
  id: number;
  product: string;
  version: string | null;
  ignored: boolean;
}

/** The OS a rule is matched against: the inventory's source says it (the evaluator's catalog sees only the item). */
export function itemOs(item: Pick<SoftwareItem, 'source'>, deviceOs: OsName | null): OsName | null {
  switch (item.source) {
    case 'registry':
      return 'windows';
    case 'app':
      return 'macos';
    case 'dpkg':
    case 'rpm':
    case 'snap':
    case 'flatpak':
      return 'linux';
    default:
      return deviceOs;
  }
}

/**
 * The os key a raw entry is stored under. Distribution packages (dpkg, rpm) get their own key:
 * a Linux machine lists two thousand of them, which are the OS itself, so only those a rule names
 * (google-chrome-stable, code) become products.
 */
export function entryOsKey(item: Pick<SoftwareItem, 'source'>, deviceOs: OsName | null): string {
  if (item.source === 'dpkg' || item.source === 'rpm') return 'linux-pkg';
  return itemOs(item, deviceOs) ?? '';
}

export function classifyEntry(normaliser: Normaliser, item: Pick<SoftwareItem, 'name' | 'version' | 'publisher'>, osKey: string): Normalised {
  const os = osKey === 'linux-pkg' ? 'linux' : ((osKey || null) as OsName | null);
  const n = normaliser.normalise(item, os);
  return osKey === 'linux-pkg' && n.ruleId === null ? { ...n, ignored: true } : n;
}

function encodeIds(ids: number[]): Buffer {
  const buf = Buffer.allocUnsafe(ids.length * 4);
  for (let i = 0; i < ids.length; i++) buf.writeInt32LE(ids[i]!, i * 4);
  return buf;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

function decodeIds(buf: Buffer): Int32Array {
  // Copied into an aligned array: SQLite's buffer may start at any offset. On a little-endian
  // machine (all the collector runs on) the copy is the decoding: 100k inventories in well under a second.
  if (LITTLE_ENDIAN) return new Int32Array(Uint8Array.from(buf).buffer, 0, buf.length >> 2);
  const out = new Int32Array(buf.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = buf.readInt32LE(i * 4);
  return out;
}

/** SQLite's page cache while re-applying rules: the default 2 MB thrashes on a fleet's 1 GB of rows. */
const REAPPLY_CACHE_KIB = 512 * 1024;
/** Products whose installs the store keeps in memory for the reconciliation (see LicenseStore.installs). */
const INSTALL_INDEX_PRODUCTS = 500;

function scopeClause(column: string, scope: OrgScope, params: Record<string, unknown>): string {
  if (scope === null) return '1 = 1';
  params.scope = JSON.stringify(scope);
  return `${column} IN (SELECT value FROM json_each(@scope))`;
}

export class LicenseStore {
  private readonly st: Record<string, Statement>;
  private entries = new Map<string, Entry>();
  private entriesVersion = -1;
  /**
   * The reconciliation's product → (device → first seen) index, for the products asked for (the
   * licensed ones), so a report does not re-read ~600k install rows each time. Every write to a
   * product's rows drops that product's entry (dropping is right even if the transaction rolls
   * back); another connection's commit (PRAGMA data_version moves, e.g. the CLI) drops it all.
   */
  private installs = new Map<string, [string, string][]>();
  private installsDataVersion = -1;

  constructor(readonly db: Database) {
    // Scratch tables of a rule re-application (connection-local, emptied after each use): the
    // rewrite is then three set-based statements in key order, not a few statements per device.
    db.exec(`CREATE TEMP TABLE IF NOT EXISTS reapply_devices (device_id TEXT PRIMARY KEY) WITHOUT ROWID;
             CREATE TEMP TABLE IF NOT EXISTS reapply_products (product TEXT PRIMARY KEY) WITHOUT ROWID;
             CREATE TEMP TABLE IF NOT EXISTS reapply_wanted (device_id TEXT NOT NULL, product TEXT NOT NULL, version TEXT, raw_name TEXT NOT NULL, publisher TEXT,
                                                            PRIMARY KEY (device_id, product)) WITHOUT ROWID;`);
    const p = (sql: string) => db.prepare(sql);
    this.st = {
      meta: p('SELECT value FROM catalog_meta WHERE key = ?'),
      setMeta: p('INSERT INTO catalog_meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value'),
      rules: p('SELECT id, position, name, publisher, os, product, version_pattern, ignore FROM catalog_rules ORDER BY position, id'),
      rule: p('SELECT id, position, name, publisher, os, product, version_pattern, ignore FROM catalog_rules WHERE id = ?'),
      maxPosition: p('SELECT COALESCE(MAX(position), 0) AS p FROM catalog_rules'),
      insertRule: p(`INSERT INTO catalog_rules (position, name, publisher, os, product, version_pattern, ignore, status)
                     VALUES (@position, @namePattern, @publisherPattern, @os, @product, @versionPattern, @ignore, 'unreviewed')`),
      updateRule: p(`UPDATE catalog_rules SET position = @position, name = @namePattern, publisher = @publisherPattern, os = @os, product = @product,
                     version_pattern = @versionPattern, ignore = @ignore WHERE id = @id`),
      deleteRule: p('DELETE FROM catalog_rules WHERE id = ?'),
      approvals: p('SELECT product, status, reason FROM product_approvals'),
      approval: p('SELECT status FROM product_approvals WHERE product = ?'),
      setApproval: p(`INSERT INTO product_approvals (product, status, reason, updated_at, updated_by) VALUES (?, ?, ?, ?, ?)
                      ON CONFLICT(product) DO UPDATE SET status = excluded.status, reason = excluded.reason, updated_at = excluded.updated_at, updated_by = excluded.updated_by`),
      licenses: p('SELECT * FROM licenses ORDER BY product, id'),
      license: p('SELECT * FROM licenses WHERE id = ?'),
      insertLicense: p(`INSERT INTO licenses (product, type, seats, purchased_at, expires_at, cost, currency, org, reference, created_at, updated_at)
                        VALUES (@product, @type, @seats, @purchasedAt, @expiresAt, @cost, @currency, @org, @reference, @now, @now)`),
      updateLicense: p(`UPDATE licenses SET product = @product, type = @type, seats = @seats, purchased_at = @purchasedAt, expires_at = @expiresAt, cost = @cost,
                        currency = @currency, org = @org, reference = @reference, updated_at = @now WHERE id = @id`),
      deleteLicense: p('DELETE FROM licenses WHERE id = ?'),
      entryByKey: p('SELECT id, product, norm_version, ignored FROM software_entries WHERE os = ? AND name = ? AND publisher = ? AND version = ?'),
      insertEntry: p('INSERT INTO software_entries (os, name, publisher, version, product, norm_version, ignored) VALUES (?, ?, ?, ?, ?, ?, ?)'),
      allEntries: p('SELECT id, os, name, publisher, version, product, norm_version, ignored FROM software_entries'),
      updateEntry: p('UPDATE software_entries SET product = ?, norm_version = ?, ignored = ? WHERE id = ?'),
      inventory: p('SELECT entries FROM device_inventory WHERE device_id = ?'),
      allInventories: p('SELECT device_id, entries FROM device_inventory'),
      setInventory: p('INSERT INTO device_inventory (device_id, entries) VALUES (?, ?) ON CONFLICT(device_id) DO UPDATE SET entries = excluded.entries'),
      deviceProducts: p('SELECT product, version FROM device_software WHERE device_id = ?'),
      // A product seen before on the device (renamed away and back) keeps its first-seen date.
      upsertDeviceProduct: p(`INSERT INTO device_software (device_id, product, version, raw_name, publisher, first_seen_at)
                              VALUES (@d, @p, @v, @r, @pub, COALESCE((SELECT first_seen_at FROM software_first_seen WHERE device_id = @d AND product = @p), @now))
                              ON CONFLICT(device_id, product) DO UPDATE SET version = excluded.version, raw_name = excluded.raw_name, publisher = excluded.publisher`),
      deleteDeviceProduct: p('DELETE FROM device_software WHERE device_id = ? AND product = ?'),
      firstSeen: p('INSERT INTO software_first_seen (device_id, product, first_seen_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING'),
      reapplyDevice: p('INSERT INTO temp.reapply_devices (device_id) VALUES (?)'),
      reapplyProduct: p('INSERT INTO temp.reapply_products (product) VALUES (?)'),
      reapplyWanted: p('INSERT INTO temp.reapply_wanted (device_id, product, version, raw_name, publisher) VALUES (?, ?, ?, ?, ?)'),
      // The touched products' rows of the moved devices: replaced wholesale by reapply_wanted.
      reapplyDelete: p(`DELETE FROM device_software WHERE product IN (SELECT product FROM temp.reapply_products)
                          AND device_id IN (SELECT device_id FROM temp.reapply_devices)`),
      // A product seen before on the device (renamed away and back) keeps its first-seen date.
      reapplyFirstSeen: p('INSERT INTO software_first_seen (device_id, product, first_seen_at) SELECT device_id, product, ? FROM temp.reapply_wanted WHERE true ON CONFLICT DO NOTHING'),
      reapplyInsert: p(`INSERT INTO device_software (device_id, product, version, raw_name, publisher, first_seen_at)
                        SELECT w.device_id, w.product, w.version, w.raw_name, w.publisher, f.first_seen_at
                        FROM temp.reapply_wanted w JOIN software_first_seen f ON f.device_id = w.device_id AND f.product = w.product
                        ORDER BY w.device_id, w.product`),
      reapplyClear: p('DELETE FROM temp.reapply_wanted'),
      reapplyClearDevices: p('DELETE FROM temp.reapply_devices'),
      reapplyClearProducts: p('DELETE FROM temp.reapply_products'),
      openFindings: p('SELECT id, product, org FROM license_findings WHERE rule = ? AND resolved_at IS NULL'),
      insertFinding: p('INSERT INTO license_findings (product, org, rule, over_by, beyond, first_seen_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)'),
      refreshFinding: p('UPDATE license_findings SET over_by = ?, beyond = ?, updated_at = ? WHERE id = ?'),
      resolveFinding: p('UPDATE license_findings SET resolved_at = ? WHERE id = ?'),
    };
  }

  private s(name: string): Statement {
    const st = this.st[name];
    if (!st) throw new Error(`no statement ${name}`);
    return st;
  }

  // ---- Catalog ----

  catalogVersion(): number {
    return Number((this.s('meta').get('catalog_version') as { value: string } | undefined)?.value ?? '1');
  }

  private bumpVersion(): number {
    const v = this.catalogVersion() + 1;
    this.s('setMeta').run('catalog_version', String(v));
    return v;
  }

  /** Seeds the shipped rules once (a fresh database); later edits are the operator's and are kept. */
  seedRules(rules: readonly RuleInput[]): boolean {
    return this.db.transaction(() => {
      if (this.s('meta').get('rules_seeded')) return false;
      for (const r of rules) this.s('insertRule').run({ ...r, ignore: r.ignore ? 1 : 0 });
      this.s('setMeta').run('rules_seeded', '1');
      if (rules.length) this.bumpVersion();
      return true;
    })();
  }

  listRules(): CatalogRule[] {
    return (this.s('rules').all() as RuleRow[]).map(toRule);
  }

  getRule(id: number): CatalogRule | null {
    const r = this.s('rule').get(id) as RuleRow | undefined;
    return r ? toRule(r) : null;
  }

  createRule(input: Omit<RuleInput, 'position'> & { position?: number }): CatalogRule {
    return this.db.transaction(() => {
      const position = input.position ?? (this.s('maxPosition').get() as { p: number }).p + 10;
      const info = this.s('insertRule').run({ ...input, position, ignore: input.ignore ? 1 : 0 });
      this.bumpVersion();
      return this.getRule(Number(info.lastInsertRowid))!;
    })();
  }

  updateRule(id: number, patch: Partial<RuleInput>): CatalogRule | null {
    return this.db.transaction(() => {
      const existing = this.getRule(id);
      if (!existing) return null;
      const next = { ...existing, ...patch };
      this.s('updateRule').run({ ...next, ignore: next.ignore ? 1 : 0 });
      this.bumpVersion();
      return this.getRule(id);
    })();
  }

  deleteRule(id: number): boolean {
    return this.db.transaction(() => {
      const deleted = this.s('deleteRule').run(id).changes === 1;
      if (deleted) this.bumpVersion();
      return deleted;
    })();
  }

  // ---- Approvals and settings ----

  approvals(): Map<string, ApprovalStatus> {
    return new Map((this.s('approvals').all() as { product: string; status: ApprovalStatus }[]).map((r) => [r.product, r.status]));
  }

  approvalOf(product: string): ApprovalStatus {
    return (this.s('approval').get(product) as { status: ApprovalStatus } | undefined)?.status ?? 'unreviewed';
  }

  setApproval(product: string, status: ApprovalStatus, reason: string | null, by: string, now: Date): void {
    this.s('setApproval').run(product, status, reason, now.toISOString(), by);
  }

  /** The operator's failOn for the approved-software rule; null: the policy's own. */
  failOn(): ApprovalStatus[] | null {
    const v = this.s('meta').get('software_fail_on') as { value: string } | undefined;
    return v ? (JSON.parse(v.value) as ApprovalStatus[]) : null;
  }

  setFailOn(failOn: readonly ApprovalStatus[]): void {
    this.s('setMeta').run('software_fail_on', JSON.stringify(failOn));
  }

  // ---- Licenses ----

  listLicenses(): License[] {
    return (this.s('licenses').all() as LicenseRow[]).map(toLicense);
  }

  getLicense(id: number): License | null {
    const r = this.s('license').get(id) as LicenseRow | undefined;
    return r ? toLicense(r) : null;
  }

  createLicense(input: LicenseInput, now: Date): License {
    const info = this.s('insertLicense').run({ ...input, now: now.toISOString() });
    return this.getLicense(Number(info.lastInsertRowid))!;
  }

  /** All or nothing: one transaction, so a failure leaves no license of the batch behind. */
  createLicenses(inputs: readonly LicenseInput[], now: Date): License[] {
    return this.db.transaction(() => inputs.map((i) => this.createLicense(i, now)))();
  }

  updateLicense(id: number, patch: Partial<LicenseInput>, now: Date): License | null {
    const existing = this.getLicense(id);
    if (!existing) return null;
    this.s('updateLicense').run({ ...existing, ...patch, id, now: now.toISOString() });
    return this.getLicense(id);
  }

  deleteLicense(id: number): boolean {
    return this.s('deleteLicense').run(id).changes === 1;
  }

  // ---- Normalised inventory ----

  private entryFor(normaliser: Normaliser, item: Pick<SoftwareItem, 'name' | 'version' | 'publisher'>, osKey: string): Entry {
    if (this.entriesVersion !== normaliser.catalogVersion) {
      this.entries = new Map();
      this.entriesVersion = normaliser.catalogVersion;
    }
    const key = `${osKey}\u0000${item.name}\u0000${item.publisher ?? ''}\u0000${item.version ?? ''}`;
    let entry = this.entries.get(key);
    if (entry) return entry;
    const row = this.s('entryByKey').get(osKey, item.name, item.publisher ?? '', item.version ?? '') as { id: number; product: string; norm_version: string | null; ignored: number } | undefined;
    if (row) entry = { id: row.id, product: row.product, version: row.norm_version, ignored: row.ignored === 1 };
    else {
      const n = classifyEntry(normaliser, item, osKey);
      const info = this.s('insertEntry').run(osKey, item.name, item.publisher ?? '', item.version ?? '', n.product, n.version, n.ignored ? 1 : 0);
      entry = { id: Number(info.lastInsertRowid), product: n.product, version: n.version, ignored: n.ignored };
    }
    this.entries.set(key, entry);
    return entry;
  }

  /**
   * Brings one device's normalised software up to date with its reported items. Runs inside the
   * report transaction, so it must stay cheap: an unchanged inventory costs one read and map lookups.
   */
  indexDevice(normaliser: Normaliser, deviceId: string, deviceOs: OsName | null, items: readonly SoftwareItem[] | null, now: Date): void {
    const list = items ?? [];
    const byId = new Map<number, { entry: Entry; item: SoftwareItem }>();
    for (const item of list) {
      const entry = this.entryFor(normaliser, item, entryOsKey(item, deviceOs));
      byId.set(entry.id, { entry, item });
    }
    const ids = [...byId.keys()].sort((a, b) => a - b);
    const blob = encodeIds(ids);
    const stored = this.s('inventory').get(deviceId) as { entries: Buffer } | undefined;
    if (stored && Buffer.compare(stored.entries, blob) === 0) return;
    this.s('setInventory').run(deviceId, blob);
    const wanted = new Map<string, { version: string | null; rawName: string; publisher: string | null }>();
    for (const { entry, item } of byId.values()) {
      if (entry.ignored) continue;
      const prev = wanted.get(entry.product);
      if (!prev || compareVersions(entry.version, prev.version) > 0) wanted.set(entry.product, { version: entry.version, rawName: item.name, publisher: item.publisher });
    }
    this.writeDeviceProducts(deviceId, wanted, null, now);
  }

  /** Replaces the device's product rows (all of them, or only those in `only`) with `wanted`. */
  private writeDeviceProducts(
    deviceId: string,
    wanted: Map<string, { version: string | null; rawName: string; publisher: string | null }>,
    only: Set<string> | null,
    now: Date,
  ): void {
    const nowIso = now.toISOString();
    const existing = new Map((this.s('deviceProducts').all(deviceId) as { product: string; version: string | null }[]).map((r) => [r.product, r.version]));
    for (const [product] of existing) {
      if ((only === null || only.has(product)) && !wanted.has(product)) {
        this.installs.delete(product);
        this.s('deleteDeviceProduct').run(deviceId, product);
      }
    }
    for (const [product, w] of wanted) {
      if (only !== null && !only.has(product)) continue;
      if (!existing.has(product) || existing.get(product) !== w.version) this.s('upsertDeviceProduct').run({ d: deviceId, p: product, v: w.version, r: w.rawName, pub: w.publisher, now: nowIso });
      if (!existing.has(product)) {
        // A version change keeps the row's first-seen date; only a new install moves the index.
        this.installs.delete(product);
        this.s('firstSeen').run(deviceId, product, nowIso);
      }
    }
  }

  /**
   * Re-applies the rules: re-classifies the distinct raw entries, then rewrites the product rows
   * of only the devices holding a changed entry, and of those only the products involved.
   */
  reapply(normaliser: Normaliser, now: Date): { entries: number; changedEntries: number; devices: number; deviceIds: string[]; products: string[] } {
    return this.db.transaction(() => {
      const rows = this.s('allEntries').all() as { id: number; os: string; name: string; publisher: string; version: string; product: string; norm_version: string | null; ignored: number }[];
      let maxId = 0;
      for (const r of rows) maxId = Math.max(maxId, r.id);
      const product: string[] = new Array<string>(maxId + 1);
      const version: (string | null)[] = new Array<string | null>(maxId + 1);
      const ignored = new Uint8Array(maxId + 1);
      const rawName: string[] = new Array<string>(maxId + 1);
      const publisher: (string | null)[] = new Array<string | null>(maxId + 1);
      const changed = new Uint8Array(maxId + 1);
      const touched = new Set<string>();
      let changedEntries = 0;
      for (const r of rows) {
        const n = classifyEntry(normaliser, { name: r.name, version: r.version || null, publisher: r.publisher || null }, r.os);
        product[r.id] = n.product;
        version[r.id] = n.version;
        ignored[r.id] = n.ignored ? 1 : 0;
        rawName[r.id] = r.name;
        publisher[r.id] = r.publisher || null;
        if (n.product !== r.product || n.version !== r.norm_version || (n.ignored ? 1 : 0) !== r.ignored) {
          changed[r.id] = 1;
          changedEntries++;
          touched.add(r.product);
          touched.add(n.product);
          this.s('updateEntry').run(n.product, n.version, n.ignored ? 1 : 0, r.id);
        }
      }
      this.entries = new Map();
      this.entriesVersion = normaliser.catalogVersion;
      let devices = 0;
      const updates: { deviceId: string; ids: Int32Array }[] = [];
      if (changedEntries > 0) {
        for (const inv of this.s('allInventories').iterate() as Iterable<{ device_id: string; entries: Buffer }>) {
          const ids = decodeIds(inv.entries);
          let hit = false;
          for (let i = 0; i < ids.length; i++) {
            if (changed[ids[i]!] === 1) {
              hit = true;
              break;
            }
          }
          if (hit) updates.push({ deviceId: inv.device_id, ids });
        }
        // Written after the scan: better-sqlite3 forbids writes while a statement iterates.
        for (const p of touched) {
          this.installs.delete(p);
          this.s('reapplyProduct').run(p);
        }
        const nowIso = now.toISOString();
        for (const { deviceId, ids } of updates) {
          devices++;
          this.s('reapplyDevice').run(deviceId);
          // Only the products of changed entries (old and new names, in touched) can move on this device.
          const wanted = new Map<string, number>();
          for (let i = 0; i < ids.length; i++) {
            const id = ids[i]!;
            const p = product[id]!;
            if (ignored[id] === 1 || !touched.has(p)) continue;
            const prev = wanted.get(p);
            if (prev === undefined || compareVersions(version[id] ?? null, version[prev] ?? null) > 0) wanted.set(p, id);
          }
          for (const [p, id] of wanted) this.s('reapplyWanted').run(deviceId, p, version[id] ?? null, rawName[id]!, publisher[id] ?? null);
        }
        const cacheBefore = this.db.pragma('cache_size', { simple: true }) as number;
        this.db.pragma(`cache_size = -${REAPPLY_CACHE_KIB}`);
        try {
          this.s('reapplyDelete').run();
          this.s('reapplyFirstSeen').run(nowIso);
          this.s('reapplyInsert').run();
        } finally {
          this.db.pragma(`cache_size = ${cacheBefore}`);
          this.s('reapplyClear').run();
          this.s('reapplyClearDevices').run();
          this.s('reapplyClearProducts').run();
        }
      }
      this.s('setMeta').run('applied_catalog_version', String(normaliser.catalogVersion));
      return { entries: rows.length, changedEntries, devices, deviceIds: updates.map((u) => u.deviceId), products: [...touched] };
    })();
  }

  hasInventory(): boolean {
    return this.db.prepare('SELECT 1 FROM device_inventory LIMIT 1').get() !== undefined;
  }

  // ---- Queries ----

  products(query: { scope: OrgScope; q?: string; status?: ApprovalStatus; org?: string; limit: number; offset: number }): { total: number; items: ProductRow[] } {
    const params: Record<string, unknown> = {};
    const where = [scopeClause('d.org', query.scope, params), 'd.revoked = 0'];
    if (query.org !== undefined) {
      where.push('d.org = @org');
      params.org = query.org;
    }
    if (query.q) {
      where.push(`s.product LIKE @q ESCAPE '\\'`);
      params.q = `%${query.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    }
    const rows = this.db
      .prepare(
        `SELECT s.product, COUNT(*) AS devices, COUNT(DISTINCT COALESCE(d.owner, d.user)) AS users, COALESCE(a.status, 'unreviewed') AS status
         FROM device_software s JOIN devices d ON d.id = s.device_id LEFT JOIN product_approvals a ON a.product = s.product
         WHERE ${where.join(' AND ')} GROUP BY s.product ORDER BY devices DESC, s.product`,
      )
      .all(params) as { product: string; devices: number; users: number; status: ApprovalStatus }[];
    const filtered = query.status ? rows.filter((r) => r.status === query.status) : rows;
    const page = filtered.slice(query.offset, query.offset + query.limit);
    const versionsSt = this.db.prepare(
      `SELECT s.version, COUNT(*) AS devices FROM device_software s JOIN devices d ON d.id = s.device_id
       WHERE s.product = @product AND ${where.join(' AND ')} GROUP BY s.version ORDER BY devices DESC LIMIT 50`,
    );
    const publishersSt = this.db.prepare(
      `SELECT DISTINCT s.publisher FROM device_software s JOIN devices d ON d.id = s.device_id
       WHERE s.product = @product AND s.publisher IS NOT NULL AND ${where.join(' AND ')} LIMIT 20`,
    );
    return {
      total: filtered.length,
      items: page.map((r) => ({
        ...r,
        versions: (versionsSt.all({ ...params, product: r.product }) as { version: string | null; devices: number }[]).sort((a, b) => compareVersions(b.version, a.version)),
        publishers: (publishersSt.all({ ...params, product: r.product }) as { publisher: string }[]).map((x) => x.publisher).sort(),
      })),
    };
  }

  productDevices(product: string, scope: OrgScope): ProductDevice[] {
    const params: Record<string, unknown> = { product };
    const rows = this.db
      .prepare(
        `SELECT s.device_id, d.hostname, d.owner, d.user, d.org, s.version, s.raw_name, s.first_seen_at, d.last_seen_at
         FROM device_software s JOIN devices d ON d.id = s.device_id
         WHERE s.product = @product AND d.revoked = 0 AND ${scopeClause('d.org', scope, params)}
         ORDER BY d.hostname COLLATE NOCASE`,
      )
      .all(params) as { device_id: string; hostname: string; owner: string | null; user: string | null; org: string; version: string | null; raw_name: string; first_seen_at: string; last_seen_at: string | null }[];
    return rows.map((r) => ({
      deviceId: r.device_id,
      hostname: r.hostname,
      owner: r.owner,
      user: r.user,
      org: r.org,
      version: r.version,
      rawName: r.raw_name,
      firstSeenAt: r.first_seen_at,
      lastSeenAt: r.last_seen_at,
    }));
  }

  /**
   * Installs of these products (the licensed ones), for the reconciliation. The devices are read
   * once; each product is then one covering-index range, not a join per install.
   */
  usage(products: readonly string[], scope: OrgScope): Map<string, ProductUsage['installs']> {
    const out = new Map<string, ProductUsage['installs']>();
    if (products.length === 0) return out;
    const params: Record<string, unknown> = {};
    const devices = new Map<string, [string, string, string | null, string | null]>();
    const rows = this.db
      .prepare(`SELECT id, hostname, org, COALESCE(owner, user), last_seen_at FROM devices d WHERE revoked = 0 AND ${scopeClause('d.org', scope, params)}`)
      .raw(true)
      .all(params) as [string, string, string, string | null, string | null][];
    for (const r of rows) devices.set(r[0], [r[1], r[2], r[3], r[4]]);
    const dataVersion = this.db.pragma('data_version', { simple: true }) as number;
    if (dataVersion !== this.installsDataVersion) {
      this.installs = new Map();
      this.installsDataVersion = dataVersion;
    }
    const st = this.db.prepare('SELECT device_id, first_seen_at FROM device_software WHERE product = ?').raw(true);
    for (const product of products) {
      let list = this.installs.get(product);
      if (!list) {
        list = st.all(product) as [string, string][];
        // Bounded: licensed products are tens, not thousands; past the bound, start over.
        if (this.installs.size >= INSTALL_INDEX_PRODUCTS) this.installs.clear();
        this.installs.set(product, list);
      }
      const installs: ProductUsage['installs'] = [];
      for (const [deviceId, firstSeenAt] of list) {
        const d = devices.get(deviceId);
        if (d) installs.push({ deviceId, hostname: d[0], org: d[1], user: d[2], firstSeenAt, lastSeenAt: d[3] });
      }
      out.set(product, installs);
    }
    return out;
  }

  /** Devices with any of these products installed: the ones an approval change can move. */
  devicesWithProducts(products: readonly string[]): string[] {
    return (
      this.db
        .prepare('SELECT DISTINCT device_id FROM device_software WHERE product IN (SELECT value FROM json_each(?))')
        .all(JSON.stringify(products)) as { device_id: string }[]
    ).map((r) => r.device_id);
  }

  /** The org of each of these devices (unknown ids are left out). */
  deviceOrgs(deviceIds: readonly string[]): Map<string, string> {
    if (deviceIds.length === 0) return new Map();
    const rows = this.db.prepare('SELECT id, org FROM devices WHERE id IN (SELECT value FROM json_each(?))').all(JSON.stringify([...new Set(deviceIds)])) as { id: string; org: string }[];
    return new Map(rows.map((r) => [r.id, r.org]));
  }

  allDeviceIds(): string[] {
    return (this.db.prepare('SELECT device_id FROM device_facts').all() as { device_id: string }[]).map((r) => r.device_id);
  }

  // ---- Fleet-level findings (ISSP 9.15.4) ----

  /** Opens, refreshes or resolves the over-deployment findings to match the latest reconciliation. */
  syncOverDeployments(current: readonly OverDeployment[], now: Date): void {
    const nowIso = now.toISOString();
    // A product and org over-deployed under two license types is one finding.
    const merged = new Map<string, OverDeployment>();
    for (const o of current) {
      const key = `${o.product}\u0000${o.org}`;
      const m = merged.get(key);
      merged.set(key, m ? { ...m, overBy: m.overBy + o.overBy, beyondDevices: [...m.beyondDevices, ...o.beyondDevices] } : o);
    }
    this.db.transaction(() => {
      const open = new Map((this.s('openFindings').all('9.15.4') as { id: number; product: string; org: string }[]).map((r) => [`${r.product}\u0000${r.org}`, r.id]));
      for (const [key, o] of merged) {
        const beyond = JSON.stringify(o.beyondDevices);
        const id = open.get(key);
        if (id !== undefined) {
          this.s('refreshFinding').run(o.overBy, beyond, nowIso, id);
          open.delete(key);
        } else this.s('insertFinding').run(o.product, o.org, '9.15.4', o.overBy, beyond, nowIso, nowIso);
      }
      for (const id of open.values()) this.s('resolveFinding').run(nowIso, id);
    })();
  }

  listOverDeployments(includeResolved: boolean): { id: number; product: string; org: string; issp: string; overBy: number; beyondDevices: { deviceId: string; hostname: string }[]; firstSeenAt: string; updatedAt: string; resolvedAt: string | null }[] {
    const rows = this.db
      .prepare(`SELECT * FROM license_findings ${includeResolved ? '' : 'WHERE resolved_at IS NULL'} ORDER BY first_seen_at DESC, id DESC LIMIT 500`)
      .all() as { id: number; product: string; org: string; rule: string; over_by: number; beyond: string; first_seen_at: string; updated_at: string; resolved_at: string | null }[];
    return rows.map((r) => ({
      id: r.id,
      product: r.product,
      org: r.org,
      issp: r.rule,
      overBy: r.over_by,
      beyondDevices: JSON.parse(r.beyond) as { deviceId: string; hostname: string }[],
      firstSeenAt: r.first_seen_at,
      updatedAt: r.updated_at,
      resolvedAt: r.resolved_at,
    }));
  }
}
