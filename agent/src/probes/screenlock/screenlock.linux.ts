/**
 * Screen lock on Linux: GNOME (gsettings) and KDE Plasma (kscreenlockerrc).
 *
 * These settings live in the logged-in user's session, not the machine: an
 * agent running as root that asked for its own settings would read root's
 * defaults and report a lock that does not exist (the osquery/Fleet screenlock
 * table has the same trap: https://github.com/fleetdm/fleet/issues/12382). So
 * we first find the active local graphical session with loginctl, then read
 * that user's settings: gsettings runs as the user (uid/gid) with the user's
 * HOME, XDG_RUNTIME_DIR and session bus, so dconf sees their database and the
 * system's locked keys; KDE's file is read from the user's home, with
 * /etc/xdg/kscreenlockerrc for administrator defaults and [$i] locks.
 *
 * Limits: no graphical session (a server, nobody logged in) means unknown. Only
 * GNOME-based and KDE desktops are read; others (Cinnamon, MATE, Xfce, tiling
 * window managers with their own lockers) are unknown rather than guessed from
 * GNOME keys that they ignore. Locking on suspend (GNOME power plugin, KDE
 * PowerDevil) is not read: it only shortens the real delay.
 */
import type { ScreenlockSection } from '@vigie/shared';
import { UnsafeFileError } from '../context';
import type { ExecResult } from '../../exec';
import type { ProbeContext } from '../types';
import { GNOME_KEYS, gnomeSection, gnomeValuesFrom } from './parse-gsettings';
import { kdeLockValues, kdeSection } from './parse-kscreenlockerrc';
import {
  desktopKind,
  parsePasswdHome,
  parseSessionIds,
  parseShowSession,
  pickGraphicalSession,
  type LoginSession,
} from './parse-loginctl';

const LOGINCTL = '/usr/bin/loginctl';
const ID = '/usr/bin/id';
const GETENT = '/usr/bin/getent';
const GSETTINGS = '/usr/bin/gsettings';
const TIMEOUT = { timeoutMs: 10_000 };
const MAX_SESSIONS = 32;
const USER_NAME = /^[A-Za-z_][A-Za-z0-9_.-]*\$?$/;

function ok(result: ExecResult): boolean {
  return result.code === 0 && !result.error && !result.timedOut;
}

function failure(what: string, result: ExecResult): string {
  const detail = result.error ?? (result.timedOut ? 'timed out' : result.stderr.trim().split('\n')[0] || `exit code ${result.code}`);
  return `${what} failed: ${detail}`;
}

export interface SessionUser {
  session: LoginSession;
  uid: number;
  gid: number;
  home: string;
}

/** The user at the active local graphical session; the tray socket (agent/src/tray/serve.ts) is made for them too. */
export async function findSessionUser(ctx: ProbeContext): Promise<SessionUser | string> {
  const list = await ctx.exec(LOGINCTL, ['list-sessions', '--no-legend'], TIMEOUT);
  if (!ok(list)) return failure('loginctl list-sessions', list);
  const sessions: LoginSession[] = [];
  for (const id of parseSessionIds(list.stdout).slice(0, MAX_SESSIONS)) {
    const show = await ctx.exec(
      LOGINCTL,
      ['show-session', id, '-p', 'Name', '-p', 'Type', '-p', 'Active', '-p', 'State', '-p', 'Remote', '-p', 'Display', '-p', 'Desktop', '-p', 'Class'],
      TIMEOUT,
    );
    if (ok(show)) sessions.push(parseShowSession(id, show.stdout));
  }
  const session = pickGraphicalSession(sessions);
  if (!session) {
    return 'no active local graphical session (headless machine, or nobody logged in at the screen)';
  }
  if (!USER_NAME.test(session.name)) return `unexpected user name in session ${session.id}`;
  const [uid, gid, passwd] = await Promise.all([
    ctx.exec(ID, ['-u', session.name], TIMEOUT),
    ctx.exec(ID, ['-g', session.name], TIMEOUT),
    ctx.exec(GETENT, ['passwd', session.name], TIMEOUT),
  ]);
  if (!ok(uid) || !/^\d+$/.test(uid.stdout.trim())) return failure(`id -u ${session.name}`, uid);
  if (!ok(gid) || !/^\d+$/.test(gid.stdout.trim())) return failure(`id -g ${session.name}`, gid);
  if (!ok(passwd)) return failure(`getent passwd ${session.name}`, passwd);
  const home = parsePasswdHome(passwd.stdout);
  if (!home) return `getent passwd ${session.name} gave no home directory`;
  return { session, uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()), home };
}

