import fs from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import type { UsbEvent } from '@vigie/shared';
import type { StreamExit, StreamOptions } from '../../exec';
import { UDEVADM_ARGS } from './watch';
import { type ExecStream, findUdevadm, lineStreamFromExec, systemUsbEvents } from './watch-source';

const fixture = (name: string) => fs.readFileSync(path.join(__dirname, '../../../test/fixtures/usb', name), 'utf8');
const flush = () => new Promise((resolve) => setImmediate(resolve));

/** A fake execStream: the test pushes lines and ends the "process" by hand. */
function fakeExec() {
  const runs: { file: string; args: readonly string[]; options: StreamOptions; stopped: boolean }[] = [];
  const exec: ExecStream = (file, args, options) => {
    const run = { file, args, options, stopped: false };
    runs.push(run);
    return {
      stop: () => {
        if (run.stopped) return;
        run.stopped = true;
        options.onExit?.({ code: null, signal: 'SIGTERM' });
      },
    };
  };
  const last = () => {
    const run = runs[runs.length - 1];
    if (!run) throw new Error('nothing started');
    return run;
  };
  return { exec, runs, push: (...lines: string[]) => lines.forEach((l) => last().options.onLine(l)), exit: (e: StreamExit) => last().options.onExit?.(e) };
}

function silentLogger() {
  const warnings: string[] = [];
  const logger = pino({ level: 'silent' });
  return { warnings, logger: { ...logger, debug: () => {}, info: () => {}, error: () => {}, warn: (_o: unknown, msg?: string) => void warnings.push(msg ?? '') } as unknown as pino.Logger };
}

async function drain(lines: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const line of lines) out.push(line);
  return out;
}

describe('lineStreamFromExec', () => {
  it('yields the lines pushed before and after the reader starts, then ends with the command', async () => {
    const fake = fakeExec();
    const running = lineStreamFromExec(fake.exec).open('/usr/bin/udevadm', ['monitor']);
    fake.push('early');
    const reading = drain(running.lines);
    await flush();
    fake.push('late 1', 'late 2');
    await flush();
    fake.exit({ code: 0, signal: null });
    expect(await reading).toEqual(['early', 'late 1', 'late 2']);
    expect(fake.runs[0]).toMatchObject({ file: '/usr/bin/udevadm', args: ['monitor'] });
  });

  it('ends the iteration with an error when the command cannot start', async () => {
    const fake = fakeExec();
    const running = lineStreamFromExec(fake.exec).open('/usr/bin/udevadm', []);
    fake.exit({ code: null, signal: null, error: 'spawn /usr/bin/udevadm ENOENT' });
    await expect(drain(running.lines)).rejects.toThrow('ENOENT');
  });

  it('stop() stops the command and ends the iteration', async () => {
    const fake = fakeExec();
    const running = lineStreamFromExec(fake.exec).open('/usr/bin/udevadm', []);
    const reading = drain(running.lines);
    running.stop();
    expect(await reading).toEqual([]);
    expect(fake.runs[0]?.stopped).toBe(true);
  });
});

describe('findUdevadm', () => {
  it('prefers /usr/bin, falls back to /bin, and is undefined when neither exists', () => {
    expect(findUdevadm((p) => p === '/usr/bin/udevadm' || p === '/bin/udevadm')).toBe('/usr/bin/udevadm');
    expect(findUdevadm((p) => p === '/bin/udevadm')).toBe('/bin/udevadm');
    expect(findUdevadm(() => false)).toBeUndefined();
  });
});

describe('systemUsbEvents', () => {
  const base = { platform: 'linux' as const, snapshot: async () => ({ devices: [], events: [] }), currentUser: async () => 'marie', now: () => new Date('2025-03-01T09:00:00Z') };

  it('on Linux runs udevadm monitor through execStream and emits its events until unsubscribed', async () => {
    const fake = fakeExec();
    const { logger, warnings } = silentLogger();
    const source = systemUsbEvents({ ...base, logger, execStream: fake.exec, exists: (p) => p === '/bin/udevadm', readMounts: async () => '' });
    const events: UsbEvent[] = [];
    const unsubscribe = source((e) => events.push(e));
    await flush();
    expect(fake.runs.map((r) => [r.file, ...r.args].join(' '))).toEqual([`/bin/udevadm ${UDEVADM_ARGS.join(' ')}`]);
    fake.push(...fixture('linux/udevadm-monitor-yubikey-nixos.txt').split('\n'));
    for (let i = 0; i < 10; i++) await flush();
    unsubscribe();
    expect(events.map((e) => [e.action, e.user, e.device.product])).toEqual([
      ['connected', 'marie', 'YubiKey OTP+FIDO+CCID'],
      ['disconnected', 'marie', 'YubiKey OTP+FIDO+CCID'],
    ]);
    expect(fake.runs[0]?.stopped).toBe(true);
    expect(warnings).toEqual([]);
  });

  it('without udevadm warns once and emits nothing, and the daemon goes on', async () => {
    const fake = fakeExec();
    const { logger, warnings } = silentLogger();
    const source = systemUsbEvents({ ...base, logger, execStream: fake.exec, exists: () => false });
    const unsubscribe = source(() => {});
    unsubscribe();
    expect(fake.runs).toEqual([]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/udevadm not found/);
  });

  it('warns when udevadm stops on its own', async () => {
    const fake = fakeExec();
    const { logger, warnings } = silentLogger();
    const unsubscribe = systemUsbEvents({ ...base, logger, execStream: fake.exec, exists: () => true, readMounts: async () => '' })(() => {});
    await flush();
    fake.exit({ code: 1, signal: null });
    for (let i = 0; i < 5; i++) await flush();
    unsubscribe();
    expect(warnings).toEqual(['USB watcher stopped: no more USB events until the agent restarts']);
  });

  it('on Windows and macOS polls the snapshot and emits the differences', async () => {
    const fake = fakeExec();
    const { logger } = silentLogger();
    const stick = { vendorId: '0781', productId: '5583', vendor: 'SanDisk', product: 'Ultra Fit', serial: '4C530001', storage: true, mountPoints: ['E:\\'] };
    const snapshots = [{ devices: [], events: [] }, { devices: [stick], events: [] }];
    const events: UsbEvent[] = [];
    const unsubscribe = systemUsbEvents({
      ...base,
      platform: 'win32',
      logger,
      execStream: fake.exec,
      snapshot: async () => snapshots.shift() ?? { devices: [stick], events: [] },
      pollIntervalMs: 5,
    })((e) => events.push(e));
    await new Promise((r) => setTimeout(r, 60));
    unsubscribe();
    expect(fake.runs).toEqual([]);
    expect(events.map((e) => [e.action, e.device.serial, e.user])).toContainEqual(['connected', '4C530001', 'marie']);
  });
});
