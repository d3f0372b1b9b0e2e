import type { ScreenlockSection } from '@vigie/shared';

/**
 * One thing that can end an idle session in a password prompt: a screen saver,
 * a machine inactivity policy, the display turning off, a desktop's own locker.
 * Every OS has several, and they race: the first one to lock wins. So the
 * effective value is the smallest idle + grace among the mechanisms that really
 * lock, not the value of whichever setting a person would look at first.
 */
export interface LockMechanism {
  /** Where the values come from, e.g. "policy:InactivityTimeoutSecs". */
  source: string;
  /** Idle seconds before it starts; 0 means it never starts. */
  idleSeconds: number;
  /** Seconds after it starts before a password is needed. */
  graceSeconds: number;
  /** true: it ends in a password prompt; false: it does not; null: we could not tell. */
  locks: boolean | null;
}

const MAX_SOURCE = 256;

function clip(source: string): string {
  return source.length > MAX_SOURCE ? source.slice(0, MAX_SOURCE) : source;
}

/**
 * Turns the mechanisms read on a device into its screen-lock facts.
 *
 * - Some mechanism locks and starts: the earliest one (idle + grace) is the
 *   effective lock. A screen saver without a password that starts sooner does
 *   not count, since it does not protect anything.
 * - None is known to lock, but one might (we could not read whether it asks
 *   for a password): enabled and requirePassword are null. Unknown is never
 *   read as compliant downstream, so we do not guess.
 * - None locks: enabled is false. idleSeconds is what starts first without a
 *   password (or 0: nothing ever starts), so a report can still say "the screen
 *   saver runs after 5 minutes but asks for no password".
 */
export function effectiveLock(mechanisms: readonly LockMechanism[], user: string | null): ScreenlockSection {
  if (mechanisms.length === 0) {
    return { unknown: true, reason: 'no screen-lock setting could be read' };
  }
  const starting = mechanisms.filter((m) => m.idleSeconds > 0);
  const locking = starting.filter((m) => m.locks === true);
  const best = smallest(locking);
  if (best) {
    return {
      enabled: true,
      idleSeconds: best.idleSeconds,
      graceSeconds: best.graceSeconds,
      requirePassword: true,
      source: clip(best.source),
      user,
    };
  }
  const maybe = smallest(starting.filter((m) => m.locks === null));
  if (maybe) {
    return {
      enabled: null,
      idleSeconds: maybe.idleSeconds,
      graceSeconds: null,
      requirePassword: null,
      source: clip(maybe.source),
      user,
    };
  }
  // Nothing that starts asks for a password. A password may still be set on a
  // mechanism that never starts (GNOME lock-enabled with idle-delay 0).
  const first = smallest(starting);
  const requirePassword = mechanisms.some((m) => m.locks === true)
    ? true
    : mechanisms.some((m) => m.locks === null)
      ? null
      : false;
  return {
    enabled: false,
    idleSeconds: first ? first.idleSeconds : 0,
    graceSeconds: null,
    requirePassword,
    source: clip(first ? first.source : mechanisms.map((m) => m.source).join('+')),
    user,
  };
}

function smallest(list: readonly LockMechanism[]): LockMechanism | undefined {
  let best: LockMechanism | undefined;
  for (const m of list) {
    if (!best || m.idleSeconds + m.graceSeconds < best.idleSeconds + best.graceSeconds) best = m;
  }
  return best;
}
