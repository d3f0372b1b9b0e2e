import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { exec as realExec } from '../exec';
import { config, fail, pass, stateWith } from './__fixtures__/state';
import type { TrayView } from './model';
import type { NotificationRequest } from './notify';
import { escapeHtml } from './remediation';
import type { TrayState } from './state';
import { startStatusServer, type StatusServer } from './status-server';
import type { Lang } from './strings';
import { iconFile } from './tray';

type HelperAction = { type: string; item?: { title: string; hidden?: boolean }; menu?: { icon: string; tooltip: string } };

/**
 * The tray end to end under a virtual X server: a fake agent daemon (the real
 * status server, fed a config and a status as the collector would send them)
 * with a failing rule, the real tray with systray2's real helper docked in
 * trayer, in French then in English. Checks what the helper is told, the
 * notification request, the remediation page, that the helper lives in the
 * tray host, and the icon's colour in a screenshot saved to artifacts/.
 * Skipped only when Xvfb is absent (.ci/run installs it).
 */
const XVFB = '/usr/bin/Xvfb';
const TRAYER = '/usr/bin/trayer';
const IMPORT = '/usr/bin/import';
const CONVERT = existsSync('/usr/bin/convert') ? '/usr/bin/convert' : '/usr/local/bin/convert';
const ARTIFACTS = path.resolve(__dirname, '..', '..', '..', 'artifacts');
const canRun = process.platform === 'linux' && existsSync(XVFB);
if (!canRun) {
  console.warn(`tray integration test SKIPPED: ${XVFB} is absent (install xvfb, trayer, libgtk-3-0, libayatana-appindicator3-1, imagemagick; .ci/run does)`);
}
const describeX = canRun ? describe : describe.skip;

jest.setTimeout(30_000);

const now = new Date('2026-11-24T10:00:00Z');
const failing = stateWith([fail('disk-encryption', '2026-11-24T09:00:00Z', '2026-12-01T09:00:00Z'), pass('screen-lock')], {}, '2026-11-24T09:30:00Z');
const fixed = stateWith([pass('disk-encryption'), pass('screen-lock')], { lastReportAt: '2026-11-24T10:00:00Z' }, '2026-11-24T10:00:00Z');

