/**
 * Reconciliation: seats purchased against what the inventory shows installed. Pure: licenses,
 * installs and `now` in, report rows out, so each license type is tested on its own.
 */

export type LicenseType = 'per-device' | 'per-user' | 'site';
export const licenseTypes: readonly LicenseType[] = ['per-device', 'per-user', 'site'];

export interface License {
  id: number;
  product: string;
  type: LicenseType;
  /** null for a site license (unlimited). */
  seats: number | null;
  /** YYYY-MM-DD */
  purchasedAt: string;
  /** YYYY-MM-DD, the last day it is valid; null: perpetual. */
  expiresAt: string | null;
  cost: number | null;
  currency: string;
  /** The org the seats are for; `*` for every org. */
  org: string;
  reference: string;
}

export type LicenseInput = Omit<License, 'id'>;

export interface Install {
  deviceId: string;
  hostname: string;
  org: string;
  /** The device's owner, else the user it reports; null when it has neither. */
  user: string | null;
  /** When the product was first seen on the device (ISO); '' when not known. */
  firstSeenAt: string;
  lastSeenAt: string | null;
}

export interface ProductUsage {
  product: string;
  installs: Install[];
}

export type ReconciliationStatus = 'ok' | 'over-deployed' | 'unlicensed' | 'expiring' | 'expired';

export interface ReconciliationRow {
  product: string;
  /** The org the licenses cover; `*` for the whole fleet. */
  org: string;
  type: LicenseType;
  /** Seats of the licenses valid today; null for a site license. */
  purchased: number | null;
  used: number;
  available: number | null;
  status: ReconciliationStatus;
  overBy: number;
  beyondDevices: { deviceId: string; hostname: string }[];
  expiringLicenses: License[];
  unusedSeats90d: number;
  licenses: License[];
  cost: number | null;
}

export interface OverDeployment {
  product: string;
  org: string;
  overBy: number;
  beyondDevices: { deviceId: string; hostname: string }[];
}

const DAY_MS = 86_400_000;
const UNUSED_DAYS = 90;

/** A license counts from its purchase day until the end of its expiry day. */
export function isActive(l: License, today: string): boolean {
  return l.purchasedAt <= today && (l.expiresAt === null || l.expiresAt >= today);
}

/** Per-user licenses count people: the device's owner, else its reported user, else the device itself. */
export function personOf(i: Install): string {
  return personKey(i.user, i.deviceId);
}

function personKey(user: string | null, deviceId: string): string {
  return user ? user.toLowerCase() : `device:${deviceId}`;
}

/**
 * The devices the reconciliation counts, by index; an index without a deviceId is a device not
 * counted (revoked, or outside the orgs asked for). Columns, not one object per install: a fleet's
 * licensed products are ~600k installs at 100k devices.
 */
export interface FleetDevices {
  deviceId: (string | undefined)[];
  hostname: string[];
  org: string[];
  /** The device's owner, else the user it reports; null when it has neither. */
  user: (string | null)[];
  lastSeenAt: (string | null)[];
}

/** A product's installs: device indexes into FleetDevices, and when each was first seen (ms since the epoch; NaN when not known). */
export interface InstallIndex {
  devices: ArrayLike<number>;
  firstSeen: ArrayLike<number>;
}

/**
 * One row per product, org and license type. `used` counts installs on devices in the licenses'
 * org (`*`: all): devices for per-device, distinct people for per-user, 0 for site. When used
 * exceeds purchased, the installs first seen most recently are "beyond the count".
 */
export function reconcile(licenses: readonly License[], usage: ReadonlyMap<string, Install[]>, now: Date, expiringWithinDays: number): ReconciliationRow[] {
  const fleet: FleetDevices = { deviceId: [], hostname: [], org: [], user: [], lastSeenAt: [] };
  const index = new Map<string, InstallIndex>();
  for (const [product, installs] of usage) {
    const devices: number[] = [];
    const firstSeen: number[] = [];
    for (const i of installs) {
      devices.push(fleet.deviceId.length);
      fleet.deviceId.push(i.deviceId);
      fleet.hostname.push(i.hostname);
      fleet.org.push(i.org);
      fleet.user.push(i.user);
      fleet.lastSeenAt.push(i.lastSeenAt);
      firstSeen.push(i.firstSeenAt ? Date.parse(i.firstSeenAt) : NaN);
    }
    index.set(product, { devices, firstSeen });
  }
  return reconcileFleet(licenses, fleet, index, now, expiringWithinDays);
}

