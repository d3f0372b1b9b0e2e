/**
 * The tray's data path end to end: a real collector (WSS, SQLite) evaluates a
 * real agent daemon's report, sends it `config` and `status`, the daemon serves
 * them on its tray socket, and the tray's model and notification planner turn
 * them into the texts the employee sees, in French and in English.
 * (The tray's own process under Xvfb is agent/src/tray/tray.xvfb.test.ts.)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { Facts } from '@vigie/shared';
import { Daemon } from '../../agent/src/daemon/daemon';
import { AgentStateStore } from '../../agent/src/state/state';
import { Outbox } from '../../agent/src/transport/outbox';
import { StatusClient } from '../../agent/src/tray/client';
import { buildTrayView } from '../../agent/src/tray/model';
import { emptyMemory, planNotifications } from '../../agent/src/tray/notify';
import { serveTray, TrayStatusKeeper, type TrayService } from '../../agent/src/tray/serve';
import type { TrayState } from '../../agent/src/tray/state';
import { sampleFacts, unencrypted } from '../../collector/src/testing/fixtures';
import { startTestCollector, type TestCollector } from '../../collector/src/testing/harness';

jest.setTimeout(60_000);

const DAY_MS = 86_400_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const logger = pino({ level: 'silent' });

/** Asks the socket until `done` holds; bounded in time. */
async function pollState(client: StatusClient, done: (s: TrayState) => boolean, timeoutMs = 15_000): Promise<TrayState> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < until) {
    const r = await client.status();
    last = r;
    if (r.ok && done(r.value)) return r.value;
    await sleep(100);
  }
  throw new Error(`the tray socket never gave the expected state; last answer: ${JSON.stringify(last).slice(0, 500)}`);
}