/** Running, and not a zombie (in a container nobody may reap an orphan). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) Z/.test(stat);
  } catch {
    return false;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until<T>(what: string, fn: () => Promise<T | null | undefined | false>, timeoutMs = 8_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

describeX('tray under Xvfb and trayer', () => {
  let display = '';
  let xvfb: ChildProcess | undefined;
  let trayer: ChildProcess | undefined;
  let dir: string;
  let server: StatusServer;
  let agentState: TrayState = failing;
  let rescans = 0;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'vigie-tray-x-'));
    await mkdir(ARTIFACTS, { recursive: true });
    // A display number nobody uses on this machine.
    let n = 90 + Math.floor(Math.random() * 400);
    while (existsSync(`/tmp/.X${n}-lock`) || existsSync(`/tmp/.X11-unix/X${n}`)) n++;
    display = `:${n}`;
    xvfb = spawn(XVFB, [display, '-screen', '0', '320x64x24', '-nolisten', 'tcp'], { stdio: 'ignore' });
    await until('Xvfb', async () => existsSync(`/tmp/.X11-unix/X${n}`));
    if (existsSync(TRAYER)) {
      trayer = spawn(TRAYER, ['--edge', 'top', '--align', 'left', '--widthtype', 'request', '--height', '40', '--transparent', 'false', '--tint', '0xffffff'], {
        stdio: 'ignore',
        env: { ...process.env, DISPLAY: display },
      });
      await until('trayer', async () => (await x(['/usr/bin/xwininfo', '-root', '-tree'])).includes('"panel"'));
    }
    server = await startStatusServer({
      socketPath: path.join(dir, 'agent.sock'),
      getState: () => agentState,
      minRescanIntervalMs: 0,
      onRescan: async () => {
        rescans++;
        agentState = fixed;
      },
    });
  });

  afterAll(async () => {
    await server?.close();
    trayer?.kill('SIGTERM');
    xvfb?.kill('SIGTERM');
    await rm(dir, { recursive: true, force: true });
  });

  async function x(cmd: string[]): Promise<string> {
    const [file, ...args] = cmd;
    const r = await realExec(file!, args, { env: { ...process.env, DISPLAY: display }, timeoutMs: 10_000 });
    return r.stdout;
  }

  /** The mean colour of the helper's icon window, from a screenshot of the root window. */
  async function iconColour(shot: string): Promise<{ r: number; g: number; b: number; geometry: string }> {
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
  }

  /** The tray as its own process (see __fixtures__/tray-child.ts), its events collected. */
  async function run(lang: Lang, socketPath = server.socketPath) {
    const events: { event: string; [k: string]: unknown }[] = [];
    const child = spawn(process.execPath, ['-r', path.join(__dirname, '__fixtures__', 'ts-hook.cjs'), path.join(__dirname, '__fixtures__', 'tray-child.ts'), socketPath, lang, path.join(dir, `pages-${lang}`), now.toISOString()], {
      // No session bus: the helper falls back from StatusNotifier to an XEmbed icon, which trayer docks.
      env: { ...process.env, DISPLAY: display, DBUS_SESSION_BUS_ADDRESS: '', LANG: 'C' },
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

  const expected = {
    fr: {
      title: 'Disque système chiffré, protection active',
      item: 'Disque système chiffré, protection active — à corriger avant le 1 décembre',
      headline: '1 point à corriger',
      tooltip: 'Vigie : 1 point à corriger',
      check: 'Vérifier maintenant',
      notify: { title: 'Vigie : action requise', body: 'Disque système chiffré, protection active : à corriger avant le 1 décembre' },
      compliant: 'Votre poste respecte la politique de sécurité',
    },
    en: {
      title: 'System disk encrypted, with protection on',
      item: 'System disk encrypted, with protection on — fix before 1 December',
      headline: '1 thing to fix',
      tooltip: 'Vigie: 1 thing to fix',
      check: 'Check again now',
      notify: { title: 'Vigie: action needed', body: 'System disk encrypted, with protection on: fix before 1 December' },
      compliant: 'Your device meets the security policy',
    },
  } as const;

  it.each(['fr', 'en'] as const)('shows a failing rule, notifies, opens its steps and rescans (%s)', async (lang) => {
    const e = expected[lang];
    agentState = failing;
    const tray = await run(lang);
    try {
      // What the helper was told: the rule's collector-set title, in the employee's language, and the amber icon.
      const items = tray.helperActions();
      const titles = items.filter((a) => a.type === 'update-item' && !a.item?.hidden).map((a) => a.item?.title);
      expect(titles).toEqual(expect.arrayContaining([e.headline, e.item, e.check]));
      expect(items.some((a) => a.type === 'update-menu' && a.menu?.tooltip === e.tooltip)).toBe(true);
      expect(tray.view().icon).toBe('action-needed');
      expect(items.find((a) => a.type === 'update-menu')?.menu?.icon).toBe(iconFile('action-needed', 'linux'));

      // The notification request.
      expect(tray.notifications()).toEqual([{ ruleId: 'disk-encryption', kind: 'new', lang, urgency: 'normal', ...e.notify }]);

      // The helper is alive and docked in the tray host; the icon in the screenshot is amber.
      expect(alive(tray.helperPid)).toBe(true);
      if (trayer) {
        await sleep(700);
        const shot = path.join(ARTIFACTS, `tray-${lang}-action-needed.png`);
        await x([IMPORT, '-window', 'root', shot]);
        const c = await iconColour(shot);
        expect(c.r).toBeGreaterThan(c.b + 60); // amber on white: red high, blue low
        expect(c.g).toBeLessThan(c.r);
      }

      // A click on the rule opens its steps, in the employee's language.
      await tray.click('rule-slot:0');
      expect(tray.opened()).toHaveLength(1);
      const [opener, [page]] = tray.opened()[0]!;
      expect(opener).toBe('/usr/bin/xdg-open');
      const html = await readFile(page!, 'utf8');
      expect(html).toContain(e.title);
      expect(html).toContain(escapeHtml(config.remediation['disk-encryption']!.steps[lang]));

      // "Check again now": the agent rescans, the rule is fixed, the icon turns green.
      const before = rescans;
      await tray.click('check-again');
      expect(rescans).toBe(before + 1);
      expect(tray.view().icon).toBe('compliant');
      expect(tray.view().headline).toBe(e.compliant);
      const last = tray.helperActions().filter((a) => a.type === 'update-menu').pop();
      expect(last?.menu?.icon).toBe(iconFile('compliant', 'linux'));
      if (trayer) {
        await sleep(700);
        const shot = path.join(ARTIFACTS, `tray-${lang}-compliant.png`);
        await x([IMPORT, '-window', 'root', shot]);
        const c = await iconColour(shot);
        expect(c.g).toBeGreaterThan(c.r); // green
      }

      // No second notice on the next poll.
      await tray.refresh();
      expect(tray.notifications()).toHaveLength(1);
    } finally {
      await tray.stop();
    }
    await until('the helper to exit', async () => !alive(tray.helperPid), 3_000);
  });

  it('shows "Agent unreachable" with the grey icon when the agent is gone', async () => {
    const tray = await run('fr', path.join(dir, 'nobody.sock'));
    try {
      expect(tray.view().icon).toBe('unknown');
      expect(tray.view().headline).toBe("Agent injoignable : l'état de conformité est inconnu");
      expect(tray.notifications()).toEqual([]);
      if (trayer) {
        await sleep(700);
        const shot = path.join(ARTIFACTS, 'tray-unreachable.png');
        await x([IMPORT, '-window', 'root', shot]);
        const c = await iconColour(shot);
        expect(Math.max(c.r, c.g, c.b) - Math.min(c.r, c.g, c.b)).toBeLessThan(30); // grey
      }
    } finally {
      await tray.stop();
    }
  });
});
