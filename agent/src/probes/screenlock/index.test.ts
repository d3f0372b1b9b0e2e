import fs from 'node:fs';
import path from 'node:path';
import { screenlockSection } from '@vigie/shared';
import { collectScreenlock, screenlockFormats } from './index';

const root = path.join(__dirname, '../../../test/fixtures/screenlock');
const fixture = (name: string) => fs.readFileSync(path.join(root, name), 'utf8');

/** Which format must claim each fixture; null: no format may claim it. */
const expected: Record<string, string | null> = {
  'linux/gsettings-debian12-defaults.txt': 'gsettings',
  'linux/gsettings-idle900-lockdelay30.txt': 'gsettings',
  'linux/gsettings-lock-disabled.txt': 'gsettings',
  'linux/gsettings-lockdown.txt': 'gsettings',
  'linux/gsettings-untyped-values.txt': 'gsettings',
  'linux/kscreenlockerrc-greeter-only.txt': 'kscreenlockerrc',
  'linux/kscreenlockerrc-timeout-15.txt': 'kscreenlockerrc',
  'linux/kscreenlockerrc-lockgrace-45.txt': 'kscreenlockerrc',
  'linux/kscreenlockerrc-autolock-false.txt': 'kscreenlockerrc',
  'linux/loginctl-list-sessions.txt': null,
  'linux/loginctl-show-session-2-gnome.txt': null,
  'linux/loginctl-show-session-5-ssh.txt': null,
  'linux/loginctl-show-session-c1-greeter.txt': null,
  'windows/reg-desktop-no-screensaver.txt': 'reg-query',
  'windows/reg-hku-desktop-secure-900.txt': 'reg-query',
  'windows/reg-policy-inactivity-600.txt': 'reg-query',
  'windows/reg-user-screensavetimeout-300.txt': 'reg-query',
  'windows/reg-missing-value.en.stderr.txt': null,
  'windows/reg-missing-value.fr.stderr.txt': null,
  'windows/reg-missing-value.de.stderr.txt': null,
  'windows/powercfg-videoidle.en.txt': 'powercfg',
  'windows/powercfg-videoidle.fr.txt': 'powercfg',
  'windows/powercfg-videoidle.de.txt': 'powercfg',
  'windows/powercfg-consolelock.en.txt': 'powercfg',
  'windows/console-user.json': null,
  'windows/console-user-nobody.json': null,
  'macos/sysadminctl-delay-5.txt': 'sysadminctl',
  'macos/sysadminctl-delay-300.txt': 'sysadminctl',
  'macos/sysadminctl-immediate.txt': 'sysadminctl',
  'macos/sysadminctl-off.txt': 'sysadminctl',
  'macos/pmset-g.txt': 'pmset',
  'macos/pmset-g-custom.txt': 'pmset',
  'macos/pmset-g-display-sleep-prevented.txt': 'pmset',
  'misc/garbage.txt': null,
  'misc/garbage-binary.txt': null,
};

describe('screenlockFormats', () => {
  it('covers every fixture on disk', () => {
    const onDisk = ['linux', 'windows', 'macos', 'misc'].flatMap((dir) =>
      fs.readdirSync(path.join(root, dir)).filter((f) => f !== 'SOURCES.md').map((f) => `${dir}/${f}`),
    );
    expect(onDisk.sort()).toEqual(Object.keys(expected).sort());
  });

  it.each(Object.entries(expected))('%s is claimed by %s only', (file, format) => {
    const text = fixture(file);
    const claimed = screenlockFormats.filter((f) => f.detect(text)).map((f) => f.name);
    expect(claimed).toEqual(format === null ? [] : [format]);
  });

  it.each(Object.entries(expected).filter(([, format]) => format !== null))('%s parses to a valid section', (file, format) => {
    const parsed = screenlockFormats.find((f) => f.name === format)?.parse(fixture(file));
    expect(screenlockSection.safeParse(parsed).success).toBe(true);
  });

  it('every parser turns garbage into unknown with a reason, without throwing', () => {
    for (const text of [fixture('misc/garbage.txt'), fixture('misc/garbage-binary.txt'), '']) {
      for (const format of screenlockFormats) {
        const section = format.parse(text);
        expect(section).toMatchObject({ unknown: true });
        expect(screenlockSection.safeParse(section).success).toBe(true);
      }
    }
  });

  it('a full powercfg dump with both settings judges display-off with the password on wake', () => {
    const text = fixture('windows/powercfg-consolelock.en.txt') + fixture('windows/powercfg-videoidle.en.txt');
    expect(screenlockFormats.find((f) => f.name === 'powercfg')?.parse(text)).toEqual({
      enabled: true,
      idleSeconds: 900,
      graceSeconds: 0,
      requirePassword: true,
      source: 'powercfg:VIDEOIDLE+CONSOLELOCK',
      user: null,
    });
  });

  it('pmset alone cannot say whether a password is asked', () => {
    expect(screenlockFormats.find((f) => f.name === 'pmset')?.parse(fixture('macos/pmset-g-custom.txt'))).toEqual({
      enabled: null,
      idleSeconds: 600,
      graceSeconds: null,
      requirePassword: null,
      source: 'pmset:displaysleep+sysadminctl',
      user: null,
    });
  });
});

describe('collectScreenlock', () => {
  it('is unknown on an unsupported platform, without running anything', async () => {
    const exec = jest.fn();
    const section = await collectScreenlock({
      exec,
      readFile: jest.fn(),
      readDir: jest.fn(),
      platform: 'freebsd',
      now: () => new Date(0),
    });
    expect(section).toEqual({ unknown: true, reason: 'not supported on freebsd' });
    expect(exec).not.toHaveBeenCalled();
  });
});
