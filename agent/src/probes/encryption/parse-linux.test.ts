import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Volume } from '@vigie/shared';
import { describeCryptsetup, parseCryptsetupStatus, readCryptsetupStatus } from './parse-cryptsetup';
import { analyseLsblk, parseLsblk } from './parse-lsblk';

const fixture = (name: string) => fs.readFileSync(path.join(__dirname, '../../../test/fixtures/encryption/linux', name), 'utf8');

const plain = (id: string, mountPoint: string, system = false): Volume => ({
  id,
  mountPoint,
  system,
  technology: 'none',
  status: 'decrypted',
  percent: null,
  protection: 'off',
  method: null,
});
const luks = (id: string, mountPoint: string, system: boolean, method: string | null): Volume => ({
  id,
  mountPoint,
  system,
  technology: 'luks',
  status: 'encrypted',
  percent: null,
  protection: 'on',
  method,
});

describe('parseLsblk', () => {
  it.each(['lsblk-debian12-plain-root-mountpoints.json', 'lsblk-debian12-plain-root-mountpoint.json', 'lsblk-debian12-plain-root-inverse.json'])(
    'reads this Debian 12 machine (%s): a plain root, zram skipped',
    (name) => {
      expect(parseLsblk(fixture(name))).toEqual({ volumes: [plain('/dev/vda', '/', true)] });
    },
  );

  it('follows LVM on LUKS from the root LV down to the LUKS partition', () => {
    expect(parseLsblk(fixture('lsblk-lvm-on-luks-xubuntu.json'))).toEqual({
      volumes: [luks('/dev/mapper/xubuntu--vg-root', '/', true, 'LUKS')],
    });
  });

  it('reads the inverted tree of lsblk -s with the old "mountpoint" key', () => {
    expect(parseLsblk(fixture('lsblk-lvm-on-luks-popos-inverse-mountpoint.json'))).toEqual({
      volumes: [luks('/dev/mapper/data-root', '/', true, 'LUKS'), plain('/dev/nvme0n1p2', '/recovery')],
    });
  });

  it('reads a LUKS root with several mount points, skipping zram and /boot', () => {
    expect(parseLsblk(fixture('lsblk-luks2-root-armbian.json'))).toEqual({
      volumes: [luks('/dev/mapper/armbian-root', '/', true, 'LUKS')],
    });
  });

  it('reports a plain root as not encrypted even when a data disk is', () => {
    expect(parseLsblk(fixture('lsblk-root-plain-data-luks-openeuler.json'), { methods: { sx_disk: 'LUKS1 sm4-xts-plain64 256 bits' } })).toEqual({
      volumes: [plain('/dev/mapper/vg_os-root', '/', true), luks('/dev/mapper/sx_disk', '/home/sec_test', false, 'LUKS1 sm4-xts-plain64 256 bits')],
    });
  });

  it('lists the crypt devices to ask cryptsetup about', () => {
    const analysis = analyseLsblk(fixture('lsblk-lvm-on-luks-popos-inverse-mountpoint.json'));
    expect('cryptNames' in analysis && analysis.cryptNames).toEqual(['cryptdata']);
  });

  it('finds "/" through /proc/self/mounts when lsblk shows another mount point of the root device', () => {
    const text = fixture('lsblk-lvm-on-luks-xubuntu.json').replace('"/"', '"/etc/NetworkManager/system-connections"');
    expect(parseLsblk(text)).toEqual({
      unknown: true,
      reason: 'lsblk shows no block device mounted on "/", so the system volume cannot be told',
    });
    expect(parseLsblk(text, { rootSource: '/dev/mapper/xubuntu--vg-root' })).toEqual({
      volumes: [luks('/dev/mapper/xubuntu--vg-root', '/', true, 'LUKS')],
    });
  });

  it('does not call an LV encrypted when one of its physical volumes is plain', () => {
    const text = JSON.stringify({
      blockdevices: [
        { name: 'sda', type: 'disk', children: [{ name: 'sda1', type: 'part', fstype: 'crypto_LUKS', children: [{ name: 'pv1', kname: 'dm-0', type: 'crypt', children: [{ name: 'vg-root', kname: 'dm-2', type: 'lvm', mountpoints: ['/'] }] }] }] },
        { name: 'sdb', type: 'disk', children: [{ name: 'sdb1', type: 'part', fstype: 'LVM2_member', children: [{ name: 'vg-root', kname: 'dm-2', type: 'lvm', mountpoints: ['/'] }] }] },
      ],
    });
    expect(parseLsblk(text)).toEqual({
      volumes: [{ ...plain('/dev/mapper/vg-root', '/', true), technology: 'luks', method: 'LUKS' }],
    });
  });

  it.each([
    ['garbage', fixture('garbage.txt'), 'lsblk: not JSON'],
    ['JSON without blockdevices', '{"devices": []}', 'lsblk: no "blockdevices" array'],
    ['devices without a type', '{"blockdevices": [{"name": "sda"}]}', 'lsblk: a block device has no name or type'],
    ['nothing mounted from a disk', '{"blockdevices": [{"name": "loop0", "type": "loop", "mountpoints": ["/snap/core/1"]}]}', 'lsblk shows no filesystem mounted from a disk'],
  ])('returns unknown for %s', (_name, text, reason) => {
    const section = parseLsblk(text);
    expect(section).toMatchObject({ unknown: true });
    expect('reason' in section && section.reason.startsWith(reason)).toBe(true);
  });
});

describe('cryptsetup status', () => {
  it.each([
    ['cryptsetup-status-luks1-ceph.txt', '/dev/mapper/ed6b5a26-eafe-4cd4-87e3-422ff61e26c4', 'LUKS1 aes-xts-plain64 256 bits'],
    ['cryptsetup-status-luks2-lvm-howto.txt', '/dev/mapper/dm_crypt-0', 'LUKS2 aes-xts-plain64 512 bits'],
    ['cryptsetup-status-sx_disk-openeuler.txt', '/dev/mapper/sx_disk', 'LUKS1 sm4-xts-plain64 256 bits'],
  ])('reads %s', (name, id, method) => {
    expect(parseCryptsetupStatus(fixture(name))).toEqual({
      volumes: [{ id, mountPoint: null, system: false, technology: 'luks', status: 'encrypted', percent: null, protection: 'on', method }],
    });
  });

  it('reads a plain mapping without LUKS metadata', () => {
    const status = readCryptsetupStatus('/dev/mapper/secretdisk is active.\n  type:    PLAIN\n  cipher:  aes-cbc-essiv:sha256\n  keysize: 256 bits\n');
    expect('reason' in status ? status : describeCryptsetup(status)).toBe('PLAIN aes-cbc-essiv:sha256 256 bits');
  });

  it('returns unknown for an inactive mapping and for garbage', () => {
    expect(parseCryptsetupStatus(fixture('cryptsetup-status-inactive.txt'))).toEqual({
      unknown: true,
      reason: '/dev/mapper/backup is inactive: cryptsetup shows nothing about a closed mapping',
    });
    expect(parseCryptsetupStatus(fixture('garbage.txt'))).toEqual({
      unknown: true,
      reason: 'cryptsetup status: unrecognised output ("my ssd is broken :(")',
    });
  });
});
