import type { Database, Statement } from 'better-sqlite3';
import { listChanges, type ApprovalStatus, type OsName, type SoftwareItem } from '@vigie/shared';
import type { OrgScope } from '../store/datastore';
import { Normaliser, compareVersions, compareVersionsCached, type CatalogRule, type Normalised, type RuleInput, type RuleOs } from './normalise';
import type { FleetDevices, InstallIndex, License, LicenseInput, OverDeployment } from './reconcile';

/**
 * The licenses module's tables (migrations 3 and 4), on the SQLite store's connection. SQLite only,
 * as the rest of the store today; the PostgreSQL store will implement the same methods.
 * Every method is synchronous (better-sqlite3), so the report transaction can call indexDevice.
 *
 * The normalised inventory: software_entries holds each distinct raw entry once with its
 * classification (product id, normalised version, ignored); device_inventory holds each device's
 * entry ids (an int32 blob) under an integer device key; device_products holds one row per product
 * ever seen on a device, keyed (product id, device key), naming the installed entry (NULL once
 * uninstalled) and the first-seen date.
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

interface EntryRow {
  id: number;
  os: string;
  name: string;
  publisher: string;
  version: string;
  product_id: number;
  norm_version: string | null;
  ignored: number;
}

/**
 * Every distinct raw entry and its classification, indexed by entry id (a few thousand to tens of
 * thousands): the ingest hook resolves a report's items here without building a key string per
 * item, and a rule change diffs the old and new classifications here.
 */
class EntryTable {
  readonly os: string[] = [];
  readonly name: string[] = [];
  /** '' for none, as stored. */
  readonly publisher: string[] = [];
  /** '' for none, as stored. */
  readonly version: string[] = [];
  readonly product: number[] = [];
  readonly normVersion: (string | null)[] = [];
  readonly ignored: number[] = [];
  readonly byName = new Map<string, number[]>();
  maxId = 0;

  add(r: EntryRow): void {
    this.os[r.id] = r.os;
    this.name[r.id] = r.name;
    this.publisher[r.id] = r.publisher;
    this.version[r.id] = r.version;
    this.product[r.id] = r.product_id;
    this.normVersion[r.id] = r.norm_version;
    this.ignored[r.id] = r.ignored;
    const same = this.byName.get(r.name);
    if (same) same.push(r.id);
    else this.byName.set(r.name, [r.id]);
    if (r.id > this.maxId) this.maxId = r.id;
  }

  find(osKey: string, name: string, publisher: string, version: string): number | undefined {
    const same = this.byName.get(name);
    if (same === undefined) return undefined;
    for (let i = 0; i < same.length; i++) {
      const id = same[i]!;
      if (this.version[id] === version && this.publisher[id] === publisher && this.os[id] === osKey) return id;
    }
    return undefined;
  }
}

/** A classification of the entries (by entry id): the current one, or the one before a rule change. */
interface Classification {
  product: ArrayLike<number>;
  normVersion: ArrayLike<string | null>;
  ignored: ArrayLike<number>;
}

/**
 * The entry standing for each product among a device's entries: a product installed twice counts
 * once, with its highest version (the lowest entry id on a tie, so every path picks the same one).
 * `only`, by product id: the products to look at (a rule change looks at the ones it moved).
 */
function representatives(ids: ArrayLike<number>, c: Classification, only: Uint8Array | null): Map<number, number> {
  const out = new Map<number, number>();
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    if (c.ignored[id] !== 0) continue;
    const p = c.product[id]!;
    if (only !== null && only[p] !== 1) continue;
    const prev = out.get(p);
    if (prev === undefined) out.set(p, id);
    else {
      const order = compareVersionsCached(c.normVersion[id] ?? null, c.normVersion[prev] ?? null);
      if (order > 0 || (order === 0 && id < prev)) out.set(p, id);
    }
  }
  return out;
}

/** A software list's entries in one table: `sorted`, one id per item (repeats kept); `distinct`, each id once; `blob`, as the inventory stores it. */
interface ListInventory {
  table: EntryTable;
  deviceOs: OsName | null;
  sorted: Int32Array;
  distinct: Int32Array;
  blob: Buffer;
}

/** Past this many changed items, looking all of a list's items up is as cheap. */
const MAX_CHANGES_APPLIED = 64;

