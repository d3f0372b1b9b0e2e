import fs from 'node:fs';
import path from 'node:path';
import { type UsbDevice, type UsbEvent, type UsbSection, usbEvent } from '@vigie/shared';
import { type LineStream, UDEVADM, UDEVADM_ARGS, UsbWatcher } from './watch';

const fixture = (name: string) => fs.readFileSync(path.join(__dirname, '../../../test/fixtures/usb', name), 'utf8');

/** A fake udevadm: yields the given lines, then waits until stopped (or ends if told to). */
function fakeStream(lines: string[], endOnItsOwn = false): LineStream & { opened: string[]; stopped: boolean } {
  const fake = {
    opened: [] as string[],
    stopped: false,
    open(file: string, args: readonly string[]) {
      fake.opened.push([file, ...args].join(' '));
      let release: () => void = () => {};
      const stoppedPromise = new Promise<void>((resolve) => (release = resolve));
      async function* generate() {
        for (const line of lines) yield line;
        if (!endOnItsOwn) await stoppedPromise;
      }
      return {
        lines: generate(),
        stop: () => {
          fake.stopped = true;
          release();
        },
      };
    },
  };
  return fake;
}

const clock = () => {
  let t = Date.parse('2025-03-01T09:00:00Z');
  return () => new Date((t += 1000));
};
const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('UsbWatcher on Linux (udev)', () => {
  it('emits connected and disconnected with time and user, from a real udevadm capture', async () => {
    const stream = fakeStream(fixture('linux/udevadm-monitor-yubikey-nixos.txt').split('\n'));
    const watcher = new UsbWatcher({ platform: 'linux', now: clock(), currentUser: async () => 'marie', lineStream: stream, pollIntervalMs: 60_000 });
    const events: UsbEvent[] = [];
    watcher.on('event', (e) => events.push(e));
    await watcher.start();
    await flush();
    await watcher.idle();
    watcher.stop();
    expect(stream.opened).toEqual([`${UDEVADM} ${UDEVADM_ARGS.join(' ')}`]);
    expect(stream.opened[0]).toBe('/usr/bin/udevadm monitor --udev --property --subsystem-match=usb --subsystem-match=block');
    expect(events.map((e) => [e.action, e.at, e.user, e.device.product])).toEqual([
      ['connected', '2025-03-01T09:00:01.000Z', 'marie', 'YubiKey OTP+FIDO+CCID'],
      ['disconnected', '2025-03-01T09:00:02.000Z', 'marie', 'YubiKey OTP+FIDO+CCID'],
    ]);
    expect(events.every((e) => usbEvent.safeParse(e).success)).toBe(true);
    expect(stream.stopped).toBe(true);
  });

  it('emits mounted when the mount table shows the stick’s partition', async () => {
    const kernel = fixture('linux/udevadm-monitor-kernel-usbstick-debian10.txt').split('KERNEL[8424.242870]')[0] ?? '';
    // The same capture as udev would print it after its rules (UDEV source).
    const lines = kernel.replace(/^KERNEL\[/gm, 'UDEV  [').split('\n');
    let mounts = '/dev/sda1 / ext4 rw 0 0\n';
    const watcher = new UsbWatcher({
      platform: 'linux',
      now: clock(),
      currentUser: async () => null,
      lineStream: fakeStream(lines),
      readMounts: async () => mounts,
      pollIntervalMs: 60_000,
    });
    const events: UsbEvent[] = [];
    watcher.on('event', (e) => events.push(e));
    await watcher.start();
    await flush();
    await watcher.pollOnce();
    mounts += fixture('linux/proc-mounts-debian10.txt');
    await watcher.pollOnce();
    await watcher.pollOnce();
    await watcher.idle();
    watcher.stop();
    expect(events.map((e) => [e.action, e.device.storage, e.device.mountPoints])).toEqual([
      ['connected', false, []],
      ['mounted', true, ['/media/clement/CAUMES']],
    ]);
  });

  it('says so when udevadm exits on its own', async () => {
    const watcher = new UsbWatcher({ platform: 'linux', now: clock(), currentUser: async () => null, lineStream: fakeStream([], true) });
    const ended = new Promise<string>((resolve) => watcher.on('ended', resolve));
    await watcher.start();
    expect(await ended).toBe('udevadm monitor exited');
    watcher.stop();
  });
});

describe('UsbWatcher on Windows and macOS (polling)', () => {
  const keyboard: UsbDevice = { vendorId: '05ac', productId: '029c', vendor: 'Apple Inc.', product: 'Magic Keyboard', serial: 'F0T2534RK0212HXAT', storage: false, mountPoints: [] };
  const stick: UsbDevice = { vendorId: '058f', productId: '6387', vendor: 'USB', product: 'Flash Disk', serial: '59402D7A', storage: true, mountPoints: [] };

  it('diffs successive snapshots, ignores failed ones and takes the first as baseline', async () => {
    const snapshots: UsbSection[] = [
      { devices: [keyboard], events: [] },
      { devices: [keyboard, stick], events: [] },
      { unknown: true, reason: 'system_profiler timed out' },
      { devices: [keyboard, { ...stick, mountPoints: ['/Volumes/TEST'] }], events: [] },
      { devices: [keyboard], events: [] },
    ];
    const users = ['marie', 'marie', 'marie', 'paul'];
    const watcher = new UsbWatcher({
      platform: 'darwin',
      now: clock(),
      currentUser: async () => users.shift() ?? null,
      snapshot: async () => snapshots.shift() ?? { devices: [keyboard], events: [] },
      pollIntervalMs: 60_000,
    });
    const events: UsbEvent[] = [];
    watcher.on('event', (e) => events.push(e));
    await watcher.start();
    for (let i = 0; i < 4; i++) await watcher.pollOnce();
    await watcher.idle();
    watcher.stop();
    expect(events.map((e) => [e.action, e.device.product, e.device.mountPoints, e.user, e.at])).toEqual([
      ['connected', 'Flash Disk', [], 'marie', '2025-03-01T09:00:01.000Z'],
      ['mounted', 'Flash Disk', ['/Volumes/TEST'], 'marie', '2025-03-01T09:00:02.000Z'],
      ['disconnected', 'Flash Disk', ['/Volumes/TEST'], 'marie', '2025-03-01T09:00:03.000Z'],
    ]);
  });

  it('records a null user when the user lookup fails', async () => {
    const snapshots: UsbSection[] = [{ devices: [], events: [] }, { devices: [stick], events: [] }];
    const watcher = new UsbWatcher({
      platform: 'win32',
      now: clock(),
      currentUser: async () => Promise.reject(new Error('no session')),
      snapshot: async () => snapshots.shift() ?? { devices: [stick], events: [] },
    });
    const events: UsbEvent[] = [];
    watcher.on('event', (e) => events.push(e));
    await watcher.start();
    await watcher.pollOnce();
    await watcher.idle();
    watcher.stop();
    expect(events).toEqual([{ at: '2025-03-01T09:00:01.000Z', action: 'connected', device: stick, user: null }]);
  });

  it('polls on its timer', async () => {
    jest.useFakeTimers();
    try {
      const snapshot = jest.fn(async (): Promise<UsbSection> => ({ devices: [], events: [] }));
      const watcher = new UsbWatcher({ platform: 'win32', now: clock(), currentUser: async () => null, snapshot, pollIntervalMs: 1000 });
      await watcher.start();
      expect(snapshot).toHaveBeenCalledTimes(1);
      await jest.advanceTimersByTimeAsync(3000);
      expect(snapshot).toHaveBeenCalledTimes(4);
      watcher.stop();
      await jest.advanceTimersByTimeAsync(3000);
      expect(snapshot).toHaveBeenCalledTimes(4);
    } finally {
      jest.useRealTimers();
    }
  });
});
