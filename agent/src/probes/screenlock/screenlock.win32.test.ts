import fs from 'node:fs';
import path from 'node:path';
import type { Exec, ExecResult } from '../../exec';
import type { ProbeContext } from '../types';
import { collectScreenlockWin32, CONSOLE_USER_SCRIPT, encodePowerShell } from './screenlock.win32';

const fixture = (name: string) => fs.readFileSync(path.join(__dirname, '../../../test/fixtures/screenlock/windows', name), 'utf8');

/** A fake exec answering `file args...` from a table; unknown commands cannot start. */
function fakeContext(table: Record<string, Partial<ExecResult>>) {
  const calls: string[] = [];
  const exec: Exec = async (file, args) => {
    const command = [file, ...args].join(' ');
    calls.push(command);
    const canned = table[command];
    if (!canned) return { code: null, stdout: '', stderr: '', truncated: false, timedOut: false, error: `ENOENT ${command}` };
    return { code: 0, stdout: '', stderr: '', truncated: false, timedOut: false, ...canned };
  };
  const ctx: ProbeContext = { exec, readFile: jest.fn(), readDir: jest.fn(), platform: 'win32', now: () => new Date(0) };
  return { ctx, calls };
}

const SID = 'S-1-5-21-00000000-1518580609-3671465160-1630';
const PS = `C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe -NoProfile -NonInteractive -EncodedCommand ${encodePowerShell(CONSOLE_USER_SCRIPT)}`;
const REG = 'C:\\Windows\\System32\\reg.exe query';
const INACTIVITY = `${REG} HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Policies\\System /v InactivityTimeoutSecs`;
const GRACE = `${REG} HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Winlogon /v ScreenSaverGracePeriod`;
const USER_DESKTOP = `${REG} HKU\\${SID}\\Control Panel\\Desktop`;
const POLICY_DESKTOP = `${REG} HKU\\${SID}\\Software\\Policies\\Microsoft\\Windows\\Control Panel\\Desktop`;
const VIDEOIDLE = 'C:\\Windows\\System32\\powercfg.exe /q SCHEME_CURRENT SUB_VIDEO VIDEOIDLE';
const CONSOLELOCK = 'C:\\Windows\\System32\\powercfg.exe /qh SCHEME_CURRENT SUB_NONE CONSOLELOCK';

/** reg.exe on a missing key or value: a localised message on stderr, exit 1, nothing on stdout. */
const missing = (lang: 'en' | 'fr' | 'de') => ({ code: 1, stderr: fixture(`reg-missing-value.${lang}.stderr.txt`) });

function windows(overrides: Record<string, Partial<ExecResult>> = {}): Record<string, Partial<ExecResult>> {
  return {
    [PS]: { stdout: fixture('console-user.json') },
    [INACTIVITY]: { stdout: fixture('reg-policy-inactivity-600.txt') },
    [GRACE]: missing('fr'),
    [USER_DESKTOP]: { stdout: fixture('reg-hku-desktop-secure-900.txt') },
    [POLICY_DESKTOP]: missing('de'),
    [VIDEOIDLE]: { stdout: fixture('powercfg-videoidle.de.txt') }, // AC never
    [CONSOLELOCK]: { stdout: fixture('powercfg-consolelock.en.txt') },
    ...overrides,
  };
}

describe('collectScreenlockWin32', () => {
  it('passes the console-user script encoded, so its quotes survive the command line', () => {
    expect(Buffer.from(encodePowerShell(CONSOLE_USER_SCRIPT), 'base64').toString('utf16le')).toBe(CONSOLE_USER_SCRIPT);
    expect(CONSOLE_USER_SCRIPT).toContain('GetOwnerSid');
  });

  it('reads the console user\'s hive by SID: a 600 s policy beats their 900 s secure screen saver', async () => {
    const { ctx, calls } = fakeContext(windows());
    expect(await collectScreenlockWin32(ctx)).toEqual({
      enabled: true,
      idleSeconds: 600,
      graceSeconds: 0,
      requirePassword: true,
      source: 'policy:InactivityTimeoutSecs',
      user: 'CONTOSO\\alice',
    });
    expect(calls).toContain(USER_DESKTOP);
    expect(calls.some((c) => c.includes('HKCU'))).toBe(false);
    // Winlogon is only ever read for one value: the key can hold an autologon password.
    expect(calls.filter((c) => c.includes('Winlogon'))).toEqual([GRACE]);
  });

  it('missing values (English error) are absent, not failures; display off + password on wake wins', async () => {
    const { ctx } = fakeContext(
      windows({
        [INACTIVITY]: missing('en'),
        [VIDEOIDLE]: { stdout: fixture('powercfg-videoidle.fr.txt') }, // AC 600, DC 300
      }),
    );
    expect(await collectScreenlockWin32(ctx)).toEqual({
      enabled: true,
      idleSeconds: 600,
      graceSeconds: 0,
      requirePassword: true,
      source: 'powercfg:VIDEOIDLE+CONSOLELOCK',
      user: 'CONTOSO\\alice',
    });
  });

  it('without a policy or display timeout, the secure screen saver locks at 900 s + 5 s default grace', async () => {
    const { ctx } = fakeContext(windows({ [INACTIVITY]: missing('en') }));
    expect(await collectScreenlockWin32(ctx)).toMatchObject({ enabled: true, idleSeconds: 900, graceSeconds: 5, source: 'registry:ScreenSaver' });
  });

  it('the "(None)" screen saver and no policy: nothing locks', async () => {
    const { ctx } = fakeContext(
      windows({
        [INACTIVITY]: missing('de'),
        [USER_DESKTOP]: { stdout: fixture('reg-desktop-no-screensaver.txt').replace(/HKEY_CURRENT_USER/g, `HKEY_USERS\\${SID}`) },
        [CONSOLELOCK]: { stdout: fixture('powercfg-consolelock.en.txt').replace(/0x00000001/g, '0x00000000') },
      }),
    );
    expect(await collectScreenlockWin32(ctx)).toMatchObject({ enabled: false, idleSeconds: 0, requirePassword: false });
  });

  it('nobody at the console is unknown, and nothing else is read', async () => {
    const { ctx, calls } = fakeContext(windows({ [PS]: { stdout: fixture('console-user-nobody.json') } }));
    expect(await collectScreenlockWin32(ctx)).toEqual({ unknown: true, reason: 'no user logged in at the console' });
    expect(calls).toHaveLength(1);
  });

  it('an unloaded user hive is unknown rather than "no screen saver"', async () => {
    const { ctx } = fakeContext(windows({ [USER_DESKTOP]: missing('en') }));
    expect(await collectScreenlockWin32(ctx)).toEqual({
      unknown: true,
      reason: `registry hive of CONTOSO\\alice is not loaded (HKU\\${SID}\\Control Panel\\Desktop missing)`,
    });
  });

  it('reg.exe that cannot run is unknown', async () => {
    const { ctx } = fakeContext(windows({ [INACTIVITY]: { code: null, error: 'spawn EACCES' } }));
    expect(await collectScreenlockWin32(ctx)).toEqual({
      unknown: true,
      reason: 'reg query HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Policies\\System failed: spawn EACCES',
    });
  });

  it('PowerShell failing is unknown', async () => {
    const { ctx } = fakeContext(windows({ [PS]: { code: 1, stderr: 'Get-CimInstance : Access denied\r\n' } }));
    expect(await collectScreenlockWin32(ctx)).toEqual({
      unknown: true,
      reason: 'finding the console user failed: Get-CimInstance : Access denied',
    });
  });
});