/** `sorted` (ids, with repeats) without one of each of `removed` and with `added`, sorted; null if a removed id is not there. */
function withChanges(sorted: Int32Array, added: readonly number[], removed: readonly number[]): Int32Array | null {
  const kept = sorted.length - removed.length;
  if (kept < 0) return null;
  const dropped = new Uint8Array(sorted.length);
  for (const id of removed) {
    // The first place of `id` not dropped yet: repeats of an id sit together.
    let low = 0;
    let high = sorted.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (sorted[mid]! < id) low = mid + 1;
      else high = mid;
    }
    while (low < sorted.length && sorted[low] === id && dropped[low] === 1) low++;
    if (low === sorted.length || sorted[low] !== id) return null;
    dropped[low] = 1;
  }
  const out = new Int32Array(kept + added.length);
  let n = 0;
  for (let i = 0; i < sorted.length; i++) if (dropped[i] === 0) out[n++] = sorted[i]!;
  for (const id of added) out[n++] = id;
  return out.sort();
}

/** A product's installs, oldest first: the reconciliation's input, kept between reports. */
interface ProductInstalls {
  deviceKeys: Int32Array;
  firstSeen: Float64Array;
}

/** The entries' and products' state as far as another connection could move it (see LicenseStore.sync). */
interface TablesMark {
  entry: number;
  product: number;
  applied: string | null;
}

interface WrittenFinding {
  id: number;
  overBy: number;
  beyondDevices: readonly { deviceId: string; hostname: string }[];
}

function sameDevices(a: readonly { deviceId: string; hostname: string }[], b: readonly { deviceId: string; hostname: string }[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i]!.deviceId !== b[i]!.deviceId || a[i]!.hostname !== b[i]!.hostname) return false;
  return true;
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

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** Sorted entry ids as stored: little-endian int32. */
function encodeIds(ids: Int32Array): Buffer {
  if (LITTLE_ENDIAN) return Buffer.from(ids.buffer, ids.byteOffset, ids.length * 4);
  const buf = Buffer.allocUnsafe(ids.length * 4);
  for (let i = 0; i < ids.length; i++) buf.writeInt32LE(ids[i]!, i * 4);
  return buf;
}

function decodeIds(buf: Buffer): Int32Array {
  if (!LITTLE_ENDIAN) {
    const out = new Int32Array(buf.length >> 2);
    for (let i = 0; i < out.length; i++) out[i] = buf.readInt32LE(i * 4);
    return out;
  }
  // A view when aligned (better-sqlite3 gives each blob its own memory); otherwise an aligned copy.
  if (buf.byteOffset % 4 === 0) return new Int32Array(buf.buffer, buf.byteOffset, buf.length >> 2);
  return new Int32Array(new Uint8Array(buf).buffer, 0, buf.length >> 2);
}

/** SQLite's page cache while re-applying rules: the default 2 MB thrashes on a fleet's rows. */
const REAPPLY_CACHE_KIB = 512 * 1024;
/** Products whose installs the store keeps in memory for the reconciliation (see LicenseStore.installs). */
const INSTALL_INDEX_PRODUCTS = 500;

function scopeClause(column: string, scope: OrgScope, params: Record<string, unknown>): string {
  if (scope === null) return '1 = 1';
  params.scope = JSON.stringify(scope);
  return `${column} IN (SELECT value FROM json_each(@scope))`;
}

