/**
 * The product end to end, with the binaries an operator runs: a real collector
 * process, a real agent process scanning this machine, and the console API.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { agentCli, apiRequest, collectorCli, runCli, runCliAsync, startCollectorProcess, type CollectorProcess } from '../helpers/processes';

jest.setTimeout(120_000);

let dataDir: string;
let agentState: string;
let collector: CollectorProcess;
const password = 'correct horse battery staple 42';

function api<T>(path: string, token?: string, init: { method?: string; body?: unknown } = {}) {
  return apiRequest<T>(collector.url, readFileSync(join(dataDir, 'tls', 'ca.pem'), 'utf8'), path, token, init);
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'vigie-e2e-collector-'));
  agentState = mkdtempSync(join(tmpdir(), 'vigie-e2e-agent-'));
  collector = await startCollectorProcess(dataDir);
});

afterAll(async () => {
  await collector?.stop();
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(agentState, { recursive: true, force: true });
});

describe('an agent enrolled with a real collector', () => {
  it('enrols, reports once, and is found through the API and the CLI with its findings', async () => {
    expect(runCli(collectorCli, ['user', 'add', '--data', dataDir, '--username', 'dsi', '--role', 'admin', '--org', '*', '--password-stdin'], `${password}\n`).code).toBe(0);

    const created = runCli(collectorCli, ['enroll-secret', 'create', '--data', dataDir, '--org', 'paris', '--expires', '1']);
    expect(created.code).toBe(0);
    const secret = created.stdout.trim().split('\n').pop() as string;
    expect(secret).toMatch(/^[A-Za-z0-9_-]{20,}$/);

    const server = collector.url.replace('https:', 'wss:');
    const wrong = await runCliAsync(agentCli, ['enroll', '--server', server, '--secret', 'not-the-secret-at-all', '--ca-fingerprint', collector.fingerprint, '--state', agentState]);
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toMatch(/secret/i);

    const enrolled = await runCliAsync(agentCli, ['enroll', '--server', server, '--secret', secret, '--ca-fingerprint', collector.fingerprint, '--state', agentState]);
    expect(enrolled.stderr).toBe('');
    expect(enrolled.code).toBe(0);
    if (process.platform !== 'win32') expect(statSync(join(agentState, 'enrolment.json')).mode & 0o777).toBe(0o600);

    const once = await runCliAsync(agentCli, ['run', '--once', '--state', agentState]);
    expect(once.code).toBe(0);

    const login = await api<{ token: string }>('/login', undefined, { method: 'POST', body: { username: 'dsi', password } });
    expect(login.status).toBe(200);
    const token = login.body.token;

    const devices = await api<{ total: number; items: { id: string; hostname: string; org: string; os: string }[] }>('/devices', token);
    expect(devices.status).toBe(200);
    expect(devices.body.total).toBe(1);
    const [device] = devices.body.items;
    expect(device).toMatchObject({ hostname: hostname(), org: 'paris', os: 'linux' });

    const detail = await api<{ findings: { ruleId: string; status: string; evidence: string }[] }>(`/devices/${encodeURIComponent(device!.id)}`, token);
    expect(detail.status).toBe(200);
    const byRule = Object.fromEntries(detail.body.findings.map((f) => [f.ruleId, f]));
    // This CI machine: a plain root filesystem and no desktop session.
    expect(byRule['disk-encryption']).toMatchObject({ status: 'fail' });
    expect(byRule['disk-encryption']?.evidence).toMatch(/not encrypted/);
    expect(byRule['screen-lock']).toMatchObject({ status: 'unknown' });
    expect(byRule['agent-reporting']).toMatchObject({ status: 'pass' });

    const listed = runCli(collectorCli, ['devices', '--json', '--data', dataDir]);
    expect(listed.code).toBe(0);
    const rows = JSON.parse(listed.stdout) as { hostname: string; org: string }[] | { items: { hostname: string }[] };
    const list = Array.isArray(rows) ? rows : rows.items;
    expect(list.map((d) => d.hostname)).toEqual([hostname()]);

    const findings = runCli(collectorCli, ['findings', '--json', '--data', dataDir]);
    expect(findings.code).toBe(0);
    const f = JSON.parse(findings.stdout) as { ruleId: string; status: string }[] | { items: { ruleId: string; status: string }[] };
    const flist = Array.isArray(f) ? f : f.items;
    expect(flist.find((x) => x.ruleId === 'disk-encryption')?.status).toBe('fail');

    // A second run --once reports again (a delta) and is acknowledged.
    expect((await runCliAsync(agentCli, ['run', '--once', '--state', agentState])).code).toBe(0);

    // Revoked: the agent is told to enrol again, with its own exit code.
    expect(runCli(collectorCli, ['device', 'revoke', device!.id, '--data', dataDir]).code).toBe(0);
    const revoked = await runCliAsync(agentCli, ['run', '--once', '--state', agentState, '--timeout', '20']);
    expect(revoked.code).toBe(3);
  });
});
