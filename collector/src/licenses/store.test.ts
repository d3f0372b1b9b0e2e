import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { recordListChanges, type OsName, type SoftwareItem } from '@vigie/shared';
import { SqliteStore } from '../store/sqlite';
import { migrations } from '../store/sqlite/migrations';
import { Normaliser, compareVersions, compareVersionsCached, type RuleInput } from './normalise';
import { LicenseService, loadDefaultRules } from './service';
import { LicenseStore, classifyEntry, entryOsKey } from './store';

const item = (name: string, version: string | null, publisher: string | null, source: SoftwareItem['source'] = 'registry'): SoftwareItem => ({ name, version, publisher, source, scope: 'machine', installedAt: null });

/** Raw entries as fleets report them: one product under several names, versions and publisher spellings, runtimes, packages. */
const POOL: SoftwareItem[] = [
  item('Adobe Acrobat (64-bit)', '24.003.20112', 'Adobe'),
  item('Adobe Acrobat DC (64-bit)', '23.006.20360', 'Adobe Systems Incorporated'),
  item('Adobe Acrobat Reader DC', '23.008.20470', 'Adobe Systems Incorporated'),
  item('Mozilla Firefox (x64 fr)', '132.0.2', 'Mozilla'),
  item('Mozilla Firefox (x64 en-US)', '133.0', 'Mozilla Corporation'),
  item('Microsoft 365 Apps for enterprise - fr-fr', '16.0.17928.20156', 'Microsoft Corporation'),
  item('IntelliJ IDEA 2023.3', '233.11799.241', 'JetBrains s.r.o.'),
  item('IntelliJ IDEA 2024.3', '243.21565.193', 'JetBrains s.r.o.'),
  item('Sketchy Toolbar', '1.0', 'Unknown'),
  item('Sketchy Toolbar', '1.2', 'Unknown'),
  item('Sketchy Toolbar Deluxe', null, null),
  item('Dell Command component 12', '12.0.12', 'Dell Inc.'),
  item('Dell Command component 13', '13.1.13', 'Dell Inc.'),
  item('Dell Command component 14', '14.2.14', 'Dell Inc.'),
  item('Microsoft Visual C++ 2015-2022 Redistributable (x64) - 14.38.33130', '14.38.33130.0', 'Microsoft Corporation'),
  item('Microsoft Word', '16.89', null, 'app'),
  item('Slack', '4.41.97', null, 'app'),
  item('google-chrome-stable', '131.0.6778.85-1', 'Google', 'dpkg'),
  item('libssl3', '3.0.15-1', 'Debian', 'dpkg'),
];

/** A small deterministic PRNG (LCG): the same sequence of reports and rule changes on every run. */
function random(seed: number): () => number {
  let s = seed;
  return () => {
    s = (Math.imul(s, 1_103_515_245) + 12_345) >>> 0;
    return s / 2 ** 32;
  };
}

function insertDevices(db: BetterSqlite3.Database, ids: readonly string[]): void {
  db.prepare("INSERT OR IGNORE INTO orgs (name, created_at) VALUES ('acme', '2026-01-01T00:00:00.000Z')").run();
  const insert = db.prepare(`INSERT INTO devices (id, machine_id, token_hash, org, hostname, os, os_version, model, serial, user, enrolled_at, last_seen_at)
                             VALUES (?, ?, ?, 'acme', ?, 'windows', '', '', '', ?, '2026-01-01T00:00:00.000Z', '2026-03-01T00:00:00.000Z')`);
  for (const id of ids) insert.run(id, `m-${id}`, `t-${id}`, `host-${id}`, `user-${id}`);
}

/** The installed products as stored: device, product, version and first-seen date. */
function installed(db: BetterSqlite3.Database): string[] {
  return (
    db
      .prepare(
        `SELECT i.device_id AS device, s.name AS product, e.norm_version AS version, p.first_seen AS firstSeen
         FROM device_products p JOIN software_products s ON s.id = p.product_id JOIN software_entries e ON e.id = p.entry_id
         JOIN device_inventory i ON i.key = p.device_key WHERE p.entry_id IS NOT NULL`,
      )
      .all() as { device: string; product: string; version: string | null; firstSeen: number }[]
  )
    .map((r) => `${r.device}|${r.product}|${r.version}|${new Date(r.firstSeen).toISOString()}`)
    .sort();
}

