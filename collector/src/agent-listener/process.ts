import * as https from 'node:https';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { FromListener, ToListener } from './protocol';

/**
 * An agent listener process: it holds agent WebSockets (TLS, WebSocket framing,
 * heartbeats) for the collector, which runs the sessions. Each process has its own
 * open-files limit, so a fleet bigger than one process's limit spreads over several.
 * The collector accepts the TCP connections and hands each socket over (pool.ts).
 */
export function runAgentListener(channel: NodeJS.Process, limits = { pauseAboveBytes: 64 * 1024 * 1024, resumeBelowBytes: 16 * 1024 * 1024 }): void {
  const send = (message: FromListener) => channel.send?.(message);
  const connections = new Map<number, { ws: WebSocket; socket: Socket }>();
  // Frames relayed but not yet written to the collector's channel. When the collector falls behind
  // (a flood of big frames), the listener stops reading its sockets rather than buffer without bound:
  // TCP then pushes back on the agents, as a busy collector's own port would.
  let inFlightBytes = 0;
  let paused = false;
  const relayFrame = (message: Extract<FromListener, { t: 'frame' }>) => {
    const bytes = message.data.byteLength;
    inFlightBytes += bytes;
    channel.send?.(message, undefined, undefined, () => {
      inFlightBytes -= bytes;
      if (paused && inFlightBytes < limits.resumeBelowBytes) {
        paused = false;
        for (const { ws } of connections.values()) ws.resume();
      }
    });
    if (!paused && inFlightBytes > limits.pauseAboveBytes) {
      paused = true;
      for (const { ws } of connections.values()) ws.pause();
    }
  };
  let shuttingDown = false;
  let nextId = 1;
  let server: https.Server | null = null;
  let agentWss: WebSocketServer | null = null;

  function init(config: Extract<ToListener, { t: 'init' }>): void {
    server = https.createServer({ cert: config.certPem, key: config.keyPem, minVersion: 'TLSv1.2' }, (_req, res) => {
      // Only agents come to this port; the console and its API are on the collector's own.
      res.writeHead(404, { 'content-type': 'text/plain' }).end('this port serves agents only (/agent)\n');
    });
    server.headersTimeout = 20_000;
    server.requestTimeout = 60_000;
    server.on('tlsClientError', (_err, socket) => socket.destroy());
    const wss = new WebSocketServer({ noServer: true, maxPayload: config.maxPayload, perMessageDeflate: false });
    agentWss = wss;
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      socket.on('error', () => socket.destroy());
      if ((req.url ?? '').split('?')[0] !== '/agent') return void socket.destroy();
      wss.handleUpgrade(req, socket, head, (ws) => adopt(ws, req.socket));
    });

    const alive = new WeakMap<WebSocket, boolean>();
    function adopt(ws: WebSocket, socket: Socket): void {
      const id = nextId++;
      connections.set(id, { ws, socket });
      alive.set(ws, true);
      ws.on('pong', () => alive.set(ws, true));
      ws.on('error', () => undefined);
      if (paused) ws.pause();
      ws.on('message', (data, binary) => relayFrame({ t: 'frame', c: id, data: Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data), binary }));
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
      if (paused) return;
      for (const ws of wss.clients) {
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

if (require.main === module) runAgentListener(process);