// String.prototype.localeCompare's order (the default locale), without its per-call set-up.
const collator = new Intl.Collator();

/**
 * Orders positions into a product's installs by first seen, then hostname, then device id (unknown
 * first-seen last). The store hands installs over oldest first, so usually only the runs seen at
 * the same moment (a rename stamps thousands) need sorting, by name.
 */
function sortByFirstSeen(positions: Int32Array, index: InstallIndex, fleet: FleetDevices): void {
  const at = (i: number) => {
    const t = index.firstSeen[i]!;
    return Number.isNaN(t) ? Infinity : t;
  };
  const byName = (a: number, b: number) => {
    const da = index.devices[a]!;
    const db = index.devices[b]!;
    return collator.compare(fleet.hostname[da]!, fleet.hostname[db]!) || collator.compare(fleet.deviceId[da]!, fleet.deviceId[db]!);
  };
  let ordered = true;
  for (let k = 1; ordered && k < positions.length; k++) ordered = at(positions[k - 1]!) <= at(positions[k]!);
  if (!ordered) {
    // An array's sort, not the typed array's: it finds the runs already in order.
    positions.set(Array.from(positions).sort((a, b) => at(a) - at(b) || byName(a, b)));
    return;
  }
  for (let start = 0; start < positions.length; ) {
    const t = at(positions[start]!);
    let end = start + 1;
    while (end < positions.length && at(positions[end]!) === t) end++;
    if (end - start > 1) positions.set(Array.from(positions.subarray(start, end)).sort(byName), start);
    start = end;
  }
}

