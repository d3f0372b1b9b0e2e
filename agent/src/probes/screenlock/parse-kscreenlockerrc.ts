import type { ScreenlockSection } from '@vigie/shared';
import { effectiveLock } from './effective';

/**
 * The [Daemon] keys of kscreenlockerrc, with KDE's defaults from
 * kscreenlocker's kcfg/kscreenlockersettings.kcfg. A missing file or key means
 * the default applies, which is why a fresh Plasma install locks after 5 minutes.
 */
export interface KdeLockValues {
  /** Lock after Timeout minutes of idle. */
  autolock: boolean;
  timeoutMinutes: number;
  /** false: the locker never asks for a password (ksldapp sets an endless grace). */
  lock: boolean;
  /** Seconds after the lock appears during which moving the mouse dismisses it (0..300). */
  lockGraceSeconds: number;
  /** Lock when the machine resumes from suspend. */
  lockOnResume: boolean;
}

export const KDE_DEFAULTS: KdeLockValues = {
  autolock: true,
  timeoutMinutes: 5,
  lock: true,
  lockGraceSeconds: 5,
  lockOnResume: true,
};

interface Entry {
  value: string;
  immutable: boolean;
}

interface KConfigFile {
  /** A `[$i]` line before any group locks the whole file. */
  immutable: boolean;
  groups: Map<string, { immutable: boolean; entries: Map<string, Entry> }>;
}

/*
 * KConfig INI, as written by System Settings:
 *   [$Version]
 *   update_info=kscreenlocker.upd:0.1-autolock
 *
 *   [Daemon]
 *   Timeout=15
 * Administrators may append [$i] to a key, a group header or the whole file
 * (kiosk mode) so that the user's file cannot override it.
 */
export function parseKConfig(text: string): KConfigFile {
  const file: KConfigFile = { immutable: false, groups: new Map() };
  let group: { immutable: boolean; entries: Map<string, Entry> } | null = null;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    if (line.startsWith('[')) {
      if (line === '[$i]' && group === null) {
        file.immutable = true;
        continue;
      }
      const immutable = line.endsWith('[$i]');
      const name = (immutable ? line.slice(0, -4) : line).replace(/^\[/, '').replace(/\]$/, '');
      const existing = file.groups.get(name);
      group = existing ?? { immutable, entries: new Map() };
      group.immutable = group.immutable || immutable;
      if (!existing) file.groups.set(name, group);
      continue;
    }
    if (!group) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    const rawKey = line.slice(0, eq).trim();
    const options = /\[\$([a-z]+)\]$/.exec(rawKey);
    const key = rawKey.replace(/(\[[^\]]*\])+$/, '');
    // Localised variants (Key[fr]=...) are not settings we read.
    if (rawKey !== key && !options) continue;
    group.entries.set(key, { value: line.slice(eq + 1).trim(), immutable: options?.[1]?.includes('i') ?? false });
  }
  return file;
}

function toBool(value: string | undefined, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  const v = value.toLowerCase();
  if (v === 'true' || v === 'on' || v === 'yes' || v === '1') return true;
  if (v === 'false' || v === 'off' || v === 'no' || v === '0') return false;
  return fallback; // KConfig ignores what it cannot read and keeps the default.
}

function toInt(value: string | undefined, fallback: number): number {
  if (value === undefined || !/^-?\d+$/.test(value)) return fallback;
  return Number(value);
}

/**
 * The values KDE would use: defaults, then the system file (/etc/xdg), then
 * the user's file, except where the system file marked a key or group
 * immutable.
 */
export function kdeLockValues(userText: string | null, systemText: string | null = null): KdeLockValues {
  const system = systemText === null ? null : parseKConfig(systemText);
  const user = userText === null ? null : parseKConfig(userText);
  const systemDaemon = system?.groups.get('Daemon');
  const userDaemon = user?.groups.get('Daemon');
  const pick = (key: string): string | undefined => {
    const locked = system?.immutable || systemDaemon?.immutable || systemDaemon?.entries.get(key)?.immutable;
    if (locked && systemDaemon?.entries.has(key)) return systemDaemon.entries.get(key)?.value;
    return userDaemon?.entries.get(key)?.value ?? systemDaemon?.entries.get(key)?.value;
  };
  return {
    autolock: toBool(pick('Autolock'), KDE_DEFAULTS.autolock),
    timeoutMinutes: toInt(pick('Timeout'), KDE_DEFAULTS.timeoutMinutes),
    lock: toBool(pick('Lock'), KDE_DEFAULTS.lock),
    lockGraceSeconds: Math.min(300, Math.max(0, toInt(pick('LockGrace'), KDE_DEFAULTS.lockGraceSeconds))),
    lockOnResume: toBool(pick('LockOnResume'), KDE_DEFAULTS.lockOnResume),
  };
}

/**
 * ksldapp starts its idle timer only when Autolock is on and Timeout > 0
 * (minutes). LockOnResume locks on suspend, which is not an idle lock by
 * itself: KDE's power management decides when to suspend, and we do not read
 * it, so it is left out of the effective value.
 */
export function kdeSection(values: KdeLockValues, user: string | null, source = 'kscreenlockerrc'): ScreenlockSection {
  const idleSeconds = values.autolock && values.timeoutMinutes > 0 ? values.timeoutMinutes * 60 : 0;
  return effectiveLock([{ source, idleSeconds, graceSeconds: values.lockGraceSeconds, locks: values.lock }], user);
}

/** True for a KConfig file with kscreenlocker's groups. */
export function isKscreenlockerrc(text: string): boolean {
  if (/^HKEY_/m.test(text)) return false;
  return /^\s*\[(?:Daemon|Greeter)\](?:\[|\s*$)/m.test(text) && /^\s*[A-Za-z][\w.]*(?:\[[^\]]*\])?\s*=/m.test(text);
}

/** A kscreenlockerrc on its own: keys it lacks take KDE's defaults. */
export function parseKscreenlockerrc(text: string): ScreenlockSection {
  if (!isKscreenlockerrc(text)) {
    return { unknown: true, reason: 'not a kscreenlockerrc: no [Daemon] or [Greeter] group' };
  }
  return kdeSection(kdeLockValues(text), null);
}
