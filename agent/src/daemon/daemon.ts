import { randomUUID } from 'node:crypto';
import {
  changedSections,
  type AckMessage,
  type ConfigMessage,
  type Facts,
  type OsName,
  type ReportBody,
  type StatusMessage,
  type UsbEvent,
} from '@vigie/shared';
import type { BackoffOptions } from '../transport/backoff';
import { AgentClient, type FatalTransportError } from '../transport/client';
import type { Logger } from '../transport/logger';
import type { Outbox, OutboxEntry } from '../transport/outbox';
import type { AgentStateStore, Enrolment, SyncState } from '../state/state';
import { changedSectionsByDigest, digestFacts, type FactsDigest } from '../state/facts-digest';

/** Until the collector's config says otherwise. */
export const DEFAULT_INTERVAL_SECONDS = 15 * 60;
export const DEFAULT_ONCE_TIMEOUT_SECONDS = 60;

/** Exit codes of `run`, so scripts can tell "try later" from "enrol again". */
export const EXIT_OK = 0;
export const EXIT_NOT_DELIVERED = 1;
export const EXIT_NOT_ENROLLED = 2;
export const EXIT_REENROL = 3;

/** Subscribes to USB events as they happen; returns the unsubscribe function. */
export type UsbEventSource = (emit: (event: UsbEvent) => void) => () => void;

export interface ClientTuning {
  window?: number;
  heartbeatMs?: number;
  handshakeTimeoutMs?: number;
  backoff?: BackoffOptions;
  maxFrameBytes?: number;
}

/** Told what the collector says about this device and when reports go: the tray's status server keeps it (agent/src/tray/serve.ts). */
export interface DaemonObserver {
  onConfig?(config: ConfigMessage): void;
  onStatus?(status: StatusMessage): void;
  /** A report was scanned and queued for delivery. */
  onReportQueued?(at: Date): void;
  /** The collector acknowledged a report. */
  onReportAcked?(at: Date): void;
}

export interface DaemonOptions {
  store: AgentStateStore;
  outbox: Outbox;
  enrolment: Enrolment;
  /** One full scan of this machine; scanAll(systemContext()) in production. */
  scan: () => Promise<Facts>;
  logger: Logger;
  os?: OsName;
  now?: () => Date;
  randomUUID?: () => string;
  usbEvents?: UsbEventSource;
  client?: ClientTuning;
  /** Scan at this interval whatever the collector sets (tests and benchmarks). */
  intervalOverrideSeconds?: number;
  /** Called once each scan is queued, before the daemon idles: a full GC in production (v8-flags.ts says why). */
  compactHeap?: () => void;
  observer?: DaemonObserver;
}

export interface RunResult {
  code: number;
  message: string;
}

export function osFromPlatform(platform: NodeJS.Platform): OsName {
  if (platform === 'win32') return 'windows';
  if (platform === 'darwin') return 'macos';
  return 'linux';
}

/**
 * The agent's run loop: scan at the collector's interval, queue a report in
 * the outbox (the first of each run full, then deltas), and let the client
 * deliver. Rescans on the collector's request and whenever the collector lost
 * track of this device's facts.
 */
export class Daemon {
  readonly client: AgentClient;
  private readonly now: () => Date;
  private readonly uuid: () => string;
  /** The first report of a run is full: it resyncs a collector that restored a backup or lost a delta. */
  private forceFull = true;
  private scanning: Promise<void> | undefined;
  private scanAgain = false;
  private periodic = false;
  private stopped = false;
  private scanTimer: NodeJS.Timeout | undefined;
  private lastScanAt: number | undefined;
  private fatal: FatalTransportError | undefined;
  private refused = 0;
  private unsubscribeUsb: (() => void) | undefined;
  private readonly waiters = new Set<() => void>();
  private reporting: Promise<unknown> = Promise.resolve();
  /** The last sync-state write; stop() waits for it so an exit never loses an ack's hash. */
  private metaWrites: Promise<void> = Promise.resolve();
  /** Section digests of the head, so a delta needs neither the previous facts nor re-stringifying them. */
  private headDigest: FactsDigest | undefined;
  /** The hash of the head file's facts: false until this run writes it (then the one read at start); undefined when unknown. */
  private headOnDisk: string | undefined | false = false;

  private constructor(
    private readonly options: DaemonOptions,
    private readonly sync: SyncState,
  ) {
    this.now = options.now ?? (() => new Date());
    this.uuid = options.randomUUID ?? randomUUID;
    const { enrolment } = options;
    this.client = new AgentClient({
      ...options.client,
      server: enrolment.server,
      trust: { caFingerprint: enrolment.caFingerprint, caPem: enrolment.caPem },
      deviceId: enrolment.deviceId,
      token: enrolment.token,
      os: options.os ?? osFromPlatform(process.platform),
      outbox: options.outbox,
      logger: options.logger,
      now: this.now,
      handlers: {
        onConfig: (config) => {
          options.observer?.onConfig?.(config);
          void this.onConfig(config);
        },
        onStatus: (status) => options.observer?.onStatus?.(status),
        onAck: (entry, ack) => {
          if (entry.message.type === 'report') options.observer?.onReportAcked?.(this.now());
          return this.onAck(entry, ack).finally(() => this.notify());
        },
        onNeedFullReport: (entry) => this.onNeedFullReport(entry),
        onRescan: () => this.requestScan(),
        onRefused: () => {
          this.refused += 1;
          this.notify();
        },
        onFatal: (error) => {
          this.fatal = error;
          this.notify();
        },
        onDrained: () => this.notify(),
      },
    });
  }

