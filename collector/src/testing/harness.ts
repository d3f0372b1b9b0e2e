import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import pino from 'pino';
import { startCollector, type CollectorOptions, type RunningCollector } from '../server';
import { makeLocalCa, type TlsMaterial } from '../server/tls';
import { SqliteStore } from '../store/sqlite';
import { randomToken, sha256Hex } from '../util/crypto';
import { TestAgent } from './agent-client';
import { sampleDevice } from './fixtures';
import type { EnrolledMessage } from '@vigie/shared';

let tls: TlsMaterial | null = null;
/** One certificate for the whole test file: RSA key generation is the slow part. */
export function testTls(): TlsMaterial {
  tls ??= { ...makeLocalCa(new Date(), ['localhost', '127.0.0.1']), generated: true };
  return tls;
}

export interface TestCollector {
  collector: RunningCollector;
  store: SqliteStore;
  clock: { now: Date };
  dataDir: string;
  connect(path?: string): Promise<TestAgent>;
  createSecret(org?: string, expiresAt?: Date | null): Promise<string>;
  /** Enrols a device through the real protocol; the connection stays open and authenticated. */
  enrol(machineId?: string, org?: string): Promise<{ agent: TestAgent; deviceId: string; token: string }>;
  stop(): Promise<void>;
}

export async function startTestCollector(overrides: Partial<CollectorOptions> = {}): Promise<TestCollector> {
  const clock = { now: new Date('2026-03-02T09:00:00.000Z') };
  const store = new SqliteStore({ path: ':memory:' });
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-collector-'));
  const collector = await startCollector({
    dataDir,
    host: '127.0.0.1',
    port: 0,
    tls: testTls(),
    store,
    logger: pino({ level: 'silent' }),
    now: () => clock.now,
    helloTimeoutMs: 1000,
    rateLimit: 100,
    uiDir: null,
    ...overrides,
  });
  const agents: TestAgent[] = [];
  const connect = async (p = '/agent') => {
    const agent = await TestAgent.connect(collector.url, collector.caCertPem, p);
    agents.push(agent);
    return agent;
  };
  const createSecret = async (org = 'acme', expiresAt: Date | null = null) => {
    const secret = randomToken();
    await store.createEnrollSecret({ secretHash: sha256Hex(secret), org, expiresAt, createdBy: 'test', now: clock.now });
    return secret;
  };
  return {
    collector,
    store,
    clock,
    dataDir,
    connect,
    createSecret,
    async enrol(machineId = 'machine-0001', org = 'acme') {
      const secret = await createSecret(org);
      const agent = await connect();
      agent.hello(machineId);
      agent.send({ type: 'enroll', secret, device: sampleDevice({ machineId }) });
      const enrolled = await agent.next<EnrolledMessage>();
      if (enrolled.type !== 'enrolled') throw new Error(`expected enrolled, got ${JSON.stringify(enrolled)}`);
      await agent.next(); // config
      return { agent, deviceId: enrolled.deviceId, token: enrolled.token };
    },
    async stop() {
      for (const a of agents) a.ws.terminate();
      await collector.close();
      await store.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Resolves once `check` holds, polling; rejects after `timeoutMs`. */
export async function until(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
