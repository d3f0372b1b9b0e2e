import type { OsName, StatusMessage } from '@vigie/shared';
import type { TrayState } from './state';
import { CHROME, formatDate, type Lang } from './strings';

/**
 * From what the agent said (or that it said nothing) to what the tray shows:
 * the icon, the tooltip and the menu. Pure: time, language, OS and zone are
 * passed in, so every case is a unit test.
 *
 * The one promise this file keeps above all: the green icon means "the
 * collector evaluated this device recently and nothing is left to fix". An
 * unreachable agent, a device never evaluated, a status older than a day, or a
 * status where no check could be measured is grey ("unknown"), never green.
 */
export type IconState = 'compliant' | 'action-needed' | 'overdue' | 'unknown';

export type AgentView = { kind: 'state'; state: TrayState } | { kind: 'unreachable'; reason: string };

export type TrayAction =
  | { kind: 'open-remediation'; ruleId: string }
  | { kind: 'open-all' }
  | { kind: 'rescan' }
  | { kind: 'none' };

export interface MenuEntry {
  /** Stable across renders: the tray maps it to a menu slot. */
  key: string;
  title: string;
  tooltip: string;
  enabled: boolean;
  action: TrayAction;
  children?: MenuEntry[];
}

export interface FailingRule {
  ruleId: string;
  /** In the employee's language, from config.remediation; the rule id when the collector sent no title. */
  title: string;
  /** The remediation steps in the employee's language, for this device's OS; null when the collector sent none. */
  steps: string | null;
  severity: StatusMessage['findings'][number]['severity'];
  dueAt: Date | null;
  overdue: boolean;
  /** "fix before 1 December" / "overdue since 1 December". */
  dueLabel: string;
}

export interface TrayView {
  icon: IconState;
  tooltip: string;
  headline: string;
  /** Disabled lines under the headline: out of date, offline, exemptions, unmeasured checks. */
  notes: string[];
  failing: FailingRule[];
  /** One per failing rule, up to maxRuleItems, then `more`. */
  ruleItems: MenuEntry[];
  more: MenuEntry | null;
  checkAgain: MenuEntry;
  about: MenuEntry;
  lang: Lang;
  os: OsName;
}

export interface ModelInput {
  agent: AgentView;
  lang: Lang;
  os: OsName;
  now: Date;
  timeZone?: string;
  /** The tray's own version, shown in About when the agent cannot be asked. */
  trayVersion?: string;
  rescanning?: boolean;
  rescanFailed?: boolean;
  maxRuleItems?: number;
}

/** A status older than this is not trusted for a green icon: the policy's own check-in rule allows 24 h of silence. */
export const STALE_AFTER_MS = 24 * 3600 * 1000;
export const DEFAULT_MAX_RULE_ITEMS = 8;

const severityRank = { low: 0, medium: 1, high: 2, critical: 3 } as const;

/** The failing, non-exempted findings, with their texts in `lang`, most urgent first. */
export function failingRules(state: TrayState, lang: Lang, now: Date, timeZone?: string): FailingRule[] {
  const t = CHROME[lang];
  const texts = state.config?.remediation ?? {};
  const rules = (state.status?.findings ?? [])
    .filter((f) => f.status === 'fail' && !f.exempted)
    .map((f): FailingRule => {
      const text = Object.prototype.hasOwnProperty.call(texts, f.ruleId) ? texts[f.ruleId] : undefined;
      const dueAt = f.dueAt ? new Date(f.dueAt) : null;
      const overdue = dueAt !== null && dueAt.getTime() <= now.getTime();
      const date = dueAt ? formatDate(dueAt, lang, { timeZone, now }) : null;
      return {
        ruleId: f.ruleId,
        title: text?.title[lang].trim() || f.ruleId,
        steps: text?.steps[lang].trim() || null,
        severity: f.severity,
        dueAt,
        overdue,
        dueLabel: date === null ? t.fixSoon : overdue ? t.overdueSince(date) : t.fixBefore(date),
      };
    });
  return rules.sort(
    (a, b) =>
      Number(b.overdue) - Number(a.overdue) ||
      (a.dueAt?.getTime() ?? Infinity) - (b.dueAt?.getTime() ?? Infinity) ||
      severityRank[b.severity] - severityRank[a.severity] ||
      a.title.localeCompare(b.title),
  );
}

