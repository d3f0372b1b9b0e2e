import fs from 'node:fs';
import path from 'node:path';
import { usbSection as usbSchema } from '@vigie/shared';
import type { Exec, ExecResult } from '../../exec';
import type { ProbeContext } from '../types';
import { collectUsb } from './index';
import { SYSTEM_PROFILER, SYSTEM_PROFILER_ARGS } from './usb.darwin';
import { POWERSHELL, POWERSHELL_ARGS, USB_SCRIPT } from './usb.win32';

const fixtures = path.join(__dirname, '../../../test/fixtures/usb');
const fixture = (name: string) => fs.readFileSync(path.join(fixtures, name), 'utf8');

interface FakeFs {
  dirs: Record<string, string[]>;
  files: Record<string, string>;
}

function context(platform: NodeJS.Platform, options: { fs?: FakeFs; exec?: Record<string, ExecResult> } = {}): ProbeContext & { calls: string[] } {
  const calls: string[] = [];
  const exec: Exec = async (file, args) => {
    const key = [file, ...args].join(' ');
    calls.push(key);
    return options.exec?.[key] ?? { code: null, stdout: '', stderr: '', truncated: false, timedOut: false, error: `spawn ${file} ENOENT` };
  };
  return {
    exec,
    calls,
    platform,
    readFile: async (p) => {
      const content = options.fs?.files[p];
      if (content === undefined) throw new Error(`ENOENT: ${p}`);
      return content;
    },
    readDir: async (p) => {
      const entries = options.fs?.dirs[p];
      if (entries === undefined) throw new Error(`ENOENT: ${p}`);
      return entries;
    },
    now: () => new Date('2025-01-01T00:00:00Z'),
  };
}

const ok = (stdout: string): ExecResult => ({ code: 0, stdout, stderr: '', truncated: false, timedOut: false });

describe('collectUsb on Linux (sysfs)', () => {
  const sysfs = JSON.parse(fixture('linux/sysfs-debian10-usbstick.json')) as FakeFs;
  const withMounts = (mounts: string): FakeFs => ({ dirs: sysfs.dirs, files: { ...sysfs.files, '/proc/self/mounts': mounts } });

  it('finds the stick, its mass-storage interface and its mounted partition, and no root hub', async () => {
    const section = await collectUsb(context('linux', { fs: withMounts(fixture('linux/proc-mounts-debian10.txt')) }));
    expect(section).toEqual({
      devices: [
        {
          vendorId: '1e3d',
          productId: '2093',
          vendor: 'Generic',
          product: 'Flash Disk',
          serial: 'CCCB1104231104350952973414',
          storage: true,
          mountPoints: ['/media/clement/CAUMES'],
        },
      ],
      events: [],
    });
    expect(usbSchema.safeParse(section).success).toBe(true);
  });

  it('reports the stick as storage without mount point when nothing is mounted', async () => {
    const section = await collectUsb(context('linux', { fs: withMounts('/dev/sda1 / ext4 rw 0 0\n') }));
    expect(section).toMatchObject({ devices: [{ storage: true, mountPoints: [] }] });
  });

  it('follows a LUKS volume on the partition to its /dev/mapper mount, with escaped spaces', async () => {
    const partition =
      '/sys/bus/usb/devices/1-1/1-1:1.0/host3/target3:0:0/3:0:0:0/block/sdb/sdb1';
    const fakeFs = withMounts('/dev/mapper/luks-usb /media/clement/MY\\040KEY ext4 rw 0 0\n');
    fakeFs.dirs = { ...fakeFs.dirs, [`${partition}/holders`]: ['dm-0'] };
    fakeFs.files = { ...fakeFs.files, '/sys/class/block/dm-0/dm/name': 'luks-usb\n' };
    const section = await collectUsb(context('linux', { fs: fakeFs }));
    expect(section).toMatchObject({ devices: [{ mountPoints: ['/media/clement/MY KEY'] }] });
  });

  it('is unknown without /sys/bus/usb (containers)', async () => {
    const section = await collectUsb(context('linux', { fs: { dirs: {}, files: {} } }));
    expect(section).toMatchObject({ unknown: true });
    expect((section as { reason: string }).reason).toMatch(/^cannot list \/sys\/bus\/usb\/devices/);
  });
});

describe('collectUsb on macOS', () => {
  const key = [SYSTEM_PROFILER, ...SYSTEM_PROFILER_ARGS].join(' ');

  it('asks system_profiler for the USB and storage reports in one call', async () => {
    const ctx = context('darwin', { exec: { [key]: ok(fixture('darwin/spusb-mbr-stick.json')) } });
    const section = await collectUsb(ctx);
    expect(ctx.calls).toEqual(['/usr/sbin/system_profiler -json SPUSBDataType SPUSBHostDataType SPStorageDataType']);
    expect(section).toMatchObject({ devices: expect.arrayContaining([expect.objectContaining({ serial: '59402D7A', storage: true })]) });
  });

  it('is unknown when system_profiler fails', async () => {
    const ctx = context('darwin', { exec: { [key]: { ...ok(''), code: 1, stderr: 'boom' } } });
    expect(await collectUsb(ctx)).toEqual({ unknown: true, reason: 'system_profiler failed (exit 1): boom' });
  });
});

describe('collectUsb on Windows', () => {
  const key = [POWERSHELL, ...POWERSHELL_ARGS].join(' ');

  it('runs the encoded query once and parses its JSON', async () => {
    const ctx = context('win32', { exec: { [key]: ok(fixture('win32/pnp-usb-german.json')) } });
    const section = await collectUsb(ctx);
    expect(section).toMatchObject({ devices: [{ productId: '5591', storage: true, mountPoints: ['E:'] }, {}, {}] });
    const encoded = POWERSHELL_ARGS.at(-1) ?? '';
    expect(Buffer.from(encoded, 'base64').toString('utf16le')).toBe(USB_SCRIPT);
    expect(USB_SCRIPT).toContain("Win32_DiskDrive -Filter \"InterfaceType='USB'\"");
  });

  it('is unknown when PowerShell is missing', async () => {
    expect(await collectUsb(context('win32'))).toEqual({
      unknown: true,
      reason: `PowerShell USB query failed (spawn ${POWERSHELL} ENOENT): `,
    });
  });
});

describe('collectUsb elsewhere', () => {
  it('is unknown on an unsupported platform', async () => {
    expect(await collectUsb(context('aix'))).toEqual({ unknown: true, reason: 'not supported on aix' });
  });
});
