/**
 * Watches USB devices while the agent runs and emits "connected",
 * "mounted" and "disconnected" events with the time and the logged-in user.
 *
 * Linux: `udevadm monitor --udev --property` streams udev's events (after its
 * rules ran, so with vendor, model and serial), read through an injected
 * LineStream: only agent/src/exec.ts may start processes. udev does not see
 * mounts (udisks mounts seconds later, in user space), so while a tracked
 * device has disks the mount table is read every pollIntervalMs.
 * Windows and macOS: no event source without native code, so the snapshot
 * (the probe's collect) is taken every pollIntervalMs and diffed; a stick in
 * and out between two polls is missed.
 *
 * Devices present when the watcher starts are the baseline: no event for
 * them (and on Linux none for their later mounts, since udev told us nothing
 * about their disks); the periodic snapshot report still lists them.
 */
import { EventEmitter } from 'node:events';
import type { UsbDevice, UsbEvent, UsbSection } from '@vigie/shared';
import { isUnknown } from '@vigie/shared';
import { diffUsbDevices } from './diff';
import { type UsbChange, UdevMonitorParser, UsbTracker } from './parse-udevadm-monitor';

/** A long-running command (absolute path, no shell) whose stdout is read line by line. */
export interface LineStream {
  open(file: string, args: readonly string[]): RunningCommand;
}

export interface RunningCommand {
  /** Lines of stdout without their newline; ends when the process exits. */
  lines: AsyncIterable<string>;
  /** Kills the process; the iteration then ends. */
  stop(): void;
}

export const UDEVADM = '/usr/bin/udevadm';
export const UDEVADM_ARGS = ['monitor', '--udev', '--property', '--subsystem-match=usb', '--subsystem-match=block'];
const DEFAULT_POLL_MS = 5_000;

export interface UsbWatcherOptions {
  platform: NodeJS.Platform;
  now: () => Date;
  /** The user of the console session, for the event; null when nobody is logged on. */
  currentUser: () => Promise<string | null>;
  /** Linux: runs udevadm monitor. Without it, Linux is polled like the others. */
  lineStream?: LineStream;
  /** Linux: where udevadm is (UDEVADM by default; some distributions have only /bin/udevadm). */
  udevadm?: string;
  /** Linux: the text of /proc/self/mounts. */
  readMounts?: () => Promise<string>;
  /** The devices connected now (the usb probe's collect); used when polling. */
  snapshot?: () => Promise<UsbSection>;
  pollIntervalMs?: number;
}

export class UsbWatcher extends EventEmitter {
  private readonly options: UsbWatcherOptions;
  private timer: NodeJS.Timeout | null = null;
  private running: RunningCommand | null = null;
  private stopped = true;
  private polling = false;
  private baseline: UsbDevice[] | null = null;
  private tracker = new UsbTracker('UDEV');
  private emitting: Promise<void> = Promise.resolve();

  constructor(options: UsbWatcherOptions) {
    super();
    this.options = options;
  }

  override on(event: 'event', listener: (e: UsbEvent) => void): this;
  /** The event source stopped on its own (udevadm exited): the reason. */
  override on(event: 'ended', listener: (reason: string) => void): this;
  override on(event: string | symbol, listener: Parameters<EventEmitter['on']>[1]): this {
    return super.on(event, listener);
  }

  private get usesUdev(): boolean {
    return this.options.platform === 'linux' && this.options.lineStream !== undefined;
  }

  async start(): Promise<void> {
    if (!this.stopped) return;
    this.stopped = false;
    if (this.usesUdev) {
      this.tracker = new UsbTracker('UDEV');
      void this.readUdev();
    } else {
      if (!this.options.snapshot) throw new Error('UsbWatcher needs a snapshot function to poll');
      await this.pollOnce();
    }
    this.timer = setInterval(() => void this.pollOnce(), this.options.pollIntervalMs ?? DEFAULT_POLL_MS);
    this.timer.unref?.();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.running?.stop();
    this.running = null;
  }

  /** Resolves once every event found so far has been emitted (tests, orderly shutdown). */
  idle(): Promise<void> {
    return this.emitting;
  }

  /**
   * One poll: the mount table on Linux, a snapshot diff elsewhere. Called by
   * the timer; public so a caller can force a refresh.
   */
  async pollOnce(): Promise<void> {
    if (this.polling || this.stopped) return;
    this.polling = true;
    try {
      if (this.usesUdev) {
        if (this.tracker.hasBlockDevices() && this.options.readMounts) {
          this.queue(this.tracker.mountsChanged(await this.options.readMounts()));
        }
        return;
      }
      const section = await this.options.snapshot?.();
      if (!section || isUnknown(section)) return;
      if (this.baseline !== null) this.queue(diffUsbDevices(this.baseline, section.devices));
      this.baseline = section.devices;
    } catch {
      // A failed poll is retried at the next tick; a stick plugged in
      // meanwhile is still seen then, as a difference.
    } finally {
      this.polling = false;
    }
  }

  private async readUdev(): Promise<void> {
    const parser = new UdevMonitorParser();
    let reason = 'udevadm monitor exited';
    try {
      this.running = this.options.lineStream?.open(this.options.udevadm ?? UDEVADM, UDEVADM_ARGS) ?? null;
      if (!this.running) return;
      for await (const line of this.running.lines) {
        const event = parser.push(line);
        if (event) this.queue(this.tracker.handle(event));
      }
      const last = parser.flush();
      if (last) this.queue(this.tracker.handle(last));
    } catch (err) {
      reason = `udevadm monitor failed: ${(err as Error).message}`;
    }
    if (!this.stopped) {
      await this.emitting;
      this.emit('ended', reason);
    }
  }

  // Events go out one at a time, in order, each with the user at that moment.
  private queue(changes: UsbChange[]): void {
    for (const change of changes) {
      this.emitting = this.emitting.then(async () => {
        const user = await Promise.resolve()
          .then(() => this.options.currentUser())
          .catch(() => null);
        const event: UsbEvent = { at: this.options.now().toISOString(), action: change.action, device: change.device, user };
        this.emit('event', event);
      });
    }
  }
}
