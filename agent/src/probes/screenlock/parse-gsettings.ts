import type { ScreenlockSection } from '@vigie/shared';
import { effectiveLock } from './effective';

/** The four GNOME keys that decide whether an idle session locks. */
export interface GnomeLockValues {
  /** org.gnome.desktop.session idle-delay: seconds before the screen blanks; 0 = never. */
  idleDelay: number | null;
  /** org.gnome.desktop.screensaver lock-enabled: lock when the screen blanks. */
  lockEnabled: boolean | null;
  /** org.gnome.desktop.screensaver lock-delay: seconds after blanking before the lock. */
  lockDelay: number | null;
  /** org.gnome.desktop.lockdown disable-lock-screen: an admin switch that forbids locking. */
  disableLockScreen: boolean | null;
}

export const GNOME_KEYS = [
  ['org.gnome.desktop.session', 'idle-delay'],
  ['org.gnome.desktop.screensaver', 'lock-enabled'],
  ['org.gnome.desktop.screensaver', 'lock-delay'],
  ['org.gnome.desktop.lockdown', 'disable-lock-screen'],
] as const;

/*
 * One value as `gsettings get` prints it, a GVariant in text form:
 *   uint32 300      (GLib 2.74 on Debian 12; numbers carry their type)
 *   300             (the same value without the type prefix)
 *   true
 */
export function parseGsettingsValue(text: string): number | boolean | null {
  const value = text.trim().replace(/^(?:uint32|int32|uint64|int64|uint16|int16|byte)\s+/, '');
  if (value === 'true') return true;
  if (value === 'false') return false;
  if (/^\d+$/.test(value)) return Number(value);
  return null;
}

function asNumber(value: number | boolean | null): number | null {
  return typeof value === 'number' ? value : null;
}

function asBoolean(value: number | boolean | null): boolean | null {
  return typeof value === 'boolean' ? value : null;
}

/** Reads the four keys from `gsettings get` outputs (or dump lines) already split by key. */
export function gnomeValuesFrom(raw: Partial<Record<string, string>>): GnomeLockValues {
  const read = (schema: string, key: string) => {
    const text = raw[`${schema} ${key}`];
    return text === undefined ? null : parseGsettingsValue(text);
  };
  return {
    idleDelay: asNumber(read('org.gnome.desktop.session', 'idle-delay')),
    lockEnabled: asBoolean(read('org.gnome.desktop.screensaver', 'lock-enabled')),
    lockDelay: asNumber(read('org.gnome.desktop.screensaver', 'lock-delay')),
    disableLockScreen: asBoolean(read('org.gnome.desktop.lockdown', 'disable-lock-screen')),
  };
}

/**
 * GNOME blanks the screen after idle-delay and, when lock-enabled, locks it
 * lock-delay seconds later. disable-lock-screen overrides lock-enabled (it is
 * how administrators forbid locking), so a true there means no lock at all.
 * A missing lockdown key means the schema is not installed, so nothing can
 * forbid the lock: it is read as false.
 */
export function gnomeSection(values: GnomeLockValues, user: string | null): ScreenlockSection {
  if (values.idleDelay === null || values.lockEnabled === null || values.lockDelay === null) {
    const missing = [
      values.idleDelay === null ? 'idle-delay' : '',
      values.lockEnabled === null ? 'lock-enabled' : '',
      values.lockDelay === null ? 'lock-delay' : '',
    ].filter(Boolean);
    return { unknown: true, reason: `gsettings did not give ${missing.join(', ')}` };
  }
  const locks = values.lockEnabled && values.disableLockScreen !== true;
  return effectiveLock(
    [{ source: 'gsettings', idleSeconds: values.idleDelay, graceSeconds: values.lockDelay, locks }],
    user,
  );
}

const DUMP_LINE = /^(org\.gnome\.desktop\.(?:session|screensaver|lockdown))\s+([a-z0-9-]+)\s+(.+?)\s*$/;

/** True when the text holds `gsettings list-recursively` lines of the GNOME lock schemas. */
export function isGsettingsDump(text: string): boolean {
  return text.split(/\r?\n/).some((line) => {
    const m = DUMP_LINE.exec(line.trim());
    return m !== null && (m[2] === 'idle-delay' || m[2] === 'lock-enabled' || m[2] === 'lock-delay');
  });
}

/*
 * `gsettings list-recursively` lines for the schemas above, e.g.
 *   org.gnome.desktop.session idle-delay uint32 300
 *   org.gnome.desktop.screensaver lock-delay uint32 0
 *   org.gnome.desktop.screensaver lock-enabled true
 *   org.gnome.desktop.lockdown disable-lock-screen false
 * The user is not in the output, so it is reported as null.
 */
export function parseGsettingsDump(text: string): ScreenlockSection {
  const raw: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const m = DUMP_LINE.exec(line.trim());
    if (m && m[1] && m[2] && m[3] !== undefined) raw[`${m[1]} ${m[2]}`] = m[3];
  }
  if (Object.keys(raw).length === 0) {
    return { unknown: true, reason: 'no org.gnome.desktop session/screensaver lines in the gsettings output' };
  }
  return gnomeSection(gnomeValuesFrom(raw), null);
}
