// Test-only (excluded from the build): the Xvfb tests keep Xvfb, trayer and the
// tray running while they talk to them, which the run-to-completion exec cannot do.
// eslint-disable-next-line no-restricted-imports
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { exec as realExec } from '../../exec';
import type { TrayView } from '../model';
import type { NotificationRequest } from '../notify';
import type { Lang } from '../strings';

/**
 * What the Xvfb tests share (agent/src/tray/tray.xvfb.test.ts against a fake
 * agent, test/e2e/tray-xvfb.test.ts against a real daemon and collector): a
 * virtual X server with trayer as the tray host, the real tray as its own
 * process (see tray-child.ts), and a look at its icon in a screenshot.
 */
export const XVFB = '/usr/bin/Xvfb';
export const TRAYER = '/usr/bin/trayer';
export const IMPORT = '/usr/bin/import';
export const CONVERT = existsSync('/usr/bin/convert') ? '/usr/bin/convert' : '/usr/local/bin/convert';
export const ARTIFACTS = path.resolve(__dirname, '..', '..', '..', '..', 'artifacts');

/** Whether the Xvfb tests can run here; when not, says why once, so a skip is never silent. */
export function canRunXvfb(what: string): boolean {
  const ok = process.platform === 'linux' && existsSync(XVFB);
  if (!ok) console.warn(`${what} SKIPPED: ${XVFB} is absent (install xvfb, trayer, libgtk-3-0, libayatana-appindicator3-1, imagemagick; .ci/run does)`);
  return ok;
}

export type HelperAction = { type: string; item?: { title: string; hidden?: boolean }; menu?: { icon: string; tooltip: string } };