describe('LicenseStore: the normalised inventory', () => {
  let store: SqliteStore;
  let licenses: LicenseStore;
  let normaliser: Normaliser;

  beforeEach(() => {
    store = new SqliteStore({ path: ':memory:' });
    licenses = new LicenseStore(store.db);
    licenses.seedRules(loadDefaultRules());
    normaliser = new Normaliser(licenses.listRules(), licenses.catalogVersion());
  });
  afterEach(async () => {
    await store.close();
  });

  function rulesChanged(now: Date): void {
    normaliser = new Normaliser(licenses.listRules(), licenses.catalogVersion());
    licenses.reapply(normaliser, now);
  }

  it('matches an inventory rebuilt from scratch through reports and rule changes, and keeps first-seen dates', () => {
    const rnd = random(7);
    const devices = Array.from({ length: 12 }, (_, i) => `d${i}`);
    const deviceOs: OsName[] = ['windows', 'macos', 'linux'];
    insertDevices(store.db, devices);
    const inventories = new Map<string, SoftwareItem[]>();
    // The model: what each device holds under the current rules, and when each product was first seen on it.
    const firstSeen = new Map<string, string>();
    const expected = (at: Date): string[] => {
      const out: string[] = [];
      for (const [device, items] of inventories) {
        const os = deviceOs[Number(device.slice(1)) % 3]!;
        const best = new Map<string, string | null>();
        for (const i of items) {
          const n = classifyEntry(normaliser, { name: i.name, version: i.version || null, publisher: i.publisher || null }, entryOsKey(i, os));
          if (n.ignored) continue;
          if (!best.has(n.product) || compareVersions(n.version, best.get(n.product)!) > 0) best.set(n.product, n.version);
        }
        for (const [product, version] of best) {
          const key = `${device}|${product}`;
          if (!firstSeen.has(key)) firstSeen.set(key, at.toISOString());
          out.push(`${device}|${product}|${version}|${firstSeen.get(key)}`);
        }
      }
      return out.sort();
    };
    const report = (device: string, at: Date) => {
      const before = inventories.get(device);
      let items = POOL.filter(() => rnd() < 0.4);
      if (before && rnd() < 0.6) {
        // A few items changed, the rest the previous list's own objects, as the collector builds a report's list from
        // the previous one (listChanges): the inventory is then worked out from the changes.
        const removed = before.filter(() => rnd() < 0.05);
        const added = POOL.filter(() => rnd() < 0.03).map((i) => ({ ...i }));
        items = [...before.filter((i) => !removed.includes(i)), ...added];
        recordListChanges(items, before, added, removed);
      }
      inventories.set(device, items);
      licenses.indexDevice(normaliser, device, deviceOs[Number(device.slice(1)) % 3]!, items, at);
    };
    const rule = (input: Partial<RuleInput> & Pick<RuleInput, 'namePattern' | 'product'>) =>
      licenses.createRule({ publisherPattern: null, os: null, versionPattern: null, ignore: false, position: 1, ...input });
    const acrobat = licenses.listRules().find((r) => r.product === 'Adobe Acrobat Pro')!;
    let fold: number | null = null;
    let sketchy: number | null = null;
    const ruleChanges: (() => void)[] = [
      () => void licenses.updateRule(acrobat.id, { product: 'Adobe Acrobat' }), // renamed away...
      () => void licenses.updateRule(acrobat.id, { product: 'Adobe Acrobat Pro' }), // ...and back
      () => void (fold = rule({ namePattern: '^Dell Command', product: 'Dell Command | Update' }).id), // a long tail folded into one product
      () => void (fold !== null && licenses.deleteRule(fold)),
      () => void (sketchy = rule({ namePattern: '^Sketchy', product: 'Sketchy Adware', versionPattern: '^(\\d+)' }).id), // two names, one version
      () => void (sketchy !== null && licenses.updateRule(sketchy, { ignore: true })),
      () => void (sketchy !== null && licenses.updateRule(sketchy, { ignore: false, versionPattern: null })),
      () => void rule({ namePattern: '^google-chrome', product: 'Chrome for Linux', os: 'linux' }), // a package becomes a product
    ];
    let at = new Date('2026-01-01T00:00:00.000Z');
    for (const d of devices) report(d, at);
    expect(installed(store.db)).toEqual(expected(at));
    for (let step = 0; step < 80; step++) {
      at = new Date(at.getTime() + 60_000);
      if (step % 5 === 4) {
        ruleChanges[Math.floor(step / 5) % ruleChanges.length]!();
        rulesChanged(at);
      } else report(devices[Math.floor(rnd() * devices.length)]!, at);
      expect(installed(store.db)).toEqual(expected(at));
    }
    // A device reporting the same inventory again writes nothing.
    const [device, items] = [...inventories][0]!;
    const changes = () => (store.db.prepare('SELECT total_changes() AS n').get() as { n: number }).n;
    const before = changes();
    licenses.indexDevice(normaliser, device, deviceOs[Number(device.slice(1)) % 3]!, [...items].reverse(), new Date(at.getTime() + 60_000));
    expect(changes()).toBe(before);
  });

  it('forgets the ids of entries and products a rolled-back report inserted', () => {
    insertDevices(store.db, ['d1', 'd2']);
    const fresh = [item('Brand New Tool', '1.0', 'ACME')];
    const t = new Date('2026-02-01T00:00:00.000Z');
    // The report transaction fails after the hook ran: SQLite drops the rows, and may give their ids again.
    expect(() =>
      store.db.transaction(() => {
        licenses.indexDevice(normaliser, 'd1', 'windows', fresh, t);
        throw new Error('the report failed');
      })(),
    ).toThrow('the report failed');
    licenses.indexDevice(normaliser, 'd2', 'windows', [item('Another Tool', '2.0', 'ACME')], t);
    licenses.indexDevice(normaliser, 'd1', 'windows', fresh, t);
    expect(licenses.productDevices('Brand New Tool', null).map((d) => [d.deviceId, d.rawName, d.version])).toEqual([['d1', 'Brand New Tool', '1.0']]);
    expect(licenses.productDevices('Another Tool', null).map((d) => [d.deviceId, d.rawName])).toEqual([['d2', 'Another Tool']]);
  });

  it('compares versions with its cache exactly as compareVersions does', () => {
    const versions = [null, '', '1', '1.0', '1.00', '1.2', '1.10', '1.2a', '1.2-beta', '2024.3', '10.0.1', '9.9', 'abc', '1_2', '1 2', '0x10', '16'];
    for (const a of versions) for (const b of versions) expect(Math.sign(compareVersionsCached(a, b))).toBe(Math.sign(compareVersions(a, b)));
  });
});

