import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as net from 'node:net';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { AgentConnection, IncomingFrame } from '../ingest/agent-connection';
import { adopt, type FrameDone } from '../ingest/frame-parser';
import type { FromListener, ToListener } from './protocol';

export interface AgentListenerOptions {
  /** How many listener processes hold the agents' connections. */
  processes: number;
  host: string;
  /** 0 picks a free port (tests). */
  port: number;
  tls: { certPem: string; keyPem: string };
  /** The protocol's frame limit (a typed error above it), and ws's (the connection cut above it), as on the collector's own port. */
  maxFrameBytes: number;
  maxPayload: number;
  heartbeatMs: number;
  logger: Logger;
  /** Called for each agent WebSocket a listener accepted; the connection relays its frames. */
  onConnection(connection: AgentConnection, ip: string | null): void;
  /** The listener's script; default: process.js next to this module, in the built collector. */
  script?: string;
}

export interface AgentListeners {
  port: number;
  /** The pids of the listener processes ready for connections, for the operator and the benchmark. */
  pids(): number[];
  close(): Promise<void>;
}

/** A listener that exits is started again at once, or after 30 s when it has died more often than this in a minute. */
const MAX_RESTARTS_PER_MINUTE = 5;
const STARTUP_TIMEOUT_MS = 20_000;
/** Sockets queued for one listener that has not taken them yet; past that, connections go to another or are refused. */
const MAX_HANDING_OVER = 256;

/** An agent WebSocket held by a listener process: sends and closes go to it, its frames come from it. */
class RelayedConnection implements AgentConnection {
  open = true;
  private frameListeners: ((frame: IncomingFrame) => void)[] = [];
  private closeListeners: (() => void)[] = [];

  constructor(
    private readonly child: ChildProcess,
    private readonly id: number,
  ) {}

  onFrame(listener: (frame: IncomingFrame) => void): void {
    this.frameListeners.push(listener);
  }

  onClose(listener: () => void): void {
    this.closeListeners.push(listener);
  }

  send(frames: string[]): void {
    if (this.open) post(this.child, { t: 'send', c: this.id, frames });
  }

  close(code: number, reason: string): void {
    if (!this.open) return;
    // As ws does: no longer open from here, closed for good when the listener says so.
    this.open = false;
    post(this.child, { t: 'close', c: this.id, code, reason });
  }

  expectFacts(hash: string | undefined): void {
    if (this.open) post(this.child, { t: 'expect', c: this.id, ...(hash !== undefined ? { hash } : {}) });
  }

  deliver(done: Omit<FrameDone, 'id'>): void {
    if (!this.open) return;
    const frame: IncomingFrame = { kind: 'parsed', parsed: adopt({ id: 0, ...done }) };
    for (const listener of this.frameListeners) listener(frame);
  }

  closed(): void {
    this.open = false;
    for (const listener of this.closeListeners) listener();
    this.closeListeners = [];
  }
}

function post(child: ChildProcess, message: ToListener): void {
  // A listener that died meanwhile: its connections are closed by its exit handler.
  if (child.connected) child.send(message, undefined, undefined, () => undefined);
}

/**
 * Starts the agent listener processes on their own port. This process accepts each TCP
 * connection and hands the socket to the next listener (round robin), which does the TLS
 * handshake and holds the WebSocket: its file descriptor then lives in the listener, so
 * this process's open-files limit no longer caps the fleet. The sessions (authentication,
 * reports, acks) still run here, next to the store.
 */
