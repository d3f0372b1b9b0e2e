import fs from 'node:fs';
import path from 'node:path';
import { parseRegQuery, type RegValue } from './parse-reg-query';
import { windowsSection } from './windows-lock';

const fixture = (name: string) => fs.readFileSync(path.join(__dirname, '../../../test/fixtures/screenlock/windows', name), 'utf8');

const SID = 'S-1-5-21-00000000-1518580609-3671465160-1630';
const userKey = `HKEY_USERS\\${SID}\\Control Panel\\Desktop`;
const policyKey = `HKEY_USERS\\${SID}\\Software\\Policies\\Microsoft\\Windows\\Control Panel\\Desktop`;
const systemKey = 'HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Policies\\System';
const winlogonKey = 'HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Winlogon';

const sz = (key: string, name: string, data: string): RegValue => ({ key, name, type: 'REG_SZ', data });
const dword = (key: string, name: string, n: number): RegValue => ({ key, name, type: 'REG_DWORD', data: `0x${n.toString(16)}` });

const secureSaver = (timeout: number): RegValue[] => [
  sz(userKey, 'ScreenSaveActive', '1'),
  sz(userKey, 'ScreenSaverIsSecure', '1'),
  sz(userKey, 'ScreenSaveTimeOut', String(timeout)),
  sz(userKey, 'SCRNSAVE.EXE', 'C:\\Windows\\system32\\scrnsave.scr'),
];

const noPower = { displayOff: null, consoleLock: null, user: 'CONTOSO\\alice' };

describe('windowsSection: the smallest mechanism that really locks', () => {
  it('a 600 s inactivity policy beats a password screen saver at 900 s', () => {
    const registry = [...parseRegQuery(fixture('reg-policy-inactivity-600.txt')), ...parseRegQuery(fixture('reg-hku-desktop-secure-900.txt'))];
    expect(windowsSection({ ...noPower, registry })).toEqual({
      enabled: true,
      idleSeconds: 600,
      graceSeconds: 0,
      requirePassword: true,
      source: 'policy:InactivityTimeoutSecs',
      user: 'CONTOSO\\alice',
    });
  });

  it('a password screen saver at 300 s beats a 600 s policy, with the default 5 s grace', () => {
    const registry = [dword(systemKey, 'InactivityTimeoutSecs', 600), ...secureSaver(300)];
    expect(windowsSection({ ...noPower, registry })).toMatchObject({
      enabled: true,
      idleSeconds: 300,
      graceSeconds: 5,
      source: 'registry:ScreenSaver',
    });
  });

  it('uses ScreenSaverGracePeriod from Winlogon when set', () => {
    const registry = [...secureSaver(300), sz(winlogonKey, 'ScreenSaverGracePeriod', '0')];
    expect(windowsSection({ ...noPower, registry })).toMatchObject({ idleSeconds: 300, graceSeconds: 0 });
  });

  it('a grace period can make the screen saver lose to a policy that starts later', () => {
    const registry = [dword(systemKey, 'InactivityTimeoutSecs', 610), ...secureSaver(600), sz(winlogonKey, 'ScreenSaverGracePeriod', '60')];
    expect(windowsSection({ ...noPower, registry })).toMatchObject({ idleSeconds: 610, source: 'policy:InactivityTimeoutSecs' });
  });

  it('a screen saver without a password does not lock', () => {
    const registry = [...secureSaver(300).filter((v) => v.name !== 'ScreenSaverIsSecure'), sz(userKey, 'ScreenSaverIsSecure', '0')];
    expect(windowsSection({ ...noPower, registry })).toEqual({
      enabled: false,
      idleSeconds: 300,
      graceSeconds: null,
      requirePassword: false,
      source: 'registry:ScreenSaver',
      user: 'CONTOSO\\alice',
    });
  });

  it('"(None)" (no SCRNSAVE.EXE) runs no screen saver even with ScreenSaveActive=1', () => {
    const registry = [...secureSaver(300).filter((v) => v.name !== 'SCRNSAVE.EXE')];
    expect(windowsSection({ ...noPower, registry })).toMatchObject({ enabled: false, idleSeconds: 0, requirePassword: true });
  });

  it('Group Policy screen saver values override the user\'s, value by value', () => {
    const registry = [
      ...secureSaver(1800),
      sz(policyKey, 'ScreenSaveTimeOut', '600'),
      sz(policyKey, 'ScreenSaverIsSecure', '1'),
    ];
    expect(windowsSection({ ...noPower, registry })).toMatchObject({ enabled: true, idleSeconds: 600, source: 'policy:ScreenSaver' });
  });

  it('a policy ScreenSaveActive=0 switches off the user\'s secure screen saver', () => {
    const registry = [...secureSaver(300), sz(policyKey, 'ScreenSaveActive', '0')];
    expect(windowsSection({ ...noPower, registry })).toMatchObject({ enabled: false, idleSeconds: 0 });
  });

  it('missing values (the real "(None)" dump) give no locking screen saver', () => {
    const registry = parseRegQuery(fixture('reg-desktop-no-screensaver.txt'));
    expect(windowsSection({ ...noPower, registry })).toEqual({
      enabled: false,
      idleSeconds: 0,
      graceSeconds: null,
      requirePassword: false,
      source: 'registry:ScreenSaver',
      user: 'CONTOSO\\alice',
    });
  });

  it('a running screen saver without ScreenSaveTimeOut is left out, not guessed', () => {
    const registry = secureSaver(300).filter((v) => v.name !== 'ScreenSaveTimeOut');
    expect(windowsSection({ ...noPower, registry })).toEqual({
      unknown: true,
      reason: 'no InactivityTimeoutSecs, screen saver or display timeout could be read',
    });
  });

  it('the display turning off does not lock without a password on wake', () => {
    const section = windowsSection({ registry: [], displayOff: { ac: 300, dc: 300 }, consoleLock: { ac: 0, dc: 0 }, user: null });
    expect(section).toMatchObject({ enabled: false, idleSeconds: 300, requirePassword: false });
  });

  it('display off + password on wake locks, and beats a later screen saver', () => {
    const section = windowsSection({
      registry: secureSaver(900),
      displayOff: { ac: 600, dc: 300 },
      consoleLock: { ac: 1, dc: 1 },
      user: 'CONTOSO\\alice',
    });
    expect(section).toEqual({
      enabled: true,
      idleSeconds: 600, // the worse of AC 600 and DC 300
      graceSeconds: 0,
      requirePassword: true,
      source: 'powercfg:VIDEOIDLE+CONSOLELOCK',
      user: 'CONTOSO\\alice',
    });
  });

  it('display never turning off on mains (AC 0) means that mechanism never locks', () => {
    const section = windowsSection({ registry: secureSaver(900), displayOff: { ac: 0, dc: 120 }, consoleLock: { ac: 1, dc: 1 }, user: null });
    expect(section).toMatchObject({ idleSeconds: 900, source: 'registry:ScreenSaver' });
  });

  it('a password on wake only on battery does not count', () => {
    const section = windowsSection({ registry: [], displayOff: { ac: 120, dc: 120 }, consoleLock: { ac: 0, dc: 1 }, user: null });
    expect(section).toMatchObject({ enabled: false, requirePassword: false });
  });

  it('an unreadable CONSOLELOCK leaves the display mechanism undecided, not locking', () => {
    const section = windowsSection({ registry: [], displayOff: { ac: 120, dc: 120 }, consoleLock: null, user: null });
    expect(section).toMatchObject({ enabled: null, requirePassword: null, idleSeconds: 120 });
  });
});
