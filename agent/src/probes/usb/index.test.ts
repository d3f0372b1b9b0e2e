import fs from 'node:fs';
import path from 'node:path';
import { usbFormats } from './index';

const dir = path.join(__dirname, '../../../test/fixtures/usb');
const samples: Record<string, string> = {
  'darwin/spusb-mbr-stick.json': 'system-profiler-usb-json',
  'darwin/spusb-host-macos26.json': 'system-profiler-usb-json',
  'darwin/spusb-host-vm-macos26.json': 'system-profiler-usb-json',
  'win32/pnp-usb-german.json': 'windows-pnp-json',
  'win32/get-pnpdevice-hid-instanceid.json': 'windows-pnp-json',
  'linux/udevadm-monitor-yubikey-nixos.txt': 'udevadm-monitor',
  'linux/udevadm-monitor-klipper.txt': 'udevadm-monitor',
  'linux/udevadm-monitor-kernel-usbstick-debian10.txt': 'udevadm-monitor',
};

describe('usbFormats', () => {
  it.each(Object.entries(samples))('%s is claimed by %s and by no other format', (file, expected) => {
    const text = fs.readFileSync(path.join(dir, file), 'utf8');
    expect(usbFormats.filter((f) => f.detect(text)).map((f) => f.name)).toEqual([expected]);
  });

  it('claims neither a storage-only report nor a software list', () => {
    const storage = fs.readFileSync(path.join(dir, 'darwin/storage-usb-apfs.json'), 'utf8');
    const apps = fs.readFileSync(path.join(dir, '../software/darwin/system-profiler-apps.json'), 'utf8');
    expect(usbFormats.filter((f) => f.detect(storage) || f.detect(apps))).toEqual([]);
  });
});
