import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { factsHash, type Facts } from '@vigie/shared';
import { AgentClient, agentUrl, openSocket, type AgentClientOptions, type FatalTransportError } from './client';
import { Outbox, type OutboxEntry } from './outbox';
import { TrustError } from './tls';
import { FakeCollector, waitFor } from './__fixtures__/fake-collector';
import { sampleFacts } from './__fixtures__/facts';
import { cachedPki, type TestPki } from './__fixtures__/pki';

const logger = pino({ level: 'silent' });
let pki: TestPki;
let impostor: TestPki;
let collector: FakeCollector;
let dir: string;
const clients: AgentClient[] = [];

beforeAll(() => {
  pki = cachedPki('collector');
  // Same CA name, other key: what someone impersonating the collector would make.
  impostor = cachedPki('impostor');
});

beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'vigie-client-'));
  collector = new FakeCollector({ cert: pki.leafPem + pki.caPem, key: pki.leafKeyPem });
  await collector.start();
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.stop()));
  await collector.stop();
  await fs.rm(dir, { recursive: true, force: true });
});

function fullReport(facts: Facts = sampleFacts()) {
  return { type: 'report' as const, reportId: randomUUID(), collectedAt: new Date().toISOString(), body: { kind: 'full' as const, facts } };
}

function client(outbox: Outbox, extra: Partial<AgentClientOptions> = {}): AgentClient {
  const c = new AgentClient({
    server: collector.url,
    trust: { caFingerprint: pki.caFingerprint },
    deviceId: 'dev-1',
    token: collector.token,
    os: 'linux',
    outbox,
    logger,
    backoff: { baseMs: 20, capMs: 100 },
    heartbeatMs: 5000,
    handshakeTimeoutMs: 2000,
    ...extra,
  });
  clients.push(c);
  return c;
}