export function buildTrayView(input: ModelInput): TrayView {
  const { lang, os, now, timeZone } = input;
  const t = CHROME[lang];
  const maxRuleItems = input.maxRuleItems ?? DEFAULT_MAX_RULE_ITEMS;
  const when = (iso: string) => formatDate(new Date(iso), lang, { timeZone, now, withTime: true });

  const checkAgain: MenuEntry = {
    key: 'check-again',
    title: input.rescanning ? t.checking : t.checkAgain,
    tooltip: input.rescanFailed ? t.checkFailed : t.checkAgainTooltip,
    enabled: input.agent.kind === 'state' && !input.rescanning,
    action: { kind: 'rescan' },
  };
  const info = (key: string, title: string): MenuEntry => ({ key, title, tooltip: title, enabled: false, action: { kind: 'none' } });

  if (input.agent.kind === 'unreachable') {
    return {
      icon: 'unknown',
      tooltip: t.tooltip(t.unreachable),
      headline: t.unreachable,
      notes: [],
      failing: [],
      ruleItems: [],
      more: null,
      checkAgain,
      about: {
        key: 'about',
        title: t.about,
        tooltip: t.about,
        enabled: true,
        action: { kind: 'none' },
        children: [info('about-version', t.aboutVersion(input.trayVersion ?? '?')), info('about-connection', t.unreachable)],
      },
      lang,
      os,
    };
  }

  const { state } = input.agent;
  const about: MenuEntry = {
    key: 'about',
    title: t.about,
    tooltip: t.about,
    enabled: true,
    action: { kind: 'none' },
    children: [
      info('about-version', t.aboutVersion(state.agentVersion)),
      info('about-last-report', state.lastReportAt ? t.aboutLastReport(when(state.lastReportAt)) : t.aboutNever),
      ...(state.collector ? [info('about-collector', t.aboutCollector(state.collector))] : []),
      info('about-connection', state.connected ? t.aboutConnected : t.aboutDisconnected),
    ],
  };

  const status = state.status;
  if (!status) {
    return { icon: 'unknown', tooltip: t.tooltip(t.notReported), headline: t.notReported, notes: [], failing: [], ruleItems: [], more: null, checkAgain, about, lang, os };
  }

  const failing = failingRules(state, lang, now, timeZone);
  const stale = now.getTime() - new Date(status.evaluatedAt).getTime() > STALE_AFTER_MS;
  const exempted = status.findings.filter((f) => f.status === 'fail' && f.exempted).length;
  const unmeasured = status.findings.filter((f) => f.status === 'unknown').length;
  const passed = status.findings.filter((f) => f.status === 'pass').length;

  const notes: string[] = [];
  if (stale) notes.push(t.stale(when(status.evaluatedAt)));
  else if (!state.connected) notes.push(t.offline);
  if (exempted > 0) notes.push(t.exempted(exempted));
  if (unmeasured > 0) notes.push(t.unmeasured(unmeasured));

  let icon: IconState;
  let headline: string;
  if (failing.some((r) => r.overdue)) {
    icon = 'overdue';
    headline = t.overdueIssues(failing.length);
  } else if (failing.length > 0) {
    icon = 'action-needed';
    headline = t.issues(failing.length);
  } else if (stale) {
    icon = 'unknown';
    headline = t.stale(when(status.evaluatedAt));
    notes.shift();
  } else if (passed === 0) {
    // Nothing failed, but nothing was measured either: not a reason for green.
    icon = 'unknown';
    headline = t.noFindings;
  } else {
    icon = 'compliant';
    headline = t.compliant;
  }

  const shown = failing.slice(0, maxRuleItems);
  const ruleItems = shown.map(
    (r): MenuEntry => ({
      key: `rule:${r.ruleId}`,
      title: `${r.title} — ${r.dueLabel}`,
      tooltip: t.showSteps,
      enabled: true,
      action: { kind: 'open-remediation', ruleId: r.ruleId },
    }),
  );
  const hidden = failing.length - shown.length;
  const more: MenuEntry | null = hidden > 0 ? { key: 'more', title: t.moreRules(hidden), tooltip: t.showSteps, enabled: true, action: { kind: 'open-all' } } : null;

  return { icon, tooltip: t.tooltip(headline), headline, notes, failing, ruleItems, more, checkAgain, about, lang, os };
}

/** The menu top to bottom, as an employee reads it (null is a separator). */
export function menuLines(view: TrayView): (MenuEntry | null)[] {
  const info = (key: string, title: string): MenuEntry => ({ key, title, tooltip: title, enabled: false, action: { kind: 'none' } });
  return [
    info('headline', view.headline),
    ...view.notes.map((n, i) => info(`note:${i}`, n)),
    ...view.ruleItems,
    ...(view.more ? [view.more] : []),
    null,
    view.checkAgain,
    view.about,
  ];
}
