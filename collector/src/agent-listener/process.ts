import * as https from 'node:https';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { parseMessage } from '@vigie/shared';
import { parseFrameBytes, withoutFacts, type FrameDone } from '../ingest/frame-parser';
import type { FromListener, ToListener } from './protocol';

interface Held {
  ws: WebSocket;
  socket: Socket;
  expectedFactsHash?: string;
  /** This connection's frames relayed but not yet written to the collector's channel. */
  inFlightBytes: number;
  paused: boolean;
  pauseAtBytes: number;
  resumeAtBytes: number;
}

export interface ListenerLimits {
  /** Frames in flight to the collector above which every connection stops being read, and below which they are read again. */
  pauseAboveBytes: number;
  resumeBelowBytes: number;
  /** From the TLS handshake's start to the WebSocket upgrade, twice at most (the handshake, then the upgrade). */
  upgradeDeadlineMs: number;
}

const DEFAULT_LIMITS: ListenerLimits = { pauseAboveBytes: 64 * 1024 * 1024, resumeBelowBytes: 16 * 1024 * 1024, upgradeDeadlineMs: 20_000 };

/**
 * An agent listener process: it holds agent WebSockets (TLS, WebSocket framing,
 * heartbeats) for the collector, and parses their frames as the collector's
 * frame-parsing workers would; the collector runs the sessions. Each process has its own
 * open-files limit, so a fleet bigger than one process's limit spreads over several.
 * The collector accepts the TCP connections and hands each socket over (pool.ts).
 */
