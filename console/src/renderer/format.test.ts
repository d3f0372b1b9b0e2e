import { dateInputValue, dueState, endOfDayIso, formatAgo, formatDuration, formatPercent, formatSeconds } from './format';

const MIN = 60_000;
const H = 60 * MIN;
const D = 24 * H;

describe('formatters', () => {
  it('formats durations for a glance, in both languages', () => {
    expect(formatDuration(30_000, 'en')).toBe('< 1 min');
    expect(formatDuration(45 * MIN, 'en')).toBe('45 min');
    expect(formatDuration(3 * H, 'fr')).toBe('3 h');
    expect(formatDuration(3 * H + 20 * MIN, 'en')).toBe('3 h 20 min');
    expect(formatDuration(2 * D + 4 * H, 'en')).toBe('2 d 4 h');
    expect(formatDuration(2 * D + 4 * H, 'fr')).toBe('2 j 4 h');
    expect(formatDuration(12 * D + 5 * H, 'en')).toBe('12 d');
    expect(formatDuration(-3 * D, 'en')).toBe('3 d');
  });

  it('formats screen-lock seconds, with 0 meaning never', () => {
    expect(formatSeconds(900, 'en')).toBe('15 min');
    expect(formatSeconds(90, 'en')).toBe('1 min 30 s');
    expect(formatSeconds(45, 'fr')).toBe('45 s');
    expect(formatSeconds(0, 'fr')).toBe('Jamais');
    expect(formatSeconds(null, 'en')).toBe('Unknown');
  });

  it('says how long ago, or never', () => {
    const now = new Date('2026-05-10T12:00:00Z');
    expect(formatAgo('2026-05-10T09:00:00Z', now, 'en')).toBe('3 h ago');
    expect(formatAgo('2026-05-10T09:00:00Z', now, 'fr')).toBe('il y a 3 h');
    expect(formatAgo(null, now, 'en')).toBe('Never');
    expect(formatAgo('garbage', now, 'en')).toBe('Never');
  });

  it('tells overdue from due soon', () => {
    const now = new Date('2026-05-10T12:00:00Z');
    expect(dueState('2026-05-10T11:59:00Z', now)).toBe('overdue');
    expect(dueState('2026-05-11T12:00:00Z', now)).toBe('soon');
    expect(dueState('2026-05-20T12:00:00Z', now)).toBe('ok');
    expect(dueState(null, now)).toBe('none');
  });

  it('formats percentages in the user’s locale', () => {
    expect(formatPercent(0.873, 'en')).toBe('87.3%');
    expect(formatPercent(0.873, 'fr').replace(/\s/g, ' ')).toBe('87,3 %');
    expect(formatPercent(Number.NaN, 'en')).toBe('—');
  });

  it('turns a chosen expiry day into the end of that day', () => {
    const iso = endOfDayIso('2026-06-12');
    const d = new Date(iso!);
    expect([d.getFullYear(), d.getMonth(), d.getDate(), d.getHours(), d.getMinutes()]).toEqual([2026, 5, 12, 23, 59]);
    expect(endOfDayIso('12/06/2026')).toBeNull();
    expect(dateInputValue(new Date(2026, 0, 5))).toBe('2026-01-05');
  });
});
