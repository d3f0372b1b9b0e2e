/**
 * The tray's own chrome, in English and French. Everything about a rule (its
 * title, its remediation steps) comes from the collector's `config` message, so
 * the DSI edits it centrally; nothing here names a rule or tells how to fix one.
 */
export type Lang = 'en' | 'fr';

export interface Chrome {
  appName: string;
  tooltip: (text: string) => string;
  compliant: string;
  issues: (n: number) => string;
  overdueIssues: (n: number) => string;
  unreachable: string;
  notReported: string;
  noFindings: string;
  stale: (when: string) => string;
  offline: string;
  fixBefore: (date: string) => string;
  overdueSince: (date: string) => string;
  fixSoon: string;
  showSteps: string;
  moreRules: (n: number) => string;
  checkAgain: string;
  checkAgainTooltip: string;
  checking: string;
  checkFailed: string;
  about: string;
  aboutVersion: (v: string) => string;
  aboutLastReport: (when: string) => string;
  aboutNever: string;
  aboutCollector: (url: string) => string;
  aboutConnected: string;
  aboutDisconnected: string;
  exempted: (n: number) => string;
  unmeasured: (n: number) => string;
  noSteps: string;
  pageTitle: string;
  pageIntro: string;
  notifyNewTitle: string;
  notifyNewBody: (rule: string, due: string | null) => string;
  notifyReminderTitle: string;
  notifyReminderBody: (rule: string, due: string) => string;
  notifyOverdueTitle: string;
  notifyOverdueBody: (rule: string, due: string) => string;
  dateLocale: string;
}

const en: Chrome = {
  appName: 'Vigie',
  tooltip: (text) => `Vigie: ${text}`,
  compliant: 'Your device meets the security policy',
  issues: (n) => (n === 1 ? '1 thing to fix' : `${n} things to fix`),
  overdueIssues: (n) => (n === 1 ? '1 thing to fix, overdue' : `${n} things to fix, some overdue`),
  unreachable: 'Agent unreachable: the compliance status is unknown',
  notReported: 'Not reported yet: the compliance status is unknown',
  noFindings: 'No checks evaluated yet',
  stale: (when) => `Status out of date (last checked ${when})`,
  offline: 'The agent is offline; this is the last known status',
  fixBefore: (date) => `fix before ${date}`,
  overdueSince: (date) => `overdue since ${date}`,
  fixSoon: 'fix as soon as possible',
  showSteps: 'Show how to fix it',
  moreRules: (n) => `${n} more…`,
  checkAgain: 'Check again now',
  checkAgainTooltip: 'Ask the agent to check this device and report now',
  checking: 'Checking…',
  checkFailed: 'The check could not run; try again later',
  about: 'About',
  aboutVersion: (v) => `Vigie agent ${v}`,
  aboutLastReport: (when) => `Last report: ${when}`,
  aboutNever: 'Last report: never',
  aboutCollector: (url) => `Server: ${url}`,
  aboutConnected: 'Connected to the server',
  aboutDisconnected: 'Not connected to the server',
  exempted: (n) => (n === 1 ? '1 exemption granted by IT' : `${n} exemptions granted by IT`),
  unmeasured: (n) => (n === 1 ? '1 check could not be measured' : `${n} checks could not be measured`),
  noSteps: 'Your IT department has not written the steps for this yet. Contact the service desk.',
  pageTitle: 'Vigie: how to fix',
  pageIntro: 'Your IT department asks you to fix the following on this device.',
  notifyNewTitle: 'Vigie: action needed',
  notifyNewBody: (rule, due) => (due ? `${rule}: fix before ${due}` : `${rule}: fix as soon as possible`),
  notifyReminderTitle: 'Vigie: due soon',
  notifyReminderBody: (rule, due) => `${rule}: fix before ${due}`,
  notifyOverdueTitle: 'Vigie: overdue',
  notifyOverdueBody: (rule, due) => `${rule}: overdue (was due ${due})`,
  dateLocale: 'en-GB',
};

