/** Formatting of numbers, dates and durations, in the user's language. Pure: `now` is passed in. */
import { translate, type Lang } from './i18n';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const locales: Record<Lang, string> = { en: 'en-GB', fr: 'fr-FR' };

/** A duration an admin reads at a glance: "45 min", "3 h 20 min", "12 d 4 h", "120 d". */
export function formatDuration(ms: number, lang: Lang): string {
  const abs = Math.abs(ms);
  if (abs < MINUTE) return translate(lang, 'duration.lessThanMinute');
  if (abs < HOUR) return translate(lang, 'duration.minutes', { n: Math.floor(abs / MINUTE) });
  if (abs < DAY) {
    const h = Math.floor(abs / HOUR);
    const m = Math.floor((abs % HOUR) / MINUTE);
    return m === 0 ? translate(lang, 'duration.hours', { n: h }) : translate(lang, 'duration.hoursMinutes', { h, m });
  }
  const d = Math.floor(abs / DAY);
  const h = Math.floor((abs % DAY) / HOUR);
  return d >= 7 || h === 0 ? translate(lang, 'duration.days', { n: d }) : translate(lang, 'duration.daysHours', { d, h });
}

/** Seconds as the screen-lock settings show them: "15 min", "90 s", "Never" for 0. */
export function formatSeconds(seconds: number | null | undefined, lang: Lang): string {
  if (seconds === null || seconds === undefined) return translate(lang, 'common.unknown');
  if (seconds === 0) return translate(lang, 'common.never');
  if (seconds < 60) return translate(lang, 'time.seconds', { n: seconds });
  if (seconds % 60 !== 0) return `${translate(lang, 'duration.minutes', { n: Math.floor(seconds / 60) })} ${translate(lang, 'time.seconds', { n: seconds % 60 })}`;
  return formatDuration(seconds * 1000, lang);
}

export function parseDate(iso: string | null | undefined): Date | null {
  if (!iso) return null;
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? null : d;
}

export function formatDate(iso: string | null | undefined, lang: Lang): string {
  const d = parseDate(iso);
  if (!d) return '—';
  return new Intl.DateTimeFormat(locales[lang], { year: 'numeric', month: 'short', day: 'numeric' }).format(d);
}

export function formatDateTime(iso: string | null | undefined, lang: Lang): string {
  const d = parseDate(iso);
  if (!d) return '—';
  return new Intl.DateTimeFormat(locales[lang], { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' }).format(d);
}

/** "3 h ago" / "il y a 3 h". */
export function formatAgo(iso: string | null | undefined, now: Date, lang: Lang): string {
  const d = parseDate(iso);
  if (!d) return translate(lang, 'common.never');
  return translate(lang, 'time.ago', { duration: formatDuration(now.getTime() - d.getTime(), lang) });
}

export function formatPercent(ratio: number | null | undefined, lang: Lang, digits = 1): string {
  if (ratio === null || ratio === undefined || Number.isNaN(ratio)) return '—';
  return new Intl.NumberFormat(locales[lang], { style: 'percent', minimumFractionDigits: 0, maximumFractionDigits: digits }).format(ratio);
}

export function formatNumber(n: number, lang: Lang): string {
  return new Intl.NumberFormat(locales[lang]).format(n);
}

export type DueState = 'overdue' | 'soon' | 'ok' | 'none';

/** Overdue once the due date has passed; "soon" within two days of it. */
export function dueState(dueAt: string | null | undefined, now: Date): DueState {
  const d = parseDate(dueAt);
  if (!d) return 'none';
  const left = d.getTime() - now.getTime();
  if (left < 0) return 'overdue';
  if (left < 2 * DAY) return 'soon';
  return 'ok';
}

/** Conformity band for colouring: good ≥ 95 %, fair ≥ 80 %, else poor. */
export function conformityBand(ratio: number): 'good' | 'fair' | 'poor' {
  if (ratio >= 0.95) return 'good';
  if (ratio >= 0.8) return 'fair';
  return 'poor';
}

/** A date input's value (YYYY-MM-DD) N days from now, in local time. */
export function dateInputValue(date: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${p(date.getMonth() + 1)}-${p(date.getDate())}`;
}

/** The end of the chosen day in local time, as ISO: an exemption "until 12 May" covers 12 May. */
export function endOfDayIso(dateInput: string): string | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(dateInput);
  if (!m) return null;
  const d = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]), 23, 59, 59);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}
