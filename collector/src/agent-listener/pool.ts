import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as net from 'node:net';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { RawData } from 'ws';
import type { AgentConnection } from '../ingest/agent-connection';
import type { FromListener, ToListener } from './protocol';

export interface AgentListenerOptions {
  /** How many listener processes hold the agents' connections. */
  processes: number;
  host: string;
  /** 0 picks a free port (tests). */
  port: number;
  tls: { certPem: string; keyPem: string };
  /** ws's frame limit, as on the collector's own port. */
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

/** A listener that exits is started again, unless it crashes this often. */
const MAX_RESTARTS_PER_MINUTE = 5;

/** An agent WebSocket held by a listener process: sends and closes go to it, its frames come from it. */
class RelayedConnection implements AgentConnection {
  open = true;
  private messageListeners: ((data: RawData, isBinary: boolean) => void)[] = [];
  private closeListeners: (() => void)[] = [];

  constructor(
    private readonly child: ChildProcess,
    private readonly id: number,
  ) {}

  onMessage(listener: (data: RawData, isBinary: boolean) => void): void {
    this.messageListeners.push(listener);
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

  deliver(data: Buffer, isBinary: boolean): void {
    if (this.open) for (const listener of this.messageListeners) listener(data, isBinary);
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
  const slots: (ChildProcess | null)[] = [];
  const ready = new Set<ChildProcess>();
  const restarts: number[] = [];
  let turn = 0;
  let closing = false;

  function spawn(slot: number): ChildProcess {
    const child = fork(script, [], { serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const connections = new Map<number, RelayedConnection>();
    child.on('message', (message: FromListener) => {
      switch (message.t) {
        case 'ready':
          ready.add(child);
          return;
        case 'open': {
          const connection = new RelayedConnection(child, message.c);
          connections.set(message.c, connection);
          options.onConnection(connection, message.ip);
          return;
        }
        case 'frame':
          connections.get(message.c)?.deliver(message.data, message.binary);
          return;
        case 'closed':
          connections.get(message.c)?.closed();
          connections.delete(message.c);
      }
    });
    child.on('error', (err) => logger.error({ err, pid: child.pid }, 'agent listener process error'));
    child.on('exit', (code, signal) => {
      ready.delete(child);
      // Its sockets died with it: the agents reconnect, and their outboxes resend what was not acked.
      for (const connection of connections.values()) connection.closed();
      connections.clear();
      if (closing) return;
      slots[slot] = null;
      const now = Date.now();
      while (restarts.length > 0 && (restarts[0] as number) < now - 60_000) restarts.shift();
      if (restarts.length >= MAX_RESTARTS_PER_MINUTE) {
        logger.error({ code, signal, slot }, 'agent listener process exited; too many restarts in a minute, not restarting it');
        return;
      }
      restarts.push(now);
      logger.error({ code, signal, slot }, 'agent listener process exited; restarting it');
      slots[slot] = spawn(slot);
    });
    post(child, { t: 'init', certPem: options.tls.certPem, keyPem: options.tls.keyPem, maxPayload: options.maxPayload, heartbeatMs: options.heartbeatMs });
    return child;
  }

  for (let i = 0; i < options.processes; i++) slots.push(spawn(i));
  // Every listener ready before the port opens, so the first agents are not refused.
  await new Promise<void>((resolve, reject) => {
    const check = setInterval(() => {
      if (ready.size === options.processes) {
        clearInterval(check);
        resolve();
      } else if (slots.every((s) => s === null)) {
        clearInterval(check);
        reject(new Error('the agent listener processes could not start'));
      }
    }, 10);
  });

  const server = net.createServer({ pauseOnConnect: true }, (socket) => {
    const live = slots.filter((c): c is ChildProcess => c !== null && ready.has(c));
    const child = live[turn++ % Math.max(1, live.length)];
    if (!child?.connected) return void socket.destroy();
    // Sent, the socket is closed here: its descriptor now lives in the listener only.
    child.send({ t: 'socket' } satisfies ToListener, socket, (err) => err && socket.destroy());
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
    for (const child of slots) child?.kill();
    throw new Error(`cannot listen for agents on ${options.host}:${options.port}: ${(e as Error).message}`);
  });

  return {
    port: (server.address() as net.AddressInfo).port,
    pids: () => slots.flatMap((c) => (c && ready.has(c) && c.pid !== undefined ? [c.pid] : [])),
    async close() {
      closing = true;
      server.close();
      await Promise.all(
        slots.map(
          (child) =>
            child &&
            new Promise<void>((resolve) => {
              if (child.exitCode !== null || child.signalCode !== null) return resolve();
              child.once('exit', () => resolve());
              post(child, { t: 'shutdown' });
              setTimeout(() => child.kill('SIGKILL'), 3000).unref();
            }),
        ),
      );
    },
  };
}
