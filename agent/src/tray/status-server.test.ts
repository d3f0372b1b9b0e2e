import { spawn } from 'node:child_process';
import { chmod, lstat, mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fail, stateWith } from './__fixtures__/state';
import { StatusClient } from './client';
import type { TrayState } from './state';
import { startStatusServer, type StatusServer } from './status-server';

const posix = process.platform !== 'win32';
const isRoot = process.getuid?.() === 0;
const state = stateWith([fail('disk-encryption', '2026-11-24T09:00:00Z', '2026-12-01T09:00:00Z')]);

let dir: string;
let socketPath: string;
const servers: StatusServer[] = [];
const clients: StatusClient[] = [];

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'vigie-tray-sock-'));
  socketPath = path.join(dir, 'tray.sock');
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const s of servers.splice(0)) await s.close();
  await rm(dir, { recursive: true, force: true });
});

async function serve(options: Partial<Parameters<typeof startStatusServer>[0]> = {}) {
  const server = await startStatusServer({ socketPath, getState: () => state, onRescan: async () => undefined, ...options });
  servers.push(server);
  return server;
}
function client(options: Partial<ConstructorParameters<typeof StatusClient>[0]> = {}) {
  const c = new StatusClient({ socketPath, ...options });
  clients.push(c);
  return c;
}

/** Sends raw bytes and collects the response lines until the server answers `count` times or closes. */
function raw(payload: string | Buffer, count = 1): Promise<{ lines: unknown[]; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(socketPath);
    let buf = '';
    const lines: unknown[] = [];
    const done = (closed: boolean) => {
      sock.destroy();
      resolve({ lines, closed });
    };
    sock.on('error', reject);
    sock.on('connect', () => sock.write(payload));
    sock.on('data', (d) => {
      buf += d.toString('utf8');
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        lines.push(JSON.parse(buf.slice(0, i)));
        buf = buf.slice(i + 1);
      }
      if (lines.length >= count) done(false);
    });
    sock.on('end', () => done(true));
  });
}