/** Running, and not a zombie (in a container nobody may reap an orphan). */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) Z/.test(stat);
  } catch {
    return false;
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `fn` every 100 ms until it gives a truthy value; bounded in time. */
export async function until<T>(what: string, fn: () => Promise<T | null | undefined | false>, timeoutMs = 8_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

export interface IconColour {
  r: number;
  g: number;
  b: number;
  geometry: string;
}

export interface XSession {
  display: string;
  /** False when trayer is not installed: the tray still runs, but nothing docks it and no screenshot is checked. */
  hasTrayer: boolean;
  /** Runs an X client on this display, DISPLAY given explicitly (Jest's process.env is not the children's). */
  x(cmd: string[]): Promise<string>;
  /** Saves the root window to `file` (after a pause, so the helper has drawn its icon). */
  screenshot(file: string): Promise<void>;
  /** The mean colour of the helper's docked icon in a screenshot. */
  iconColour(shot: string): Promise<IconColour>;
  stop(): Promise<void>;
}

function stopChild(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const grace = setTimeout(() => child.kill('SIGKILL'), 2_000);
    child.once('exit', () => {
      clearTimeout(grace);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** Xvfb on a free display, with trayer docked at the top when it is installed. */
export async function startXSession(): Promise<XSession> {
  // A display number nobody uses on this machine (bounded: 400 tries at most).
  let n = 90 + Math.floor(Math.random() * 400);
  for (let i = 0; i < 400 && (existsSync(`/tmp/.X${n}-lock`) || existsSync(`/tmp/.X11-unix/X${n}`)); i++) n++;
  const display = `:${n}`;
  const xvfb = spawn(XVFB, [display, '-screen', '0', '320x64x24', '-nolisten', 'tcp'], { stdio: 'ignore' });
  let trayer: ChildProcess | undefined;
  const x = async (cmd: string[]): Promise<string> => {
    const [file, ...args] = cmd;
    const r = await realExec(file!, args, { env: { ...process.env, DISPLAY: display }, timeoutMs: 10_000 });
    return r.stdout;
  };
  const stop = async () => {
    await stopChild(trayer);
    await stopChild(xvfb);
  };
  try {
    await until('Xvfb', async () => existsSync(`/tmp/.X11-unix/X${n}`));
    if (existsSync(TRAYER)) {
      trayer = spawn(TRAYER, ['--edge', 'top', '--align', 'left', '--widthtype', 'request', '--height', '40', '--transparent', 'false', '--tint', '0xffffff'], {
        stdio: 'ignore',
        env: { ...process.env, DISPLAY: display },
      });
      await until('trayer', async () => (await x(['/usr/bin/xwininfo', '-root', '-tree'])).includes('"panel"'));
    }
  } catch (e) {
    await stop();
    throw e;
  }
  return {
    display,
    hasTrayer: trayer !== undefined,
    x,
    async screenshot(file) {
      await sleep(700);
      await x([IMPORT, '-window', 'root', file]);
    },
    async iconColour(shot) {
      const tree = await x(['/usr/bin/xwininfo', '-root', '-tree']);
      // The helper's XEmbed window: `0x... "tray_linux_release": ("systray" "systray")  32x38+0+0  +1+1`
      const m = /\("systray" "systray"\)\s+(\d+)x(\d+)\+-?\d+\+-?\d+\s+\+(-?\d+)\+(-?\d+)/.exec(tree);
      if (!m) throw new Error(`no systray window docked in trayer:\n${tree}`);
      const [, w, h, ax, ay] = m;
      const geometry = `${w}x${h}+${ax}+${ay}`;
      const txt = await x([CONVERT, shot, '-crop', geometry, '+repage', '-resize', '1x1!', '-depth', '8', 'txt:-']);
      const c = /\((\d+),(\d+),(\d+)/.exec(txt);
      if (!c) throw new Error(`cannot read the colour: ${txt}`);
      return { r: Number(c[1]), g: Number(c[2]), b: Number(c[3]), geometry };
    },
    stop,
  };
}

export interface TrayRunOptions {
  socketPath: string;
  /** A language, or 'env' for the tray to find it in the OS locale, as `vigie-agent tray` does. */
  lang: Lang | 'env';
  pagesDir: string;
  now: Date;
  /** Extra environment for the tray process (LANG, for instance). */
  env?: Record<string, string>;
}

export interface TrayRun {
  helperPid: number;
  /** The language the tray chose. */
  lang: Lang;
  of(name: string): { event: string; [k: string]: unknown }[];
  view(): TrayView;
  helperActions(): HelperAction[];
  notifications(): NotificationRequest[];
  opened(): [string, string[]][];
  click(key: string): Promise<void>;
  refresh(): Promise<void>;
  stop(): Promise<void>;
}

/** The tray as its own process (see tray-child.ts) on the session's display, its events collected. */
export async function runTray(session: XSession, opts: TrayRunOptions): Promise<TrayRun> {
  const events: { event: string; [k: string]: unknown }[] = [];
  const child = spawn(process.execPath, ['-r', path.join(__dirname, 'ts-hook.cjs'), path.join(__dirname, 'tray-child.ts'), opts.socketPath, opts.lang, opts.pagesDir, opts.now.toISOString()], {
    // No session bus: the helper falls back from StatusNotifier to an XEmbed icon, which trayer docks.
    env: { ...process.env, LANG: 'C', LANGUAGE: '', LC_ALL: '', LC_MESSAGES: '', ...opts.env, DISPLAY: session.display, DBUS_SESSION_BUS_ADDRESS: '' },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let buf = '';
  child.stdout!.on('data', (d: Buffer) => {
    buf += d.toString('utf8');
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      events.push(JSON.parse(buf.slice(0, i)) as { event: string });
      buf = buf.slice(i + 1);
    }
  });
  const exited = new Promise<number | null>((r) => child.once('exit', r));
  const of = (name: string) => events.filter((e) => e.event === name);
  const started = await until('the tray to start', async () => of('ready')[0] ?? (of('error')[0] ? Promise.reject(new Error(String(of('error')[0]!.message))) : null), 20_000).catch(
    (e: Error) => {
      child.kill('SIGKILL');
      throw new Error(`${e.message}; the tray said: ${JSON.stringify(events.filter((ev) => ev.event === 'log' || ev.event === 'error'))}`);
    },
  );
  const command = async (cmd: string, key?: string) => {
    const before = of('done').length;
    child.stdin!.write(`${JSON.stringify({ cmd, key })}\n`);
    await until(`"${cmd}" to finish`, async () => of('done').length > before);
  };
  return {
    helperPid: started.helperPid as number,
    lang: started.lang as Lang,
    of,
    view: () => of('view').at(-1)?.view as TrayView,
    helperActions: () => of('helper').map((e) => e.action as HelperAction),
    notifications: () => of('notify').map((e) => e.request as NotificationRequest),
    opened: () => of('opened').map((e) => [e.file, e.args] as [string, string[]]),
    click: (key: string) => command('click', key),
    refresh: () => command('refresh'),
    stop: async () => {
      if (child.exitCode === null) await command('stop').catch(() => child.kill('SIGKILL'));
      await exited;
    },
  };
}
