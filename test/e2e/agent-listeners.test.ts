/**
 * `vigie-collector serve --agent-listen`: a real agent process enrols and reports through
 * the agent listener processes, and the listeners end when the collector is killed.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { agentCli, collectorCli, runCli, runCliAsync, startCollectorProcess, type CollectorProcess } from '../helpers/processes';

jest.setTimeout(120_000);

let dataDir: string;
let agentState: string;
let collector: CollectorProcess;

const childPids = (pid: number): number[] =>
  readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'vigie-e2e-listeners-'));
  agentState = mkdtempSync(join(tmpdir(), 'vigie-e2e-listeners-agent-'));
  collector = await startCollectorProcess(dataDir, '127.0.0.1:0', ['--agent-listen', '127.0.0.1:0', '--agent-processes', '2']);
});

afterAll(async () => {
  await collector?.stop('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(agentState, { recursive: true, force: true });
});

(process.platform === 'linux' ? it : it.skip)('serves a real agent through the listener processes, which die with the collector', async () => {
  expect(collector.agentPort).toEqual(expect.any(Number));
  const pid = collector.child.pid as number;
  const listeners = childPids(pid);
  expect(listeners).toHaveLength(2);

  const created = runCli(collectorCli, ['enroll-secret', 'create', '--data', dataDir, '--org', 'lyon']);
  expect(created.code).toBe(0);
  const secret = created.stdout.trim().split('\n').pop() as string;
  const server = `wss://127.0.0.1:${collector.agentPort}`;
  const enrolled = await runCliAsync(agentCli, ['enroll', '--server', server, '--secret', secret, '--ca-fingerprint', collector.fingerprint, '--state', agentState]);
  expect(enrolled.stderr).toBe('');
  expect(enrolled.code).toBe(0);
  const once = await runCliAsync(agentCli, ['run', '--once', '--state', agentState]);
  expect(once.code).toBe(0);

  const listed = runCli(collectorCli, ['devices', '--json', '--data', dataDir]);
  const devices = JSON.parse(listed.stdout) as { org: string; lastSeenAt: string | null }[];
  expect(devices).toHaveLength(1);
  expect(devices[0]).toMatchObject({ org: 'lyon', lastSeenAt: expect.any(String) });

  // A collector killed outright (no shutdown message): its listeners see their channel close and exit.
  await collector.stop('SIGKILL');
  const end = Date.now() + 10_000;
  while (listeners.some(isAlive) && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
  expect(listeners.filter(isAlive)).toEqual([]);
});
