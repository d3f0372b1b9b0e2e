/**
 * Screen lock on macOS: "Require password after screen saver begins or display
 * is turned off" (sysadminctl -screenLock status), the screen saver's idle time
 * (com.apple.screensaver idleTime, per host) and the display sleep timer
 * (pmset).
 *
 * The password setting is kept in the user's keybag and the idle time in the
 * user's ByHost preferences, so both must be read in the console user's
 * context: the agent runs as root, and root has no GUI session (the osquery
 * screenlock table returns nothing under Fleet for this reason:
 * https://github.com/fleetdm/fleet/issues/12382). Like Kolide's launcher, we
 * run them with `launchctl asuser <uid>` plus `sudo -u <user>`, which puts the
 * command in the user's bootstrap namespace as that user.
 *
 * A configuration profile that sets idleTime wins over the user's value; it is
 * read from /Library/Managed Preferences (per user, then per computer).
 * Limits: nobody at the console (login window, fast user switching to the
 * login screen) means unknown. pmset timers are read for every power profile
 * and the worst is kept, since a laptop may be on battery or mains. System
 * sleep is not counted (see macos-lock.ts).
 */
import type { ScreenlockSection } from '@vigie/shared';
import type { ExecResult } from '../../exec';
import type { ProbeContext } from '../types';
import { macosSection } from './macos-lock';
import { parsePmset, worstPmsetMinutes } from './parse-pmset';
import { parseSysadminctlScreenLock } from './parse-sysadminctl';

const STAT = '/usr/bin/stat';
const ID = '/usr/bin/id';
const LAUNCHCTL = '/bin/launchctl';
const SUDO = '/usr/bin/sudo';
const SYSADMINCTL = '/usr/sbin/sysadminctl';
const DEFAULTS = '/usr/bin/defaults';
const PMSET = '/usr/bin/pmset';
const TIMEOUT = { timeoutMs: 15_000 };
const USER_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

function ok(result: ExecResult): boolean {
  return result.code === 0 && !result.error && !result.timedOut;
}

function failure(what: string, result: ExecResult): string {
  const detail = result.error ?? (result.timedOut ? 'timed out' : result.stderr.trim().split('\n').pop() || `exit code ${result.code}`);
  return `${what} failed: ${detail}`;
}

/** defaults prints the integer; a missing key exits 1 ("The domain/default pair ... does not exist"). */
function readInteger(result: ExecResult): number | null {
  const text = result.stdout.trim();
  return ok(result) && /^\d+$/.test(text) ? Number(text) : null;
}

export async function collectScreenlockDarwin(ctx: ProbeContext): Promise<ScreenlockSection> {
  try {
    const consoleOwner = await ctx.exec(STAT, ['-f', '%Su', '/dev/console'], TIMEOUT);
    if (!ok(consoleOwner)) return { unknown: true, reason: failure('stat /dev/console', consoleOwner) };
    const user = consoleOwner.stdout.trim();
    if (user === '' || user === 'root' || user === 'loginwindow') {
      return { unknown: true, reason: 'no user logged in at the console (login window)' };
    }
    if (!USER_NAME.test(user)) return { unknown: true, reason: 'unexpected console user name' };
    const id = await ctx.exec(ID, ['-u', user], TIMEOUT);
    const uid = id.stdout.trim();
    if (!ok(id) || !/^\d+$/.test(uid)) return { unknown: true, reason: failure(`id -u ${user}`, id) };
    const asUser = (file: string, args: string[]) => ctx.exec(LAUNCHCTL, ['asuser', uid, SUDO, '-u', user, file, ...args], TIMEOUT);

    const status = await asUser(SYSADMINCTL, ['-screenLock', 'status']);
    // NSLog writes to stderr; read both in case a release moves it.
    const screenLock = parseSysadminctlScreenLock(`${status.stderr}\n${status.stdout}`);
    if (!screenLock) {
      const said = `${status.stderr}\n${status.stdout}`.trim().split('\n').pop()?.slice(0, 300) ?? '';
      return {
        unknown: true,
        reason: ok(status)
          ? `sysadminctl -screenLock status gave no screenLock line${said ? `: ${said}` : ''}`
          : failure('sysadminctl -screenLock status', status),
      };
    }

    const managedUser = await ctx.exec(DEFAULTS, ['read', `/Library/Managed Preferences/${user}/com.apple.screensaver`, 'idleTime'], TIMEOUT);
    const managedComputer = await ctx.exec(DEFAULTS, ['read', '/Library/Managed Preferences/com.apple.screensaver', 'idleTime'], TIMEOUT);
    const managed = readInteger(managedUser) ?? readInteger(managedComputer);
    const own = managed === null ? readInteger(await asUser(DEFAULTS, ['-currentHost', 'read', 'com.apple.screensaver', 'idleTime'])) : null;

    const pmset = await ctx.exec(PMSET, ['-g', 'custom'], TIMEOUT);
    const profiles = ok(pmset) ? parsePmset(pmset.stdout) : new Map();

    return macosSection({
      screenLock,
      screenSaverIdleSeconds: managed ?? own,
      screenSaverSource: managed !== null ? 'managed' : 'user',
      displaySleepMinutes: worstPmsetMinutes(profiles, 'displaysleep'),
      user,
    });
  } catch (err) {
    return { unknown: true, reason: `screen lock check failed: ${err instanceof Error ? err.message : String(err)}` };
  }
}
