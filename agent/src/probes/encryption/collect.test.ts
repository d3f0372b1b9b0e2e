import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Volume } from '@vigie/shared';
import type { ExecResult } from '../../exec';
import type { ProbeContext } from '../types';
import { collectEncryption } from './index';
import { DISKUTIL, FDESETUP } from './encryption.darwin';
import { GET_BITLOCKER_VOLUME_SCRIPT, MANAGE_BDE, POWERSHELL, WMI_ENCRYPTABLE_VOLUME_SCRIPT } from './encryption.win32';

const fixture = (name: string) => fs.readFileSync(path.join(__dirname, '../../../test/fixtures/encryption', name), 'utf8');

type Canned = Partial<ExecResult>;

/** A ProbeContext whose exec answers from a map of "file arg arg…" → canned result; anything else does not exist. */
function fakeContext(platform: NodeJS.Platform, canned: Record<string, Canned>, files: Record<string, string> = {}) {
  const calls: string[] = [];
  const ctx: ProbeContext = {
    platform,
    now: () => new Date('2025-01-01T00:00:00Z'),
    exec: async (file, args, options) => {
      const key = [file, ...args].join(' ');
      calls.push(key);
      expect(options?.timeoutMs).toBeGreaterThan(0);
      const answer = canned[key];
      if (!answer) return { code: null, stdout: '', stderr: '', truncated: false, timedOut: false, error: `spawn ${file} ENOENT` };
      return { code: 0, stdout: '', stderr: '', truncated: false, timedOut: false, ...answer };
    },
    readFile: async (p) => {
      const content = files[p];
      if (content === undefined) throw new Error(`ENOENT: ${p}`);
      return content;
    },
    readDir: async () => [],
  };
  return { ctx, calls };
}

const ps = (script: string) => [POWERSHELL, '-NoProfile', '-NonInteractive', '-ExecutionPolicy', 'Bypass', '-Command', script].join(' ');
const CMDLET = ps(GET_BITLOCKER_VOLUME_SCRIPT);
const WMI = ps(WMI_ENCRYPTABLE_VOLUME_SCRIPT);
const BDE = `${MANAGE_BDE} -status`;
const notRecognised: Canned = {
  code: 1,
  stderr: "Get-BitLockerVolume : The term 'Get-BitLockerVolume' is not recognized as the name of a cmdlet, function, script file, or operable program.",
};

describe('Windows', () => {
  it('never asks for key protectors, so recovery passwords are never read', () => {
    expect(GET_BITLOCKER_VOLUME_SCRIPT).not.toMatch(/KeyProtector|RecoveryPassword/);
    expect(WMI_ENCRYPTABLE_VOLUME_SCRIPT).not.toMatch(/KeyProtector|RecoveryPassword/);
    expect(WMI_ENCRYPTABLE_VOLUME_SCRIPT).toMatch(/GetProtectionStatus/);
  });

  it('uses Get-BitLockerVolume when it answers, and nothing else', async () => {
    const { ctx, calls } = fakeContext('win32', { [CMDLET]: { stdout: fixture('windows/get-bitlockervolume-fleet-two-volumes.json') } });
    const section = await collectEncryption(ctx);
    expect(calls).toEqual([CMDLET]);
    expect('volumes' in section && section.volumes.map((v) => [v.id, v.system, v.status, v.protection])).toEqual([
      ['C:', true, 'encrypted', 'on'],
      ['E:', false, 'decrypted', 'off'],
    ]);
  });

  it('falls back to WMI when the BitLocker module is missing', async () => {
    const { ctx, calls } = fakeContext('win32', {
      [CMDLET]: notRecognised,
      [WMI]: { stdout: fixture('windows/wmi-encryptablevolume-stale-cached-protection.json') },
    });
    const section = await collectEncryption(ctx);
    expect(calls).toEqual([CMDLET, WMI]);
    expect(section).toEqual({
      volumes: [{ id: 'C:', mountPoint: 'C:', system: true, technology: 'bitlocker', status: 'decrypted', percent: 0, protection: 'off', method: null }],
    });
  });

  it('falls back to a French manage-bde when PowerShell gives nothing usable', async () => {
    const { ctx, calls } = fakeContext('win32', {
      [CMDLET]: { stdout: '[]' },
      [WMI]: { code: 1, stderr: 'Get-CimInstance : Invalid namespace' },
      [BDE]: { stdout: fixture('windows/manage-bde-fr-used-space-protection-on.txt').replace(/\n/g, '\r\n') },
    });
    const section = await collectEncryption(ctx);
    expect(calls).toEqual([CMDLET, WMI, BDE]);
    expect(section).toEqual({
      volumes: [{ id: 'C:', mountPoint: 'C:', system: true, technology: 'bitlocker', status: 'encrypted', percent: 100, protection: 'on', method: 'XTS-AES 128' }],
    });
  });

  it('returns unknown with every reason when all three sources fail', async () => {
    const { ctx } = fakeContext('win32', {
      [CMDLET]: notRecognised,
      [WMI]: { timedOut: true, code: null },
      [BDE]: { code: 0, stdout: fixture('windows/manage-bde-en-access-denied.txt') },
    });
    const section = await collectEncryption(ctx);
    expect(section).toMatchObject({ unknown: true });
    const reason = 'reason' in section ? section.reason : '';
    expect(reason).toContain("Get-BitLockerVolume: powershell.exe exited with code 1: Get-BitLockerVolume : The term 'Get-BitLockerVolume' is not recognized");
    expect(reason).toContain('Win32_EncryptableVolume: powershell.exe timed out');
    expect(reason).toContain('manage-bde: no volume in the output ("ERROR: An attempt to access a required resource was denied.")');
  });
});