  static async create(options: DaemonOptions): Promise<Daemon> {
    return new Daemon(options, await options.store.readSync());
  }

  get intervalSeconds(): number {
    return this.options.intervalOverrideSeconds ?? this.sync.meta.intervalSeconds ?? DEFAULT_INTERVAL_SECONDS;
  }

  /** Connected to the collector and past the handshake. */
  get connected(): boolean {
    return this.client.state === 'ready';
  }

  /** Scans now, or right after the scan under way. */
  requestScan(): void {
    if (this.stopped) return;
    if (this.scanning) {
      this.scanAgain = true;
      return;
    }
    this.scanning = this.scanLoop().finally(() => {
      this.scanning = undefined;
      this.notify();
    });
  }

  /**
   * Scans and queues one report: full when forced, when there is no base, or
   * when the collector cannot take deltas; otherwise the sections that changed
   * since the facts of the last queued report (with none changed, an empty
   * delta, which still tells the collector the device is alive).
   */
  queueReport(): Promise<OutboxEntry> {
    // One at a time: each delta is computed against the head the previous one left.
    const next = this.reporting.then(() => this.scanAndQueue());
    this.reporting = next.catch(() => undefined);
    return next;
  }

  private async scanAndQueue(): Promise<OutboxEntry> {
    const facts = await this.options.scan();
    // node:crypto over chunks, equal to shared's factsHash (facts-digest.ts says why).
    const digest = digestFacts(facts);
    const hash = digest.factsHash;
    const head = this.sync.head;
    const deltasOk = this.sync.meta.serverCapabilities?.includes('delta-reports') ?? true;
    const full = this.forceFull || !head || !deltasOk;
    // Consumed here, synchronously: a full request arriving while the report is written stays pending.
    this.forceFull = false;
    const body: ReportBody =
      !full && head
        ? {
            kind: 'delta',
            baseHash: head.factsHash,
            sections:
              this.headDigest?.factsHash === head.factsHash
                ? changedSectionsByDigest(this.headDigest, digest, facts)
                : changedSections(head.facts, facts),
          }
        : { kind: 'full', facts };
    const { entry, evicted } = await this.options.outbox.add(
      { type: 'report', reportId: this.uuid(), collectedAt: this.now().toISOString(), body },
      { factsHash: hash },
    );
    // A dropped report breaks the delta chain: the next report resyncs in full.
    if (evicted.some((e) => e.message.type === 'report')) this.forceFull = true;
    if (evicted.length > 0) this.options.logger.warn({ dropped: evicted.length }, 'outbox full: dropped the oldest messages');
    // Unchanged facts are already on disk: skip re-serialising ~100 KB every scan.
    const onDisk = this.headOnDisk === false ? head?.factsHash : this.headOnDisk;
    // Same facts: keep the head object, which a queued full report may share, so one copy stays alive, not two.
    if (head?.factsHash !== hash) this.sync.head = { facts, factsHash: hash };
    this.headDigest = digest;
    if (onDisk !== hash) {
      this.headOnDisk = undefined;
      await this.options.store.writeHead(this.sync.head);
      this.headOnDisk = hash;
    }
    this.options.logger.info({ seq: entry.seq, kind: body.kind }, 'report queued');
    this.options.observer?.onReportQueued?.(this.now());
    this.client.kick();
    return entry;
  }

  /** Queues a USB event durably and sends it at once when connected. */
  async queueUsbEvent(event: UsbEvent): Promise<OutboxEntry> {
    const { entry } = await this.options.outbox.add({ type: 'usb-event', eventId: this.uuid(), event });
    this.client.kick();
    return entry;
  }

  /** The service: runs until `signal` aborts (exit 0) or the collector rejects the device (exit 3). */
  async run(signal: AbortSignal): Promise<RunResult> {
    this.periodic = true;
    if (this.options.usbEvents) {
      this.unsubscribeUsb = this.options.usbEvents((event) => {
        this.queueUsbEvent(event).catch((e: unknown) =>
          this.options.logger.error({ err: (e as Error).message }, 'cannot queue a USB event'),
        );
      });
    }
    this.client.start();
    this.requestScan();
    await new Promise<void>((resolve) => {
      const check = () => {
        if (signal.aborted || this.fatal) {
          this.waiters.delete(check);
          resolve();
        }
      };
      signal.addEventListener('abort', check, { once: true });
      this.waiters.add(check);
      check();
    });
    await this.stop();
    return this.fatal ? { code: EXIT_REENROL, message: this.fatal.message } : { code: EXIT_OK, message: 'stopped' };
  }