describe('agentUrl', () => {
  it('targets /agent over wss only', () => {
    expect(agentUrl('wss://h:8443')).toBe('wss://h:8443/agent');
    expect(agentUrl('https://h:8443/')).toBe('wss://h:8443/agent');
    expect(() => agentUrl('ws://h:8443')).toThrow(/wss:\/\//);
  });
});

describe('trusting the collector by fingerprint', () => {
  it('accepts the pinned CA, or the pinned leaf', async () => {
    for (const caFingerprint of [pki.caFingerprint, pki.leafFingerprint.toUpperCase().replace(/(..)(?!$)/g, '$1:')]) {
      const ws = await openSocket({ server: collector.url, trust: { caFingerprint } });
      ws.terminate();
    }
  });

  it('accepts a CA given as PEM', async () => {
    const ws = await openSocket({ server: collector.url, trust: { caPem: pki.caPem } });
    ws.terminate();
  });

  it('refuses a collector whose CA does not match, with a clear error', async () => {
    await expect(openSocket({ server: collector.url, trust: { caFingerprint: impostor.caFingerprint } })).rejects.toThrow(
      /does not match the pinned fingerprint/,
    );
  });

  it('refuses a forged chain that shows the real CA certificate without its signature', async () => {
    await collector.stop();
    collector = new FakeCollector({ cert: impostor.leafPem + pki.caPem, key: impostor.leafKeyPem });
    await collector.start();
    const attempt = openSocket({ server: collector.url, trust: { caFingerprint: pki.caFingerprint } });
    await expect(attempt).rejects.toThrow(TrustError);
    await expect(attempt).rejects.toThrow(/not signed by/);
  });

  it('refuses a self-signed collector when nothing is pinned', async () => {
    await expect(openSocket({ server: collector.url, trust: {} })).rejects.toThrow(/certificate/i);
  });

  it('keeps refusing (and sends nothing) when the pin does not match', async () => {
    const outbox = await Outbox.open(dir);
    await outbox.add(fullReport());
    const c = client(outbox, { trust: { caFingerprint: impostor.caFingerprint } });
    c.start();
    await waitFor(() => /refusing the collector/.test(c.lastError ?? ''), 3000, 'pin refusal');
    expect(collector.received).toEqual([]);
    expect(outbox.size).toBe(1);
  });
});

describe('AgentClient delivery', () => {
  it('delivers a whole outbox in order, each report stored once, after the collector was down', async () => {
    const outbox = await Outbox.open(dir);
    const c = client(outbox);
    c.start();
    await waitFor(() => c.state === 'ready', 3000, 'connected');
    await collector.stop();
    // Offline: reports pile up while the client keeps retrying with backoff.
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) {
      ids.push((await outbox.add(fullReport(sampleFacts(i)))).entry.id);
      c.kick();
    }
    await new Promise((r) => setTimeout(r, 300));
    expect(collector.stored).toEqual([]);
    await collector.start();
    await waitFor(() => outbox.size === 0, 5000, 'outbox drained');
    expect(collector.stored.map((r) => r.reportId)).toEqual(ids);
    expect(collector.stored.map((r) => r.seq)).toEqual([...ids.keys()].map((i) => i + 1));
  });

  it('resends what was in flight when the collector dies before acking, and a duplicate ack clears it', async () => {
    const outbox = await Outbox.open(dir);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await outbox.add(fullReport(sampleFacts(i)))).entry.id);
    collector.dropAfterStoring = 2;
    const c = client(outbox, { window: 8 });
    c.start();
    await waitFor(() => outbox.size === 0, 5000, 'outbox drained');
    expect(collector.stored.map((r) => r.reportId)).toEqual(ids);
    expect(collector.duplicates).toContain(ids[1]);
    expect(collector.connections).toBeGreaterThanOrEqual(2);
  });

  it('hands back a delta the collector cannot apply, so a full report can replace it', async () => {
    const outbox = await Outbox.open(dir);
    const delta = await outbox.add({
      type: 'report',
      reportId: randomUUID(),
      collectedAt: new Date().toISOString(),
      body: { kind: 'delta', baseHash: factsHash(sampleFacts(99)), sections: {} },
    });
    const refused: (OutboxEntry | undefined)[] = [];
    const c = client(outbox, { handlers: { onNeedFullReport: (e) => refused.push(e) } });
    c.start();
    await waitFor(() => refused.length === 1, 3000, 'need-full-report');
    expect(refused[0]?.id).toBe(delta.entry.id);
    expect(outbox.size).toBe(0);
    expect(collector.stored).toEqual([]);
  });

  it('stops for good when the device is revoked', async () => {
    collector.helloError = 'revoked';
    const outbox = await Outbox.open(dir);
    const fatal: FatalTransportError[] = [];
    const c = client(outbox, { handlers: { onFatal: (e) => fatal.push(e) } });
    c.start();
    await waitFor(() => fatal.length === 1, 3000, 'fatal');
    expect(fatal[0]?.message).toMatch(/revoked.*enrol it again/);
    expect(c.state).toBe('stopped');
    const connections = collector.connections;
    await new Promise((r) => setTimeout(r, 200));
    expect(collector.connections).toBe(connections);
  });

  it('notices a dead connection by its missing pongs and reconnects', async () => {
    const outbox = await Outbox.open(dir);
    const c = client(outbox, { heartbeatMs: 100 });
    c.start();
    await waitFor(() => c.state === 'ready', 3000, 'connected');
    collector.freeze();
    await waitFor(() => collector.connections >= 2, 3000, 'reconnection');
    expect(c.lastError === undefined || /heartbeat/.test(c.lastError)).toBe(true);
  });

  it('sends USB events as they are queued', async () => {
    const outbox = await Outbox.open(dir);
    const c = client(outbox);
    c.start();
    await waitFor(() => c.state === 'ready', 3000, 'connected');
    const eventId = randomUUID();
    await outbox.add({
      type: 'usb-event',
      eventId,
      event: { at: new Date().toISOString(), action: 'connected', device: { vendorId: '0781', productId: '5581', vendor: 'SanDisk', product: null, serial: null, storage: true, mountPoints: [] }, user: null },
    });
    c.kick();
    await waitFor(() => outbox.size === 0, 3000, 'event acked');
    expect(collector.events.map((e) => e.eventId)).toEqual([eventId]);
  });
});
