import type { ScreenlockSection } from '@vigie/shared';

/** "Require password after screen saver begins or display is turned off". */
export type MacScreenLock = { on: false } | { on: true; delaySeconds: number };

/*
 * `sysadminctl -screenLock status` writes one NSLog line to stderr:
 *   2026-09-21 20:50:02.423 sysadminctl[22746:23830390] screenLock delay is 5 seconds
 *   2026-09-23 13:27:31.636 sysadminctl[69987:3026189] screenLock delay is immediate
 *   2026-09-21 20:51:30.063 sysadminctl[22795:23833089] screenLock is off
 * Some releases print a negative delay ("-1.000000 seconds") for off. Run as
 * root outside the user's GUI session it cannot read the setting (fleet#12382),
 * which is why the collector runs it through `launchctl asuser`.
 */
export function parseSysadminctlScreenLock(text: string): MacScreenLock | null {
  if (/screenLock is off/i.test(text)) return { on: false };
  if (/screenLock delay is immediate/i.test(text)) return { on: true, delaySeconds: 0 };
  const m = /screenLock delay is (-?\d+(?:\.\d+)?) seconds?/i.exec(text);
  if (!m || m[1] === undefined) return null;
  const seconds = Number(m[1]);
  return seconds < 0 ? { on: false } : { on: true, delaySeconds: Math.round(seconds) };
}

export function isSysadminctlScreenLock(text: string): boolean {
  return parseSysadminctlScreenLock(text) !== null;
}

/**
 * sysadminctl on its own says whether a password is asked and after how long,
 * not when the screen saver or display sleep starts: enabled and idleSeconds
 * stay unknown unless the lock is off, in which case nothing ever locks.
 */
export function sysadminctlSection(text: string): ScreenlockSection {
  const lock = parseSysadminctlScreenLock(text);
  if (!lock) return { unknown: true, reason: 'no "screenLock ..." line in the sysadminctl output' };
  if (!lock.on) {
    return { enabled: false, idleSeconds: null, graceSeconds: null, requirePassword: false, source: 'sysadminctl', user: null };
  }
  return {
    enabled: null,
    idleSeconds: null,
    graceSeconds: lock.delaySeconds,
    requirePassword: true,
    source: 'sysadminctl',
    user: null,
  };
}
