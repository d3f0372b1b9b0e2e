import { EventEmitter } from 'node:events';
import * as net from 'node:net';
import { WebSocket } from 'ws';
import { testTls } from '../testing/harness';
import { runAgentListener } from './process';
import type { FromListener, ToListener } from './protocol';

/** The listener's side of the collector's channel, with the collector's reads held back on demand. */
class FakeChannel extends EventEmitter {
  readonly frames: Buffer[] = [];
  readonly held: (() => void)[] = [];
  hold = false;
  send(message: FromListener, _handle: unknown, _options: unknown, callback?: () => void): boolean {
    if (message.t === 'frame') this.frames.push(message.data);
    if (callback && this.hold) this.held.push(callback);
    else if (callback) setImmediate(callback);
    return true;
  }
}

async function until(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('agent listener process', () => {
  it('stops reading its agents while the collector has not taken what it relayed, and goes on after', async () => {
    const channel = new FakeChannel();
    runAgentListener(channel as unknown as NodeJS.Process, { pauseAboveBytes: 200_000, resumeBelowBytes: 50_000 });
    const tls = testTls();
    channel.emit('message', { t: 'init', certPem: tls.certPem, keyPem: tls.keyPem, maxPayload: 1024 * 1024, heartbeatMs: 60_000 } satisfies ToListener);
    // The collector's side: it accepts TCP and hands each socket over.
    const server = net.createServer({ pauseOnConnect: true }, (socket) => channel.emit('message', { t: 'socket' } satisfies ToListener, socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    const ws = new WebSocket(`wss://127.0.0.1:${port}/agent`, { ca: tls.caCertPem });
    try {
      await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));

      channel.hold = true;
      const frame = 'x'.repeat(50_000);
      for (let i = 0; i < 40; i++) ws.send(frame);
      // Past 200 KB in flight, nothing more is read: far fewer than the 40 frames reach the channel.
      await until(() => channel.frames.length >= 5);
      await new Promise((r) => setTimeout(r, 300));
      const whilePaused = channel.frames.length;
      expect(whilePaused).toBeLessThan(10);

      // The collector catches up: the rest arrives, in full and in order.
      channel.hold = false;
      for (const release of channel.held.splice(0)) release();
      await until(() => channel.frames.length === 40);
      expect(channel.frames.every((f) => f.toString() === frame)).toBe(true);
    } finally {
      ws.terminate();
      server.close();
    }
  });
});