describe('LicenseStore: two connections', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-lic-two-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('classifies new reports by the rules another connection re-applied (the CLI, an older collector)', async () => {
    const file = path.join(dir, 'vigie.db');
    const collector = new SqliteStore({ path: file });
    const cli = new SqliteStore({ path: file });
    try {
      const ours = new LicenseStore(collector.db);
      ours.seedRules(loadDefaultRules());
      const theirs = new LicenseStore(cli.db);
      insertDevices(collector.db, ['d1', 'd2']);
      const tool = [item('In-House Tool', '3.1', 'ACME')];
      const t = new Date('2026-02-01T00:00:00.000Z');
      ours.indexDevice(new Normaliser(ours.listRules(), ours.catalogVersion()), 'd1', 'windows', tool, t);
      theirs.createRule({ namePattern: '^In-House', publisherPattern: null, os: null, product: 'ACME Suite', versionPattern: null, ignore: false, position: 1 });
      theirs.reapply(new Normaliser(theirs.listRules(), theirs.catalogVersion()), t);
      ours.indexDevice(new Normaliser(ours.listRules(), ours.catalogVersion()), 'd2', 'windows', tool, t);
      expect(ours.productDevices('ACME Suite', null).map((d) => d.deviceId)).toEqual(['d1', 'd2']);
      expect(ours.productDevices('In-House Tool', null)).toEqual([]);
    } finally {
      await cli.close();
      await collector.close();
    }
  });
});