describe('macOS', () => {
  const apfs = `${DISKUTIL} apfs list -plist`;
  const info = `${DISKUTIL} info -plist /`;
  const fde = `${FDESETUP} status`;

  it('takes the startup volume state from fdesetup and every other volume from diskutil', async () => {
    const { ctx, calls } = fakeContext('darwin', {
      [fde]: { stdout: fixture('macos/fdesetup-encrypting.txt') },
      [apfs]: { stdout: fixture('macos/diskutil-apfs-list-applesilicon-filevault-on.plist') },
      [info]: { stdout: fixture('macos/diskutil-info-root-applesilicon.plist') },
    });
    const section = await collectEncryption(ctx);
    expect(calls.sort()).toEqual([apfs, info, fde].sort());
    expect(section).toEqual({
      volumes: [
        { id: 'disk3s5', mountPoint: '/System/Volumes/Data', system: true, technology: 'filevault', status: 'encrypting', percent: 35.1, protection: 'on', method: null },
        { id: 'disk3s7', mountPoint: null, system: false, technology: 'filevault', status: 'encrypted', percent: 100, protection: 'on', method: null },
      ],
    });
  });

  it('believes fdesetup about the startup disk when diskutil disagrees', async () => {
    const { ctx } = fakeContext('darwin', {
      [fde]: { stdout: fixture('macos/fdesetup-off.txt') },
      [apfs]: { stdout: fixture('macos/diskutil-apfs-list-applesilicon-filevault-on.plist') },
    });
    const section = await collectEncryption(ctx);
    expect('volumes' in section && section.volumes.find((v) => v.system)).toMatchObject({ id: 'disk3s5', status: 'decrypted', protection: 'off' });
  });

  it('reports the startup disk from fdesetup alone when the Mac has no APFS container', async () => {
    const { ctx } = fakeContext('darwin', {
      [fde]: { stdout: fixture('macos/fdesetup-on-master-keychain.txt') },
      [apfs]: { code: 1, stdout: 'Error: -69808: Some information was unavailable during an internal lookup\n' },
    });
    await expect(collectEncryption(ctx)).resolves.toEqual({
      volumes: [{ id: 'startup-disk', mountPoint: '/', system: true, technology: 'filevault', status: 'encrypted', percent: 100, protection: 'on', method: null }],
    });
  });

  it("uses diskutil's flags when fdesetup fails", async () => {
    const { ctx } = fakeContext('darwin', {
      [fde]: { code: 1, stderr: 'Error: unable to get FileVault status.' },
      [apfs]: { stdout: fixture('macos/diskutil-apfs-list-mojave-filevault-off.plist') },
    });
    const section = await collectEncryption(ctx);
    expect('volumes' in section && section.volumes[0]).toMatchObject({ id: 'disk1s1', system: true, status: 'decrypted' });
  });

  it('returns unknown when neither tool answers', async () => {
    const { ctx } = fakeContext('darwin', {});
    const section = await collectEncryption(ctx);
    expect(section).toEqual({
      unknown: true,
      reason: 'FileVault state unavailable. fdesetup: fdesetup could not start: spawn /usr/bin/fdesetup ENOENT | diskutil apfs list: diskutil could not start: spawn /usr/sbin/diskutil ENOENT',
    });
  });
});