const fr: Chrome = {
  appName: 'Vigie',
  tooltip: (text) => `Vigie : ${text}`,
  compliant: 'Votre poste respecte la politique de sécurité',
  issues: (n) => (n === 1 ? '1 point à corriger' : `${n} points à corriger`),
  overdueIssues: (n) => (n === 1 ? '1 point à corriger, en retard' : `${n} points à corriger, dont en retard`),
  unreachable: "Agent injoignable : l'état de conformité est inconnu",
  notReported: "Aucune remontée pour l'instant : l'état de conformité est inconnu",
  noFindings: 'Aucun contrôle évalué pour le moment',
  stale: (when) => `État périmé (dernier contrôle le ${when})`,
  offline: "L'agent est hors ligne ; voici le dernier état connu",
  fixBefore: (date) => `à corriger avant le ${date}`,
  overdueSince: (date) => `en retard depuis le ${date}`,
  fixSoon: 'à corriger dès que possible',
  showSteps: 'Voir comment corriger',
  moreRules: (n) => `${n} de plus…`,
  checkAgain: 'Vérifier maintenant',
  checkAgainTooltip: "Demander à l'agent de contrôler ce poste et de remonter l'état maintenant",
  checking: 'Vérification…',
  checkFailed: "Le contrôle n'a pas pu être lancé ; réessayez plus tard",
  about: 'À propos',
  aboutVersion: (v) => `Agent Vigie ${v}`,
  aboutLastReport: (when) => `Dernière remontée : ${when}`,
  aboutNever: 'Dernière remontée : jamais',
  aboutCollector: (url) => `Serveur : ${url}`,
  aboutConnected: 'Connecté au serveur',
  aboutDisconnected: 'Non connecté au serveur',
  exempted: (n) => (n === 1 ? '1 dérogation accordée par la DSI' : `${n} dérogations accordées par la DSI`),
  unmeasured: (n) => (n === 1 ? "1 contrôle n'a pas pu être mesuré" : `${n} contrôles n'ont pas pu être mesurés`),
  noSteps: "La DSI n'a pas encore rédigé la marche à suivre. Contactez le support.",
  pageTitle: 'Vigie : comment corriger',
  pageIntro: 'Votre DSI vous demande de corriger les points suivants sur ce poste.',
  notifyNewTitle: 'Vigie : action requise',
  notifyNewBody: (rule, due) => (due ? `${rule} : à corriger avant le ${due}` : `${rule} : à corriger dès que possible`),
  notifyReminderTitle: 'Vigie : échéance proche',
  notifyReminderBody: (rule, due) => `${rule} : à corriger avant le ${due}`,
  notifyOverdueTitle: 'Vigie : en retard',
  notifyOverdueBody: (rule, due) => `${rule} : en retard (échéance le ${due})`,
  dateLocale: 'fr-FR',
};

export const CHROME: Record<Lang, Chrome> = { en, fr };

export interface DateOptions {
  /** IANA zone; the machine's own by default. Tests pin it. */
  timeZone?: string;
  /** Add the hour, for reminders. */
  withTime?: boolean;
  /** The year is shown only when it differs from this one's. */
  now?: Date;
}

/** "1 December" / "1 décembre", with the year when it is not this year's, and the time when asked. */
export function formatDate(date: Date, lang: Lang, options: DateOptions = {}): string {
  const { timeZone } = options;
  const yearOf = (d: Date) => new Intl.DateTimeFormat('en-GB', { year: 'numeric', timeZone }).format(d);
  const showYear = !options.now || yearOf(options.now) !== yearOf(date);
  return new Intl.DateTimeFormat(CHROME[lang].dateLocale, {
    day: 'numeric',
    month: 'long',
    ...(showYear ? { year: 'numeric' } : {}),
    ...(options.withTime ? { hour: '2-digit', minute: '2-digit' } : {}),
    timeZone,
  }).format(date);
}

/**
 * The employee's language from the OS locale: LC_ALL, LC_MESSAGES, LANG (POSIX
 * precedence; LANGUAGE, a GNU preference list, first), then what Intl reports
 * (on Windows and macOS the env vars are usually unset and ICU reads the
 * system's locale). French for any `fr*`, English otherwise.
 */
export function detectLang(env: NodeJS.ProcessEnv, intlLocale: string | undefined = safeIntlLocale()): Lang {
  const candidates = [env.LANGUAGE?.split(':')[0], env.LC_ALL, env.LC_MESSAGES, env.LANG, intlLocale];
  for (const c of candidates) {
    if (!c) continue;
    const lower = c.toLowerCase();
    if (lower === 'c' || lower.startsWith('c.') || lower === 'posix') continue;
    return lower.startsWith('fr') ? 'fr' : 'en';
  }
  return 'en';
}

function safeIntlLocale(): string | undefined {
  try {
    return Intl.DateTimeFormat().resolvedOptions().locale;
  } catch {
    return undefined;
  }
}
