import type { ScreenlockSection } from '@vigie/shared';
import { effectiveLock, type LockMechanism } from './effective';
import type { PowerValue } from './parse-powercfg';
import { findRegValue, regNumber, type RegValue } from './parse-reg-query';

export const POLICIES_SYSTEM = '\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Policies\\System';
export const WINLOGON = '\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Winlogon';
export const USER_DESKTOP = '\\Control Panel\\Desktop';
export const POLICY_DESKTOP = '\\Software\\Policies\\Microsoft\\Windows\\Control Panel\\Desktop';

/** Windows' default for ScreenSaverGracePeriod when the value is absent (MSS setting documentation). */
export const DEFAULT_SCREENSAVER_GRACE = 5;

export interface WindowsLockInputs {
  /** Every value read with reg.exe, from all keys; a missing key or value is simply absent. */
  registry: readonly RegValue[];
  /** VIDEOIDLE, or null when powercfg could not be read. */
  displayOff: PowerValue | null;
  /** CONSOLELOCK, or null when powercfg could not be read. */
  consoleLock: PowerValue | null;
  user: string | null;
}

/** The user's own Control Panel\Desktop key, not the policy key that ends the same way. */
function userDesktopValue(registry: readonly RegValue[], name: string): RegValue | undefined {
  return registry.find(
    (v) =>
      v.key.toLowerCase().endsWith(USER_DESKTOP.toLowerCase()) &&
      !v.key.toLowerCase().endsWith(POLICY_DESKTOP.toLowerCase()) &&
      v.name.toLowerCase() === name.toLowerCase(),
  );
}

/**
 * The screen saver as the user gets it: a Group Policy value (HKCU\Software\Policies)
 * wins over the user's own value, one value at a time, as Windows applies them.
 * "(None)" in the screen saver dialog removes SCRNSAVE.EXE while leaving
 * ScreenSaveActive at 1, so a screen saver only runs when an executable is set.
 * When one runs without ScreenSaveTimeOut we cannot say when it starts, so it
 * is left out rather than guessed.
 */
function screenSaver(registry: readonly RegValue[]): LockMechanism | null {
  const read = (name: string) => {
    const policy = findRegValue(registry, POLICY_DESKTOP, name);
    return policy ? { value: policy, fromPolicy: true } : { value: userDesktopValue(registry, name), fromPolicy: false };
  };
  const active = read('ScreenSaveActive');
  const secure = read('ScreenSaverIsSecure');
  const timeout = read('ScreenSaveTimeOut');
  const exe = read('SCRNSAVE.EXE');
  if (!active.value && !secure.value && !timeout.value && !exe.value) return null;
  const runs = active.value?.data.trim() === '1' && (exe.value?.data.trim() ?? '') !== '';
  const seconds = runs ? regNumber(timeout.value) : 0;
  if (seconds === null) return null;
  const grace = regNumber(findRegValue(registry, WINLOGON, 'ScreenSaverGracePeriod')) ?? DEFAULT_SCREENSAVER_GRACE;
  const fromPolicy = active.fromPolicy || secure.fromPolicy || timeout.fromPolicy || exe.fromPolicy;
  return {
    source: fromPolicy ? 'policy:ScreenSaver' : 'registry:ScreenSaver',
    idleSeconds: seconds,
    graceSeconds: grace,
    locks: secure.value?.data.trim() === '1',
  };
}

/**
 * Three things can lock an idle Windows session; the earliest one wins:
 *
 * 1. "Interactive logon: Machine inactivity limit" (InactivityTimeoutSecs,
 *    HKLM policy): LogonUI locks the session itself after that many seconds,
 *    with no grace. Machine-wide, whoever is logged on. 0 = off.
 * 2. A password-protected screen saver (ScreenSaverIsSecure=1): locks
 *    ScreenSaverGracePeriod seconds (default 5) after it starts. So a policy of
 *    600 s beats a secure screen saver at 900 s, and a screen saver at 300 s
 *    with no password beats nothing.
 * 3. The display turning off (powercfg VIDEOIDLE). That alone never locks: the
 *    session is only locked when the machine then asks for a password on wake
 *    (CONSOLELOCK, "Require sign-in when the PC wakes up"). On Modern Standby
 *    laptops the display going off is the machine going to standby, so the two
 *    together lock. Limit: on a desktop with classic S3 sleep, a display that
 *    is merely off does not lock, and we cannot tell the two apart from
 *    powercfg /q; this mechanism is then optimistic.
 *
 * AC and DC values differ on laptops and the agent cannot know which will
 * apply when the user walks away, so the worse of the two is used: the longer
 * display timeout (0, never, being the worst), and a password on wake only if
 * both ask for one.
 */
export function windowsSection(inputs: WindowsLockInputs): ScreenlockSection {
  const mechanisms: LockMechanism[] = [];
  const inactivity = regNumber(findRegValue(inputs.registry, POLICIES_SYSTEM, 'InactivityTimeoutSecs'));
  if (inactivity !== null) {
    mechanisms.push({ source: 'policy:InactivityTimeoutSecs', idleSeconds: inactivity, graceSeconds: 0, locks: true });
  }
  const saver = screenSaver(inputs.registry);
  if (saver) mechanisms.push(saver);
  if (inputs.displayOff) {
    const { ac, dc } = inputs.displayOff;
    const worst = ac === 0 || dc === 0 ? 0 : Math.max(ac, dc);
    const locks = inputs.consoleLock ? inputs.consoleLock.ac === 1 && inputs.consoleLock.dc === 1 : null;
    mechanisms.push({ source: 'powercfg:VIDEOIDLE+CONSOLELOCK', idleSeconds: worst, graceSeconds: 0, locks });
  }
  if (mechanisms.length === 0) {
    return {
      unknown: true,
      reason: 'no InactivityTimeoutSecs, screen saver or display timeout could be read',
    };
  }
  return effectiveLock(mechanisms, inputs.user);
}