export async function startAgentListeners(options: AgentListenerOptions): Promise<AgentListeners> {
  const script = options.script ?? join(__dirname, 'process.js');
  if (!existsSync(script)) throw new Error(`agent listener processes need the built collector (${script} is missing; run npm run build)`);
  const { logger } = options;
  const slots: (Listener | null)[] = [];
  const restarts: number[] = [];
  let turn = 0;
  let closing = false;

  interface Listener {
    child: ChildProcess;
    ready: boolean;
    /**
     * Sockets sent but not yet taken, in order. They are sent with keepOpen and closed here when the
     * listener says it took them: Node would close its copy only on its own acknowledgement, which a
     * listener that dies never sends, and the descriptor would stay open here for good.
     */
    handingOver: net.Socket[];
  }

  function spawn(slot: number): Listener {
    const child = fork(script, [], { serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const listener: Listener = { child, ready: false, handingOver: [] };
    const connections = new Map<number, RelayedConnection>();
    let gone = false;
    child.on('message', (message: FromListener) => {
      // A message can still arrive after the exit: a session opened then would never be closed.
      if (gone) return;
      switch (message.t) {
        case 'ready':
          listener.ready = true;
          return;
        case 'took':
          // The listener has its own descriptor: closing this one leaves the connection open.
          listener.handingOver.shift()?.destroy();
          return;
        case 'open': {
          const connection = new RelayedConnection(child, message.c);
          connections.set(message.c, connection);
          options.onConnection(connection, message.ip);
          return;
        }
        case 'frame':
          connections.get(message.c)?.deliver(message.done);
          return;
        case 'closed':
          connections.get(message.c)?.closed();
          connections.delete(message.c);
      }
    });
    const onGone = (how: Record<string, unknown>) => {
      if (gone) return;
      gone = true;
      listener.ready = false;
      // Its sockets died with it: the agents reconnect, and their outboxes resend what was not acked.
      for (const connection of connections.values()) connection.closed();
      connections.clear();
      // Sockets still queued for it would stay open here for good.
      for (const socket of listener.handingOver) socket.destroy();
      listener.handingOver = [];
      if (closing) return;
      slots[slot] = null;
      const now = Date.now();
      while (restarts.length > 0 && (restarts[0] as number) < now - 60_000) restarts.shift();
      restarts.push(now);
      // A listener that keeps dying is started again more slowly, never given up on: agents keep coming.
      const delay = restarts.length > MAX_RESTARTS_PER_MINUTE ? 30_000 : 0;
      logger.error({ ...how, slot, restartInMs: delay }, 'agent listener process ended; starting it again');
      setTimeout(() => {
        if (!closing) slots[slot] = spawn(slot);
      }, delay).unref();
    };
    child.on('exit', (code, signal) => onGone({ code, signal }));
    // A fork that failed (EMFILE, EAGAIN) emits an error and never an exit.
    child.on('error', (err) => {
      logger.error({ err, pid: child.pid }, 'agent listener process error');
      if (child.pid === undefined || !child.connected) onGone({ err: err.message });
    });
    post(child, { t: 'init', certPem: options.tls.certPem, keyPem: options.tls.keyPem, maxFrameBytes: options.maxFrameBytes, maxPayload: options.maxPayload, heartbeatMs: options.heartbeatMs });
    return listener;
  }

  for (let i = 0; i < options.processes; i++) slots.push(spawn(i));
  // Every listener ready before the port opens, so the first agents are not refused.
  await new Promise<void>((resolve, reject) => {
    const deadline = Date.now() + STARTUP_TIMEOUT_MS;
    const check = setInterval(() => {
      if (slots.every((l) => l?.ready)) {
        clearInterval(check);
        resolve();
      } else if (Date.now() > deadline) {
        clearInterval(check);
        reject(new Error(`the agent listener processes did not start within ${STARTUP_TIMEOUT_MS / 1000} s`));
      }
    }, 10);
  }).catch((e: unknown) => {
    closing = true;
    for (const l of slots) l?.child.kill('SIGKILL');
    throw e;
  });

  const server = net.createServer({ pauseOnConnect: true }, (socket) => {
    // The next ready listener that is not already behind on taking sockets.
    const live = slots.filter((l): l is Listener => l !== null && l.ready && l.child.connected && l.handingOver.length < MAX_HANDING_OVER);
    const listener = live[turn++ % Math.max(1, live.length)];
    if (!listener) return void socket.destroy();
    listener.handingOver.push(socket);
    listener.child.send({ t: 'socket' } satisfies ToListener, socket, { keepOpen: true }, (err) => {
      if (!err) return;
      // Never delivered, so never taken: out of the queue, and closed.
      listener.handingOver = listener.handingOver.filter((s) => s !== socket);
      socket.destroy();
    });
  });
  server.on('error', (err) => logger.error({ err }, 'agent listener port error'));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  }).catch((e: unknown) => {
    closing = true;
    for (const l of slots) l?.child.kill();
    throw new Error(`cannot listen for agents on ${options.host}:${options.port}: ${(e as Error).message}`);
  });

  return {
    port: (server.address() as net.AddressInfo).port,
    pids: () => slots.flatMap((l) => (l?.ready && l.child.pid !== undefined ? [l.child.pid] : [])),
    async close() {
      closing = true;
      server.close();
      await Promise.all(
        slots.map(
          (l) =>
            l &&
            new Promise<void>((resolve) => {
              const { child } = l;
              if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return resolve();
              child.once('exit', () => resolve());
              post(child, { t: 'shutdown' });
              setTimeout(() => child.kill('SIGKILL'), 3000).unref();
            }),
        ),
      );
    },
  };
}
