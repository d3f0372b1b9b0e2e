import fs from 'node:fs';
import path from 'node:path';
import type { Exec, ExecResult } from '../../exec';
import type { ProbeContext } from '../types';
import { collectScreenlockDarwin } from './screenlock.darwin';

const fixture = (name: string) => fs.readFileSync(path.join(__dirname, '../../../test/fixtures/screenlock/macos', name), 'utf8');

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
  const ctx: ProbeContext = {
    exec,
    readFile: async (p) => {
      throw new Error(`ENOENT: ${p}`);
    },
    readDir: async () => [],
    platform: 'darwin',
    now: () => new Date(0),
  };
  return { ctx, calls };
}

const AS_ALICE = '/bin/launchctl asuser 501 /usr/bin/sudo -u alice';
const NOT_SET = { code: 1, stderr: '\nThe domain/default pair of (com.apple.screensaver, idleTime) does not exist\n' };

function mac(overrides: Record<string, Partial<ExecResult>> = {}): Record<string, Partial<ExecResult>> {
  return {
    '/usr/bin/stat -f %Su /dev/console': { stdout: 'alice\n' },
    '/usr/bin/id -u alice': { stdout: '501\n' },
    [`${AS_ALICE} /usr/sbin/sysadminctl -screenLock status`]: { stderr: fixture('sysadminctl-delay-5.txt') },
    '/usr/bin/defaults read /Library/Managed Preferences/alice/com.apple.screensaver idleTime': NOT_SET,
    '/usr/bin/defaults read /Library/Managed Preferences/com.apple.screensaver idleTime': NOT_SET,
    [`${AS_ALICE} /usr/bin/defaults -currentHost read com.apple.screensaver idleTime`]: { stdout: '1200\n' },
    '/usr/bin/pmset -g custom': { stdout: fixture('pmset-g-custom.txt') },
    ...overrides,
  };
}

describe('collectScreenlockDarwin', () => {
  it('reads the console user\'s settings in their session; display sleep (worst 10 min) beats a 20 min screen saver', async () => {
    const { ctx, calls } = fakeContext(mac());
    expect(await collectScreenlockDarwin(ctx)).toEqual({
      enabled: true,
      idleSeconds: 600,
      graceSeconds: 5,
      requirePassword: true,
      source: 'pmset:displaysleep+sysadminctl',
      user: 'alice',
    });
    // The per-user settings are never read as root.
    expect(calls).toContain(`${AS_ALICE} /usr/sbin/sysadminctl -screenLock status`);
    expect(calls).toContain(`${AS_ALICE} /usr/bin/defaults -currentHost read com.apple.screensaver idleTime`);
    expect(calls).not.toContain('/usr/sbin/sysadminctl -screenLock status');
  });

  it('a screen saver sooner than display sleep wins', async () => {
    const { ctx } = fakeContext(
      mac({ [`${AS_ALICE} /usr/bin/defaults -currentHost read com.apple.screensaver idleTime`]: { stdout: '300\n' } }),
    );
    expect(await collectScreenlockDarwin(ctx)).toMatchObject({ idleSeconds: 300, graceSeconds: 5, source: 'screensaver+sysadminctl' });
  });

  it('a configuration profile\'s idleTime wins over the user\'s', async () => {
    const { ctx, calls } = fakeContext(
      mac({ '/usr/bin/defaults read /Library/Managed Preferences/alice/com.apple.screensaver idleTime': { stdout: '240\n' } }),
    );
    expect(await collectScreenlockDarwin(ctx)).toMatchObject({ idleSeconds: 240, source: 'profile:com.apple.screensaver+sysadminctl' });
    expect(calls.some((c) => c.includes('-currentHost'))).toBe(false);
  });

  it('screen lock off: nothing locks', async () => {
    const { ctx } = fakeContext(mac({ [`${AS_ALICE} /usr/sbin/sysadminctl -screenLock status`]: { stderr: fixture('sysadminctl-off.txt') } }));
    expect(await collectScreenlockDarwin(ctx)).toMatchObject({ enabled: false, requirePassword: false, user: 'alice' });
  });

  it('immediate lock, no screen saver set, pmset unreadable: unknown timers', async () => {
    const { ctx } = fakeContext(
      mac({
        [`${AS_ALICE} /usr/sbin/sysadminctl -screenLock status`]: { stderr: fixture('sysadminctl-immediate.txt') },
        [`${AS_ALICE} /usr/bin/defaults -currentHost read com.apple.screensaver idleTime`]: NOT_SET,
        '/usr/bin/pmset -g custom': { code: 1, stderr: 'pmset: error\n' },
      }),
    );
    expect(await collectScreenlockDarwin(ctx)).toEqual({
      unknown: true,
      reason: 'neither the screen saver idle time nor pmset timers could be read',
    });
  });

  it('nobody at the console (login window) is unknown', async () => {
    const { ctx, calls } = fakeContext(mac({ '/usr/bin/stat -f %Su /dev/console': { stdout: 'root\n' } }));
    expect(await collectScreenlockDarwin(ctx)).toEqual({ unknown: true, reason: 'no user logged in at the console (login window)' });
    expect(calls).toHaveLength(1);
  });

  it('sysadminctl without an answer is unknown, not "off"', async () => {
    const { ctx } = fakeContext(
      mac({ [`${AS_ALICE} /usr/sbin/sysadminctl -screenLock status`]: { stderr: '2024-05-01 10:00:00.000 sysadminctl[1:2] ### Error:-14120\n' } }),
    );
    expect(await collectScreenlockDarwin(ctx)).toEqual({
      unknown: true,
      reason: 'sysadminctl -screenLock status gave no screenLock line: 2024-05-01 10:00:00.000 sysadminctl[1:2] ### Error:-14120',
    });
  });
});