/** gsettings as the session's user, so dconf reads their database, not root's. */
async function readGnome(ctx: ProbeContext, user: SessionUser): Promise<ScreenlockSection> {
  const runtimeDir = `/run/user/${user.uid}`;
  const options = {
    ...TIMEOUT,
    uid: user.uid,
    gid: user.gid,
    env: {
      HOME: user.home,
      USER: user.session.name,
      LOGNAME: user.session.name,
      PATH: '/usr/bin:/bin',
      XDG_RUNTIME_DIR: runtimeDir,
      DBUS_SESSION_BUS_ADDRESS: `unix:path=${runtimeDir}/bus`,
    },
  };
  const raw: Record<string, string> = {};
  for (const [schema, key] of GNOME_KEYS) {
    const result = await ctx.exec(GSETTINGS, ['get', schema, key], options);
    if (ok(result)) raw[`${schema} ${key}`] = result.stdout;
    else if (key !== 'disable-lock-screen') return { unknown: true, reason: failure(`gsettings get ${schema} ${key}`, result) };
  }
  return gnomeSection(gnomeValuesFrom(raw), user.session.name);
}

async function readOptional(ctx: ProbeContext, path: string): Promise<string | null> {
  try {
    return await ctx.readFile(path);
  } catch (err) {
    // A file that is there but refused (symlink, FIFO, huge) is not "absent":
    // reading KDE's defaults instead would report a lock the user may have disabled.
    if (err instanceof UnsafeFileError) throw err;
    return null;
  }
}

async function readKde(ctx: ProbeContext, user: SessionUser): Promise<ScreenlockSection> {
  const userFile = await readOptional(ctx, `${user.home}/.config/kscreenlockerrc`);
  const systemFile = await readOptional(ctx, '/etc/xdg/kscreenlockerrc');
  // No file at all is a fresh Plasma: every default applies, and they lock.
  const source = userFile === null && systemFile === null ? 'kscreenlockerrc (defaults)' : 'kscreenlockerrc';
  return kdeSection(kdeLockValues(userFile, systemFile), user.session.name, source);
}

export async function collectScreenlockLinux(ctx: ProbeContext): Promise<ScreenlockSection> {
  try {
    const user = await findSessionUser(ctx);
    if (typeof user === 'string') return { unknown: true, reason: user };
    let kind = desktopKind(user.session.desktop);
    if (kind === 'unset') {
      // Old display managers leave XDG_SESSION_DESKTOP empty: a KDE user has a
      // kscreenlockerrc as soon as they open the settings; anything else is a guess.
      const kdeFile = await readOptional(ctx, `${user.home}/.config/kscreenlockerrc`);
      if (kdeFile === null) {
        return { unknown: true, reason: `session ${user.session.id} of ${user.session.name} does not name its desktop` };
      }
      kind = 'kde';
    }
    if (kind === 'gnome') return await readGnome(ctx, user);
    if (kind === 'kde') return await readKde(ctx, user);
    return { unknown: true, reason: `desktop "${user.session.desktop}" is not supported (GNOME and KDE Plasma are)` };
  } catch (err) {
    return { unknown: true, reason: `screen lock check failed: ${err instanceof Error ? err.message : String(err)}` };
  }
}
