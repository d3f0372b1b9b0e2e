import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import * as https from 'node:https';
import * as net from 'node:net';
import { join } from 'node:path';
import { factsHash, type AckMessage, type ConfigMessage, type EnrolledMessage, type ErrorMessage } from '@vigie/shared';
import { sampleDevice, sampleFacts, unencrypted } from '../testing/fixtures';
import { startTestCollector, until, type TestCollector } from '../testing/harness';
import { TestAgent } from '../testing/agent-client';

// The listener runs as its own Node process, so it needs the compiled script: `npm test` builds it first.
const script = join(__dirname, '..', '..', 'dist', 'agent-listener', 'process.js');

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('agent listener processes', () => {
  let t: TestCollector;
  let agentUrl: string;
  beforeAll(() => {
    if (!existsSync(script)) throw new Error(`${script} is missing: build the collector first (npx tsc -b)`);
  });
  beforeEach(async () => {
    t = await startTestCollector({ rateLimit: 50, helloTimeoutMs: 1000, maxFrameBytes: 64 * 1024, agentListeners: { processes: 2, port: 0, script } });
    agentUrl = `https://127.0.0.1:${t.collector.agentPort}`;
  });
  afterEach(async () => {
    await t.stop();
  });

  async function enrolOnListeners(machineId: string): Promise<{ agent: TestAgent; deviceId: string; token: string }> {
    const secret = await t.createSecret('acme');
    const agent = await TestAgent.connect(agentUrl, t.collector.caCertPem);
    agent.hello(machineId);
    agent.send({ type: 'enroll', secret, device: sampleDevice({ machineId }) });
    const enrolled = await agent.next<EnrolledMessage>();
    expect(enrolled.type).toBe('enrolled');
    expect((await agent.next<ConfigMessage>()).type).toBe('config');
    return { agent, deviceId: enrolled.deviceId, token: enrolled.token };
  }

  it('enrols agents and stores their reports through the listeners, once each', async () => {
    expect(t.collector.agentListenerPids()).toHaveLength(2);
    const devices = [];
    // Enough connections for both listeners to get some (round robin).
    for (let i = 0; i < 4; i++) devices.push(await enrolOnListeners(`machine-${i}`));
    for (const { agent, deviceId } of devices) {
      const facts = sampleFacts({}, { machineId: deviceId });
      const reportId = randomUUID();
      const report = { type: 'report', reportId, seq: 1, collectedAt: t.clock.now.toISOString(), body: { kind: 'full', facts }, dropped: 0 };
      agent.send(report);
      expect(await agent.answerTo(reportId)).toEqual({ type: 'ack', id: reportId, status: 'stored', factsHash: factsHash(facts) });
      // Resent (the ack was lost): acknowledged, not stored again.
      agent.send(report);
      expect(await agent.answerTo(reportId)).toMatchObject<Partial<AckMessage>>({ status: 'duplicate' });
      expect((await t.store.getDevice(deviceId))?.factsHash).toBe(factsHash(facts));
      // The same facts in a new report (the listener was told to expect them: checked by hash), then changed facts.
      const again = randomUUID();
      agent.send({ ...report, reportId: again, seq: 2 });
      expect(await agent.answerTo(again)).toEqual({ type: 'ack', id: again, status: 'stored', factsHash: factsHash(facts) });
      const changed = sampleFacts({ encryption: unencrypted }, { machineId: deviceId });
      const third = randomUUID();
      agent.send({ ...report, reportId: third, seq: 3, body: { kind: 'full', facts: changed } });
      expect(await agent.answerTo(third)).toMatchObject({ type: 'ack', id: third, status: 'stored' });
      expect((await t.store.getDevice(deviceId))?.factsHash).not.toBe(factsHash(facts));
    }
    const audit = await t.store.listAudit({ action: 'agent.enroll', limit: 10, offset: 0 });
    // The agent's address, as the listener saw it, reaches the audit log.
    expect(audit.items.map((a) => a.ip)).toEqual(['127.0.0.1', '127.0.0.1', '127.0.0.1', '127.0.0.1']);
  });

  it('refuses bad frames with typed errors and serves only /agent', async () => {
    const { agent } = await enrolOnListeners('machine-bad');
    agent.send('{"type":"report",');
    expect(await agent.next<ErrorMessage>()).toMatchObject({ type: 'error', code: 'malformed' });
    agent.send(JSON.stringify({ type: 'report', reportId: randomUUID(), seq: 1, collectedAt: 'x', body: { kind: 'full', facts: 'x'.repeat(70 * 1024) }, dropped: 0 }));
    expect(await agent.next<ErrorMessage>()).toMatchObject({ type: 'error', code: 'too-large' });
    // Before a hello, a bad frame closes the connection with its code.
    const stranger = await TestAgent.connect(agentUrl, t.collector.caCertPem);
    stranger.send('not json');
    expect(await stranger.next<ErrorMessage>()).toMatchObject({ code: 'malformed' });
    expect((await stranger.closed).code).toBe(1008);
    await expect(TestAgent.connect(agentUrl, t.collector.caCertPem, '/api/v1/live')).rejects.toThrow();
    const status = await new Promise<number>((resolve, reject) =>
      https.get(`${agentUrl}/api/v1/devices`, { ca: t.collector.caCertPem }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      }).on('error', reject),
    );
    expect(status).toBe(404);
  });

  it('closes a hello-less connection after the hello timeout', async () => {
    const silent = await TestAgent.connect(agentUrl, t.collector.caCertPem);
    expect(await silent.next<ErrorMessage>(3000)).toMatchObject({ code: 'timeout' });
    expect((await silent.closed).code).toBe(1008);
  });

  it('starts a listener again when it dies; its agents reconnect and report', async () => {
    const { agent, deviceId, token } = await enrolOnListeners('machine-crash');
    const [first, second] = t.collector.agentListenerPids() as [number, number];
    process.kill(first, 'SIGKILL');
    process.kill(second, 'SIGKILL');
    // The dead listener's sockets are gone: the agent sees its connection close.
    expect((await agent.closed).code).toBe(1006);
    await until(() => t.collector.agentListenerPids().length === 2 && t.collector.agentListenerPids().every((pid) => pid !== first && pid !== second));
    await until(() => !isAlive(first) && !isAlive(second));
    const again = await TestAgent.connect(agentUrl, t.collector.caCertPem);
    again.hello(deviceId, token);
    expect((await again.next<ConfigMessage>()).type).toBe('config');
    const reportId = randomUUID();
    again.send({ type: 'report', reportId, seq: 2, collectedAt: t.clock.now.toISOString(), body: { kind: 'full', facts: sampleFacts() }, dropped: 0 });
    expect(await again.answerTo(reportId)).toMatchObject({ type: 'ack', status: 'stored' });
  });

  it('closes the connections queued for a listener that dies before taking them', async () => {
    const pids = t.collector.agentListenerPids();
    // Frozen listeners take no socket: the collector queues them.
    for (const pid of pids) process.kill(pid, 'SIGSTOP');
    const sockets = await Promise.all(
      Array.from({ length: 12 }, () => new Promise<net.Socket>((resolve, reject) => {
        const socket = net.connect(t.collector.agentPort as number, '127.0.0.1', () => resolve(socket));
        socket.once('error', reject);
      })),
    );
    await new Promise((r) => setTimeout(r, 200));
    const closed = sockets.map((socket) => new Promise<void>((resolve) => (socket.destroyed ? resolve() : socket.once('close', () => resolve()))));
    for (const socket of sockets) socket.on('error', () => undefined);
    for (const pid of pids) process.kill(pid, 'SIGKILL');
    // Every one is closed (none left open in the collector), and new listeners take new agents.
    await Promise.all(closed);
    await until(() => t.collector.agentListenerPids().length === 2);
    const again = await TestAgent.connect(agentUrl, t.collector.caCertPem);
    again.send('not json');
    expect(await again.next<ErrorMessage>()).toMatchObject({ code: 'malformed' });
  });

  it('ends the listener processes with the collector', async () => {
    const { agent } = await enrolOnListeners('machine-stop');
    const pids = t.collector.agentListenerPids();
    await t.collector.close();
    expect((await agent.closed).code).toBe(1001);
    await until(() => pids.every((pid) => !isAlive(pid)));
  });
});