/** reconcile() over the store's columns: the same rows, without an object per install. */
export function reconcileFleet(licenses: readonly License[], fleet: FleetDevices, usage: ReadonlyMap<string, InstallIndex>, now: Date, expiringWithinDays: number): ReconciliationRow[] {
  const today = now.toISOString().slice(0, 10);
  const horizon = new Date(now.getTime() + expiringWithinDays * DAY_MS).toISOString().slice(0, 10);
  const idleCutoff = new Date(now.getTime() - UNUSED_DAYS * DAY_MS).toISOString();
  const idleCutoffDay = idleCutoff.slice(0, 10);
  const groups = new Map<string, License[]>();
  for (const l of licenses) {
    const key = `${l.product}\u0000${l.org}\u0000${l.type}`;
    const list = groups.get(key) ?? [];
    list.push(l);
    groups.set(key, list);
  }
  // Per device, worked out once however many license lines count it: 1 active, 2 silent for 90 days.
  const quiet = new Uint8Array(fleet.deviceId.length);
  const silent = (d: number) => {
    if (quiet[d] === 0) {
      const seen = fleet.lastSeenAt[d];
      quiet[d] = seen === null || seen === undefined || seen < idleCutoff ? 2 : 1;
    }
    return quiet[d] === 2;
  };
  const people: (string | undefined)[] = [];
  const personAt = (d: number) => (people[d] ??= personKey(fleet.user[d] ?? null, fleet.deviceId[d]!));
  // Orgs as small numbers (0: not counted), so filtering a line's installs compares integers.
  const orgIds = new Map<string, number>();
  const orgOf = new Int32Array(fleet.deviceId.length);
  fleet.deviceId.forEach((id, d) => {
    if (id === undefined) return;
    const org = fleet.org[d]!;
    let n = orgIds.get(org);
    if (n === undefined) orgIds.set(org, (n = orgIds.size + 1));
    orgOf[d] = n;
  });
  const rows: ReconciliationRow[] = [];
  for (const list of groups.values()) {
    const { product, org, type } = list[0]!;
    const active = list.filter((l) => isActive(l, today));
    const expiring = active.filter((l) => l.expiresAt !== null && l.expiresAt <= horizon);
    const costs = list.filter((l) => l.cost !== null);
    const cost = costs.length ? costs.reduce((s, l) => s + (l.cost ?? 0), 0) : null;

    let purchased: number | null;
    let used: number;
    let beyond: ArrayLike<number> = [];
    let silentSeats: number;
    if (type === 'site') {
      purchased = null;
      used = 0;
      silentSeats = 0;
    } else {
      purchased = active.reduce((s, l) => s + (l.seats ?? 0), 0);
      const index = usage.get(product);
      // Positions into the product's installs, of the devices counted for this org.
      const wanted = org === '*' ? -1 : (orgIds.get(org) ?? -2);
      const total = index ? index.devices.length : 0;
      let positions = new Int32Array(total);
      let count = 0;
      for (let i = 0; i < total; i++) {
        const o = orgOf[index!.devices[i]!] ?? 0;
        if (o !== 0 && (wanted === -1 || o === wanted)) positions[count++] = i;
      }
      positions = positions.subarray(0, count);
      // Only an over-deployment needs the first-seen order (the store gives it, but not the ties'
      // order). Unknown first-seen sorts last: without a date the install cannot claim to be older.
      if (count > purchased && index) sortByFirstSeen(positions, index, fleet);
      const devices = new Int32Array(count);
      for (let k = 0; k < count; k++) devices[k] = index!.devices[positions[k]!]!;
      if (type === 'per-device') {
        used = count;
        beyond = devices.subarray(purchased);
        silentSeats = 0;
        for (const d of devices) if (silent(d)) silentSeats++;
      } else {
        const byPerson = new Map<string, number[]>();
        for (const d of devices) {
          const k = personAt(d);
          const held = byPerson.get(k);
          if (held) held.push(d);
          else byPerson.set(k, [d]);
        }
        // Map order is the order each person was first seen: the latest people are beyond.
        const ordered = [...byPerson.values()];
        used = ordered.length;
        beyond = ordered.slice(purchased).flat();
        silentSeats = ordered.filter((held) => held.every(silent)).length;
      }
    }
    const overBy = purchased !== null ? Math.max(0, used - purchased) : 0;
    // Seats bought 90+ days ago that nobody has taken, plus seats held by devices silent for 90 days.
    const oldSeats = type === 'site' ? 0 : active.filter((l) => l.purchasedAt <= idleCutoffDay).reduce((s, l) => s + (l.seats ?? 0), 0);
    const unusedSeats90d = type === 'site' ? 0 : Math.max(0, oldSeats - used) + silentSeats;

    let status: ReconciliationStatus;
    if (active.length === 0) status = used > 0 ? 'unlicensed' : 'expired';
    else if (overBy > 0) status = 'over-deployed';
    else if (expiring.length > 0) status = 'expiring';
    else status = 'ok';
    rows.push({
      product,
      org,
      type,
      purchased,
      used,
      available: purchased === null ? null : Math.max(0, purchased - used),
      status,
      overBy,
      beyondDevices: overBy > 0 ? Array.from(beyond, (d) => ({ deviceId: fleet.deviceId[d]!, hostname: fleet.hostname[d]! })) : [],
      expiringLicenses: expiring,
      unusedSeats90d,
      licenses: list,
      cost,
    });
  }
  return rows.sort((a, b) => a.product.localeCompare(b.product) || a.org.localeCompare(b.org) || a.type.localeCompare(b.type));
}

/** The over-deployments: fleet-level findings for ISSP 9.15.4 ("users never exceed the licenses purchased"). */
export function overDeployments(rows: readonly ReconciliationRow[]): OverDeployment[] {
  return rows.filter((r) => r.status === 'over-deployed').map((r) => ({ product: r.product, org: r.org, overBy: r.overBy, beyondDevices: r.beyondDevices }));
}
