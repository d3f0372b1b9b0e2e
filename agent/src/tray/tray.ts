import { constants as fsConstants, promises as fs } from 'node:fs';
import path from 'node:path';
import SysTray, { type ClickEvent, type Menu, type MenuItem, type UpdateItemAction, type UpdateMenuAction } from 'systray2';
import type { OsName } from '@vigie/shared';
import type { Exec } from '../exec';
import type { ClientResult } from './client';
import { buildTrayView, DEFAULT_MAX_RULE_ITEMS, type AgentView, type IconState, type MenuEntry, type TrayView } from './model';
import { planNotifications, type Notifier, type NotifyMemory } from './notify';
import { openRemediationPage } from './remediation';
import type { TrayState } from './state';
import type { Lang } from './strings';

/**
 * The tray process: polls the agent over its local socket, shows the state as
 * an icon and a menu through systray2's helper, and sends throttled desktop
 * notifications. Everything shown comes from model.ts (pure); this file only
 * wires it to the helper, the clock, the notifier and the opener.
 *
 * systray2 notes (v2.1.4), and why the code below does what it does:
 * - the helper binaries ship without the exec bit and systray2's own
 *   `chmod(path, '+x')` silently fails (fs.chmod takes no symbolic mode), so we
 *   chmod 0755 ourselves and fail clearly when we cannot;
 * - it looks for `./traybin/<helper>` in the working directory before its own
 *   copy: a file planted there would run as the employee. We refuse to start
 *   when such a file exists and is not the package's own (trayCommand also
 *   chdirs into the package first);
 * - the helper builds its menu once: later changes are `update-item` on the
 *   same item objects (matched by the `__id` systray2 gives them) and
 *   `update-menu` changes only the icon and tooltip. So the menu is a fixed set
 *   of slots (headline, notes, one per failing rule up to a limit, "more",
 *   "Check again now", "About" with its lines), shown or hidden per render;
 * - its helper is the one process the tray starts outside exec.ts: systray2
 *   spawns it itself, from its package directory, without a shell.
 * On Linux the helper needs libgtk-3-0 and libayatana-appindicator3-1, and a
 * tray host (StatusNotifier or XEmbed, e.g. GNOME's AppIndicator extension,
 * KDE, XFCE, trayer).
 */
export interface TrayClient {
  status(): Promise<ClientResult<TrayState>>;
  rescan(): Promise<ClientResult<void>>;
  close(): void;
}

export interface MemoryStore {
  load(): Promise<NotifyMemory>;
  save(memory: NotifyMemory): Promise<void>;
}

export interface TrayDeps {
  client: TrayClient;
  lang: Lang;
  os: OsName;
  platform: NodeJS.Platform;
  now: () => Date;
  timeZone?: string;
  notifier: Notifier;
  memory: MemoryStore;
  /** Where remediation pages are written (private to the user). */
  pagesDir: string;
  exec: Exec;
  trayVersion: string;
  log: (message: string) => void;
  iconsDir?: string;
  pollIntervalMs?: number;
  maxBackoffMs?: number;
  readyTimeoutMs?: number;
  maxRuleItems?: number;
  /** Observability for tests and debugging: each applied view, and each action sent to the helper. */
  onRender?: (view: TrayView) => void;
  onHelperAction?: (action: UpdateItemAction | UpdateMenuAction) => void;
}

