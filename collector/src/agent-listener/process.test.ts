import { EventEmitter } from 'node:events';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { WebSocket } from 'ws';
import { testTls, until } from '../testing/harness';
import { runAgentListener, type ListenerLimits } from './process';
import type { FromListener, ToListener } from './protocol';

/** The listener's side of the collector's channel, with the collector's reads held back on demand. */
class FakeChannel extends EventEmitter {
  readonly frames: Extract<FromListener, { t: 'frame' }>['done'][] = [];
  readonly held: (() => void)[] = [];
  hold = false;
  send(message: FromListener, _handle: unknown, _options: unknown, callback?: () => void): boolean {
    if (message.t === 'frame') this.frames.push(message.done);
    if (callback && this.hold) this.held.push(callback);
    else if (callback) setImmediate(callback);
    return true;
  }
}

/** A listener on a fake channel, and the collector's side: a TCP port whose sockets are handed to it. */
async function startListener(limits: ListenerLimits, maxFrameBytes = 1024 * 1024): Promise<{ channel: FakeChannel; port: number; server: net.Server }> {
  const channel = new FakeChannel();
  runAgentListener(channel as unknown as NodeJS.Process, limits);
  const tls = testTls();
  channel.emit('message', { t: 'init', certPem: tls.certPem, keyPem: tls.keyPem, maxFrameBytes, maxPayload: maxFrameBytes + 65_536, heartbeatMs: 60_000 } satisfies ToListener);
  const server = net.createServer({ pauseOnConnect: true }, (socket) => channel.emit('message', { t: 'socket' } satisfies ToListener, socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { channel, port: (server.address() as net.AddressInfo).port, server };
}

describe('agent listener process', () => {
  it('cuts connections that do not upgrade in time: silent before or after the TLS handshake, or stuck in the request', async () => {
    const { port, server } = await startListener({ pauseAboveBytes: 1e9, resumeBelowBytes: 1e8, upgradeDeadlineMs: 300 });
    try {
      const closed = (socket: net.Socket | tls.TLSSocket) => new Promise<number>((resolve) => socket.once('close', () => resolve(Date.now())));
      const started = Date.now();
      const silentTcp = net.connect(port, '127.0.0.1');
      const silentTls = tls.connect({ port, host: '127.0.0.1', ca: testTls().caCertPem, servername: 'localhost' });
      const stuck = tls.connect({ port, host: '127.0.0.1', ca: testTls().caCertPem, servername: 'localhost' }, () => stuck.write('GET /agent HTTP/1.1\r\nHost: x\r\n'));
      for (const s of [silentTcp, silentTls, stuck]) s.on('error', () => undefined);
      const ends = await Promise.all([closed(silentTcp), closed(silentTls), closed(stuck)]);
      // Cut by the deadline (twice at most: the handshake, then the upgrade), not by a test timeout.
      for (const end of ends) expect(end - started).toBeLessThan(3000);
    } finally {
      server.close();
    }
  });

  it('stops reading its agents while the collector has not taken what it relayed, and goes on after', async () => {
    const { channel, port, server } = await startListener({ pauseAboveBytes: 200_000, resumeBelowBytes: 50_000, upgradeDeadlineMs: 20_000 });
    const ws = new WebSocket(`wss://127.0.0.1:${port}/agent`, { ca: testTls().caCertPem });
    try {
      await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));

      channel.hold = true;
      // Valid agent messages (errors it reports), padded with JSON whitespace to 50 KB each.
      for (let i = 0; i < 40; i++) ws.send(JSON.stringify({ type: 'error', code: 'internal', message: `frame ${i}` }) + ' '.repeat(50_000));
      // Past 200 KB in flight, nothing more is read: far fewer than the 40 frames reach the channel.
      await until(() => channel.frames.length >= 4);
      await new Promise((r) => setTimeout(r, 300));
      const whilePaused = channel.frames.length;
      expect(whilePaused).toBeLessThan(10);

      // The collector catches up: the rest arrives, parsed, in order.
      channel.hold = false;
      for (const release of channel.held.splice(0)) release();
      await until(() => channel.frames.length === 40);
      expect(channel.frames.map((f) => (f.result.ok && f.result.message.type === 'error' ? f.result.message.message : f.result))).toEqual(Array.from({ length: 40 }, (_, i) => `frame ${i}`));
    } finally {
      ws.terminate();
      server.close();
    }
  });

  it('pauses only the connection that has too much in flight; the others go on', async () => {
    // Two 60 KB frames in flight at most per connection; the listener's total is not the limit here.
    const { channel, port, server } = await startListener({ pauseAboveBytes: 1e9, resumeBelowBytes: 1e8, upgradeDeadlineMs: 20_000 }, 60_000);
    const open = (ws: WebSocket) => new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    const busy = new WebSocket(`wss://127.0.0.1:${port}/agent`, { ca: testTls().caCertPem });
    const quiet = new WebSocket(`wss://127.0.0.1:${port}/agent`, { ca: testTls().caCertPem });
    try {
      await Promise.all([open(busy), open(quiet)]);
      channel.hold = true;
      const frame = (text: string) => JSON.stringify({ type: 'error', code: 'internal', message: text }) + ' '.repeat(50_000);
      for (let i = 0; i < 20; i++) busy.send(frame(`busy ${i}`));
      await until(() => channel.frames.length >= 3);
      await new Promise((r) => setTimeout(r, 200));
      const busyRelayed = channel.frames.length;
      expect(busyRelayed).toBeLessThan(8);
      for (let i = 0; i < 2; i++) quiet.send(frame(`quiet ${i}`));
      await until(() => channel.frames.length === busyRelayed + 2);
      const texts = channel.frames.map((f) => (f.result.ok && f.result.message.type === 'error' ? f.result.message.message : ''));
      expect(texts.slice(-2)).toEqual(['quiet 0', 'quiet 1']);
    } finally {
      busy.terminate();
      quiet.terminate();
      server.close();
    }
  });
});
