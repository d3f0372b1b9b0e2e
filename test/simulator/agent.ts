/**
 * A simulated agent: speaks the real protocol over a real WSS connection, with
 * generated facts. Used by the collector benchmark, the demo fleet and the
 * console's end-to-end test.
 */
import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import {
  PROTOCOL_VERSION,
  changedSections,
  encodeMessage,
  facts as factsSchema,
  parseMessage,
  type Facts,
  type Message,
} from '@vigie/shared';

export interface SimulatedAgentOptions {
  /** wss://host:port */
  server: string;
  machineId: string;
  os: 'windows' | 'macos' | 'linux';
  token?: string;
  /** PEM of the collector's CA; without it, the certificate is not checked (local benchmarks only). */
  ca?: string;
  /** The local address to connect from: one source address has only ~28,000 ports towards one server port. */
  localAddress?: string;
}

type Waiter = { match: (m: Message) => boolean; resolve: (m: Message) => void; reject: (e: Error) => void };

const factsTexts = new WeakMap<Facts, string>();

export class SimulatedAgent {
  private ws: WebSocket | null = null;
  private waiters: Waiter[] = [];
  private seq = 0;
  token: string | undefined;
  /** The id the collector gave this device at enrolment; the machine id until then. */
  deviceId: string;
  lastFacts: Facts | null = null;
  lastHash: string | null = null;
  received: Message[] = [];
  /** Keep every message received (tests); off for benchmarks, to keep memory per connection honest. */
  keepReceived = false;

  constructor(private readonly options: SimulatedAgentOptions) {
    this.token = options.token;
    this.deviceId = options.machineId;
  }

  async connect(): Promise<void> {
    const ws = new WebSocket(`${this.options.server}/agent`, {
      ca: this.options.ca,
      rejectUnauthorized: this.options.ca !== undefined,
      minVersion: 'TLSv1.2',
      perMessageDeflate: false,
      ...(this.options.localAddress ? { localAddress: this.options.localAddress } : {}),
    });
    this.ws = ws;
    ws.on('message', (data) => this.onFrame(data.toString()));
    ws.on('close', () => this.failAll(new Error('connection closed')));
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    ws.on('error', (e) => this.failAll(e));
  }

  private onFrame(frame: string): void {
    const parsed = parseMessage(frame);
    if (!parsed.ok) return;
    if (this.keepReceived) this.received.push(parsed.message);
    const i = this.waiters.findIndex((w) => w.match(parsed.message));
    if (i >= 0) {
      const [w] = this.waiters.splice(i, 1);
      w?.resolve(parsed.message);
    }
  }

  private failAll(e: Error): void {
    const ws = this.waiters;
    this.waiters = [];
    for (const w of ws) w.reject(e);
  }

  waitFor(match: (m: Message) => boolean, timeoutMs = 30_000): Promise<Message> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error('timed out waiting for the collector'));
      }, timeoutMs);
      const waiter: Waiter = {
        match,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      this.waiters.push(waiter);
    });
  }

  send(message: Message): void {
    this.ws?.send(encodeMessage(message));
  }

  /**
   * A report, with a full report's facts serialised once per facts object: the simulator shares
   * the collector's cores in a benchmark, and re-serialising the same 45 KB each time would take
   * CPU the collector could use.
   */
  private sendReport(message: Extract<Message, { type: 'report' }>): void {
    if (message.body.kind !== 'full') return this.send(message);
    let factsText = factsTexts.get(message.body.facts);
    if (factsText === undefined) {
      // Through the facts schema, as the agent's scan validates each section (agent/src/scan.ts): the
      // text then has the schemas' key order, as a real agent's report does.
      factsText = JSON.stringify(factsSchema.parse(message.body.facts));
      factsTexts.set(message.body.facts, factsText);
    }
    const { body: _body, ...head } = message;
    this.ws?.send(`${JSON.stringify(head).slice(0, -1)},"body":{"kind":"full","facts":${factsText}}}`);
  }

  hello(): void {
    this.send({ type: 'hello', protocolVersion: PROTOCOL_VERSION, agentVersion: 'simulator', capabilities: ['delta-reports', 'usb-events'], deviceId: this.deviceId, os: this.options.os, ...(this.token ? { token: this.token } : {}) });
  }

  /** Enrols with a secret; the token is kept on this object. Closes the connection afterwards. */
  async enroll(secret: string, device: Extract<Facts['device'], { machineId: string }>): Promise<string> {
    await this.connect();
    this.hello();
    this.send({ type: 'enroll', secret, device });
    const reply = await this.waitFor((m) => m.type === 'enrolled' || m.type === 'error');
    this.close();
    if (reply.type !== 'enrolled') throw new Error(`enrolment refused: ${reply.type === 'error' ? `${reply.code} ${reply.message}` : reply.type}`);
    this.token = reply.token;
    this.deviceId = reply.deviceId;
    return reply.token;
  }

  /** Connects with the token and waits for the collector's config. */
  async start(): Promise<void> {
    await this.connect();
    const config = this.waitFor((m) => m.type === 'config' || m.type === 'error');
    this.hello();
    const reply = await config;
    if (reply.type === 'error') throw new Error(`hello refused: ${reply.code} ${reply.message}`);
  }

  /** Sends a report (a delta against the last acknowledged facts when possible) and resolves with the ack. */
  async report(facts: Facts, options: { full?: boolean } = {}): Promise<Message> {
    const reportId = randomUUID();
    const useDelta = !options.full && this.lastFacts !== null && this.lastHash !== null;
    const body = useDelta
      ? { kind: 'delta' as const, baseHash: this.lastHash as string, sections: changedSections(this.lastFacts as Facts, facts) }
      : { kind: 'full' as const, facts };
    const answer = this.waitFor((m) => (m.type === 'ack' && m.id === reportId) || (m.type === 'error' && m.id === reportId));
    this.sendReport({ type: 'report', reportId, seq: this.seq++, collectedAt: new Date().toISOString(), body, dropped: 0 });
    const reply = await answer;
    if (reply.type === 'ack') {
      this.lastFacts = facts;
      this.lastHash = reply.factsHash ?? null;
    } else if (reply.type === 'error' && reply.code === 'need-full-report') {
      this.lastFacts = null;
      return this.report(facts, { full: true });
    }
    return reply;
  }

  /** Whether the connection is open (the collector has not closed it). */
  get open(): boolean {
    return this.ws?.readyState === WebSocket.OPEN;
  }

  /** Calls `listener` on each ping from the collector's heartbeat. */
  onPing(listener: () => void): void {
    this.ws?.on('ping', listener);
  }

  close(): void {
    this.ws?.close();
    this.ws = null;
  }
}
