import fs from 'node:fs';
import path from 'node:path';
import type { Exec, ExecOptions, ExecResult } from '../../exec';
import { UnsafeFileError } from '../context';
import type { ProbeContext } from '../types';
import { collectScreenlockLinux } from './screenlock.linux';

const fixture = (name: string) => fs.readFileSync(path.join(__dirname, '../../../test/fixtures/screenlock/linux', name), 'utf8');

type Canned = Partial<ExecResult>;
interface Call {
  command: string;
  options: ExecOptions | undefined;
}

/** A fake exec answering `file args...` from a table, recording every call with its options. */
function fakeContext(table: Record<string, Canned>, files: Record<string, string> = {}) {
  const calls: Call[] = [];
  const exec: Exec = async (file, args, options) => {
    const command = [file, ...args].join(' ');
    calls.push({ command, options });
    const canned = table[command];
    if (!canned) return { code: null, stdout: '', stderr: '', truncated: false, timedOut: false, error: `ENOENT ${command}` };
    return { code: 0, stdout: '', stderr: '', truncated: false, timedOut: false, ...canned };
  };
  const ctx: ProbeContext = {
    exec,
    readFile: async (p) => {
      const text = files[p];
      if (text === undefined) throw new Error(`ENOENT: ${p}`);
      return text;
    },
    readDir: async () => [],
    platform: 'linux',
    now: () => new Date(0),
  };
  return { ctx, calls };
}

const SHOW = '-p Name -p Type -p Active -p State -p Remote -p Display -p Desktop -p Class';

function session(desktop: string): Record<string, Canned> {
  return {
    '/usr/bin/loginctl list-sessions --no-legend': { stdout: fixture('loginctl-list-sessions.txt') },
    [`/usr/bin/loginctl show-session c1 ${SHOW}`]: { stdout: fixture('loginctl-show-session-c1-greeter.txt') },
    [`/usr/bin/loginctl show-session 5 ${SHOW}`]: { stdout: fixture('loginctl-show-session-5-ssh.txt') },
    [`/usr/bin/loginctl show-session 2 ${SHOW}`]: {
      stdout: fixture('loginctl-show-session-2-gnome.txt').replace('Desktop=GNOME', `Desktop=${desktop}`),
    },
    '/usr/bin/id -u alice': { stdout: '1000\n' },
    '/usr/bin/id -g alice': { stdout: '1001\n' },
    '/usr/bin/getent passwd alice': { stdout: 'alice:x:1000:1001:Alice,,,:/home/alice:/bin/bash\n' },
  };
}

// `gsettings get` outputs captured on Debian 12 (GLib 2.74.6).
const gnome: Record<string, Canned> = {
  '/usr/bin/gsettings get org.gnome.desktop.session idle-delay': { stdout: 'uint32 900\n' },
  '/usr/bin/gsettings get org.gnome.desktop.screensaver lock-enabled': { stdout: 'true\n' },
  '/usr/bin/gsettings get org.gnome.desktop.screensaver lock-delay': { stdout: 'uint32 30\n' },
  '/usr/bin/gsettings get org.gnome.desktop.lockdown disable-lock-screen': { stdout: 'false\n' },
};

