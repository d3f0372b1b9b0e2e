import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import type { DeviceSection } from '@vigie/shared';
import { FakeCollector } from '../transport/__fixtures__/fake-collector';
import { sampleFacts } from '../transport/__fixtures__/facts';
import { cachedPki, type TestPki } from '../transport/__fixtures__/pki';
import { enrollCommand } from './enroll';
import type { CommandIO } from './io';
import { runCommand } from './run';

// The real probes are never run here: every test injects its scan.
jest.mock('../scan', () => ({ scanAll: jest.fn(), scanSection: jest.fn() }));

let pki: TestPki;
let impostor: TestPki;
let collector: FakeCollector;
let dir: string;
let out: string;
let err: string;
let io: CommandIO;

beforeAll(() => {
  pki = cachedPki('collector');
  impostor = cachedPki('impostor');
});

beforeEach(async () => {
  dir = path.join(await fs.mkdtemp(path.join(os.tmpdir(), 'vigie-cmd-')), 'state');
  collector = new FakeCollector({ cert: pki.leafPem + pki.caPem, key: pki.leafKeyPem, deviceId: 'dev-42', org: 'acme' });
  await collector.start();
  out = '';
  err = '';
  io = { stdout: { write: (t: string) => (out += t) }, stderr: { write: (t: string) => (err += t) }, logger: pino({ level: 'silent' }) };
});

afterEach(async () => {
  await collector.stop();
  await fs.rm(path.dirname(dir), { recursive: true, force: true });
});

const device = async (): Promise<DeviceSection> => sampleFacts().device;
const enroll = (extra: Partial<Parameters<typeof enrollCommand>[0]> = {}) =>
  enrollCommand({ server: collector.url, secret: 'secret-0123456789', caFingerprint: pki.caFingerprint, stateDir: dir, ...extra }, io, { deviceFacts: device, timeoutMs: 3000 });
const client = { backoff: { baseMs: 20, capMs: 100 }, handshakeTimeoutMs: 2000 };

describe('enrollCommand', () => {
  it('enrols, keeps the token readable by the agent only, and says so', async () => {
    expect(await enroll({ caFingerprint: pki.caFingerprint.toUpperCase() })).toBe(0);
    const saved = JSON.parse(await fs.readFile(path.join(dir, 'enrolment.json'), 'utf8')) as Record<string, unknown>;
    expect(saved).toEqual({ server: collector.url, deviceId: 'dev-42', org: 'acme', token: collector.token, caFingerprint: pki.caFingerprint });
    if (process.platform !== 'win32') expect((await fs.stat(path.join(dir, 'enrolment.json'))).mode & 0o777).toBe(0o600);
    expect(out).toMatch(/Enrolled device dev-42 in org acme/);
    const hello = collector.received.find((m) => m.type === 'hello');
    expect(hello).toMatchObject({ deviceId: 'machine-1', os: 'linux' });
    expect(hello && 'token' in hello).toBe(false);
  });

  it('reports a wrong secret clearly and saves nothing', async () => {
    expect(await enroll({ secret: 'wrong-secret' })).toBe(1);
    expect(err).toMatch(/refused the enrolment \(bad-secret/);
    await expect(fs.access(path.join(dir, 'enrolment.json'))).rejects.toThrow();
  });

  it('refuses a collector that does not match the pinned fingerprint', async () => {
    expect(await enroll({ caFingerprint: impostor.caFingerprint })).toBe(1);
    expect(err).toMatch(/does not match the pinned fingerprint/);
    expect(collector.received).toEqual([]);
  });

  it('refuses bad arguments with exit 2', async () => {
    expect(await enroll({ server: 'ws://127.0.0.1:1' })).toBe(2);
    expect(await enroll({ caFingerprint: 'nope' })).toBe(2);
  });
});

describe('runCommand', () => {
  it('exits 2 with a hint when not enrolled', async () => {
    expect(await runCommand({ stateDir: dir, once: true }, io, { scan: async () => sampleFacts() })).toBe(2);
    expect(err).toMatch(/not enrolled.*vigie-agent enroll/);
  });

  it('--once after enroll: delivers a full report and exits 0', async () => {
    expect(await enroll()).toBe(0);
    expect(await runCommand({ stateDir: dir, once: true, timeoutSeconds: 5 }, io, { scan: async () => sampleFacts(), client })).toBe(0);
    expect(collector.stored.map((r) => r.body.kind)).toEqual(['full']);
    expect(out).toMatch(/all reports delivered/);
  });

  it('--once exits 1 with a clear message when the collector is unreachable', async () => {
    expect(await enroll()).toBe(0);
    await collector.stop();
    expect(await runCommand({ stateDir: dir, once: true, timeoutSeconds: 0.5 }, io, { scan: async () => sampleFacts(), client })).toBe(1);
    expect(err).toMatch(/could not deliver 1 message\(s\).*stay queued/);
  });

  it('runs until its signal aborts', async () => {
    expect(await enroll()).toBe(0);
    const stop = new AbortController();
    const run = runCommand({ stateDir: dir }, io, { scan: async () => sampleFacts(), client, signal: stop.signal });
    const start = Date.now();
    while (collector.stored.length === 0 && Date.now() - start < 3000) await new Promise((r) => setTimeout(r, 10));
    stop.abort();
    expect(await run).toBe(0);
    expect(collector.stored).toHaveLength(1);
  });
});