describe('Linux', () => {
  const lsblkNew = '/usr/bin/lsblk -J -o NAME,KNAME,TYPE,FSTYPE,MOUNTPOINTS,PKNAME,UUID';
  const lsblkOld = '/usr/bin/lsblk -J -o NAME,KNAME,TYPE,FSTYPE,MOUNTPOINT,PKNAME,UUID';
  const mounts = { '/proc/self/mounts': 'proc /proc proc rw 0 0\n/dev/mapper/xubuntu--vg-root / ext4 rw,relatime 0 0\n' };
  const expectedRoot = (method: string): Volume => ({
    id: '/dev/mapper/xubuntu--vg-root',
    mountPoint: '/',
    system: true,
    technology: 'luks',
    status: 'encrypted',
    percent: null,
    protection: 'on',
    method,
  });

  it('reads LVM on LUKS and asks cryptsetup for the cipher of the crypt device under "/"', async () => {
    const { ctx, calls } = fakeContext(
      'linux',
      {
        [lsblkNew]: { stdout: fixture('linux/lsblk-lvm-on-luks-xubuntu.json') },
        '/usr/sbin/cryptsetup status nvme0n1p3_crypt': { stdout: fixture('linux/cryptsetup-status-luks2-lvm-howto.txt') },
      },
      mounts,
    );
    await expect(collectEncryption(ctx)).resolves.toEqual({ volumes: [expectedRoot('LUKS2 aes-xts-plain64 512 bits')] });
    expect(calls).toEqual([lsblkNew, '/usr/sbin/cryptsetup status nvme0n1p3_crypt']);
  });

  it('retries with MOUNTPOINT on util-linux older than 2.37 and keeps "LUKS" when cryptsetup refuses a non-root user', async () => {
    const { ctx, calls } = fakeContext('linux', {
      [lsblkNew]: { code: 1, stderr: 'lsblk: unknown column: MOUNTPOINTS\n' },
      [lsblkOld]: { stdout: fixture('linux/lsblk-lvm-on-luks-popos-inverse-mountpoint.json') },
      '/usr/sbin/cryptsetup status cryptdata': { code: 4, stderr: 'Device cryptdata not found\n' },
    });
    const section = await collectEncryption(ctx);
    expect(calls).toEqual([lsblkNew, lsblkOld, '/usr/sbin/cryptsetup status cryptdata']);
    expect('volumes' in section && section.volumes[0]).toEqual({ ...expectedRoot('LUKS'), id: '/dev/mapper/data-root' });
  });

  it('finds lsblk and cryptsetup outside /usr on systems that are not usr-merged', async () => {
    const { ctx, calls } = fakeContext('linux', {
      '/bin/lsblk -J -o NAME,KNAME,TYPE,FSTYPE,MOUNTPOINTS,PKNAME,UUID': { stdout: fixture('linux/lsblk-root-plain-data-luks-openeuler.json') },
      '/sbin/cryptsetup status sx_disk': { stdout: fixture('linux/cryptsetup-status-sx_disk-openeuler.txt') },
    });
    const section = await collectEncryption(ctx);
    expect(calls).toEqual([
      lsblkNew,
      '/bin/lsblk -J -o NAME,KNAME,TYPE,FSTYPE,MOUNTPOINTS,PKNAME,UUID',
      '/usr/sbin/cryptsetup status sx_disk',
      '/sbin/cryptsetup status sx_disk',
    ]);
    expect('volumes' in section && section.volumes.map((v) => [v.id, v.system, v.status, v.method])).toEqual([
      ['/dev/mapper/vg_os-root', true, 'decrypted', null],
      ['/dev/mapper/sx_disk', false, 'encrypted', 'LUKS1 sm4-xts-plain64 256 bits'],
    ]);
  });

  it('finds "/" in /proc/self/mounts when lsblk shows only another mount point of the root device', async () => {
    const text = fixture('linux/lsblk-lvm-on-luks-xubuntu.json').replace('"/"', '"/etc/NetworkManager/system-connections"');
    const { ctx } = fakeContext('linux', { [lsblkNew]: { stdout: text } }, mounts);
    await expect(collectEncryption(ctx)).resolves.toEqual({ volumes: [expectedRoot('LUKS')] });
  });

  it('reads this Debian machine: a plain root', async () => {
    const { ctx } = fakeContext('linux', { [lsblkNew]: { stdout: fixture('linux/lsblk-debian12-plain-root-mountpoints.json') } }, {
      '/proc/self/mounts': '/dev/vda / ext4 rw,relatime 0 0\n',
    });
    await expect(collectEncryption(ctx)).resolves.toEqual({
      volumes: [{ id: '/dev/vda', mountPoint: '/', system: true, technology: 'none', status: 'decrypted', percent: null, protection: 'off', method: null }],
    });
  });

  it('returns unknown when lsblk is missing', async () => {
    const { ctx } = fakeContext('linux', {});
    await expect(collectEncryption(ctx)).resolves.toEqual({
      unknown: true,
      reason: 'lsblk: lsblk could not start: spawn /bin/lsblk ENOENT',
    });
  });
});