describe('the tray socket serves what the collector evaluated', () => {
  let t: TestCollector;
  const dirs: string[] = [];
  const stops: (() => Promise<void>)[] = [];

  afterAll(async () => {
    for (const stop of stops.reverse()) await stop();
    await t?.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('shows a failing rule with its title, steps and due date in French and English, and survives a daemon restart', async () => {
    t = await startTestCollector();
    const { deviceId, token, agent } = await t.enrol('machine-tray');
    agent.close();
    const stateDir = mkdtempSync(join(tmpdir(), 'vigie-tray-agent-'));
    const socketDir = mkdtempSync(join(tmpdir(), 'vigie-tray-sock-'));
    dirs.push(stateDir, socketDir);
    const socketPath = join(socketDir, 'tray.sock');
    const store = new AgentStateStore(stateDir);
    await store.init();
    await store.writeEnrolment({ server: t.collector.url.replace(/^https/, 'wss'), deviceId, org: 'acme', token, caPem: t.collector.caCertPem });

    let scans = 0;
    const start = async (): Promise<{ daemon: Daemon; tray: TrayService; stop: () => Promise<void> }> => {
      const keeper = await TrayStatusKeeper.load(stateDir, logger);
      const daemon = await Daemon.create({
        store,
        outbox: await Outbox.open(store.outboxDir),
        enrolment: (await store.readEnrolment())!,
        // The system volume is not encrypted: the disk-encryption rule fails.
        scan: async (): Promise<Facts> => {
          scans++;
          return sampleFacts({ encryption: unencrypted }, { machineId: 'machine-tray' });
        },
        logger,
        os: 'linux',
        observer: keeper,
        client: { backoff: { baseMs: 100, capMs: 500 } },
      });
      const uid = process.getuid?.();
      const tray = await serveTray({
        keeper,
        daemon,
        agentVersion: '0.1.0-test',
        collector: t.collector.url,
        socketPath,
        // As root, the socket is given to the session user: here, ourselves.
        findUser: async () => ({ uid, name: 'tester' }),
        platform: process.platform,
        env: {},
        uid,
        log: logger,
      });
      const abort = new AbortController();
      const running = daemon.run(abort.signal);
      return {
        daemon,
        tray,
        stop: async () => {
          abort.abort();
          await running;
          await tray.close();
        },
      };
    };

    const first = await start();
    stops.push(first.stop);
    expect(first.tray.socketPath).toBe(socketPath);
    const client = new StatusClient({ socketPath });
    stops.push(async () => client.close());

    const state = await pollState(client, (s) => s.status?.findings.some((f) => f.ruleId === 'disk-encryption' && f.status === 'fail') === true && s.lastAckAt !== null);
    expect(state).toMatchObject({ agentVersion: '0.1.0-test', collector: t.collector.url, connected: true, lastReportAt: expect.any(String) });
    const now = t.clock.now;
    const due = new Date(now.getTime() + 7 * DAY_MS);
    expect(state.status?.findings.find((f) => f.ruleId === 'disk-encryption')).toMatchObject({ firstSeenAt: now.toISOString(), dueAt: due.toISOString(), exempted: false });
    // The config's steps are this device's OS's (Linux: LUKS), in both languages.
    expect(state.config?.remediation['disk-encryption']?.steps.en).toMatch(/LUKS/);
    expect(state.config?.remediation['disk-encryption']?.steps.en).not.toMatch(/BitLocker|FileVault/);

    const cases = [
      { lang: 'en', title: 'System disk encrypted, with protection on', steps: /^Full-disk encryption \(LUKS\) is chosen when the system is installed/, due: 'fix before 9 March', headline: /1 thing to fix/ },
      { lang: 'fr', title: 'Disque système chiffré, protection active', steps: /^Le chiffrement complet du disque \(LUKS\) se choisit à l'installation/, due: 'à corriger avant le 9 mars', headline: /1 point à corriger/ },
    ] as const;
    for (const c of cases) {
      const view = buildTrayView({ agent: { kind: 'state', state }, lang: c.lang, os: 'linux', now, timeZone: 'Europe/Paris' });
      expect(view.icon).toBe('action-needed');
      expect(view.headline).toMatch(c.headline);
      expect(view.failing.map((f) => f.ruleId)).toEqual(['disk-encryption']);
      expect(view.failing[0]?.title).toBe(c.title);
      expect(view.failing[0]?.steps).toMatch(c.steps);
      expect(view.ruleItems[0]?.title).toContain(c.title);
      expect(view.ruleItems[0]?.title).toContain(c.due);
      const { requests } = planNotifications({ memory: emptyMemory(), state, lang: c.lang, now, timeZone: 'Europe/Paris' });
      expect(requests).toHaveLength(1);
      expect(requests[0]).toMatchObject({ ruleId: 'disk-encryption', kind: 'new' });
      expect(requests[0]?.body).toContain(c.title);
      expect(requests[0]?.body).toContain(c.due);
    }

    // "Check again now" makes the daemon scan and report: a new report, a new status.
    const scansBefore = scans;
    const evaluatedBefore = state.status?.evaluatedAt;
    t.clock.now = new Date(now.getTime() + 60_000);
    expect(await client.rescan()).toEqual({ ok: true, value: undefined });
    const after = await pollState(client, (s) => s.status?.evaluatedAt !== evaluatedBefore);
    expect(scans).toBeGreaterThan(scansBefore);
    expect(after.status?.evaluatedAt).toBe(t.clock.now.toISOString());

    // A restarted daemon, with the collector gone, answers at once from what it kept on disk.
    await first.stop();
    stops.pop();
    await t.collector.close();
    const second = await start();
    stops.push(second.stop);
    const offline = await pollState(client, () => true, 5000);
    expect(offline.connected).toBe(false);
    expect(offline.status).toEqual(after.status);
    expect(offline.config?.remediation['disk-encryption']?.title.fr).toBe('Disque système chiffré, protection active');
  });

  it('keeps the daemon running, with a warning, when the socket cannot be made', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'vigie-tray-nosock-'));
    dirs.push(stateDir);
    const warnings: string[] = [];
    const log = { debug: () => undefined, info: () => undefined, error: () => undefined, warn: (o: unknown, m?: string) => void warnings.push(`${m ?? ''} ${JSON.stringify(o)}`) };
    const keeper = await TrayStatusKeeper.load(stateDir, logger);
    const tray = await serveTray({
      keeper,
      daemon: { connected: false, requestScan: () => undefined },
      agentVersion: '0.1.0-test',
      collector: null,
      socketPath: join(stateDir, 'missing-dir', 'tray.sock'),
      findUser: async () => ({ uid: process.getuid?.(), name: 'tester' }),
      platform: process.platform,
      env: {},
      uid: process.getuid?.(),
      log,
      recheckMs: 50,
    });
    expect(tray.socketPath).toBeUndefined();
    expect(warnings.join('\n')).toMatch(/the tray socket is not served.*missing/);
    await sleep(200);
    // Said once, not at every recheck.
    expect(warnings).toHaveLength(1);
    await tray.close();
  });
});
