import { WebSocket } from 'ws';
import { PROTOCOL_VERSION, type Message } from '@vigie/shared';

/**
 * A minimal agent for tests: a real WSS connection that verifies the collector's
 * certificate against its CA, and a queue of the messages received.
 */
export class TestAgent {
  private readonly inbox: unknown[] = [];
  private waiters: ((m: unknown) => void)[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const msg = JSON.parse(String(data)) as unknown;
      const waiter = this.waiters.shift();
      if (waiter) waiter(msg);
      else this.inbox.push(msg);
    });
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  }

  static connect(url: string, ca: string, path = '/agent'): Promise<TestAgent> {
    const ws = new WebSocket(`${url.replace(/^https/, 'wss')}${path}`, { ca });
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(new TestAgent(ws)));
      ws.once('error', reject);
    });
  }

  send(message: Message | Record<string, unknown> | string): void {
    this.ws.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  /** The next message, or a rejection after `timeoutMs`. */
  next<T = Message>(timeoutMs = 3000): Promise<T> {
    const queued = this.inbox.shift();
    if (queued !== undefined) return Promise.resolve(queued as T);
    return new Promise<T>((resolve, reject) => {
      const waiter = (m: unknown) => {
        clearTimeout(timer);
        resolve(m as T);
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error('no message from the collector in time'));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /** Reads messages until the ack (or error) for this report or event id; the status messages in between are skipped. */
  async answerTo(id: string, timeoutMs = 3000): Promise<Message> {
    for (;;) {
      const m = await this.next<Message>(timeoutMs);
      if ((m.type === 'ack' && m.id === id) || (m.type === 'error' && m.id === id)) return m;
    }
  }

  hello(deviceId: string, token?: string, extra: Record<string, unknown> = {}): void {
    this.send({ type: 'hello', protocolVersion: PROTOCOL_VERSION, agentVersion: '0.1.0-test', capabilities: ['delta-reports', 'usb-events', 'telepathy'], deviceId, os: 'linux', ...(token ? { token } : {}), ...extra });
  }

  close(): void {
    this.ws.close();
  }
}
