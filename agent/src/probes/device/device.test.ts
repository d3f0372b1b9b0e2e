import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { deviceSection } from '@vigie/shared';
import { systemContext } from '../context';
import type { ProbeContext } from '../types';
import { type DeviceLibraries, type OsInfo, type SystemInfo, type UserSession, consoleUser } from './device';
import { collectDevice, deviceFormats } from './index';

const captured = JSON.parse(
  fs.readFileSync(path.join(__dirname, '../../../test/fixtures/device/linux/si-debian12-container.json'), 'utf8'),
) as { osInfo: OsInfo; system: SystemInfo; users: UserSession[] };

const HASHED_ID = '0035969ec53f6e7f0fb40f08cc9ed4783aa99c2000cf1ebe4187c10dd0d8370f';
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

function libs(overrides: Partial<DeviceLibraries> = {}): DeviceLibraries {
  return {
    machineId: async () => HASHED_ID,
    osInfo: async () => captured.osInfo,
    system: async () => captured.system,
    users: async () => captured.users,
    ...overrides,
  };
}

const ctx = (platform: NodeJS.Platform): ProbeContext => ({ ...systemContext(), platform });

describe('collectDevice', () => {
  it('reports a Debian container: placeholder serial dropped, no user', async () => {
    expect(await collectDevice(ctx('linux'), libs())).toEqual({
      machineId: HASHED_ID,
      hostname: 'vm',
      os: 'linux',
      osVersion: 'Debian GNU/Linux 12',
      model: 'Docker Container',
      serial: '',
      user: null,
    });
  });

  it('reports a Windows laptop with maker, model, serial and the console user', async () => {
    const section = await collectDevice(
      ctx('win32'),
      libs({
        osInfo: async () => ({ platform: 'Windows', distro: 'Microsoft Windows 11 Professionnel', release: '10.0.22631', hostname: 'PC-COMPTA-07' }),
        system: async () => ({ manufacturer: 'LENOVO', model: '20XW0026FR', serial: 'PF3ABCDE' }),
        users: async () => [
          { user: 'svc-backup', tty: 'rdp-tcp#0' },
          { user: 'marie.dupont', tty: 'console' },
        ],
      }),
    );
    expect(section).toEqual({
      machineId: HASHED_ID,
      hostname: 'PC-COMPTA-07',
      os: 'windows',
      osVersion: 'Microsoft Windows 11 Professionnel 10.0.22631',
      model: 'LENOVO 20XW0026FR',
      serial: 'PF3ABCDE',
      user: 'marie.dupont',
    });
    expect(deviceSection.safeParse(section).success).toBe(true);
  });

  it('maps darwin to macos and drops firmware placeholders', async () => {
    const section = await collectDevice(
      ctx('darwin'),
      libs({
        osInfo: async () => ({ platform: 'darwin', distro: 'macOS', release: '14.4.1', hostname: 'MacBook-Pro-de-Paul.local' }),
        system: async () => ({ manufacturer: 'Apple Inc.', model: 'MacBookPro18,3', serial: 'To be filled by O.E.M.' }),
      }),
    );
    expect(section).toMatchObject({ os: 'macos', osVersion: 'macOS 14.4.1', model: 'Apple Inc. MacBookPro18,3', serial: '' });
  });

  it('is unknown when the machine id cannot be read', async () => {
    const section = await collectDevice(ctx('win32'), libs({ machineId: async () => Promise.reject(new Error('Command failed: REG.exe QUERY')) }));
    expect(section).toEqual({ unknown: true, reason: 'machine id unavailable: Command failed: REG.exe QUERY' });
  });

  it('is unknown when node-machine-id fell back to the hostname or to nothing', async () => {
    expect(await collectDevice(ctx('linux'), libs({ machineId: async () => sha256('vm') }))).toEqual({
      unknown: true,
      reason: 'machine id unavailable: no /etc/machine-id or /var/lib/dbus/machine-id, only the hostname',
    });
    expect(await collectDevice(ctx('linux'), libs({ machineId: async () => sha256('') }))).toMatchObject({ unknown: true });
  });

  it('keeps the identity when the model or users cannot be read', async () => {
    const section = await collectDevice(
      ctx('linux'),
      libs({ system: async () => Promise.reject(new Error('dmidecode')), users: async () => Promise.reject(new Error('who')) }),
    );
    expect(section).toMatchObject({ machineId: HASHED_ID, model: '', serial: '', user: null });
  });

  it('is unknown on an unsupported platform', async () => {
    expect(await collectDevice(ctx('freebsd'), libs())).toEqual({ unknown: true, reason: 'not supported on freebsd' });
  });

  it('has no parse formats', () => {
    expect(deviceFormats).toEqual([]);
  });
});

describe('consoleUser', () => {
  it('prefers the console or graphical session over SSH logins', () => {
    expect(consoleUser([{ user: 'admin', tty: 'pts/0' }, { user: 'marie', tty: ':0' }])).toBe('marie');
    expect(consoleUser([{ user: 'admin', tty: 'pts/0' }])).toBe('admin');
    expect(consoleUser([])).toBeNull();
  });
});

describe('collectDevice on this machine', () => {
  it('returns facts that validate against the shared schema', async () => {
    const section = await collectDevice(systemContext());
    const checked = deviceSection.safeParse(section);
    expect(checked.success).toBe(true);
    if (process.platform === 'linux' && fs.existsSync('/etc/machine-id')) {
      expect(section).toMatchObject({ os: 'linux', machineId: expect.stringMatching(/^[0-9a-f]{64}$/) });
    }
  }, 60_000);
});