export interface RunningTray {
  /** Polls the agent now and applies the result. */
  refresh(): Promise<void>;
  /** What a menu click on the slot with this key does (the helper's clicks land here too). */
  click(key: string): Promise<void>;
  view(): TrayView;
  /** The initial menu given to the helper (slots, with their __id once systray2 has seen them). */
  menu(): Menu;
  helperPid(): number | undefined;
  /** Resolves when the helper exits (the session ended, or it crashed), with its exit code. */
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

interface Slot extends MenuItem {
  /** Our name for the slot; systray2 keeps unknown properties when it reports a click. */
  key: string;
}

const NOTE_SLOTS = 4;
const ABOUT_KEYS = ['about-version', 'about-last-report', 'about-collector', 'about-connection'] as const;

export const DEFAULT_ICONS_DIR = path.join(__dirname, '..', '..', 'assets', 'tray');

export function helperBinaryName(platform: NodeJS.Platform): string | null {
  return ({ win32: 'tray_windows_release.exe', darwin: 'tray_darwin_release', linux: 'tray_linux_release' } as Partial<Record<NodeJS.Platform, string>>)[platform] ?? null;
}

/** The helper shipped in node_modules/systray2/traybin for this OS. */
export function packagedHelperPath(platform: NodeJS.Platform): string {
  const name = helperBinaryName(platform);
  if (!name) throw new Error(`the tray has no helper for ${platform}`);
  return path.join(path.dirname(require.resolve('systray2/package.json')), 'traybin', name);
}

/** Gives the helper its exec bit (0755) when it lacks it; a clear error when that is not allowed. */
export async function ensureExecutable(file: string, platform: NodeJS.Platform = process.platform): Promise<void> {
  if (platform === 'win32') return;
  let mode: number;
  try {
    mode = (await fs.stat(file)).mode;
  } catch (e) {
    throw new Error(`the tray helper ${file} is missing (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); reinstall the Vigie agent`, { cause: e });
  }
  if ((mode & 0o111) === 0o111) return;
  try {
    await fs.chmod(file, 0o755);
    await fs.access(file, fsConstants.X_OK);
  } catch (e) {
    throw new Error(
      `the tray helper ${file} is not executable and the tray cannot fix it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); ` +
        `run "chmod 0755 ${file}" as its owner, or reinstall the Vigie agent package`,
      { cause: e },
    );
  }
}

/** Refuses a `./traybin/<helper>` in the working directory that is not the package's own (systray2 would run it). */
export async function checkNoPlantedHelper(cwd: string, platform: NodeJS.Platform, packaged: string): Promise<void> {
  const name = helperBinaryName(platform);
  if (!name) return;
  const local = path.resolve(cwd, 'traybin', name);
  const [a, b] = await Promise.all([fs.realpath(local).catch(() => null), fs.realpath(packaged).catch(() => packaged)]);
  if (a !== null && a !== b) throw new Error(`refusing to start: ${local} would be run instead of the tray helper; start the tray from another directory`);
}

/** POSIX: the tray runs in the employee's session, never as root. Null when fine, else why not. */
export function refuseRoot(uid: number | undefined): string | null {
  return uid === 0
    ? 'the Vigie tray runs in the logged-in user\'s session and never as root; start it as that user (the agent daemon is what runs as root)'
    : null;
}

export function iconFile(icon: IconState, platform: NodeJS.Platform, dir: string = DEFAULT_ICONS_DIR): string {
  return path.join(dir, `${icon}.${platform === 'win32' ? 'ico' : 'png'}`);
}

export async function startTray(deps: TrayDeps): Promise<RunningTray> {
  // systray2 picks its helper itself (./traybin first, then its package's): make sure it is the package's, and runnable.
  const helper = packagedHelperPath(deps.platform);
  await checkNoPlantedHelper(process.cwd(), deps.platform, helper);
  await ensureExecutable(helper, deps.platform);
  const iconsDir = deps.iconsDir ?? DEFAULT_ICONS_DIR;
  const maxRuleItems = deps.maxRuleItems ?? DEFAULT_MAX_RULE_ITEMS;
  const pollIntervalMs = deps.pollIntervalMs ?? 15_000;
  const maxBackoffMs = deps.maxBackoffMs ?? 60_000;

  let agent: AgentView = { kind: 'unreachable', reason: 'starting' };
  let rescanning = false;
  let rescanFailed = false;
  const render = () =>
    buildTrayView({ agent, lang: deps.lang, os: deps.os, now: deps.now(), timeZone: deps.timeZone, trayVersion: deps.trayVersion, rescanning, rescanFailed, maxRuleItems });
  let view = render();

  // The fixed slots; the helper learns them once.
  const slot = (key: string, extra: Partial<MenuItem> = {}): Slot => ({ key, title: ' ', tooltip: '', enabled: false, hidden: true, ...extra });
  const headline = slot('headline', { hidden: false });
  const notes = Array.from({ length: NOTE_SLOTS }, (_, i) => slot(`note:${i}`));
  const rules = Array.from({ length: maxRuleItems }, (_, i) => slot(`rule-slot:${i}`));
  const more = slot('more');
  const checkAgain = slot('check-again', { hidden: false });
  const aboutChildren = ABOUT_KEYS.map((k) => slot(k));
  const about: Slot = { ...slot('about', { hidden: false, enabled: true }), items: aboutChildren };
  const separator: Slot = { ...SysTray.separator, key: 'separator' };
  const slots: Slot[] = [headline, ...notes, ...rules, more, checkAgain, ...aboutChildren];
  const menu: Menu = {
    icon: iconFile(view.icon, deps.platform, iconsDir),
    isTemplateIcon: false,
    title: '',
    tooltip: view.tooltip,
    items: [headline, ...notes, ...rules, more, separator, checkAgain, about],
  };
  const fill = (s: Slot, e: MenuEntry | undefined | string) => {
    if (e === undefined) {
      s.hidden = true;
      return;
    }
    const entry = typeof e === 'string' ? { title: e, tooltip: e, enabled: false } : e;
    s.title = entry.title;
    s.tooltip = entry.tooltip;
    s.enabled = entry.enabled;
    s.hidden = false;
  };
  const ruleSlotAction = new Map<string, MenuEntry['action']>();
  const applyToSlots = (v: TrayView) => {
    fill(headline, v.headline);
    notes.forEach((s, i) => fill(s, v.notes[i]));
    ruleSlotAction.clear();
    rules.forEach((s, i) => {
      const entry = v.ruleItems[i];
      fill(s, entry);
      if (entry) ruleSlotAction.set(s.key, entry.action);
    });
    fill(more, v.more ?? undefined);
    fill(checkAgain, v.checkAgain);
    about.title = v.about.title;
    aboutChildren.forEach((s) => fill(s, v.about.children?.find((c) => c.key === s.key)));
  };
  applyToSlots(view);

  const systray = new SysTray({ menu, debug: false, copyDir: false });
  const ready = systray.ready();
  const readyTimeoutMs = deps.readyTimeoutMs ?? 15_000;
  let readyTimer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      ready,
      new Promise((_, reject) => {
        readyTimer = setTimeout(() => reject(new Error(`the tray helper did not start within ${readyTimeoutMs} ms (is there a graphical session? on Linux: libgtk-3-0 and libayatana-appindicator3-1)`)), readyTimeoutMs);
      }),
    ]);
  } catch (e) {
    systray.process?.kill();
    throw e;
  } finally {
    clearTimeout(readyTimer);
  }
  const exited = new Promise<number | null>((resolve) => systray.onExit((code) => resolve(code)));
  systray.process.stderr?.on('data', (d: Buffer) => deps.log(`tray helper: ${d.toString('utf8').trim().slice(0, 500)}`));

  // What the helper was last told per slot, to send only changes.
  const sent = new Map<string, string>(slots.map((s) => [s.key, JSON.stringify([s.title, s.tooltip, s.enabled, s.hidden])]));
  let sentIcon = menu.icon;
  let sentTooltip = menu.tooltip;
  let stopped = false;
  const send = async (action: UpdateItemAction | UpdateMenuAction) => {
    if (stopped || systray.killed) return;
    deps.onHelperAction?.(action);
    await systray.sendAction(action);
  };

  async function apply(): Promise<void> {
    view = render();
    applyToSlots(view);
    for (const s of slots) {
      const sig = JSON.stringify([s.title, s.tooltip, s.enabled, s.hidden]);
      if (sent.get(s.key) === sig) continue;
      sent.set(s.key, sig);
      await send({ type: 'update-item', item: s });
    }
    const icon = iconFile(view.icon, deps.platform, iconsDir);
    if (icon !== sentIcon || view.tooltip !== sentTooltip) {
      sentIcon = icon;
      sentTooltip = view.tooltip;
      // systray2 replaces `icon` by its base64 content in the object it is given: hand it a copy.
      await send({ type: 'update-menu', menu: { ...menu, icon, tooltip: view.tooltip } });
    }
    deps.onRender?.(view);
  }

  let memory = await deps.memory.load();
  async function notify(state: TrayState): Promise<void> {
    const plan = planNotifications({ memory, state, lang: deps.lang, now: deps.now(), timeZone: deps.timeZone });
    if (plan.requests.length === 0 && plan.memory === memory) return;
    memory = plan.memory;
    // Remember before sending: a crash in between costs one notice, never a repeat.
    await deps.memory.save(memory).catch((e: Error) => deps.log(`tray: cannot save the notification memory: ${e.message}`));
    for (const request of plan.requests) await deps.notifier.notify(request).catch((e: Error) => deps.log(`tray: notification failed: ${e.message}`));
  }

  let failures = 0;
  let timer: NodeJS.Timeout | undefined;
  let polling: Promise<void> | null = null;
  async function poll(): Promise<void> {
    const result = await deps.client.status();
    if (result.ok) {
      failures = 0;
      agent = { kind: 'state', state: result.value };
      await apply();
      await notify(result.value);
    } else {
      failures++;
      if (agent.kind === 'state' || failures === 1) deps.log(`tray: ${result.error.message}`);
      agent = { kind: 'unreachable', reason: result.error.message };
      await apply();
    }
  }
  function refresh(): Promise<void> {
    polling ??= poll()
      .catch((e: Error) => deps.log(`tray: ${e.message}`))
      .finally(() => {
        polling = null;
      });
    return polling;
  }
  function schedule(): void {
    if (stopped) return;
    // Back off while the agent is away (restarting, not installed); back to the normal pace once it answers.
    const delay = failures === 0 ? pollIntervalMs : Math.min(maxBackoffMs, pollIntervalMs * 2 ** Math.min(failures - 1, 10));
    timer = setTimeout(() => void refresh().then(schedule), delay);
  }

  async function click(key: string): Promise<void> {
    const action = key === 'check-again' ? ({ kind: 'rescan' } as const) : key === 'more' ? ({ kind: 'open-all' } as const) : ruleSlotAction.get(key);
    if (!action) return;
    if (action.kind === 'rescan') {
      if (rescanning || agent.kind !== 'state') return;
      rescanning = true;
      rescanFailed = false;
      await apply();
      const r = await deps.client.rescan();
      rescanning = false;
      rescanFailed = !r.ok;
      if (!r.ok) deps.log(`tray: rescan: ${r.error.message}`);
      await refresh();
      return;
    }
    if (action.kind === 'open-remediation' || action.kind === 'open-all') {
      const chosen = action.kind === 'open-all' ? view.failing : view.failing.filter((r) => r.ruleId === action.ruleId);
      if (chosen.length === 0) return;
      const name = action.kind === 'open-all' ? 'all' : action.ruleId;
      try {
        const opened = await openRemediationPage({ dir: deps.pagesDir, name, rules: chosen, lang: deps.lang, platform: deps.platform, exec: deps.exec });
        if (!opened.ok) deps.log(`tray: cannot open ${opened.file}: ${opened.error}`);
      } catch (e) {
        deps.log(`tray: cannot write the remediation page: ${(e as Error).message}`);
      }
    }
  }

  void systray.onClick((event: ClickEvent) => {
    const key = (event.item as Partial<Slot>).key;
    if (key) void click(key).catch((e: Error) => deps.log(`tray: ${e.message}`));
  });

  await refresh();
  schedule();

  return {
    refresh,
    click,
    view: () => view,
    menu: () => menu,
    helperPid: () => systray.process?.pid,
    exited,
    async stop() {
      if (stopped) return;
      stopped = true;
      clearTimeout(timer);
      await polling;
      clearTimeout(timer);
      deps.client.close();
      if (systray.process.exitCode === null && systray.process.signalCode === null) {
        // systray2's kill() waits for the exit forever: give the helper 2 s to quit, then end it.
        let grace: NodeJS.Timeout | undefined;
        const gone = Promise.race([exited, new Promise((r) => (grace = setTimeout(r, 2_000)))]);
        systray.kill(false).catch(() => undefined);
        await gone;
        clearTimeout(grace);
        if (systray.process.exitCode === null && systray.process.signalCode === null) systray.process.kill('SIGKILL');
      }
    },
  };
}
