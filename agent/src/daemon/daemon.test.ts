import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { factsHash, type Facts, type UsbEvent } from '@vigie/shared';
import { AgentStateStore } from '../state/state';
import { Outbox } from '../transport/outbox';
import { FakeCollector, waitFor } from '../transport/__fixtures__/fake-collector';
import { sampleFacts } from '../transport/__fixtures__/facts';
import { cachedPki, type TestPki } from '../transport/__fixtures__/pki';
import { Daemon, EXIT_NOT_DELIVERED, EXIT_OK, EXIT_REENROL, type DaemonOptions } from './daemon';

const logger = pino({ level: 'silent' });
let pki: TestPki;
let collector: FakeCollector;
let dir: string;
let store: AgentStateStore;
let current: Facts;
const running: Daemon[] = [];

beforeAll(() => {
  pki = cachedPki('collector');
});

beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'vigie-daemon-'));
  collector = new FakeCollector({ cert: pki.leafPem + pki.caPem, key: pki.leafKeyPem });
  await collector.start();
  store = new AgentStateStore(dir);
  await store.writeEnrolment({ server: collector.url, deviceId: 'dev-1', org: 'acme', token: collector.token, caFingerprint: pki.caFingerprint });
  current = sampleFacts(0);
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((d) => d.stop()));
  await collector.stop();
  await fs.rm(dir, { recursive: true, force: true });
});

async function daemon(extra: Partial<DaemonOptions> = {}): Promise<Daemon> {
  const enrolment = await store.readEnrolment();
  const d = await Daemon.create({
    store,
    outbox: await Outbox.open(store.outboxDir),
    enrolment: enrolment!,
    scan: async () => structuredClone(current),
    logger,
    os: 'linux',
    client: { backoff: { baseMs: 20, capMs: 100 }, handshakeTimeoutMs: 2000 },
    ...extra,
  });
  running.push(d);
  return d;
}

const kinds = () => collector.stored.map((r) => r.body.kind);

describe('Daemon', () => {
  it('--once: sends a full report first and exits 0 once it is acknowledged', async () => {
    const result = await (await daemon()).runOnce(5000);
    expect(result).toEqual({ code: EXIT_OK, message: expect.stringContaining('delivered') });
    expect(kinds()).toEqual(['full']);
    expect(collector.facts).toEqual(current);
    const meta = (await store.readSync()).meta;
    expect(meta.ackedHash).toBe(factsHash(current));
    // The collector's interval and capabilities are kept for the next run, even one started offline.
    expect(meta).toMatchObject({ intervalSeconds: 900, serverCapabilities: ['delta-reports', 'usb-events', 'rescan'] });
  });

  it('then sends only the changed sections, and an empty delta when nothing changed', async () => {
    const d = await daemon();
    const stop = new AbortController();
    const run = d.run(stop.signal);
    await waitFor(() => collector.stored.length === 1, 3000, 'first report');
    current = sampleFacts(1);
    collector.send({ type: 'rescan' });
    await waitFor(() => collector.stored.length === 2, 3000, 'delta');
    collector.send({ type: 'rescan' });
    await waitFor(() => collector.stored.length === 3, 3000, 'empty delta');
    stop.abort();
    expect(await run).toEqual({ code: EXIT_OK, message: 'stopped' });
    const [, changed, empty] = collector.stored;
    expect(changed?.body).toEqual({ kind: 'delta', baseHash: factsHash(sampleFacts(0)), sections: { screenlock: current.screenlock } });
    expect(empty?.body).toEqual({ kind: 'delta', baseHash: factsHash(current), sections: {} });
    expect(collector.facts).toEqual(current);
  });

  it('answers need-full-report with a fresh full report', async () => {
    const d = await daemon();
    const stop = new AbortController();
    const run = d.run(stop.signal);
    await waitFor(() => collector.stored.length === 1, 3000, 'first report');
    collector.forgetFacts();
    current = sampleFacts(2);
    collector.send({ type: 'rescan' });
    await waitFor(() => collector.stored.length === 2, 3000, 'full report');
    stop.abort();
    await run;
    expect(kinds()).toEqual(['full', 'full']);
    expect(collector.received.filter((m) => m.type === 'report').map((m) => m.type === 'report' && m.body.kind)).toEqual(['full', 'delta', 'full']);
    expect(collector.facts).toEqual(current);
  });

  it('chains deltas queued offline so they all apply in order on reconnect', async () => {
    await collector.stop();
    const d = await daemon();
    const stop = new AbortController();
    const run = d.run(stop.signal);
    const outbox = () => (d as unknown as { options: { outbox: Outbox } }).options.outbox;
    await waitFor(() => outbox().size === 1, 3000, 'first report queued');
    for (let i = 1; i <= 3; i++) {
      current = sampleFacts(i);
      await d.queueReport();
    }
    await collector.start();
    await waitFor(() => collector.stored.length === 4 && outbox().size === 0, 5000, 'all delivered');
    stop.abort();
    await run;
    expect(kinds()).toEqual(['full', 'delta', 'delta', 'delta']);
    expect(collector.stored.map((r) => r.seq)).toEqual([1, 2, 3, 4]);
    expect(collector.facts).toEqual(current);
  });

  it('--once: exits non-zero with the reason when it cannot deliver, and a later run delivers the backlog', async () => {
    await collector.stop();
    const first = await (await daemon()).runOnce(500);
    expect(first.code).toBe(EXIT_NOT_DELIVERED);
    expect(first.message).toMatch(/could not deliver 1 message\(s\) to wss:\/\/127\.0\.0\.1:\d+ within 0.5 s \(connection refused/);
    await collector.start();
    current = sampleFacts(5);
    const second = await (await daemon()).runOnce(5000);
    expect(second.code).toBe(EXIT_OK);
    expect(collector.stored.map((r) => r.seq)).toEqual([1, 2]);
    expect(collector.facts).toEqual(current);
  });

  it('--once: exits 3 when the collector revoked the device', async () => {
    collector.helloError = 'revoked';
    const result = await (await daemon()).runOnce(5000);
    expect(result.code).toBe(EXIT_REENROL);
    expect(result.message).toMatch(/enrol it again/);
  });

  it('forwards USB events as they happen', async () => {
    let emit: ((e: UsbEvent) => void) | undefined;
    const d = await daemon({ usbEvents: (listener) => ((emit = listener), () => (emit = undefined)) });
    const stop = new AbortController();
    const run = d.run(stop.signal);
    await waitFor(() => collector.stored.length === 1, 3000, 'first report');
    emit?.({ at: new Date().toISOString(), action: 'mounted', device: { vendorId: '0781', productId: '5581', vendor: null, product: null, serial: 'X', storage: true, mountPoints: ['/media/x'] }, user: 'alice' });
    await waitFor(() => collector.events.length === 1, 3000, 'usb event');
    stop.abort();
    await run;
    expect(emit).toBeUndefined();
  });
});
