import { promises as fs } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { Exec } from '../exec';
import { ensurePrivateDir, readJsonFile, writeFileAtomic } from '../state/fsutil';
import { failingRules, STALE_AFTER_MS } from './model';
import type { TrayState } from './state';
import { CHROME, formatDate, type Lang } from './strings';

/**
 * Desktop notifications for the employee, throttled so they inform without
 * nagging:
 * - when a rule newly fails (a new non-conformity, told apart by its
 *   firstSeenAt): "<title>: fix before 1 December";
 * - a reminder once per non-conformity when its due date is near (24 h);
 * - once a day while it is overdue;
 * - never more than one per rule per day, whatever happens (a rule that flaps
 *   between pass and fail does not flood the screen).
 * A notice the daily cap holds back is sent when the cap allows, not lost.
 * The memory of what was sent is a small JSON file in the tray's private dir,
 * so a restart or a new login does not notify again.
 * The plan is a pure function of (memory, state, now), unit-tested with
 * injected time; sending goes through `Notifier`, which tests replace.
 */
export type NotificationKind = 'new' | 'reminder' | 'overdue';

export interface NotificationRequest {
  ruleId: string;
  kind: NotificationKind;
  title: string;
  body: string;
  lang: Lang;
  urgency: 'normal' | 'critical';
}

export interface Notifier {
  notify(request: NotificationRequest): Promise<void>;
}

const ruleMemory = z
  .object({
    /** The non-conformity this memory is about (its firstSeenAt). */
    firstSeenAt: z.string().max(64).nullable(),
    announced: z.boolean(),
    /** The dueAt a reminder was sent for. */
    remindedFor: z.string().max(64).nullable(),
    lastNotifiedAt: z.number().nullable(),
    lastFailingAt: z.number(),
  })
  .strict();
export const notifyMemory = z.object({ v: z.literal(1), rules: z.record(z.string().max(128), ruleMemory) }).strict();
export type NotifyMemory = z.infer<typeof notifyMemory>;
export const emptyMemory = (): NotifyMemory => ({ v: 1, rules: {} });

export interface NotifyPolicy {
  /** At most one notification per rule per this long. */
  minIntervalMs: number;
  /** How long before the due date the reminder goes out. */
  reminderBeforeMs: number;
  /** How often an overdue rule is repeated; null for never. */
  overdueRepeatMs: number | null;
  /** A rule that has not failed for this long is forgotten. */
  forgetAfterMs: number;
}

const DAY = 24 * 3600 * 1000;
export const DEFAULT_NOTIFY_POLICY: NotifyPolicy = { minIntervalMs: DAY, reminderBeforeMs: DAY, overdueRepeatMs: DAY, forgetAfterMs: 7 * DAY };

export interface PlanInput {
  memory: NotifyMemory;
  state: TrayState | null;
  lang: Lang;
  now: Date;
  timeZone?: string;
  policy?: NotifyPolicy;
}