describe('tray status socket', () => {
  it('serves the state to the tray client', async () => {
    await serve();
    const r = await client().status();
    expect(r).toEqual({ ok: true, value: state });
  });

  it('makes the socket 0600 (POSIX) and removes it on close', async () => {
    if (!posix) return;
    const server = await serve();
    expect((await lstat(socketPath)).mode & 0o777).toBe(0o600);
    await server.close();
    servers.pop();
    await expect(lstat(socketPath)).rejects.toThrow();
  });

  it('gives the socket to the session user, or 0660 to a group, when the daemon is root', async () => {
    if (!posix || !isRoot) return; // chown to another uid needs root; the daemon runs as root
    await serve({ allowedUid: 4321, allowedGid: 4322 });
    const st = await lstat(socketPath);
    expect([st.uid, st.gid, st.mode & 0o777]).toEqual([4321, 4322, 0o660]);
  });

  it('refuses garbage with typed errors and keeps serving', async () => {
    await serve();
    expect((await raw('hello\n')).lines).toEqual([{ v: 1, ok: false, error: { code: 'malformed', message: 'each request is one line of JSON' } }]);
    expect((await raw('{"op":"delete","id":"x1"}\n')).lines).toEqual([
      { v: 1, id: 'x1', ok: false, error: { code: 'schema', message: 'expected {"op":"status"} or {"op":"rescan"}' } },
    ]);
    expect((await raw('{"op":"status","extra":true}\n')).lines).toMatchObject([{ ok: false, error: { code: 'schema' } }]);
    expect((await raw('[1,2]\nnull\n"status"\n', 3)).lines).toMatchObject([{ error: { code: 'schema' } }, { error: { code: 'schema' } }, { error: { code: 'schema' } }]);
    expect((await raw(Buffer.from([0xff, 0xfe, 0x00, 0x0a]))).lines).toMatchObject([{ error: { code: 'malformed' } }]);
    // Two requests in one write, and a request split across writes, are both fine.
    expect((await raw('{"op":"status","id":"a"}\n{"op":"status","id":"b"}\n', 2)).lines).toMatchObject([{ id: 'a', ok: true }, { id: 'b', ok: true }]);
    expect(await client().status()).toMatchObject({ ok: true });
  });

  it('caps the request size: too-large, then the connection is closed', async () => {
    await serve();
    const noNewline = await raw('x'.repeat(5000));
    expect(noNewline).toEqual({ lines: [{ v: 1, ok: false, error: { code: 'too-large', message: 'requests are at most 1024 bytes' } }], closed: false });
    const longLine = await raw(`{"op":"status","id":"${'a'.repeat(2000)}"}\n`);
    expect(longLine.lines).toMatchObject([{ error: { code: 'too-large' } }]);
    expect(await client().status()).toMatchObject({ ok: true });
  });

  it('answers "internal" when the daemon state does not validate or getState throws, and survives', async () => {
    let mode: 'bad' | 'throw' | 'good' = 'bad';
    await serve({
      getState: () => {
        if (mode === 'throw') throw new Error('boom');
        return mode === 'bad' ? ({ ...state, agentVersion: '' } as TrayState) : state;
      },
    });
    const c = client();
    expect(await c.status()).toEqual({ ok: false, error: { code: 'internal', message: 'the agent state is not available' } });
    mode = 'throw';
    expect(await c.status()).toMatchObject({ ok: false, error: { code: 'internal' } });
    mode = 'good';
    expect(await c.status()).toMatchObject({ ok: true });
  });

  it('runs a rescan, shares one run between concurrent requests, and rate-limits the next', async () => {
    let now = 1_000_000;
    let runs = 0;
    let release!: () => void;
    await serve({
      now: () => now,
      minRescanIntervalMs: 30_000,
      onRescan: () => {
        runs++;
        return new Promise<void>((r) => (release = r));
      },
    });
    const c = client();
    const a = c.rescan();
    const b = client().rescan();
    await new Promise((r) => setTimeout(r, 50));
    release();
    expect(await Promise.all([a, b])).toEqual([
      { ok: true, value: undefined },
      { ok: true, value: undefined },
    ]);
    expect(runs).toBe(1);
    now += 10_000;
    expect(await c.rescan()).toMatchObject({ ok: false, error: { code: 'rate-limited' } });
    now += 30_000;
    const again = c.rescan();
    await new Promise((r) => setTimeout(r, 20));
    release();
    expect(await again).toEqual({ ok: true, value: undefined });
    expect(runs).toBe(2);
  });

  it('reports a failed rescan as rescan-failed', async () => {
    await serve({ onRescan: async () => Promise.reject(new Error('probes busy')) });
    expect(await client().rescan()).toEqual({ ok: false, error: { code: 'rescan-failed', message: 'probes busy' } });
  });

  it('removes a stale socket left by a crash, but never steals a live one or deletes a file', async () => {
    if (!posix) return;
    const first = await serve();
    await expect(startStatusServer({ socketPath, getState: () => state, onRescan: async () => undefined })).rejects.toThrow(/already serves/);
    await first.close();
    servers.pop();
    // A crashed daemon leaves its socket file behind: a child that listens, then is killed.
    const child = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(socketPath)}, () => console.log('up'))`]);
    await new Promise((r) => child.stdout.once('data', r));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect((await lstat(socketPath)).isSocket()).toBe(true);
    await serve();
    expect(await client().status()).toMatchObject({ ok: true });
    await servers.pop()?.close();
    await writeFile(socketPath, 'not a socket');
    await expect(startStatusServer({ socketPath, getState: () => state, onRescan: async () => undefined })).rejects.toThrow(/not a socket/);
  });

  it('refuses a socket directory others may write to', async () => {
    if (!posix) return;
    await chmod(dir, 0o777);
    await expect(serve()).rejects.toThrow(/writable by others/);
  });
});

describe('tray status client', () => {
  it('says "unreachable" when no agent listens, then reconnects once one does', async () => {
    const c = client({ connectTimeoutMs: 500 });
    expect(await c.status()).toMatchObject({ ok: false, error: { code: 'unreachable' } });
    const server = await serve();
    expect(await c.status()).toMatchObject({ ok: true });
    await server.close();
    servers.pop();
    expect(await c.status()).toMatchObject({ ok: false, error: { code: 'unreachable' } });
    await serve();
    expect(await c.status()).toMatchObject({ ok: true });
  });

  it('times out when the agent does not answer', async () => {
    const silent = net.createServer((s) => s.on('data', () => undefined));
    await new Promise<void>((r) => silent.listen(socketPath, r));
    const c = client({ requestTimeoutMs: 200 });
    try {
      const r = await c.status();
      expect(r).toMatchObject({ ok: false, error: { code: 'timeout' } });
    } finally {
      c.close();
      await new Promise((r) => silent.close(r));
    }
  });

  it('refuses a response it cannot read', async () => {
    const liar = net.createServer((s) => s.on('data', () => s.write('{"v":1,"ok":true,"op":"status","state":{"agentVersion":"x"}}\n')));
    await new Promise<void>((r) => liar.listen(socketPath, r));
    try {
      expect(await client().status()).toMatchObject({ ok: false, error: { code: 'protocol' } });
    } finally {
      await new Promise((r) => liar.close(r));
    }
  });

  it('does not trust a socket in a directory another user could write', async () => {
    if (!posix) return;
    await serve();
    await chmod(dir, 0o777);
    expect(await client().status()).toMatchObject({ ok: false, error: { code: 'untrusted' } });
  });
});
