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

function byFirstSeen(a: Install, b: Install): number {
  // Unknown first-seen sorts last: without a date the install cannot claim to be older.
  const fa = a.firstSeenAt || '\uffff';
  const fb = b.firstSeenAt || '\uffff';
  return fa < fb ? -1 : fa > fb ? 1 : a.hostname.localeCompare(b.hostname) || a.deviceId.localeCompare(b.deviceId);
}

/** Per-user licenses count people: the device's owner, else its reported user, else the device itself. */
export function personOf(i: Install): string {
  return i.user ? i.user.toLowerCase() : `device:${i.deviceId}`;
}

/**
 * One row per product, org and license type. `used` counts installs on devices in the licenses'
 * org (`*`: all): devices for per-device, distinct people for per-user, 0 for site. When used
 * exceeds purchased, the installs first seen most recently are "beyond the count".
 */
export function reconcile(licenses: readonly License[], usage: ReadonlyMap<string, Install[]>, now: Date, expiringWithinDays: number): ReconciliationRow[] {
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
  const rows: ReconciliationRow[] = [];
  for (const list of groups.values()) {
    const { product, org, type } = list[0]!;
    const installs = (usage.get(product) ?? []).filter((i) => org === '*' || i.org === org);
    const active = list.filter((l) => isActive(l, today));
    const expiring = active.filter((l) => l.expiresAt !== null && l.expiresAt <= horizon);
    const costs = list.filter((l) => l.cost !== null);
    const cost = costs.length ? costs.reduce((s, l) => s + (l.cost ?? 0), 0) : null;
    const silent = (i: Install) => i.lastSeenAt === null || i.lastSeenAt < idleCutoff;

    let purchased: number | null;
    let used: number;
    let beyond: Install[] = [];
    let silentSeats: number;
    if (type === 'site') {
      purchased = null;
      used = 0;
      silentSeats = 0;
    } else {
      purchased = active.reduce((s, l) => s + (l.seats ?? 0), 0);
      if (type === 'per-device') {
        const sorted = [...installs].sort(byFirstSeen);
        used = sorted.length;
        beyond = sorted.slice(purchased);
        silentSeats = sorted.filter(silent).length;
      } else {
        const people = new Map<string, Install[]>();
        for (const i of [...installs].sort(byFirstSeen)) {
          const k = personOf(i);
          const devices = people.get(k) ?? [];
          devices.push(i);
          people.set(k, devices);
        }
        // Map order is the order each person was first seen: the latest people are beyond.
        const ordered = [...people.values()];
        used = ordered.length;
        beyond = ordered.slice(purchased).flat();
        silentSeats = ordered.filter((devices) => devices.every(silent)).length;
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
      beyondDevices: overBy > 0 ? beyond.map((i) => ({ deviceId: i.deviceId, hostname: i.hostname })) : [],
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
