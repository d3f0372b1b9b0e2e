/**
 * Zero report loss: several agents (the real daemon, outbox and client code,
 * with generated facts) report continuously while the collector process is
 * SIGKILLed and restarted. Every report they produced is stored exactly once.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pino from 'pino';
import type { Facts } from '@vigie/shared';
import { Daemon } from '../../agent/src/daemon/daemon';
import { AgentStateStore } from '../../agent/src/state/state';
import { Outbox } from '../../agent/src/transport/outbox';
import { collectorCli, runCli, startCollectorProcess, type CollectorProcess } from '../helpers/processes';
import { SimulatedAgent } from '../simulator/agent';
import { simulatedDevice, simulatedFacts } from '../simulator/facts';

jest.setTimeout(120_000);

const AGENTS = 4;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the collector is killed while agents are sending', () => {
  const dirs: string[] = [];
  let collector: CollectorProcess | undefined;
  const daemons: Daemon[] = [];
  const stop = new AbortController();

  afterAll(async () => {
    stop.abort();
    await Promise.all(daemons.map((d) => d.stop()));
    await collector?.stop('SIGKILL');
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('stores every report exactly once after a restart', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'vigie-crash-collector-'));
    dirs.push(dataDir);
    const port = await freePort();
    collector = await startCollectorProcess(dataDir, `127.0.0.1:${port}`);
    const server = `wss://127.0.0.1:${port}`;
    const secret = runCli(collectorCli, ['enroll-secret', 'create', '--data', dataDir, '--org', 'lyon']).stdout.trim().split('\n').pop() as string;

    const produced = new Map<string, Set<string>>();
    for (let i = 0; i < AGENTS; i++) {
      const device = simulatedDevice(i, 7);
      const base = simulatedFacts(device, { seed: 7, softwareCount: 50 });
      if (!('machineId' in base.device)) throw new Error('simulated device has no id');
      const enrol = new SimulatedAgent({ server, machineId: device.machineId, os: base.device.os });
      const token = await enrol.enroll(secret, base.device);
      const stateDir = mkdtempSync(join(tmpdir(), 'vigie-crash-agent-'));
      dirs.push(stateDir);
      const store = new AgentStateStore(stateDir);
      await store.writeEnrolment({ server, deviceId: enrol.deviceId, org: 'lyon', token, caFingerprint: collector.fingerprint });
      const ids = new Set<string>();
      produced.set(enrol.deviceId, ids);
      let round = 0;
      const daemon = await Daemon.create({
        store,
        outbox: await Outbox.open(store.outboxDir),
        enrolment: (await store.readEnrolment())!,
        // Each scan changes the screen-lock delay, so each report is a real delta.
        scan: async (): Promise<Facts> => {
          round++;
          const facts = structuredClone(base);
          if ('enabled' in facts.screenlock) facts.screenlock.idleSeconds = 60 + round;
          return facts;
        },
        randomUUID: () => {
          const id = randomUUID();
          ids.add(id);
          return id;
        },
        logger: pino({ level: 'silent' }),
        os: base.device.os,
        intervalOverrideSeconds: 1,
        client: { backoff: { baseMs: 100, capMs: 1000 } },
      });
      daemons.push(daemon);
      void daemon.run(stop.signal);
    }

    await sleep(3000);
    await collector.stop('SIGKILL');
    // Offline: the agents keep scanning into their outboxes.
    await sleep(3000);
    collector = await startCollectorProcess(dataDir, `127.0.0.1:${port}`);
    await sleep(3000);
    stop.abort();
    await Promise.all(daemons.map((d) => d.stop()));

    // Reports still queued after the stop are not produced-and-lost: they are on disk and go out next run.
    const pendingIds = new Set<string>();
    for (const dir of dirs.slice(1)) {
      const outbox = await Outbox.open(new AgentStateStore(dir).outboxDir);
      for (const entry of outbox.entries()) pendingIds.add(entry.id);
    }

    const db = new Database(join(dataDir, 'vigie.db'), { readonly: true });
    const rows = db.prepare('SELECT device_id AS deviceId, report_id AS reportId FROM reports').all() as { deviceId: string; reportId: string }[];
    db.close();

    let producedCount = 0;
    for (const [deviceId, ids] of produced) {
      const stored = rows.filter((r) => r.deviceId === deviceId).map((r) => r.reportId);
      expect(new Set(stored).size).toBe(stored.length);
      const missing = [...ids].filter((id) => !stored.includes(id) && !pendingIds.has(id));
      expect({ deviceId, missing }).toEqual({ deviceId, missing: [] });
      expect(stored.every((id) => ids.has(id))).toBe(true);
      producedCount += ids.size;
    }
    // Enough traffic for the crash to have hit reports in flight.
    expect(producedCount).toBeGreaterThan(AGENTS * 5);
  });
});