  /**
   * `run --once`: one scan, then deliver everything pending. Exit 0 once the
   * collector acknowledged all of it; non-zero with the reason otherwise.
   */
  async runOnce(timeoutMs: number): Promise<RunResult> {
    this.client.start();
    this.requestScan();
    const server = this.options.enrolment.server;
    const result = await new Promise<RunResult>((resolve) => {
      const finish = (r: RunResult) => {
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(r);
      };
      const check = () => {
        if (this.fatal) finish({ code: EXIT_REENROL, message: this.fatal.message });
        else if (!this.scanning && this.options.outbox.size === 0) {
          finish(
            this.refused > 0
              ? { code: EXIT_NOT_DELIVERED, message: `the collector refused ${this.refused} message(s); see the log` }
              : { code: EXIT_OK, message: `all reports delivered to ${server}` },
          );
        }
      };
      const timer = setTimeout(() => {
        const pending = this.options.outbox.size;
        finish({
          code: EXIT_NOT_DELIVERED,
          message:
            `could not deliver ${pending} message(s) to ${server} within ${timeoutMs / 1000} s` +
            ` (${this.client.lastError ?? 'no answer from the collector'}); they stay queued in ${this.options.outbox.dir} for the next run`,
        });
      }, timeoutMs);
      this.waiters.add(check);
    });
    await this.stop();
    return result;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.scanTimer);
    this.unsubscribeUsb?.();
    this.unsubscribeUsb = undefined;
    await this.client.stop();
    // Let a scan under way finish its outbox write rather than leave it behind the caller's back.
    await this.scanning;
    await this.metaWrites;
  }

  private async scanLoop(): Promise<void> {
    do {
      this.scanAgain = false;
      this.lastScanAt = this.now().getTime();
      try {
        await this.queueReport();
        this.options.compactHeap?.();
        this.options.logger.info({ rssBytes: process.memoryUsage.rss() }, 'scan complete');
      } catch (e) {
        this.options.logger.error({ err: (e as Error).message }, 'scan or queue failed; retrying at the next interval');
      }
    } while (this.scanAgain && !this.stopped);
    this.scheduleScan();
  }

  private scheduleScan(): void {
    clearTimeout(this.scanTimer);
    if (!this.periodic || this.stopped) return;
    const due = (this.lastScanAt ?? this.now().getTime()) + this.intervalSeconds * 1000;
    this.scanTimer = setTimeout(() => this.requestScan(), Math.max(0, due - this.now().getTime()));
  }

  private async onConfig(config: ConfigMessage): Promise<void> {
    const changed = config.intervalSeconds !== this.sync.meta.intervalSeconds;
    this.sync.meta.serverCapabilities = config.capabilities;
    this.sync.meta.intervalSeconds = config.intervalSeconds;
    if (changed && !this.scanning) this.scheduleScan();
    await this.saveMeta();
  }

  private async onAck(entry: OutboxEntry, ack: AckMessage): Promise<void> {
    if (entry.message.type !== 'report' || !ack.factsHash) return;
    this.sync.meta.ackedHash = ack.factsHash;
    // A duplicate's ack carries the collector's current hash, which may already include later
    // reports: only a fresh `stored` ack says what this very report led to.
    if (ack.status === 'stored' && entry.meta.factsHash && ack.factsHash !== entry.meta.factsHash) {
      // The collector holds other facts than we think: later deltas would apply on the wrong base.
      this.options.logger.warn({ seq: entry.seq, expected: entry.meta.factsHash, got: ack.factsHash }, 'collector facts differ from ours');
      // Resync at once after a delta; after a full report a rescan would only repeat the mismatch.
      if (entry.message.body.kind === 'delta') this.requestFull();
      else this.forceFull = true;
    }
    await this.saveMeta();
  }

  private onNeedFullReport(entry: OutboxEntry | undefined): void {
    // Deltas queued after the refused one fail the same way: one full report queued after them is enough.
    const fullQueued = this.options.outbox
      .entries()
      .some((e) => e.message.type === 'report' && e.message.body.kind === 'full' && (!entry || e.seq > entry.seq));
    if (!fullQueued) this.requestFull();
  }

  private requestFull(): void {
    this.forceFull = true;
    this.requestScan();
  }

  private saveMeta(): Promise<void> {
    const snapshot = { ...this.sync.meta };
    // Chained, so writes land in call order and the file ends with the latest state.
    const write = this.metaWrites
      .then(() => this.options.store.writeMeta(snapshot))
      .catch((e: unknown) => {
        this.options.logger.warn({ err: (e as Error).message }, 'cannot save sync state');
      });
    this.metaWrites = write;
    return write;
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}
