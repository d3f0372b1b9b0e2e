import fs from 'node:fs';
import path from 'node:path';
import { usbSection as usbSchema } from '@vigie/shared';
import { parseUdevadmMonitor, parseUdevEvents, UdevMonitorParser, UsbTracker } from './parse-udevadm-monitor';

const fixture = (name: string) => fs.readFileSync(path.join(__dirname, '../../../test/fixtures/usb/linux', name), 'utf8');

const yubikey = {
  vendorId: '1050',
  productId: '0407',
  vendor: 'Yubico',
  product: 'YubiKey OTP+FIDO+CCID',
  serial: null,
  storage: false,
  mountPoints: [],
};

describe('UdevMonitorParser', () => {
  it('splits a real capture into events with header fields and properties', () => {
    const events = parseUdevEvents(fixture('udevadm-monitor-yubikey-nixos.txt'));
    expect(events).toHaveLength(12);
    expect(events[0]).toMatchObject({
      source: 'UDEV',
      uptime: 733866.322842,
      action: 'add',
      devpath: '/devices/pci0000:00/0000:00:14.0/usb3/3-1',
      subsystem: 'usb',
    });
    expect(events[0]?.props.ID_MODEL_ENC).toBe('YubiKey\\x20OTP+FIDO+CCID');
    expect(events[0]?.props.ID_USB_INTERFACES).toBe(':030101:030000:0b0000:');
  });

  it('completes an event on the blank line, as the stream arrives', () => {
    const parser = new UdevMonitorParser();
    const lines = fixture('udevadm-monitor-klipper.txt').split('\n');
    const completed = lines.map((l) => parser.push(l)).filter((e) => e !== null);
    expect(completed).toHaveLength(1);
    expect(completed[0]?.props.ID_SERIAL_SHORT).toBe('33FFD4054242363223780357');
  });
});

describe('parseUdevadmMonitor', () => {
  it('reads a YubiKey plugged in and pulled out: the removal, without ids, is tied to the addition', () => {
    const section = parseUdevadmMonitor(fixture('udevadm-monitor-yubikey-nixos.txt'));
    expect(section).toEqual({
      devices: [],
      events: [
        { at: '1970-01-09T11:51:06.323Z', action: 'connected', device: yubikey, user: null },
        { at: '1970-01-09T11:51:09.258Z', action: 'disconnected', device: yubikey, user: null },
      ],
    });
    expect(usbSchema.safeParse(section).success).toBe(true);
  });

  it('uses the hwdb vendor name when the device has no manufacturer string of its own', () => {
    const section = parseUdevadmMonitor(fixture('udevadm-monitor-klipper.txt'));
    expect(section).toEqual({
      devices: [
        {
          vendorId: '1d50',
          productId: '614e',
          vendor: 'Klipper',
          product: 'stm32f103xe',
          serial: '33FFD4054242363223780357',
          storage: false,
          mountPoints: [],
        },
      ],
      events: [expect.objectContaining({ action: 'connected' })],
    });
  });

  it('reads a kernel-only capture of a USB stick and marks it storage from its interface and disks', () => {
    const section = parseUdevadmMonitor(fixture('udevadm-monitor-kernel-usbstick-debian10.txt'));
    const stick = { vendorId: '1e3d', productId: '2093', vendor: null, product: null, serial: null, mountPoints: [] };
    expect(section).toEqual({
      devices: [],
      events: [
        { at: '1970-01-01T02:20:14.074Z', action: 'connected', device: { ...stick, storage: false }, user: null },
        { at: '1970-01-01T02:20:24.263Z', action: 'disconnected', device: { ...stick, storage: true }, user: null },
      ],
    });
  });

  it('returns unknown for text without events', () => {
    expect(parseUdevadmMonitor('monitor will print the received events for:\n')).toMatchObject({ unknown: true });
  });
});

describe('UsbTracker', () => {
  const add = fixture('udevadm-monitor-kernel-usbstick-debian10.txt').split('KERNEL[8424.242870]')[0] ?? '';

  it('reports a mount of the stick’s partition once, and not again while it stays mounted', () => {
    const tracker = new UsbTracker('KERNEL');
    for (const event of parseUdevEvents(add)) tracker.handle(event);
    expect(tracker.hasBlockDevices()).toBe(true);
    expect(tracker.mountsChanged('/dev/sda1 / ext4 rw 0 0\n')).toEqual([]);
    const mounts = fs.readFileSync(path.join(__dirname, '../../../test/fixtures/usb/linux/proc-mounts-debian10.txt'), 'utf8');
    expect(tracker.mountsChanged(mounts)).toEqual([
      {
        action: 'mounted',
        device: { vendorId: '1e3d', productId: '2093', vendor: null, product: null, serial: null, storage: true, mountPoints: ['/media/clement/CAUMES'] },
      },
    ]);
    expect(tracker.mountsChanged(mounts)).toEqual([]);
  });

  it('ignores events of the other source and of root hubs', () => {
    const tracker = new UsbTracker('UDEV');
    expect(parseUdevEvents(add).flatMap((e) => tracker.handle(e))).toEqual([]);
    const rootHub = parseUdevEvents(
      'UDEV  [5.0] add      /devices/pci0000:00/0000:00:14.0/usb3 (usb)\nACTION=add\nDEVTYPE=usb_device\nPRODUCT=1d6b/3/606\n\n',
    );
    expect(rootHub.flatMap((e) => tracker.handle(e))).toEqual([]);
  });
});
