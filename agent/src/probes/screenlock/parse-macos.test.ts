import fs from 'node:fs';
import path from 'node:path';
import { macosSection, type MacLockInputs } from './macos-lock';
import { parsePmset, worstPmsetMinutes } from './parse-pmset';
import { parseSysadminctlScreenLock, sysadminctlSection } from './parse-sysadminctl';

const fixture = (name: string) => fs.readFileSync(path.join(__dirname, '../../../test/fixtures/screenlock/macos', name), 'utf8');

describe('sysadminctl -screenLock status', () => {
  it('reads every variant', () => {
    expect(parseSysadminctlScreenLock(fixture('sysadminctl-delay-5.txt'))).toEqual({ on: true, delaySeconds: 5 });
    expect(parseSysadminctlScreenLock(fixture('sysadminctl-delay-300.txt'))).toEqual({ on: true, delaySeconds: 300 });
    expect(parseSysadminctlScreenLock(fixture('sysadminctl-immediate.txt'))).toEqual({ on: true, delaySeconds: 0 });
    expect(parseSysadminctlScreenLock(fixture('sysadminctl-off.txt'))).toEqual({ on: false });
    expect(parseSysadminctlScreenLock('2024-01-01 sysadminctl[1:2] screenLock delay is -1.000000 seconds')).toEqual({ on: false });
    expect(parseSysadminctlScreenLock('### Error: requires user context')).toBeNull();
  });

  it('on its own it gives the password delay, not the idle time', () => {
    expect(sysadminctlSection(fixture('sysadminctl-delay-300.txt'))).toEqual({
      enabled: null,
      idleSeconds: null,
      graceSeconds: 300,
      requirePassword: true,
      source: 'sysadminctl',
      user: null,
    });
    expect(sysadminctlSection(fixture('sysadminctl-off.txt'))).toMatchObject({ enabled: false, requirePassword: false });
  });
});

describe('pmset', () => {
  it('pmset -g: the value, not the "prevented by" note', () => {
    const profiles = parsePmset(fixture('pmset-g.txt'));
    expect(worstPmsetMinutes(profiles, 'displaysleep')).toBe(10);
    expect(worstPmsetMinutes(profiles, 'sleep')).toBe(1);
    expect(worstPmsetMinutes(parsePmset(fixture('pmset-g-display-sleep-prevented.txt')), 'displaysleep')).toBe(20);
    expect(parsePmset(fixture('pmset-g-display-sleep-prevented.txt')).get('Currently in use')?.get('Sleep On Power Button')).toBe('1');
  });

  it('pmset -g custom: the worst profile (AC 10 over battery 2)', () => {
    expect(worstPmsetMinutes(parsePmset(fixture('pmset-g-custom.txt')), 'displaysleep')).toBe(10);
    const never = fixture('pmset-g-custom.txt').replace(' displaysleep         2', ' displaysleep         0');
    expect(worstPmsetMinutes(parsePmset(never), 'displaysleep')).toBe(0);
  });
});

describe('macosSection: the smallest mechanism that really locks', () => {
  const base: MacLockInputs = {
    screenLock: { on: true, delaySeconds: 5 },
    screenSaverIdleSeconds: 1200,
    screenSaverSource: 'user',
    displaySleepMinutes: 10,
    user: 'alice',
  };

  it('display sleep at 10 min beats the screen saver at 20 min', () => {
    expect(macosSection(base)).toEqual({
      enabled: true,
      idleSeconds: 600,
      graceSeconds: 5,
      requirePassword: true,
      source: 'pmset:displaysleep+sysadminctl',
      user: 'alice',
    });
  });

  it('a managed screen saver at 5 min wins', () => {
    expect(macosSection({ ...base, screenSaverIdleSeconds: 300, screenSaverSource: 'managed' })).toMatchObject({
      idleSeconds: 300,
      source: 'profile:com.apple.screensaver+sysadminctl',
    });
  });

  it('screen lock off: nothing locks, whatever the timers', () => {
    expect(macosSection({ ...base, screenLock: { on: false } })).toEqual({
      enabled: false,
      idleSeconds: 600,
      graceSeconds: null,
      requirePassword: false,
      source: 'pmset:displaysleep+sysadminctl',
      user: 'alice',
    });
  });

  it('screen saver never and display never: no lock though a password is set', () => {
    expect(macosSection({ ...base, screenSaverIdleSeconds: 0, displaySleepMinutes: 0 })).toMatchObject({
      enabled: false,
      idleSeconds: 0,
      requirePassword: true,
    });
  });

  it('an unset idleTime is left out, not assumed', () => {
    expect(macosSection({ ...base, screenSaverIdleSeconds: null, displaySleepMinutes: 15 })).toMatchObject({ idleSeconds: 900 });
  });
});