export function runAgentListener(channel: NodeJS.Process, limits: ListenerLimits = DEFAULT_LIMITS): void {
  const send = (message: FromListener) => channel.send?.(message);
  const connections = new Map<number, Held>();
  // Frames relayed but not yet written to the collector's channel. When the collector falls behind
  // (a flood of big frames), the listener stops reading rather than buffer without bound: TCP then
  // pushes back on the agents, as a busy collector's own port would. One connection with too much in
  // flight is paused alone (the others go on); all are when the listener's total is too high.
  let inFlightBytes = 0;
  let pausedAll = false;
  const reading = (held: Held) => !pausedAll && !held.paused;
  const relayFrame = (held: Held, message: Extract<FromListener, { t: 'frame' }>, bytes: number) => {
    inFlightBytes += bytes;
    held.inFlightBytes += bytes;
    channel.send?.(message, undefined, undefined, () => {
      inFlightBytes -= bytes;
      held.inFlightBytes -= bytes;
      if (held.paused && held.inFlightBytes <= held.resumeAtBytes) {
        held.paused = false;
        if (reading(held)) held.ws.resume();
      }
      if (pausedAll && inFlightBytes < limits.resumeBelowBytes) {
        pausedAll = false;
        for (const other of connections.values()) if (reading(other)) other.ws.resume();
      }
    });
    if (!held.paused && held.inFlightBytes > held.pauseAtBytes) {
      held.paused = true;
      held.ws.pause();
    }
    if (!pausedAll && inFlightBytes > limits.pauseAboveBytes) {
      pausedAll = true;
      for (const other of connections.values()) other.ws.pause();
    }
  };
  let shuttingDown = false;
  let nextId = 1;
  let server: https.Server | null = null;
  let agentWss: WebSocketServer | null = null;

  function init(config: Extract<ToListener, { t: 'init' }>): void {
    server = https.createServer({ cert: config.certPem, key: config.keyPem, minVersion: 'TLSv1.2', handshakeTimeout: limits.upgradeDeadlineMs }, (_req, res) => {
      // Only agents come to this port; the console and its API are on the collector's own.
      res.writeHead(404, { 'content-type': 'text/plain' }).end('this port serves agents only (/agent)\n');
    });
    // Node's own header and request timeouts start only on a server that listens, which this one never
    // does (it is handed its sockets): a connection that does not upgrade in time is cut here instead.
    const upgradeDeadlines = new WeakMap<Socket, NodeJS.Timeout>();
    server.on('secureConnection', (tlsSocket: Socket) => {
      const deadline = setTimeout(() => tlsSocket.destroy(), limits.upgradeDeadlineMs);
      upgradeDeadlines.set(tlsSocket, deadline);
      tlsSocket.once('close', () => clearTimeout(deadline));
    });
    server.on('tlsClientError', (_err, socket) => socket.destroy());
    const wss = new WebSocketServer({ noServer: true, maxPayload: config.maxPayload, perMessageDeflate: false });
    agentWss = wss;
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      clearTimeout(upgradeDeadlines.get(req.socket));
      socket.on('error', () => socket.destroy());
      if ((req.url ?? '').split('?')[0] !== '/agent') return void socket.destroy();
      wss.handleUpgrade(req, socket, head, (ws) => adopt(ws, req.socket));
    });

    const alive = new WeakMap<WebSocket, boolean>();
    function adopt(ws: WebSocket, socket: Socket): void {
      const id = nextId++;
      // Room for two of the biggest frames in flight, so one big report does not stall the next.
      const held: Held = { ws, socket, inFlightBytes: 0, paused: false, pauseAtBytes: 2 * config.maxFrameBytes, resumeAtBytes: config.maxFrameBytes };
      connections.set(id, held);
      alive.set(ws, true);
      ws.on('pong', () => alive.set(ws, true));
      ws.on('error', () => undefined);
      if (pausedAll) ws.pause();
      ws.on('message', (data, binary) => {
        const done = parse(data, binary, config.maxFrameBytes, held.expectedFactsHash);
        relayFrame(held, { t: 'frame', c: id, done: done.frame }, done.bytes);
      });
      ws.on('close', () => {
        connections.delete(id);
        send({ t: 'closed', c: id });
        if (shuttingDown && connections.size === 0) process.exit(0);
      });
      send({ t: 'open', c: id, ip: socket.remoteAddress ?? null });
    }

    // Same heartbeat as the collector's own port: a socket that missed a pong since the last round is ended.
    setInterval(() => {
      // Paused sockets cannot read their pongs: a round missed while the collector is behind proves nothing.
      if (pausedAll) return;
      for (const ws of wss.clients) {
        if (ws.isPaused) continue;
        if (alive.get(ws) === false) {
          ws.terminate();
          continue;
        }
        alive.set(ws, false);
        ws.ping();
      }
    }, config.heartbeatMs).unref();
    send({ t: 'ready' });
  }

  channel.on('message', (message: ToListener, handle?: Socket) => {
    switch (message.t) {
      case 'init':
        return init(message);
      case 'socket':
        send({ t: 'took' });
        if (!handle) return;
        if (!server) return void handle.destroy();
        // The TLS server wraps the socket as if it had accepted it.
        server.emit('connection', handle);
        handle.resume();
        return;
      case 'send': {
        const connection = connections.get(message.c);
        if (!connection || connection.ws.readyState !== connection.ws.OPEN) return;
        connection.socket.cork();
        for (const frame of message.frames) connection.ws.send(frame);
        connection.socket.uncork();
        return;
      }
      case 'expect': {
        const connection = connections.get(message.c);
        if (connection) connection.expectedFactsHash = message.hash;
        return;
      }
      case 'close':
        connections.get(message.c)?.ws.close(message.code, message.reason);
        return;
      case 'shutdown': {
        shuttingDown = true;
        for (const { ws } of connections.values()) ws.close(1001, 'collector shutting down');
        server?.close();
        // Sockets that do not answer the close handshake are cut after a moment.
        setTimeout(() => {
          for (const ws of agentWss?.clients ?? []) ws.terminate();
          process.exit(0);
        }, 1000).unref();
        if (connections.size === 0) process.exit(0);
        return;
      }
    }
  });
  // The collector gone, nothing here can be handled: end with it.
  channel.on('disconnect', () => process.exit(0));
}

/** What a frame-parsing worker does with a frame (frame-worker.ts), binary frames refused with the same typed error. */
function parse(data: RawData, binary: boolean, maxFrameBytes: number, storedFactsHash: string | undefined): { frame: Omit<FrameDone, 'id'>; bytes: number } {
  const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
  if (binary) return { frame: { result: parseMessage(undefined, maxFrameBytes), canonical: null }, bytes: bytes.byteLength };
  try {
    const done = withoutFacts({ id: 0, ...parseFrameBytes(bytes, maxFrameBytes, true, storedFactsHash) });
    return { frame: { result: done.result, canonical: done.canonical }, bytes: bytes.byteLength };
  } catch (e) {
    // A parser bug must cost this frame, not every connection the listener holds.
    return { frame: { result: { ok: false, error: { code: 'malformed', message: `the collector could not parse this frame: ${(e as Error).message}` } }, canonical: null }, bytes: bytes.byteLength };
  }
}

if (require.main === module) runAgentListener(process);