describe('LicenseStore: over-deployment findings', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-lic-store-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('refreshes an unchanged finding without rewriting its devices, and rewrites them after another connection changed them', async () => {
    const file = path.join(dir, 'vigie.db');
    const store = new SqliteStore({ path: file });
    const licenses = new LicenseStore(store.db);
    const over = [{ product: 'P', org: '*', overBy: 2, beyondDevices: [{ deviceId: 'd1', hostname: 'h1' }, { deviceId: 'd2', hostname: 'h2' }] }];
    const at = (minute: number) => new Date(Date.UTC(2026, 2, 1, 9, minute));
    try {
      licenses.syncOverDeployments(over, at(0));
      licenses.syncOverDeployments(over.map((o) => ({ ...o, beyondDevices: o.beyondDevices.map((d) => ({ ...d })) })), at(1));
      expect(licenses.listOverDeployments(false)).toEqual([expect.objectContaining({ product: 'P', overBy: 2, beyondDevices: over[0]!.beyondDevices, firstSeenAt: at(0).toISOString(), updatedAt: at(1).toISOString() })]);
      const other = new BetterSqlite3(file);
      other.prepare("UPDATE license_findings SET beyond = '[]'").run();
      other.close();
      licenses.syncOverDeployments(over, at(2));
      expect(licenses.listOverDeployments(false)[0]!.beyondDevices).toEqual(over[0]!.beyondDevices);
      const fewer = [{ ...over[0]!, overBy: 1, beyondDevices: [{ deviceId: 'd2', hostname: 'h2' }] }];
      licenses.syncOverDeployments(fewer, at(3));
      expect(licenses.listOverDeployments(false)).toEqual([expect.objectContaining({ overBy: 1, beyondDevices: [{ deviceId: 'd2', hostname: 'h2' }], updatedAt: at(3).toISOString() })]);
      licenses.syncOverDeployments([], at(4));
      expect(licenses.listOverDeployments(false)).toEqual([]);
    } finally {
      await store.close();
    }
  });
});