function likeClause(column: string, q: string, params: Record<string, unknown>): string {
  params.q = `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  return `${column} LIKE @q ESCAPE '\\'`;
}

export class LicenseStore {
  private readonly st: Record<string, Statement>;
  /** Loaded on first use; dropped when the tables may have moved under it (see sync). */
  private entries: EntryTable | null = null;
  private productIds = new Map<string, number>();
  private productNames: string[] = [];
  /** What the entries and products held when loaded, moved along by this connection's own writes. */
  private known: TablesMark = { entry: 0, product: 0, applied: null };
  /** Whether this connection inserted entries or products since they were loaded (a rollback would take them back). */
  private inserted = false;
  private dataVersion = -1;
  /**
   * The reconciliation's installs of the products asked for (the licensed ones), by product id, so
   * a report does not re-read ~600k rows each time. A write that adds or removes a product's
   * install, or moves its first-seen date, drops that product's entry (dropping is right even if
   * the transaction rolls back).
   */
  private installs = new Map<number, ProductInstalls>();
  /** The open over-deployment findings as this connection last wrote them, by product and org (see syncOverDeployments). */
  private findingsWritten = new Map<string, WrittenFinding>();
  /**
   * Each software item's entry id in the table it was looked up in: the collector shares unchanged
   * items between a device's reports (collector/src/util/canonical-json.ts), so a report that
   * updates one application looks up one entry. A reloaded table (after a rollback) misses.
   */
  private readonly entryOfItem = new WeakMap<SoftwareItem, { table: EntryTable; osKey: string; id: number }>();
  /** Each software list's entries, as indexDevice last worked them out (see inventoryOf). */
  private readonly inventories = new WeakMap<readonly SoftwareItem[], ListInventory>();

  constructor(readonly db: Database) {
    // The devices a products query counts (the viewer's orgs, not revoked), with the person each
    // stands for: the per-product counts are then one join on an integer key.
    db.exec('CREATE TEMP TABLE IF NOT EXISTS license_visible (key INTEGER PRIMARY KEY, person TEXT)');
    const p = (sql: string) => db.prepare(sql);
    this.st = {
      meta: p('SELECT value FROM catalog_meta WHERE key = ?'),
      setMeta: p('INSERT INTO catalog_meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value'),
      deleteMeta: p('DELETE FROM catalog_meta WHERE key = ?'),
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
      dataVersion: p('PRAGMA data_version').pluck(),
      tablesMark: p(`SELECT (SELECT COALESCE(MAX(id), 0) FROM software_entries) AS entry, (SELECT COALESCE(MAX(id), 0) FROM software_products) AS product,
                            (SELECT value FROM catalog_meta WHERE key = 'applied_catalog_version') AS applied`),
      allProducts: p('SELECT id, name FROM software_products'),
      productByName: p('SELECT id FROM software_products WHERE name = ?').pluck(),
      insertProduct: p('INSERT INTO software_products (name) VALUES (?)'),
      allEntries: p('SELECT id, os, name, publisher, version, product_id, norm_version, ignored FROM software_entries'),
      entryByKey: p('SELECT id, os, name, publisher, version, product_id, norm_version, ignored FROM software_entries WHERE os = ? AND name = ? AND publisher = ? AND version = ?'),
      insertEntry: p('INSERT INTO software_entries (os, name, publisher, version, product_id, norm_version, ignored) VALUES (?, ?, ?, ?, ?, ?, ?)'),
      updateEntry: p('UPDATE software_entries SET product_id = ?, norm_version = ?, ignored = ? WHERE id = ?'),
      inventory: p('SELECT key, entries FROM device_inventory WHERE device_id = ?'),
      allInventories: p('SELECT key, device_id, entries FROM device_inventory ORDER BY key'),
      insertInventory: p('INSERT INTO device_inventory (device_id, entries) VALUES (?, ?)'),
      updateInventory: p('UPDATE device_inventory SET entries = ? WHERE key = ?'),
      // A product seen before on the device (uninstalled, or renamed away and back) keeps its first-seen date.
      install: p(`INSERT INTO device_products (product_id, device_key, entry_id, first_seen) VALUES (?, ?, ?, ?)
                  ON CONFLICT(product_id, device_key) DO UPDATE SET entry_id = excluded.entry_id`),
      uninstall: p('UPDATE device_products SET entry_id = NULL WHERE product_id = ? AND device_key = ?'),
      uninstallProduct: p('UPDATE device_products SET entry_id = NULL WHERE product_id = ? AND entry_id IS NOT NULL'),
      uninstallAll: p('UPDATE device_products SET entry_id = NULL WHERE entry_id IS NOT NULL'),
      productInstallKeys: p('SELECT device_key FROM device_products WHERE product_id = ? AND entry_id IS NOT NULL ORDER BY first_seen, device_key').pluck(),
      productInstallDates: p('SELECT first_seen FROM device_products WHERE product_id = ? AND entry_id IS NOT NULL ORDER BY first_seen, device_key').pluck(),
      openFindings: p('SELECT id, product, org FROM license_findings WHERE rule = ? AND resolved_at IS NULL'),
      insertFinding: p('INSERT INTO license_findings (product, org, rule, over_by, beyond, first_seen_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)'),
      refreshFinding: p('UPDATE license_findings SET over_by = ?, beyond = ?, updated_at = ? WHERE id = ?'),
      touchFinding: p('UPDATE license_findings SET updated_at = ? WHERE id = ?'),
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

  /**
   * Drops what this connection keeps in memory when the tables may have moved under it: another
   * connection committed (PRAGMA data_version moved: the CLI, an older collector), or rows this
   * connection inserted are gone (the report transaction that inserted them rolled back, and their
   * ids may be given again). The entries and products are re-read only if their mark moved.
   */
  private sync(): void {
    const dataVersion = this.s('dataVersion').get() as number;
    const others = dataVersion !== this.dataVersion;
    if (others) {
      this.dataVersion = dataVersion;
      this.installs.clear();
      this.findingsWritten = new Map();
    }
    if (this.entries === null || (!others && !this.inserted)) return;
    const mark = this.s('tablesMark').get() as TablesMark;
    if (mark.entry === this.known.entry && mark.product === this.known.product && mark.applied === this.known.applied) return;
    this.forget();
  }

  private forget(): void {
    this.entries = null;
    this.productIds = new Map();
    this.productNames = [];
    this.inserted = false;
    this.installs.clear();
    this.findingsWritten = new Map();
  }

  private table(): EntryTable {
    if (this.entries) return this.entries;
    this.known = this.s('tablesMark').get() as TablesMark;
    const t = new EntryTable();
    for (const r of this.s('allEntries').iterate() as Iterable<EntryRow>) t.add(r);
    this.productIds = new Map();
    this.productNames = [];
    for (const r of this.s('allProducts').iterate() as Iterable<{ id: number; name: string }>) {
      this.productIds.set(r.name, r.id);
      this.productNames[r.id] = r.name;
    }
    this.entries = t;
    return t;
  }

  private productId(name: string): number {
    this.table();
    let id = this.productIds.get(name);
    if (id !== undefined) return id;
    id = this.s('productByName').get(name) as number | undefined;
    if (id === undefined) {
      id = Number(this.s('insertProduct').run(name).lastInsertRowid);
      this.known.product = Math.max(this.known.product, id);
      this.inserted = true;
    }
    this.productIds.set(name, id);
    this.productNames[id] = name;
    return id;
  }

  /** The product's id if it was ever stored; a read never creates one. */
  private knownProductId(name: string): number | undefined {
    this.table();
    const id = this.productIds.get(name) ?? (this.s('productByName').get(name) as number | undefined);
    if (id !== undefined && this.productNames[id] === undefined) {
      this.productIds.set(name, id);
      this.productNames[id] = name;
    }
    return id;
  }

  /** Classified from the entry's stored key, so an entry classified on ingest and re-classified by a rule change compare equal. */
  private classifyStored(normaliser: Normaliser, osKey: string, name: string, publisher: string, version: string): Normalised {
    return classifyEntry(normaliser, { name, publisher: publisher || null, version: version || null }, osKey);
  }

  private entryId(normaliser: Normaliser, t: EntryTable, item: SoftwareItem, osKey: string): number {
    const remembered = this.entryOfItem.get(item);
    if (remembered !== undefined && remembered.table === t && remembered.osKey === osKey) return remembered.id;
    const id = this.lookUpEntry(normaliser, t, item, osKey);
    this.entryOfItem.set(item, { table: t, osKey, id });
    return id;
  }

  private lookUpEntry(normaliser: Normaliser, t: EntryTable, item: SoftwareItem, osKey: string): number {
    const publisher = item.publisher ?? '';
    const version = item.version ?? '';
    const known = t.find(osKey, item.name, publisher, version);
    if (known !== undefined) return known;
    const row = this.s('entryByKey').get(osKey, item.name, publisher, version) as EntryRow | undefined;
    if (row) {
      t.add(row);
      return row.id;
    }
    const n = this.classifyStored(normaliser, osKey, item.name, publisher, version);
    const productId = this.productId(n.product);
    const ignored = n.ignored ? 1 : 0;
    const id = Number(this.s('insertEntry').run(osKey, item.name, publisher, version, productId, n.version, ignored).lastInsertRowid);
    this.known.entry = Math.max(this.known.entry, id);
    this.inserted = true;
    t.add({ id, os: osKey, name: item.name, publisher, version, product_id: productId, norm_version: n.version, ignored });
    return id;
  }

  /**
   * Brings one device's normalised software up to date with its reported items. Runs inside the
   * report transaction, so it must stay cheap: an unchanged inventory costs a lookup per item in
   * memory and one read; a changed one writes only the products that moved.
   */
  indexDevice(normaliser: Normaliser, deviceId: string, deviceOs: OsName | null, items: readonly SoftwareItem[] | null, now: Date): void {
    this.sync();
    const t = this.table();
    const { distinct, blob, changed } = this.inventoryOf(normaliser, t, items ?? [], deviceOs);
    const stored = this.s('inventory').get(deviceId) as { key: number; entries: Buffer } | undefined;
    if (stored && stored.entries.equals(blob)) return;
    // When the stored inventory is the previous list's, only the products of the changed entries can move.
    let only: Uint8Array | null = null;
    if (stored && changed && stored.entries.equals(changed.previousBlob)) {
      const products = changed.ids.map((id) => t.product[id]!);
      only = new Uint8Array(Math.max(0, ...products) + 1);
      for (const p of products) only[p] = 1;
    }
    // The stored rows are the old inventory's representatives under the current classification.
    const before = stored ? representatives(decodeIds(stored.entries), t, only) : new Map<number, number>();
    const after = representatives(distinct, t, only);
    let key: number;
    if (stored) {
      key = stored.key;
      this.s('updateInventory').run(blob, key);
    } else key = Number(this.s('insertInventory').run(deviceId, blob).lastInsertRowid);
    this.writeInstalls(key, before, after, now.getTime());
  }

  /**
   * A software list's entries: their ids, sorted, each once, and as the inventory blob. A list the
   * collector built from the device's previous list (listChanges) is worked out from that list's
   * entries and the few items that changed; `changed` then names the entries added or removed.
   */
  private inventoryOf(normaliser: Normaliser, t: EntryTable, items: readonly SoftwareItem[], deviceOs: OsName | null): ListInventory & { changed: { ids: number[]; previousBlob: Buffer } | null } {
    const known = this.inventories.get(items);
    if (known && known.table === t && known.deviceOs === deviceOs) return { ...known, changed: null };
    const changes = listChanges(items);
    const previous = changes && this.inventories.get(changes.previous);
    let sorted: Int32Array | null = null;
    let changedIds: number[] | null = null;
    if (changes && previous && previous.table === t && previous.deviceOs === deviceOs && changes.added.length + changes.removed.length <= MAX_CHANGES_APPLIED) {
      const added = changes.added.map((item) => this.entryId(normaliser, t, item, entryOsKey(item, deviceOs)));
      const removed = changes.removed.map((item) => this.entryId(normaliser, t, item, entryOsKey(item, deviceOs)));
      sorted = withChanges(previous.sorted, added, removed);
      if (sorted) changedIds = [...added, ...removed];
    }
    if (sorted === null) {
      sorted = new Int32Array(items.length);
      for (let i = 0; i < items.length; i++) {
        const item = items[i]!;
        sorted[i] = this.entryId(normaliser, t, item, entryOsKey(item, deviceOs));
      }
      sorted.sort();
    }
    const ids = new Int32Array(sorted.length);
    let n = 0;
    for (let i = 0; i < sorted.length; i++) if (i === 0 || sorted[i] !== sorted[i - 1]) ids[n++] = sorted[i]!;
    const distinct = ids.subarray(0, n);
    const entry: ListInventory = { table: t, deviceOs, sorted, distinct, blob: encodeIds(distinct) };
    this.inventories.set(items, entry);
    return { ...entry, changed: changedIds && previous ? { ids: changedIds, previousBlob: previous.blob } : null };
  }

  /** Moves one device's product rows from the `before` representatives to the `after` ones. */
  private writeInstalls(key: number, before: Map<number, number>, after: Map<number, number>, nowMs: number): void {
    for (const [product, entry] of after) {
      const previous = before.get(product);
      if (previous === entry) continue;
      // A version change keeps the row's first-seen date; only a new install changes the product's installs.
      this.s('install').run(product, key, entry, nowMs);
      if (previous === undefined) this.installs.delete(product);
    }
    for (const product of before.keys()) {
      if (after.has(product)) continue;
      this.s('uninstall').run(product, key);
      this.installs.delete(product);
    }
  }

  /** Whether the migration to integer keys left the installed entries to rebuild from the inventories. */
  rebuildPending(): boolean {
    return this.s('meta').get('inventory_rebuild') !== undefined;
  }

  /**
   * Re-applies the rules: re-classifies the distinct raw entries, then rewrites the product rows
   * of only the devices holding a changed entry, and of those only the products involved. A
   * product no entry maps to any more (renamed away, folded into another) loses all its installs
   * in one statement. After the migration to integer keys (rebuildPending), every device's rows
   * are rebuilt from its inventory.
   */
  reapply(normaliser: Normaliser, now: Date): { entries: number; changedEntries: number; devices: number; deviceIds: string[]; products: string[] } {
    try {
      return this.reapplyTx(normaliser, now);
    } catch (e) {
      // The classification in memory ran ahead of the rolled-back rows.
      this.forget();
      throw e;
    }
  }

  private reapplyTx(normaliser: Normaliser, now: Date): ReturnType<LicenseStore['reapply']> {
    return this.db.transaction(() => {
      this.sync();
      const t = this.table();
      const rebuild = this.rebuildPending();
      const before: Classification = { product: t.product.slice(), normVersion: t.normVersion.slice(), ignored: t.ignored.slice() };
      const changed = new Uint8Array(t.maxId + 1);
      const touchedIds = new Set<number>();
      let entries = 0;
      let changedEntries = 0;
      for (let id = 1; id <= t.maxId; id++) {
        if (t.name[id] === undefined) continue;
        entries++;
        const n = this.classifyStored(normaliser, t.os[id]!, t.name[id]!, t.publisher[id]!, t.version[id]!);
        const product = this.productId(n.product);
        const ignored = n.ignored ? 1 : 0;
        if (product === t.product[id] && n.version === t.normVersion[id] && ignored === t.ignored[id]) continue;
        changed[id] = 1;
        changedEntries++;
        touchedIds.add(t.product[id]!);
        touchedIds.add(product);
        t.product[id] = product;
        t.normVersion[id] = n.version;
        t.ignored[id] = ignored;
        this.s('updateEntry').run(product, n.version, ignored, id);
      }
      const deviceIds: string[] = [];
      if (changedEntries > 0 || rebuild) {
        // Products a changed entry left or joined, split in two: those no entry maps to any more,
        // emptied in one statement each, and those whose rows move device by device.
        const moving = new Uint8Array(this.productNames.length + 1);
        const vacated: number[] = [];
        if (!rebuild) {
          const kept = new Uint8Array(moving.length);
          for (let id = 1; id <= t.maxId; id++) if (t.ignored[id] === 0) kept[t.product[id]!] = 1;
          for (const p of touchedIds) {
            if (kept[p] === 1) moving[p] = 1;
            else vacated.push(p);
          }
        } else moving.fill(1);
        const nowMs = now.getTime();
        const cacheBefore = this.db.pragma('cache_size', { simple: true }) as number;
        this.db.pragma(`cache_size = -${REAPPLY_CACHE_KIB}`);
        try {
          if (rebuild) {
            this.s('uninstallAll').run();
            this.installs.clear();
          }
          for (const p of vacated) {
            this.s('uninstallProduct').run(p);
            this.installs.delete(p);
          }
          const none = new Map<number, number>();
          const moved: number[] = [];
          const chunk = this.db.prepare('SELECT key, entries FROM device_inventory WHERE key > ? ORDER BY key LIMIT 4096').raw(true);
          for (let last = 0; ; ) {
            // Read in chunks: better-sqlite3 allows no write while a statement iterates.
            const rows = chunk.all(last) as [number, Buffer][];
            if (rows.length === 0) break;
            last = rows[rows.length - 1]![0];
            for (const [key, entries] of rows) {
              const ids = decodeIds(entries);
              let holds = rebuild;
              for (let i = 0; !holds && i < ids.length; i++) holds = changed[ids[i]!] === 1;
              if (!holds) continue;
              moved.push(key);
              this.writeInstalls(key, rebuild ? none : representatives(ids, before, moving), representatives(ids, t, moving), nowMs);
            }
          }
          if (moved.length > 0) {
            const idOf = new Map(this.db.prepare('SELECT key, device_id FROM device_inventory').raw(true).all() as [number, string][]);
            for (const key of moved) deviceIds.push(idOf.get(key)!);
          }
        } finally {
          this.db.pragma(`cache_size = ${cacheBefore}`);
        }
      }
      if (rebuild) this.s('deleteMeta').run('inventory_rebuild');
      this.s('setMeta').run('applied_catalog_version', String(normaliser.catalogVersion));
      this.known.applied = String(normaliser.catalogVersion);
      return { entries, changedEntries, devices: deviceIds.length, deviceIds, products: [...touchedIds].map((p) => this.productNames[p]!) };
    })();
  }

  hasInventory(): boolean {
    return this.db.prepare('SELECT 1 FROM device_inventory LIMIT 1').get() !== undefined;
  }

  // ---- Queries ----

  products(query: { scope: OrgScope; q?: string; status?: ApprovalStatus; org?: string; limit: number; offset: number }): { total: number; items: ProductRow[] } {
    this.sync();
    return this.db.transaction(() => {
      const params: Record<string, unknown> = {};
      const where = [scopeClause('d.org', query.scope, params), 'd.revoked = 0'];
      if (query.org !== undefined) {
        where.push('d.org = @org');
        params.org = query.org;
      }
      this.db.prepare('DELETE FROM temp.license_visible').run();
      this.db.prepare(`INSERT INTO temp.license_visible (key, person) SELECT i.key, COALESCE(d.owner, d.user) FROM device_inventory i JOIN devices d ON d.id = i.device_id WHERE ${where.join(' AND ')}`).run(params);
      const named: Record<string, unknown> = {};
      const rows = this.db
        .prepare(
          `SELECT c.product_id AS id, s.name AS product, c.devices, COALESCE(a.status, 'unreviewed') AS status
           FROM (SELECT p.product_id, COUNT(*) AS devices
                 FROM device_products p JOIN temp.license_visible v ON v.key = p.device_key
                 WHERE p.entry_id IS NOT NULL ${query.q ? `AND p.product_id IN (SELECT id FROM software_products WHERE ${likeClause('name', query.q, named)})` : ''}
                 GROUP BY p.product_id) c
           JOIN software_products s ON s.id = c.product_id LEFT JOIN product_approvals a ON a.product = s.name
           ORDER BY c.devices DESC, s.name`,
        )
        .all(named) as { id: number; product: string; devices: number; status: ApprovalStatus }[];
      const filtered = query.status ? rows.filter((r) => r.status === query.status) : rows;
      const page = filtered.slice(query.offset, query.offset + query.limit);
      // Distinct people only for the page: across every product it is the costliest count.
      const usersSt = this.db
        .prepare('SELECT COUNT(DISTINCT v.person) FROM device_products p JOIN temp.license_visible v ON v.key = p.device_key WHERE p.product_id = ? AND p.entry_id IS NOT NULL')
        .pluck();
      // Versions and publishers come from the installed entries: one grouped read, no join per row.
      const entriesSt = this.db
        .prepare('SELECT p.entry_id, COUNT(*) FROM device_products p JOIN temp.license_visible v ON v.key = p.device_key WHERE p.product_id = ? AND p.entry_id IS NOT NULL GROUP BY p.entry_id')
        .raw(true);
      const t = this.table();
      const items = page.map(({ id, product, devices, status }) => {
        const versions = new Map<string | null, number>();
        const publishers = new Set<string>();
        for (const [entry, n] of entriesSt.all(id) as [number, number][]) {
          const version = t.normVersion[entry] ?? null;
          versions.set(version, (versions.get(version) ?? 0) + n);
          if (t.publisher[entry]) publishers.add(t.publisher[entry]);
        }
        return {
          product,
          status,
          devices,
          users: usersSt.get(id) as number,
          versions: [...versions]
            .sort((a, b) => b[1] - a[1])
            .slice(0, 50)
            .map(([version, n]) => ({ version, devices: n }))
            .sort((a, b) => compareVersions(b.version, a.version)),
          publishers: [...publishers].sort().slice(0, 20),
        };
      });
      this.db.prepare('DELETE FROM temp.license_visible').run();
      return { total: filtered.length, items };
    })();
  }

  productDevices(product: string, scope: OrgScope): ProductDevice[] {
    this.sync();
    const id = this.knownProductId(product);
    if (id === undefined) return [];
    const params: Record<string, unknown> = { product: id };
    const rows = this.db
      .prepare(
        `SELECT i.device_id, d.hostname, d.owner, d.user, d.org, e.norm_version, e.name, p.first_seen, d.last_seen_at
         FROM device_products p
         JOIN device_inventory i ON i.key = p.device_key
         JOIN devices d ON d.id = i.device_id
         JOIN software_entries e ON e.id = p.entry_id
         WHERE p.product_id = @product AND p.entry_id IS NOT NULL AND d.revoked = 0 AND ${scopeClause('d.org', scope, params)}
         ORDER BY d.hostname COLLATE NOCASE`,
      )
      .all(params) as { device_id: string; hostname: string; owner: string | null; user: string | null; org: string; norm_version: string | null; name: string; first_seen: number; last_seen_at: string | null }[];
    return rows.map((r) => ({
      deviceId: r.device_id,
      hostname: r.hostname,
      owner: r.owner,
      user: r.user,
      org: r.org,
      version: r.norm_version,
      rawName: r.name,
      firstSeenAt: new Date(r.first_seen).toISOString(),
      lastSeenAt: r.last_seen_at,
    }));
  }

  /** A product's installs, oldest first, from memory when no write touched them since the last read. */
  private installsOf(productId: number): ProductInstalls {
    let list = this.installs.get(productId);
    if (!list) {
      // Two single-column reads in the same order: a row array per install costs more than both.
      list = {
        deviceKeys: Int32Array.from(this.s('productInstallKeys').all(productId) as number[]),
        firstSeen: Float64Array.from(this.s('productInstallDates').all(productId) as number[]),
      };
      // Bounded: licensed products are tens, not thousands; past the bound, start over.
      if (this.installs.size >= INSTALL_INDEX_PRODUCTS) this.installs.clear();
      this.installs.set(productId, list);
    }
    return list;
  }

  /**
   * Installs of these products (the licensed ones), for the reconciliation: the devices (not
   * revoked, in scope) as columns by device key, and each product's installs as device keys and
   * first-seen times, oldest first. Each product's installs are one range of device_products, kept
   * in memory between reports.
   */
  usage(products: readonly string[], scope: OrgScope): { devices: FleetDevices; installs: Map<string, InstallIndex> } {
    const devices: FleetDevices = { deviceId: [], hostname: [], org: [], user: [], lastSeenAt: [] };
    const installs = new Map<string, InstallIndex>();
    if (products.length === 0) return { devices, installs };
    this.sync();
    const params: Record<string, unknown> = {};
    const rows = this.db
      .prepare(
        `SELECT i.key, d.id, d.hostname, d.org, COALESCE(d.owner, d.user), d.last_seen_at
         FROM device_inventory i JOIN devices d ON d.id = i.device_id WHERE d.revoked = 0 AND ${scopeClause('d.org', scope, params)}`,
      )
      .raw(true)
      .all(params) as [number, string, string, string, string | null, string | null][];
    for (const [key, id, hostname, org, user, lastSeenAt] of rows) {
      devices.deviceId[key] = id;
      devices.hostname[key] = hostname;
      devices.org[key] = org;
      devices.user[key] = user;
      devices.lastSeenAt[key] = lastSeenAt;
    }
    for (const product of products) {
      const id = this.knownProductId(product);
      if (id === undefined) continue;
      const list = this.installsOf(id);
      installs.set(product, { devices: list.deviceKeys, firstSeen: list.firstSeen });
    }
    return { devices, installs };
  }

  /** Devices with any of these products installed: the ones an approval change can move. */
  devicesWithProducts(products: readonly string[]): string[] {
    this.sync();
    const ids = products.map((p) => this.knownProductId(p)).filter((id): id is number => id !== undefined);
    if (ids.length === 0) return [];
    return this.db
      .prepare(
        `SELECT DISTINCT i.device_id FROM device_products p JOIN device_inventory i ON i.key = p.device_key
         WHERE p.product_id IN (SELECT value FROM json_each(?)) AND p.entry_id IS NOT NULL`,
      )
      .pluck()
      .all(JSON.stringify(ids)) as string[];
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
    this.sync();
    const written = new Map<string, WrittenFinding>();
    this.db.transaction(() => {
      const open = new Map((this.s('openFindings').all('9.15.4') as { id: number; product: string; org: string }[]).map((r) => [`${r.product}\u0000${r.org}`, r.id]));
      for (const [key, o] of merged) {
        const id = open.get(key);
        if (id !== undefined) {
          const last = this.findingsWritten.get(key);
          // The same devices beyond the count as last written (tens of thousands at 100k devices): only the refresh time moves.
          if (last && last.id === id && last.overBy === o.overBy && sameDevices(last.beyondDevices, o.beyondDevices)) this.s('touchFinding').run(nowIso, id);
          else this.s('refreshFinding').run(o.overBy, JSON.stringify(o.beyondDevices), nowIso, id);
          open.delete(key);
          written.set(key, { id, overBy: o.overBy, beyondDevices: o.beyondDevices });
        } else {
          const info = this.s('insertFinding').run(o.product, o.org, '9.15.4', o.overBy, JSON.stringify(o.beyondDevices), nowIso, nowIso);
          written.set(key, { id: Number(info.lastInsertRowid), overBy: o.overBy, beyondDevices: o.beyondDevices });
        }
      }
      for (const id of open.values()) this.s('resolveFinding').run(nowIso, id);
    })();
    // Only once committed: a rolled-back write must not be taken as written.
    this.findingsWritten = written;
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