export function planNotifications(input: PlanInput): { memory: NotifyMemory; requests: NotificationRequest[] } {
  const { lang, now, timeZone } = input;
  const policy = input.policy ?? DEFAULT_NOTIFY_POLICY;
  const status = input.state?.status;
  // No status, or one too old to trust: say nothing rather than something false.
  if (!input.state || !status || now.getTime() - new Date(status.evaluatedAt).getTime() > STALE_AFTER_MS) {
    return { memory: input.memory, requests: [] };
  }
  const t = CHROME[lang];
  const nowMs = now.getTime();
  const rules: NotifyMemory['rules'] = {};
  const requests: NotificationRequest[] = [];
  const findings = new Map(status.findings.map((f) => [f.ruleId, f]));

  for (const rule of failingRules(input.state, lang, now, timeZone)) {
    const firstSeenAt = findings.get(rule.ruleId)?.firstSeenAt ?? null;
    const before = Object.prototype.hasOwnProperty.call(input.memory.rules, rule.ruleId) ? input.memory.rules[rule.ruleId] : undefined;
    const m =
      before && before.firstSeenAt === firstSeenAt
        ? { ...before, lastFailingAt: nowMs }
        : { firstSeenAt, announced: false, remindedFor: null, lastNotifiedAt: before?.lastNotifiedAt ?? null, lastFailingAt: nowMs };
    rules[rule.ruleId] = m;

    const sinceLast = m.lastNotifiedAt === null ? Infinity : nowMs - m.lastNotifiedAt;
    if (sinceLast < policy.minIntervalMs) continue;
    const dueIso = rule.dueAt?.toISOString() ?? null;
    const dueIn = rule.dueAt ? rule.dueAt.getTime() - nowMs : Infinity;
    const dueText = (withTime: boolean) => (rule.dueAt ? formatDate(rule.dueAt, lang, { timeZone, now, withTime }) : null);

    let request: Omit<NotificationRequest, 'ruleId' | 'lang'> | null = null;
    if (!m.announced) {
      request = rule.overdue
        ? { kind: 'overdue', title: t.notifyOverdueTitle, body: t.notifyOverdueBody(rule.title, dueText(false) ?? ''), urgency: 'critical' }
        : { kind: 'new', title: t.notifyNewTitle, body: t.notifyNewBody(rule.title, dueText(dueIn <= policy.reminderBeforeMs)), urgency: 'normal' };
      m.announced = true;
      // A first notice already inside the reminder window says the date: it is the reminder too.
      if (dueIn <= policy.reminderBeforeMs) m.remindedFor = dueIso;
    } else if (!rule.overdue && dueIso && dueIn <= policy.reminderBeforeMs && m.remindedFor !== dueIso) {
      request = { kind: 'reminder', title: t.notifyReminderTitle, body: t.notifyReminderBody(rule.title, dueText(true) ?? ''), urgency: 'normal' };
      m.remindedFor = dueIso;
    } else if (rule.overdue && policy.overdueRepeatMs !== null && sinceLast >= policy.overdueRepeatMs) {
      request = { kind: 'overdue', title: t.notifyOverdueTitle, body: t.notifyOverdueBody(rule.title, dueText(false) ?? ''), urgency: 'critical' };
    }
    if (request) {
      m.lastNotifiedAt = nowMs;
      requests.push({ ruleId: rule.ruleId, lang, ...request });
    }
  }

  // Rules no longer failing keep their memory for a while: the daily cap must hold across a flap.
  for (const [ruleId, m] of Object.entries(input.memory.rules)) {
    if (ruleId in rules) continue;
    if (nowMs - m.lastFailingAt < policy.forgetAfterMs) rules[ruleId] = m;
  }
  return { memory: { v: 1, rules }, requests };
}

/** The notification memory on disk. A missing or damaged file starts afresh (at worst one notice too many). */
export class NotifyStore {
  constructor(
    private readonly file: string,
    private readonly log: (message: string) => void = () => undefined,
  ) {}

  async load(): Promise<NotifyMemory> {
    try {
      const parsed = notifyMemory.safeParse(await readJsonFile(this.file));
      if (parsed.success) return parsed.data;
      if (await exists(this.file)) this.log(`tray: ${this.file} is not a notification memory; starting afresh`);
    } catch (e) {
      this.log(`tray: cannot read ${this.file} (${(e as Error).message}); starting afresh`);
    }
    return emptyMemory();
  }

  async save(memory: NotifyMemory): Promise<void> {
    await ensurePrivateDir(path.dirname(this.file));
    await writeFileAtomic(this.file, `${JSON.stringify(memory)}\n`, 0o600);
  }
}

async function exists(file: string): Promise<boolean> {
  return fs.stat(file).then(
    () => true,
    () => false,
  );
}

export interface SystemNotifierOptions {
  platform: NodeJS.Platform;
  exec: Exec;
  env?: NodeJS.ProcessEnv;
  /** An icon file for notify-send. */
  iconPath?: string;
  log?: (message: string) => void;
}