describe('migration 4: integer keys for the normalised inventory', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-lic-v3-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const blob = (ids: number[]) => {
    const b = Buffer.alloc(ids.length * 4);
    ids.forEach((id, i) => b.writeInt32LE(id, i * 4));
    return b;
  };

  it('carries a version 3 inventory over: products, first-seen dates (also of a product renamed away), findings', async () => {
    const file = path.join(dir, 'vigie.db');
    const v3 = new BetterSqlite3(file);
    v3.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
    for (const m of migrations.filter((x) => x.version <= 3)) {
      v3.exec(m.sql);
      v3.prepare('INSERT INTO schema_migrations VALUES (?, ?, ?)').run(m.version, m.name, '2026-01-01T00:00:00.000Z');
    }
    insertDevices(v3, ['d1', 'd2', 'd3']);
    v3.exec(`
      INSERT INTO software_entries (id, os, name, publisher, version, product, norm_version, ignored) VALUES
        (1, 'windows', 'Adobe Acrobat (64-bit)', 'Adobe', '24.003.20112', 'Adobe Acrobat Pro', '24.003.20112', 0),
        (2, 'windows', 'Adobe Acrobat DC (64-bit)', 'Adobe Systems Incorporated', '23.006.20360', 'Adobe Acrobat Pro', '23.006.20360', 0),
        (3, 'windows', 'Sketchy Toolbar', 'Unknown', '1.0', 'Sketchy Toolbar', '1.0', 0),
        (4, 'windows', 'Microsoft Visual C++ 2015-2022 Redistributable (x64) - 14.38.33130', 'Microsoft Corporation', '14.38.33130.0', 'Microsoft Visual C++ Redistributable', '14.38.33130.0', 1);
      INSERT INTO device_software (device_id, product, version, raw_name, publisher, first_seen_at) VALUES
        ('d1', 'Adobe Acrobat Pro', '24.003.20112', 'Adobe Acrobat (64-bit)', 'Adobe', '2026-01-05T10:00:00.123Z'),
        ('d1', 'Sketchy Toolbar', '1.0', 'Sketchy Toolbar', 'Unknown', '2026-01-06T00:00:00.000Z'),
        ('d2', 'Adobe Acrobat Pro', '23.006.20360', 'Adobe Acrobat DC (64-bit)', 'Adobe Systems Incorporated', '2026-01-07T08:30:00.000Z');
      INSERT INTO software_first_seen (device_id, product, first_seen_at) VALUES
        ('d1', 'Adobe Acrobat Pro', '2026-01-05T10:00:00.123Z'), ('d1', 'Sketchy Toolbar', '2026-01-06T00:00:00.000Z'),
        ('d2', 'Adobe Acrobat Pro', '2026-01-07T08:30:00.000Z'),
        ('d1', 'Sketchy Adware', '2025-12-01T00:00:00.000Z'), ('d3', 'Adobe Acrobat Pro', '2025-11-11T11:11:11.111Z');
      INSERT INTO license_findings (product, org, rule, over_by, beyond, first_seen_at, updated_at)
        VALUES ('Adobe Acrobat Pro', '*', '9.15.4', 1, '[{"deviceId":"d2","hostname":"host-d2"}]', '2026-01-08T00:00:00.000Z', '2026-01-08T00:00:00.000Z');
      INSERT INTO licenses (product, type, seats, purchased_at, org, created_at, updated_at) VALUES ('Adobe Acrobat Pro', 'per-device', 1, '2025-06-01', '*', 'x', 'x');`);
    const insertInventory = v3.prepare('INSERT INTO device_inventory (device_id, entries) VALUES (?, ?)');
    insertInventory.run('d1', blob([1, 3, 4]));
    insertInventory.run('d2', blob([2]));
    insertInventory.run('d3', blob([]));
    v3.close();

    const store = new SqliteStore({ path: file });
    try {
      const now = new Date('2026-03-02T09:00:00.000Z');
      const service = LicenseService.open(store, null, now)!;
      const tables = (store.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all() as string[]).sort();
      expect(tables).toEqual(expect.arrayContaining(['device_inventory', 'device_products', 'software_entries', 'software_products']));
      expect(tables).not.toContain('device_software');
      expect(tables).not.toContain('software_first_seen');
      expect(service.store.rebuildPending()).toBe(false);

      const devices = (product: string) => service.store.productDevices(product, null).map((d) => `${d.deviceId}|${d.version}|${d.rawName}|${d.firstSeenAt}`);
      expect(devices('Adobe Acrobat Pro')).toEqual(['d1|24.003.20112|Adobe Acrobat (64-bit)|2026-01-05T10:00:00.123Z', 'd2|23.006.20360|Adobe Acrobat DC (64-bit)|2026-01-07T08:30:00.000Z']);
      expect(devices('Sketchy Toolbar')).toEqual(['d1|1.0|Sketchy Toolbar|2026-01-06T00:00:00.000Z']);
      expect(service.store.products({ scope: null, limit: 10, offset: 0 }).items.map((p) => [p.product, p.devices])).toEqual([
        ['Adobe Acrobat Pro', 2],
        ['Sketchy Toolbar', 1],
      ]);
      expect(service.store.listOverDeployments(false)).toEqual([expect.objectContaining({ product: 'Adobe Acrobat Pro', overBy: 1, beyondDevices: [{ deviceId: 'd2', hostname: 'host-d2' }] })]);
      expect(service.report(null, now, 60).find((r) => r.product === 'Adobe Acrobat Pro')).toMatchObject({ used: 2, overBy: 1, beyondDevices: [{ deviceId: 'd2', hostname: 'host-d2' }] });

      // The toolbar's old name comes back: the date v3 kept for it, not the change's.
      service.createRule({ namePattern: '^Sketchy', publisherPattern: null, os: null, product: 'Sketchy Adware', versionPattern: null, ignore: false, position: 1 });
      await service.rulesChanged(now);
      expect(devices('Sketchy Adware')).toEqual(['d1|1.0|Sketchy Toolbar|2025-12-01T00:00:00.000Z']);
      // d3 listed nothing when it had Acrobat last; reinstalled, it keeps that first date.
      service.store.indexDevice(new Normaliser(service.store.listRules(), service.catalogVersion()), 'd3', 'windows', [item('Adobe Acrobat (64-bit)', '24.003.20112', 'Adobe')], now);
      expect(devices('Adobe Acrobat Pro')).toContain('d3|24.003.20112|Adobe Acrobat (64-bit)|2025-11-11T11:11:11.111Z');
    } finally {
      await store.close();
    }
  });
});
