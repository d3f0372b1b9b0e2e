import type { Facts, OsName } from '@vigie/shared';
import {
  Daemon,
  DEFAULT_ONCE_TIMEOUT_SECONDS,
  EXIT_NOT_DELIVERED,
  EXIT_NOT_ENROLLED,
  EXIT_OK,
  type ClientTuning,
  type UsbEventSource,
} from '../daemon/daemon';
import { exec, execStream } from '../exec';
import { scanAll } from '../scan';
import { systemContext } from '../probes/context';
import { consoleUser, systemLibraries } from '../probes/device';
import { collectUsb } from '../probes/usb';
import { systemUsbEvents } from '../probes/usb/watch-source';
import { resolveStateDir } from '../state/paths';
import { AgentStateStore, type Enrolment } from '../state/state';
import { Outbox, type OutboxOptions } from '../transport/outbox';
import { compactHeap } from '../v8-flags';
import { findSessionUser } from '../probes/screenlock/screenlock.linux';
import { serveTray, systemTrayUser, TrayStatusKeeper } from '../tray/serve';
import { AGENT_VERSION } from '../version';
import type { CommandIO } from './io';

export interface RunOptions {
  stateDir?: string;
  once?: boolean;
  /** With --once: how long to try to deliver before giving up (default 60). */
  timeoutSeconds?: number;
  /** Scan at this interval instead of the collector's (tests and benchmarks). */
  scanIntervalSeconds?: number;
  /** The tray socket (`--tray-socket`); the per-user default otherwise. Served by `run` without --once. */
  traySocket?: string;
  /** Root: the user the tray socket is for (`--tray-user`); else the console/session user. */
  trayUser?: string;
}

export interface RunDeps {
  /** A full scan; scanAll(systemContext()) by default. */
  scan?: () => Promise<Facts>;
  /** Ends `run` (without --once); SIGINT/SIGTERM by default. */
  signal?: AbortSignal;
  /** USB events while running; udevadm (Linux) or polling (Windows, macOS) by default. */
  usbEvents?: UsbEventSource;
  client?: ClientTuning;
  outbox?: OutboxOptions;
  os?: OsName;
  now?: () => Date;
  randomUUID?: () => string;
  /** The daemon's uid (process.getuid() by default): root makes the tray socket for the session user. */
  uid?: number;
}

async function systemScan(): Promise<Facts> {
  return scanAll(systemContext());
}

/** This machine's USB events, each with the user at the console when it happened. */
function systemUsb(io: CommandIO): UsbEventSource {
  return systemUsbEvents({
    logger: io.logger,
    platform: process.platform,
    execStream,
    snapshot: () => collectUsb(systemContext()),
    currentUser: async () => consoleUser(await systemLibraries.users()),
  });
}

/** SIGINT/SIGTERM as an AbortSignal, and a way to stop listening. */
function processSignal(): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const onSignal = () => controller.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return {
    signal: controller.signal,
    dispose: () => {
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
    },
  };
}

/**
 * `vigie-agent run [--once]`. Exit codes: 0 delivered (or stopped by a signal),
 * 1 not delivered within the timeout, 2 not enrolled, 3 the collector rejects
 * this device (enrol again).
 */
export async function runCommand(opts: RunOptions, io: CommandIO, deps: RunDeps = {}): Promise<number> {
  const store = new AgentStateStore(resolveStateDir(opts.stateDir));
  let enrolment: Enrolment | undefined;
  try {
    enrolment = await store.readEnrolment();
  } catch (e) {
    io.stderr.write(`vigie-agent run: ${(e as Error).message}\n`);
    return EXIT_NOT_ENROLLED;
  }
  if (!enrolment) {
    io.stderr.write(
      `vigie-agent run: this device is not enrolled (no ${store.enrolmentPath}); ` +
        'run `vigie-agent enroll --server wss://HOST:PORT --secret SECRET` first\n',
    );
    return EXIT_NOT_ENROLLED;
  }
  let outbox: Outbox;
  try {
    outbox = await Outbox.open(store.outboxDir, deps.outbox);
  } catch (e) {
    io.stderr.write(`vigie-agent run: cannot open the outbox in ${store.outboxDir}: ${(e as Error).message}\n`);
    return EXIT_NOT_DELIVERED;
  }
  // The service keeps what the collector says about this device for the tray; --once has no tray to serve.
  const keeper = opts.once ? undefined : await TrayStatusKeeper.load(store.dir, io.logger);
  const daemon = await Daemon.create({
    observer: keeper,
    store,
    outbox,
    enrolment,
    scan: deps.scan ?? systemScan,
    logger: io.logger,
    os: deps.os,
    now: deps.now,
    randomUUID: deps.randomUUID,
    usbEvents: deps.usbEvents ?? systemUsb(io),
    client: deps.client,
    intervalOverrideSeconds: opts.scanIntervalSeconds,
    compactHeap,
  });
  if (opts.once) {
    const result = await daemon.runOnce((opts.timeoutSeconds ?? DEFAULT_ONCE_TIMEOUT_SECONDS) * 1000);
    if (result.code === EXIT_OK) io.stdout.write(`${result.message}\n`);
    else io.stderr.write(`vigie-agent run --once: ${result.message}\n`);
    return result.code;
  }
  const own = deps.signal ? undefined : processSignal();
  // Served only by the service: `keeper` exists whenever --once is off.
  const tray = await serveTrayFor(daemon, keeper as TrayStatusKeeper, enrolment.server, opts, io, deps);
  try {
    io.logger.info({ server: enrolment.server, deviceId: enrolment.deviceId }, 'agent running');
    const result = await daemon.run(deps.signal ?? (own as { signal: AbortSignal }).signal);
    if (result.code !== EXIT_OK) io.stderr.write(`vigie-agent run: ${result.message}\n`);
    return result.code;
  } finally {
    await tray.close();
    own?.dispose();
  }
}

/** Serves the tray socket beside the daemon; a socket that cannot be made is a warning, never a stop. */
async function serveTrayFor(
  daemon: Daemon,
  keeper: TrayStatusKeeper,
  collector: string,
  opts: RunOptions,
  io: CommandIO,
  deps: RunDeps,
): Promise<{ close(): Promise<void> }> {
  return serveTray({
    keeper,
    daemon,
    agentVersion: AGENT_VERSION,
    collector,
    socketPath: opts.traySocket,
    findUser: systemTrayUser({
      platform: process.platform,
      exec,
      trayUser: opts.trayUser,
      findSessionUser: async () => {
        const user = await findSessionUser(systemContext());
        return typeof user === 'string' ? user : { uid: user.uid, name: user.session.name };
      },
    }),
    platform: process.platform,
    env: process.env,
    uid: deps.uid ?? process.getuid?.(),
    log: io.logger,
  });
}
