/**
 * Wires UsbWatcher to the real machine for `vigie-agent run`: udevadm through
 * exec.ts's execStream on Linux, polling the usb probe's snapshot on Windows
 * and macOS. On a Linux without udevadm (containers, minimal servers) there is
 * no event source: the daemon runs without USB events and says so once; the
 * periodic report still lists the devices connected at each scan.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { UsbEventSource } from '../../daemon/daemon';
import type { StreamHandle, StreamOptions } from '../../exec';
import type { Logger } from '../../transport/logger';
import type { LineStream, RunningCommand, UsbWatcherOptions } from './watch';
import { UDEVADM, UsbWatcher } from './watch';

export type ExecStream = (file: string, args: readonly string[], options: StreamOptions) => StreamHandle;

/** Lines buffered while nobody reads them; udev bursts are a few hundred lines at most. */
const MAX_QUEUED_LINES = 10_000;

/**
 * A LineStream over execStream's callbacks: lines queue until the watcher's
 * `for await` takes them, and the iteration ends when the command exits.
 */
export function lineStreamFromExec(execStream: ExecStream): LineStream {
  return {
    open(file: string, args: readonly string[]): RunningCommand {
      const queue: string[] = [];
      let ended = false;
      let failure: Error | undefined;
      let wake: (() => void) | undefined;
      const notify = () => {
        wake?.();
        wake = undefined;
      };
      const handle = execStream(file, args, {
        onLine: (line) => {
          // A reader that stopped reading must not make the agent hoard lines.
          if (queue.length < MAX_QUEUED_LINES) queue.push(line);
          notify();
        },
        onExit: (exit) => {
          ended = true;
          if (exit.error) failure = new Error(exit.error);
          notify();
        },
      });
      async function* lines(): AsyncGenerator<string> {
        for (;;) {
          const line = queue.shift();
          if (line !== undefined) {
            yield line;
            continue;
          }
          if (ended) {
            if (failure) throw failure;
            return;
          }
          await new Promise<void>((resolve) => (wake = resolve));
        }
      }
      return { lines: lines(), stop: () => handle.stop() };
    },
  };
}

/** udevadm where the distribution puts it: /usr/bin on merged-/usr systems, /bin on older ones. */
export function findUdevadm(exists: (path: string) => boolean = existsSync): string | undefined {
  return [UDEVADM, '/bin/udevadm'].find((path) => exists(path));
}

export interface SystemUsbEventsOptions {
  logger: Logger;
  platform: NodeJS.Platform;
  execStream: ExecStream;
  /** The devices connected now (the usb probe's collect), for polling. */
  snapshot: NonNullable<UsbWatcherOptions['snapshot']>;
  currentUser: UsbWatcherOptions['currentUser'];
  now?: () => Date;
  exists?: (path: string) => boolean;
  readMounts?: () => Promise<string>;
  pollIntervalMs?: number;
}

/**
 * The daemon's USB event source. Built eagerly, started on subscribe; a
 * failure to start or an event source that stops is logged, never thrown:
 * USB events are one input among several, and the scans must go on.
 */
export function systemUsbEvents(options: SystemUsbEventsOptions): UsbEventSource {
  const { logger, platform } = options;
  return (emit) => {
    let watcherOptions: UsbWatcherOptions = {
      platform,
      now: options.now ?? (() => new Date()),
      currentUser: options.currentUser,
      snapshot: options.snapshot,
      pollIntervalMs: options.pollIntervalMs,
    };
    if (platform === 'linux') {
      const udevadm = findUdevadm(options.exists);
      if (!udevadm) {
        logger.warn({ looked: [UDEVADM, '/bin/udevadm'] }, 'udevadm not found: no USB events while the agent runs (scans still list USB devices)');
        return () => {};
      }
      watcherOptions = {
        ...watcherOptions,
        udevadm,
        lineStream: lineStreamFromExec(options.execStream),
        readMounts: options.readMounts ?? (() => readFile('/proc/self/mounts', 'utf8')),
      };
    }
    const watcher = new UsbWatcher(watcherOptions);
    watcher.on('event', emit);
    watcher.on('ended', (reason) => logger.warn({ reason }, 'USB watcher stopped: no more USB events until the agent restarts'));
    watcher.start().catch((e: unknown) => logger.warn({ err: (e as Error).message }, 'cannot watch USB devices'));
    return () => watcher.stop();
  };
}
