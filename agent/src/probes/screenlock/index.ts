import type { ScreenlockSection } from '@vigie/shared';
import type { OutputFormat } from '../format';
import type { ProbeContext } from '../types';
import { macosSection } from './macos-lock';
import { isGsettingsDump, parseGsettingsDump } from './parse-gsettings';
import { isKscreenlockerrc, parseKscreenlockerrc } from './parse-kscreenlockerrc';
import { isPmset, parsePmset, worstPmsetMinutes } from './parse-pmset';
import { CONSOLELOCK_GUID, isPowercfgQuery, parsePowerSetting, VIDEOIDLE_GUID } from './parse-powercfg';
import { isRegQuery, parseRegQuery } from './parse-reg-query';
import { isSysadminctlScreenLock, sysadminctlSection } from './parse-sysadminctl';
import { collectScreenlockDarwin } from './screenlock.darwin';
import { collectScreenlockLinux } from './screenlock.linux';
import { collectScreenlockWin32 } from './screenlock.win32';
import { windowsSection } from './windows-lock';

/** Screen-lock facts of the user at the screen, on whichever OS the agent runs. */
export async function collectScreenlock(ctx: ProbeContext): Promise<ScreenlockSection> {
  switch (ctx.platform) {
    case 'win32':
      return collectScreenlockWin32(ctx);
    case 'darwin':
      return collectScreenlockDarwin(ctx);
    case 'linux':
      return collectScreenlockLinux(ctx);
    default:
      return { unknown: true, reason: `not supported on ${ctx.platform}` };
  }
}

/**
 * Outputs support staff can paste into `vigie-agent parse screenlock <file>`.
 * Each is judged on what the file holds: a file with only part of a device's
 * settings (a screen saver without the inactivity policy, pmset without the
 * password setting) gives the facts that part supports, with null where it is
 * silent. Order matters only as a tie-break; each detect() is specific.
 */
export const screenlockFormats: OutputFormat<ScreenlockSection>[] = [
  {
    name: 'powercfg',
    description: 'powercfg /q SCHEME_CURRENT SUB_VIDEO VIDEOIDLE and/or /qh ... SUB_NONE CONSOLELOCK, any language',
    detect: isPowercfgQuery,
    parse: (text) =>
      windowsSection({
        registry: [],
        displayOff: parsePowerSetting(text, VIDEOIDLE_GUID),
        consoleLock: parsePowerSetting(text, CONSOLELOCK_GUID),
        user: null,
      }),
  },
  {
    name: 'reg-query',
    description: 'reg query of Control Panel\\Desktop, its Policies twin, Policies\\System or Winlogon (one or several, concatenated)',
    detect: (text) => isRegQuery(text) && !isPowercfgQuery(text),
    parse: (text) => windowsSection({ registry: parseRegQuery(text), displayOff: null, consoleLock: null, user: null }),
  },
  {
    name: 'sysadminctl',
    description: 'sysadminctl -screenLock status (macOS, stderr)',
    detect: isSysadminctlScreenLock,
    parse: sysadminctlSection,
  },
  {
    name: 'pmset',
    description: 'pmset -g or pmset -g custom (macOS display sleep timer, worst power profile)',
    detect: (text) => isPmset(text) && !isSysadminctlScreenLock(text),
    parse: (text) => {
      const profiles = parsePmset(text);
      return macosSection({
        screenLock: null,
        screenSaverIdleSeconds: null,
        screenSaverSource: 'user',
        displaySleepMinutes: worstPmsetMinutes(profiles, 'displaysleep'),
        user: null,
      });
    },
  },
  {
    name: 'gsettings',
    description: 'gsettings list-recursively lines of org.gnome.desktop.session/screensaver/lockdown (GNOME)',
    detect: isGsettingsDump,
    parse: parseGsettingsDump,
  },
  {
    name: 'kscreenlockerrc',
    description: '~/.config/kscreenlockerrc (KDE Plasma); missing keys take KDE defaults',
    detect: isKscreenlockerrc,
    parse: parseKscreenlockerrc,
  },
];
