import type { ScreenlockSection } from '@vigie/shared';
import { effectiveLock, type LockMechanism } from './effective';
import type { MacScreenLock } from './parse-sysadminctl';

export interface MacLockInputs {
  /** From sysadminctl; null when it could not be read. */
  screenLock: MacScreenLock | null;
  /** com.apple.screensaver idleTime in seconds (0 = never), null when unset or unreadable. */
  screenSaverIdleSeconds: number | null;
  /** Where idleTime came from: "managed" (a configuration profile) or "user". */
  screenSaverSource: 'managed' | 'user';
  /** pmset displaysleep, minutes, worst profile; null when unreadable. */
  displaySleepMinutes: number | null;
  user: string | null;
}

/**
 * On macOS one setting asks for the password, "Require password after screen
 * saver begins or display is turned off" (sysadminctl -screenLock), and two
 * timers trigger it: the screen saver (idleTime) and display sleep (pmset
 * displaysleep). Whichever starts first locks, delay seconds later. When the
 * screen lock is off, neither locks.
 *
 * System sleep (pmset sleep) is left out on purpose: daemons such as
 * coreaudiod or bluetoothd routinely hold assertions that prevent it ("sleep 1
 * (sleep prevented by bluetoothd, coreaudiod)"), while the display still
 * sleeps on time; counting it would make the lock look sooner than it is.
 * When idleTime is unset we do not assume Apple's default: the screen saver is
 * left out, and the display sleep timer, which always exists, bounds the result.
 */
export function macosSection(inputs: MacLockInputs): ScreenlockSection {
  const locks = inputs.screenLock === null ? null : inputs.screenLock.on;
  const grace = inputs.screenLock?.on ? inputs.screenLock.delaySeconds : 0;
  const mechanisms: LockMechanism[] = [];
  if (inputs.screenSaverIdleSeconds !== null) {
    mechanisms.push({
      source: inputs.screenSaverSource === 'managed' ? 'profile:com.apple.screensaver+sysadminctl' : 'screensaver+sysadminctl',
      idleSeconds: inputs.screenSaverIdleSeconds,
      graceSeconds: grace,
      locks,
    });
  }
  if (inputs.displaySleepMinutes !== null) {
    mechanisms.push({ source: 'pmset:displaysleep+sysadminctl', idleSeconds: inputs.displaySleepMinutes * 60, graceSeconds: grace, locks });
  }
  if (mechanisms.length === 0) {
    return { unknown: true, reason: 'neither the screen saver idle time nor pmset timers could be read' };
  }
  return effectiveLock(mechanisms, inputs.user);
}