describe('collectScreenlockLinux', () => {
  it('GNOME: reads the session user\'s gsettings as that user, with their bus', async () => {
    const { ctx, calls } = fakeContext({ ...session('GNOME'), ...gnome });
    expect(await collectScreenlockLinux(ctx)).toEqual({
      enabled: true,
      idleSeconds: 900,
      graceSeconds: 30,
      requirePassword: true,
      source: 'gsettings',
      user: 'alice',
    });
    const gsettings = calls.filter((c) => c.command.startsWith('/usr/bin/gsettings'));
    expect(gsettings).toHaveLength(4);
    for (const call of gsettings) {
      expect(call.options).toMatchObject({
        uid: 1000,
        gid: 1001,
        env: {
          HOME: '/home/alice',
          USER: 'alice',
          XDG_RUNTIME_DIR: '/run/user/1000',
          DBUS_SESSION_BUS_ADDRESS: 'unix:path=/run/user/1000/bus',
        },
      });
      expect(call.options?.timeoutMs).toBeGreaterThan(0);
    }
    // Nothing ran gsettings as root.
    expect(gsettings.every((c) => c.options?.uid === 1000)).toBe(true);
  });

  it('Ubuntu\'s GNOME session, values printed without a type prefix', async () => {
    const { ctx } = fakeContext({
      ...session('ubuntu'),
      ...gnome,
      '/usr/bin/gsettings get org.gnome.desktop.session idle-delay': { stdout: '300\n' },
      '/usr/bin/gsettings get org.gnome.desktop.screensaver lock-delay': { stdout: '0\n' },
    });
    expect(await collectScreenlockLinux(ctx)).toMatchObject({ enabled: true, idleSeconds: 300, graceSeconds: 0, user: 'alice' });
  });

  it('GNOME without the lockdown schema still reads the lock', async () => {
    const { ctx } = fakeContext({
      ...session('GNOME'),
      ...gnome,
      '/usr/bin/gsettings get org.gnome.desktop.lockdown disable-lock-screen': {
        code: 1,
        stderr: 'No such schema “org.gnome.desktop.lockdown”\n',
      },
    });
    expect(await collectScreenlockLinux(ctx)).toMatchObject({ enabled: true, idleSeconds: 900 });
  });

  it('GNOME: a failing idle-delay read is unknown', async () => {
    const { ctx } = fakeContext({
      ...session('GNOME'),
      ...gnome,
      '/usr/bin/gsettings get org.gnome.desktop.session idle-delay': { code: 1, stderr: 'No such schema “org.gnome.desktop.session”\n' },
    });
    expect(await collectScreenlockLinux(ctx)).toEqual({
      unknown: true,
      reason: 'gsettings get org.gnome.desktop.session idle-delay failed: No such schema “org.gnome.desktop.session”',
    });
  });

  it('KDE: reads ~/.config/kscreenlockerrc of the session user, defaults for missing keys', async () => {
    const { ctx, calls } = fakeContext(session('KDE'), {
      '/home/alice/.config/kscreenlockerrc': fixture('kscreenlockerrc-timeout-15.txt'),
    });
    expect(await collectScreenlockLinux(ctx)).toEqual({
      enabled: true,
      idleSeconds: 900,
      graceSeconds: 5,
      requirePassword: true,
      source: 'kscreenlockerrc',
      user: 'alice',
    });
    expect(calls.some((c) => c.command.includes('gsettings'))).toBe(false);
  });

  it('KDE: Autolock=false', async () => {
    const { ctx } = fakeContext(session('plasma'), {
      '/home/alice/.config/kscreenlockerrc': fixture('kscreenlockerrc-autolock-false.txt'),
    });
    expect(await collectScreenlockLinux(ctx)).toMatchObject({ enabled: false, idleSeconds: 0, user: 'alice' });
  });

  it('KDE: no kscreenlockerrc at all means KDE\'s defaults', async () => {
    const { ctx } = fakeContext(session('KDE'));
    expect(await collectScreenlockLinux(ctx)).toEqual({
      enabled: true,
      idleSeconds: 300,
      graceSeconds: 5,
      requirePassword: true,
      source: 'kscreenlockerrc (defaults)',
      user: 'alice',
    });
  });

  it('KDE: a kscreenlockerrc the agent refuses to read is unknown, not the defaults', async () => {
    for (const desktop of ['KDE', '']) {
      const { ctx } = fakeContext(session(desktop));
      ctx.readFile = async (p) => {
        if (p === '/home/alice/.config/kscreenlockerrc') throw new UnsafeFileError(`${p} is not a regular file`);
        throw new Error(`ENOENT: ${p}`);
      };
      expect(await collectScreenlockLinux(ctx)).toEqual({
        unknown: true,
        reason: 'screen lock check failed: /home/alice/.config/kscreenlockerrc is not a regular file',
      });
    }
  });

  it('a session that does not name its desktop is KDE only if the user has a kscreenlockerrc', async () => {
    const withFile = fakeContext(session(''), { '/home/alice/.config/kscreenlockerrc': fixture('kscreenlockerrc-lockgrace-45.txt') });
    expect(await collectScreenlockLinux(withFile.ctx)).toMatchObject({ enabled: true, graceSeconds: 45 });
    const without = fakeContext(session(''));
    expect(await collectScreenlockLinux(without.ctx)).toEqual({
      unknown: true,
      reason: 'session 2 of alice does not name its desktop',
    });
  });

  it('other desktops are unknown, not read through GNOME keys they ignore', async () => {
    const { ctx, calls } = fakeContext({ ...session('xfce'), ...gnome });
    expect(await collectScreenlockLinux(ctx)).toEqual({
      unknown: true,
      reason: 'desktop "xfce" is not supported (GNOME and KDE Plasma are)',
    });
    expect(calls.some((c) => c.command.includes('gsettings'))).toBe(false);
  });

  it('headless machine without logind (this Debian 12 container)', async () => {
    const { ctx } = fakeContext({
      '/usr/bin/loginctl list-sessions --no-legend': {
        code: 1,
        stderr: "System has not been booted with systemd as init system (PID 1). Can't operate.\nFailed to connect to bus: Host is down\n",
      },
    });
    expect(await collectScreenlockLinux(ctx)).toEqual({
      unknown: true,
      reason: "loginctl list-sessions failed: System has not been booted with systemd as init system (PID 1). Can't operate.",
    });
  });

  it('only ssh and greeter sessions: no graphical user', async () => {
    const table = session('GNOME');
    table[`/usr/bin/loginctl show-session 2 ${SHOW}`] = { stdout: fixture('loginctl-show-session-5-ssh.txt') };
    const { ctx } = fakeContext(table);
    expect(await collectScreenlockLinux(ctx)).toEqual({
      unknown: true,
      reason: 'no active local graphical session (headless machine, or nobody logged in at the screen)',
    });
  });

  it('a user that cannot be resolved is unknown', async () => {
    const { ctx } = fakeContext({ ...session('GNOME'), '/usr/bin/id -u alice': { code: 1, stderr: "id: 'alice': no such user\n" } });
    expect(await collectScreenlockLinux(ctx)).toEqual({ unknown: true, reason: "id -u alice failed: id: 'alice': no such user" });
  });
});
