import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import {
  applyDelta,
  encodeMessage,
  factsHash,
  parseMessage,
  type ErrorCode,
  type Facts,
  type Message,
  type ReportMessage,
  type UsbEventMessage,
} from '@vigie/shared';

export interface FakeCollectorOptions {
  /** PEM chain served: leaf first, then the CA, as the real collector is expected to. */
  cert: string;
  key: string;
  token?: string;
  deviceId?: string;
  org?: string;
  secret?: string;
  capabilities?: string[];
  intervalSeconds?: number;
}

/**
 * An in-test collector speaking the /agent protocol over real TLS: validates
 * frames, dedupes reports by reportId, applies deltas on their base hash (and
 * asks for a full report when the base is unknown), acks with its factsHash.
 */
export class FakeCollector {
  port = 0;
  /** Reports stored, once each, in arrival order. */
  readonly stored: ReportMessage[] = [];
  readonly events: UsbEventMessage[] = [];
  /** Every valid frame received, resends included. */
  readonly received: Message[] = [];
  readonly duplicates: string[] = [];
  connections = 0;
  facts: Facts | undefined;
  /** Answer the hello with this error instead of a config. */
  helloError: ErrorCode | undefined;
  /** Close the connection without an ack right after storing this many more reports (a crash mid-flight). */
  dropAfterStoring: number | undefined;
  private readonly seen = new Set<string>();
  private server: https.Server | undefined;
  private wss: WebSocketServer | undefined;
  private readonly sockets = new Set<WebSocket>();

  constructor(private readonly options: FakeCollectorOptions) {}

  get token(): string {
    return this.options.token ?? 'token-0123456789abcdef';
  }

  get url(): string {
    return `wss://127.0.0.1:${this.port}`;
  }

  async start(port = this.port): Promise<void> {
    const server = https.createServer({ cert: this.options.cert, key: this.options.key, minVersion: 'TLSv1.2' });
    const wss = new WebSocketServer({ noServer: true });
    server.on('upgrade', (req, socket, head) => {
      if (req.url !== '/agent') {
        socket.destroy();
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => this.onConnection(ws));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
    this.wss = wss;
  }

  /** Stops abruptly, as a crash would: sockets are destroyed, nothing is acked. */
  async stop(): Promise<void> {
    for (const ws of this.sockets) ws.terminate();
    this.sockets.clear();
    this.wss?.close();
    const server = this.server;
    this.server = undefined;
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }

  /** Forgets this device's facts, as a collector restored from an old backup would. */
  forgetFacts(): void {
    this.facts = undefined;
  }

  send(msg: Message): void {
    for (const ws of this.sockets) ws.send(encodeMessage(msg));
  }

  /** Stops reading from every connection: pings go unanswered, like a dead network path. */
  freeze(): void {
    for (const ws of this.sockets) (ws as unknown as { _socket: { pause(): void } })._socket.pause();
  }

  private onConnection(ws: WebSocket): void {
    this.connections += 1;
    this.sockets.add(ws);
    ws.on('close', () => this.sockets.delete(ws));
    let authenticated = false;
    ws.on('message', (data) => {
      const parsed = parseMessage(data.toString());
      if (!parsed.ok) {
        ws.send(encodeMessage({ type: 'error', code: parsed.error.code, message: parsed.error.message }));
        return;
      }
      const msg = parsed.message;
      this.received.push(msg);
      const error = (code: ErrorCode, message: string, id?: string) =>
        ws.send(encodeMessage({ type: 'error', code, message, ...(id ? { id } : {}) }));
      switch (msg.type) {
        case 'hello':
          if (msg.token === undefined) return; // an enrolment follows
          if (this.helloError) {
            error(this.helloError, 'refused by test');
            ws.close();
            return;
          }
          if (msg.token !== this.token) {
            error('unknown-device', 'unknown token');
            ws.close();
            return;
          }
          authenticated = true;
          ws.send(
            encodeMessage({
              type: 'config',
              intervalSeconds: this.options.intervalSeconds ?? 900,
              policyVersion: 'test-1',
              capabilities: this.options.capabilities ?? ['delta-reports', 'usb-events', 'rescan'],
              remediation: {},
            }),
          );
          return;
        case 'enroll':
          if (msg.secret !== (this.options.secret ?? 'secret-0123456789')) {
            error('bad-secret', 'unknown enrolment secret');
            return;
          }
          ws.send(
            encodeMessage({ type: 'enrolled', deviceId: this.options.deviceId ?? 'dev-1', org: this.options.org ?? 'acme', token: this.token }),
          );
          return;
        case 'report':
          if (!authenticated) return error('unauthenticated', 'hello first');
          return this.onReport(ws, msg, error);
        case 'usb-event':
          if (!authenticated) return error('unauthenticated', 'hello first');
          if (!this.seen.has(msg.eventId)) {
            this.seen.add(msg.eventId);
            this.events.push(msg);
          }
          ws.send(encodeMessage({ type: 'ack', id: msg.eventId, status: 'stored' }));
          return;
        default:
          return error('schema', `unexpected ${msg.type}`);
      }
    });
  }

  private onReport(ws: WebSocket, msg: ReportMessage, error: (code: ErrorCode, message: string, id?: string) => void): void {
    if (this.seen.has(msg.reportId)) {
      this.duplicates.push(msg.reportId);
      ws.send(encodeMessage({ type: 'ack', id: msg.reportId, status: 'duplicate', ...(this.facts ? { factsHash: factsHash(this.facts) } : {}) }));
      return;
    }
    if (msg.body.kind === 'full') this.facts = msg.body.facts;
    else {
      if (!this.facts || factsHash(this.facts) !== msg.body.baseHash) {
        error('need-full-report', 'unknown base', msg.reportId);
        return;
      }
      this.facts = applyDelta(this.facts, msg.body.sections);
    }
    this.seen.add(msg.reportId);
    this.stored.push(msg);
    if (this.dropAfterStoring !== undefined && --this.dropAfterStoring <= 0) {
      this.dropAfterStoring = undefined;
      ws.terminate();
      return;
    }
    ws.send(encodeMessage({ type: 'ack', id: msg.reportId, status: 'stored', factsHash: factsHash(this.facts) }));
  }
}

/** Resolves when `predicate` holds, polling; rejects after `timeoutMs`. */
export async function waitFor(predicate: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const start = Date.now();
  while (!predicate()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
