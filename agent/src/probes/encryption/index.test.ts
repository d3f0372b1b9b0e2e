import * as fs from 'node:fs';
import * as path from 'node:path';
import { encryptionSection } from '@vigie/shared';
import { collectEncryption, encryptionFormats } from './index';
import type { ProbeContext } from '../types';

const root = path.join(__dirname, '../../../test/fixtures/encryption');

/** Which format must claim each fixture; null for files no format should claim. */
const expectedFormat: Record<string, string | null> = {
  'windows/get-bitlockervolume-encrypting-paused.json': 'get-bitlockervolume-json',
  'windows/get-bitlockervolume-fleet-two-volumes.json': 'get-bitlockervolume-json',
  'windows/get-bitlockervolume-stale-protection-decrypted.json': 'get-bitlockervolume-json',
  'windows/get-bitlockervolume-suspended-single-object-names.json': 'get-bitlockervolume-json',
  'windows/wmi-encryptablevolume-cached-only-decrypted.json': 'wmi-encryptablevolume-json',
  'windows/wmi-encryptablevolume-cnquery-two-volumes.json': 'wmi-encryptablevolume-json',
  'windows/wmi-encryptablevolume-stale-cached-protection.json': 'wmi-encryptablevolume-json',
  'windows/manage-bde-de-bnachtwey-decrypted.txt': 'manage-bde',
  'windows/manage-bde-de-bnachtwey-encrypting.txt': 'manage-bde',
  'windows/manage-bde-de-bnachtwey-protection-on.txt': 'manage-bde',
  'windows/manage-bde-en-clear-key-two-volumes.txt': 'manage-bde',
  'windows/manage-bde-en-dreknix-used-space-aes256.txt': 'manage-bde',
  'windows/manage-bde-en-osquery8931-decrypted.txt': 'manage-bde',
  'windows/manage-bde-fr-netinvent-decrypted-c.txt': 'manage-bde',
  'windows/manage-bde-fr-netinvent-locked-d.txt': 'manage-bde',
  'windows/manage-bde-fr-used-space-protection-on.txt': 'manage-bde',
  'windows/manage-bde-en-access-denied.txt': null,
  'macos/fdesetup-decrypting.txt': 'fdesetup-status',
  'macos/fdesetup-deferred.txt': 'fdesetup-status',
  'macos/fdesetup-encrypting.txt': 'fdesetup-status',
  'macos/fdesetup-encryption-pending.txt': 'fdesetup-status',
  'macos/fdesetup-off-pending-restart.txt': 'fdesetup-status',
  'macos/fdesetup-off.txt': 'fdesetup-status',
  'macos/fdesetup-on-master-keychain.txt': 'fdesetup-status',
  'macos/diskutil-apfs-list-applesilicon-crypto-migration.plist': 'diskutil-apfs-plist',
  'macos/diskutil-apfs-list-applesilicon-filevault-on.plist': 'diskutil-apfs-plist',
  'macos/diskutil-apfs-list-mojave-filevault-off.plist': 'diskutil-apfs-plist',
  'macos/diskutil-info-root-applesilicon.plist': null,
  'linux/lsblk-debian12-plain-root-inverse.json': 'lsblk-json',
  'linux/lsblk-debian12-plain-root-mountpoint.json': 'lsblk-json',
  'linux/lsblk-debian12-plain-root-mountpoints.json': 'lsblk-json',
  'linux/lsblk-luks2-root-armbian.json': 'lsblk-json',
  'linux/lsblk-lvm-on-luks-popos-inverse-mountpoint.json': 'lsblk-json',
  'linux/lsblk-lvm-on-luks-xubuntu.json': 'lsblk-json',
  'linux/lsblk-root-plain-data-luks-openeuler.json': 'lsblk-json',
  'linux/cryptsetup-status-inactive.txt': 'cryptsetup-status',
  'linux/cryptsetup-status-luks1-ceph.txt': 'cryptsetup-status',
  'linux/cryptsetup-status-luks2-lvm-howto.txt': 'cryptsetup-status',
  'linux/cryptsetup-status-sx_disk-openeuler.txt': 'cryptsetup-status',
  'linux/garbage.txt': null,
};

describe('encryptionFormats', () => {
  it('has a case above for every fixture on disk, and a SOURCES.md in every folder', () => {
    const onDisk = ['windows', 'macos', 'linux'].flatMap((os) => {
      expect(fs.existsSync(path.join(root, os, 'SOURCES.md'))).toBe(true);
      return fs
        .readdirSync(path.join(root, os))
        .filter((f) => f !== 'SOURCES.md')
        .map((f) => `${os}/${f}`);
    });
    expect(onDisk.sort()).toEqual(Object.keys(expectedFormat).sort());
  });

  it.each(Object.entries(expectedFormat))('%s is claimed by %s alone, and parses to a valid section', (file, format) => {
    const text = fs.readFileSync(path.join(root, file), 'utf8');
    const claimed = encryptionFormats.filter((f) => f.detect(text)).map((f) => f.name);
    expect(claimed).toEqual(format === null ? [] : [format]);
    for (const f of encryptionFormats) {
      // Every parser must survive every fixture, its own or not, and return a valid section.
      const section = f.parse(text);
      expect(encryptionSection.safeParse(section).success).toBe(true);
    }
  });

  it('has unique names', () => {
    const names = encryptionFormats.map((f) => f.name);
    expect(new Set(names).size).toBe(names.length);
  });
});

describe('collectEncryption', () => {
  it('says an unsupported platform is unsupported', async () => {
    const ctx: ProbeContext = {
      exec: () => Promise.reject(new Error('must not run')),
      readFile: () => Promise.reject(new Error('must not read')),
      readDir: () => Promise.reject(new Error('must not read')),
      platform: 'freebsd',
      now: () => new Date(0),
    };
    await expect(collectEncryption(ctx)).resolves.toEqual({ unknown: true, reason: 'not supported on freebsd' });
  });
});
