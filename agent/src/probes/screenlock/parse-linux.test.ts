import fs from 'node:fs';
import path from 'node:path';
import { gnomeSection, parseGsettingsDump, parseGsettingsValue } from './parse-gsettings';
import { kdeLockValues, kdeSection, parseKscreenlockerrc } from './parse-kscreenlockerrc';
import { desktopKind, parsePasswdHome, parseSessionIds, parseShowSession, pickGraphicalSession } from './parse-loginctl';

const fixture = (name: string) => fs.readFileSync(path.join(__dirname, '../../../test/fixtures/screenlock/linux', name), 'utf8');

describe('gsettings', () => {
  it('reads values in both print styles', () => {
    expect(parseGsettingsValue('uint32 300\n')).toBe(300);
    expect(parseGsettingsValue('300\n')).toBe(300);
    expect(parseGsettingsValue('true\n')).toBe(true);
    expect(parseGsettingsValue("'solid'")).toBeNull();
  });

  it('Debian 12 defaults: blank after 5 minutes, lock at once', () => {
    expect(parseGsettingsDump(fixture('gsettings-debian12-defaults.txt'))).toEqual({
      enabled: true,
      idleSeconds: 300,
      graceSeconds: 0,
      requirePassword: true,
      source: 'gsettings',
      user: null,
    });
  });

  it('idle-delay 900 and lock-delay 30', () => {
    expect(parseGsettingsDump(fixture('gsettings-idle900-lockdelay30.txt'))).toMatchObject({ enabled: true, idleSeconds: 900, graceSeconds: 30 });
  });

  it('values printed without the uint32 prefix', () => {
    expect(parseGsettingsDump(fixture('gsettings-untyped-values.txt'))).toMatchObject({ enabled: true, idleSeconds: 600, graceSeconds: 0 });
  });

  it('lock disabled and never blanking', () => {
    expect(parseGsettingsDump(fixture('gsettings-lock-disabled.txt'))).toEqual({
      enabled: false,
      idleSeconds: 0,
      graceSeconds: null,
      requirePassword: false,
      source: 'gsettings',
      user: null,
    });
  });

  it('the lockdown key forbids the lock even with lock-enabled true', () => {
    expect(parseGsettingsDump(fixture('gsettings-lockdown.txt'))).toMatchObject({ enabled: false, idleSeconds: 300, requirePassword: false });
  });

  it('a missing key is unknown, not a default', () => {
    const text = fixture('gsettings-debian12-defaults.txt').replace(/^.*lock-enabled.*$/m, '');
    expect(gnomeSection({ idleDelay: 300, lockEnabled: null, lockDelay: 0, disableLockScreen: false }, 'a')).toEqual({
      unknown: true,
      reason: 'gsettings did not give lock-enabled',
    });
    expect(parseGsettingsDump(text)).toEqual({ unknown: true, reason: 'gsettings did not give lock-enabled' });
  });

  it('garbage', () => {
    expect(parseGsettingsDump(fixture('../misc/garbage.txt'))).toMatchObject({ unknown: true });
  });
});

describe('kscreenlockerrc', () => {
  it('a file without [Daemon] takes every KDE default: lock after 5 min, 5 s grace', () => {
    expect(parseKscreenlockerrc(fixture('kscreenlockerrc-greeter-only.txt'))).toEqual({
      enabled: true,
      idleSeconds: 300,
      graceSeconds: 5,
      requirePassword: true,
      source: 'kscreenlockerrc',
      user: null,
    });
  });

  it('Timeout=15 with the other keys missing', () => {
    expect(parseKscreenlockerrc(fixture('kscreenlockerrc-timeout-15.txt'))).toMatchObject({ enabled: true, idleSeconds: 900, graceSeconds: 5 });
  });

  it('LockGrace=45', () => {
    expect(parseKscreenlockerrc(fixture('kscreenlockerrc-lockgrace-45.txt'))).toMatchObject({ idleSeconds: 300, graceSeconds: 45 });
  });

  it('Autolock=false never locks on idle', () => {
    expect(parseKscreenlockerrc(fixture('kscreenlockerrc-autolock-false.txt'))).toEqual({
      enabled: false,
      idleSeconds: 0,
      graceSeconds: null,
      requirePassword: true,
      source: 'kscreenlockerrc',
      user: null,
    });
  });

  it('no file at all is all defaults', () => {
    expect(kdeLockValues(null)).toEqual({ autolock: true, timeoutMinutes: 5, lock: true, lockGraceSeconds: 5, lockOnResume: true });
  });

  it('Lock=false means the locker never asks for a password', () => {
    expect(kdeSection(kdeLockValues('[Daemon]\nLock=false\n'), 'bob')).toMatchObject({ enabled: false, requirePassword: false, user: 'bob' });
  });

  it('an administrator [$i] key in /etc/xdg wins over the user', () => {
    const system = '[Daemon]\nTimeout[$i]=10\nLockGrace=0\n';
    const user = '[Daemon]\nTimeout=60\nLockGrace=30\n';
    expect(kdeLockValues(user, system)).toMatchObject({ timeoutMinutes: 10, lockGraceSeconds: 30 });
    expect(kdeLockValues(user, '[Daemon][$i]\nAutolock=true\n')).toMatchObject({ autolock: true, timeoutMinutes: 60 });
    expect(kdeLockValues('[Daemon]\nAutolock=false\n', '[$i]\n[Daemon]\nAutolock=true\n')).toMatchObject({ autolock: true });
  });

  it('unreadable values fall back to the default, as KConfig does; LockGrace is capped at 300', () => {
    expect(kdeLockValues('[Daemon]\nTimeout=soon\nLockGrace=9999\n')).toMatchObject({ timeoutMinutes: 5, lockGraceSeconds: 300 });
  });

  it('is not fooled by other files', () => {
    expect(parseKscreenlockerrc(fixture('../misc/garbage.txt'))).toMatchObject({ unknown: true });
  });
});

describe('loginctl and passwd', () => {
  it('reads session ids from list-sessions', () => {
    expect(parseSessionIds(fixture('loginctl-list-sessions.txt'))).toEqual(['2', 'c1', '5']);
  });

  it('picks the active local graphical user session, not the greeter or ssh', () => {
    const sessions = [
      parseShowSession('c1', fixture('loginctl-show-session-c1-greeter.txt')),
      parseShowSession('5', fixture('loginctl-show-session-5-ssh.txt')),
      parseShowSession('2', fixture('loginctl-show-session-2-gnome.txt')),
    ];
    expect(pickGraphicalSession(sessions)).toMatchObject({ id: '2', name: 'alice', type: 'wayland', desktop: 'GNOME' });
    expect(pickGraphicalSession(sessions.slice(0, 2))).toBeUndefined();
  });

  it('reads the home directory from getent passwd', () => {
    expect(parsePasswdHome('alice:x:1000:1000:Alice,,,:/home/alice:/bin/bash\n')).toBe('/home/alice');
    expect(parsePasswdHome('')).toBeNull();
  });

  it('names the desktop kind', () => {
    expect(desktopKind('GNOME')).toBe('gnome');
    expect(desktopKind('ubuntu')).toBe('gnome');
    expect(desktopKind('KDE')).toBe('kde');
    expect(desktopKind('plasma')).toBe('kde');
    expect(desktopKind('xfce')).toBe('other');
    expect(desktopKind('')).toBe('unset');
  });
});