/**
 * Sends through the OS, every time via exec with an absolute path and the texts
 * as separate arguments (never interpolated into a script):
 * Linux: /usr/bin/notify-send (Debian package libnotify-bin) to the session's
 * notification daemon; macOS: osascript's `display notification`, texts passed
 * as `argv`; Windows: a PowerShell toast under PowerShell's own AppUserModelID,
 * texts passed in environment variables and XML-escaped there (best effort: a
 * toast from an unregistered app may be hidden by Focus Assist or policy).
 */
export function systemNotifier(options: SystemNotifierOptions): Notifier {
  const log = options.log ?? (() => undefined);
  let warnedMissing = false;
  return {
    async notify(req) {
      const run = command(options, req);
      if (!run) {
        log(`tray: no desktop notifications on ${options.platform}: ${req.title}: ${req.body}`);
        return;
      }
      const result = await options.exec(run.file, run.args, { timeoutMs: 15_000, maxOutputBytes: 64 * 1024, env: run.env });
      if (result.error || result.code !== 0) {
        if (!warnedMissing) log(`tray: ${run.file} failed (${result.error ?? `exit ${result.code}`}: ${result.stderr.trim().slice(0, 200)})${run.hint ? `; ${run.hint}` : ''}`);
        warnedMissing = true;
      }
    },
  };
}

function command(
  options: SystemNotifierOptions,
  req: NotificationRequest,
): { file: string; args: string[]; env?: NodeJS.ProcessEnv; hint?: string } | null {
  switch (options.platform) {
    case 'linux':
      return {
        file: '/usr/bin/notify-send',
        args: ['--app-name=Vigie', `--urgency=${req.urgency}`, ...(options.iconPath ? [`--icon=${options.iconPath}`] : []), '--', req.title, req.body],
        hint: 'install libnotify-bin for desktop notifications',
      };
    case 'darwin':
      return {
        file: '/usr/bin/osascript',
        args: ['-e', 'on run argv', '-e', 'display notification (item 2 of argv) with title (item 1 of argv)', '-e', 'end run', req.title, req.body],
      };
    case 'win32': {
      const env = options.env ?? process.env;
      const root = env.SystemRoot ?? env.SYSTEMROOT ?? 'C:\\Windows';
      return {
        file: `${root}\\System32\\WindowsPowerShell\\v1.0\\powershell.exe`,
        args: ['-NoProfile', '-NonInteractive', '-ExecutionPolicy', 'Bypass', '-Command', WINDOWS_TOAST],
        env: { ...env, VIGIE_NOTIFY_TITLE: req.title, VIGIE_NOTIFY_BODY: req.body },
      };
    }
    default:
      return null;
  }
}

const WINDOWS_TOAST = [
  "$ErrorActionPreference = 'Stop'",
  '[Windows.UI.Notifications.ToastNotificationManager, Windows.UI.Notifications, ContentType = WindowsRuntime] | Out-Null',
  '[Windows.Data.Xml.Dom.XmlDocument, Windows.Data.Xml.Dom.XmlDocument, ContentType = WindowsRuntime] | Out-Null',
  '$t = [Security.SecurityElement]::Escape($env:VIGIE_NOTIFY_TITLE)',
  '$b = [Security.SecurityElement]::Escape($env:VIGIE_NOTIFY_BODY)',
  '$x = New-Object Windows.Data.Xml.Dom.XmlDocument',
  `$x.LoadXml("<toast><visual><binding template='ToastGeneric'><text>$t</text><text>$b</text></binding></visual></toast>")`,
  "$app = '{1AC14E77-02E7-4E5D-B744-2EB1AE5198B7}\\WindowsPowerShell\\v1.0\\powershell.exe'",
  '[Windows.UI.Notifications.ToastNotificationManager]::CreateToastNotifier($app).Show([Windows.UI.Notifications.ToastNotification]::new($x))',
].join('; ');
