import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCli, type CliIo } from './cli';
import { SqliteStore } from './store/sqlite';
import { sampleDevice } from './testing/fixtures';
import { sha256Hex } from './util/crypto';
import type { RunningCollector } from './server';

describe('vigie-collector CLI', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-cli-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  function io(stdin = '', extra: Partial<CliIo> = {}) {
    const out: string[] = [];
    const err: string[] = [];
    const value: CliIo = {
      stdout: (t) => void out.push(t),
      stderr: (t) => void err.push(t),
      readStdin: async () => stdin,
      env: { VIGIE_DATA: dir },
      cwd: dir,
      now: () => new Date('2026-03-02T09:00:00.000Z'),
      waitForShutdown: () => new Promise(() => undefined),
      ...extra,
    };
    return { io: value, out: () => out.join(''), err: () => err.join('') };
  }

  const withStore = async <T>(fn: (store: SqliteStore) => Promise<T>) => {
    const store = new SqliteStore({ path: path.join(dir, 'vigie.db') });
    try {
      return await fn(store);
    } finally {
      await store.close();
    }
  };

  it.each(['serve', 'enroll-secret create', 'device revoke', 'user add', 'devices', 'findings'])('prints --help for "%s" and exits 0', async (command) => {
    const t = io();
    expect(await runCli([...command.split(' '), '--help'], t.io)).toBe(0);
    expect(t.out()).toContain('--data <dir>');
    expect(t.out().replace(/\s+/g, ' ')).toContain('$VIGIE_DATA, else ./.vigie/collector');
  });

  it('documents the serve defaults and exits 2 on usage errors', async () => {
    const help = io();
    await runCli(['serve', '--help'], help.io);
    expect(help.out()).toMatch(/0\.0\.0\.0:8443/);
    const none = io();
    expect(await runCli([], none.io)).toBe(2);
    const unknown = io();
    expect(await runCli(['devices', '--colour'], unknown.io)).toBe(2);
    expect(unknown.err()).toMatch(/unknown option/);
    const half = io();
    expect(await runCli(['serve', '--tls-cert', 'x.pem'], half.io)).toBe(2);
    expect(half.err()).toMatch(/--tls-cert and --tls-key go together/);
    const listen = io();
    expect(await runCli(['serve', '--listen', 'nowhere'], listen.io)).toBe(2);
    const agentListen = io();
    expect(await runCli(['serve', '--agent-listen', 'nowhere'], agentListen.io)).toBe(2);
    expect(agentListen.err()).toMatch(/--agent-listen must be HOST:PORT/);
    const processesAlone = io();
    expect(await runCli(['serve', '--agent-processes', '3'], processesAlone.io)).toBe(2);
    expect(processesAlone.err()).toMatch(/--agent-processes goes with --agent-listen/);
    const workers = io();
    expect(await runCli(['serve', '--parse-workers', '65'], workers.io)).toBe(2);
    expect(workers.err()).toMatch(/--parse-workers must be a whole number from 0 to 64/);
    const pg = io();
    expect(await runCli(['serve', '--db', 'postgres://db/vigie', '--listen', '127.0.0.1:0'], pg.io)).toBe(1);
    expect(pg.err()).toMatch(/not supported yet/);
  });

  it('creates an enrolment secret and prints it alone on the last line', async () => {
    const t = io();
    expect(await runCli(['enroll-secret', 'create', '--org', 'acme', '--expires', '3'], t.io)).toBe(0);
    const lines = t.out().trimEnd().split('\n');
    const secret = lines[lines.length - 1]!;
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    await withStore(async (store) => {
      expect(await store.findEnrollSecret(sha256Hex(secret))).toMatchObject({ org: 'acme', expiresAt: '2026-03-05T09:00:00.000Z' });
      expect((await store.listAudit({ action: 'enroll-secret.create', limit: 5, offset: 0 })).total).toBe(1);
    });
    const bad = io();
    expect(await runCli(['enroll-secret', 'create', '--org', 'acme', '--expires', 'soon'], bad.io)).toBe(2);
    const half = io();
    expect(await runCli(['enroll-secret', 'create', '--org', 'acme', '--expires', '0.5'], half.io)).toBe(2);
    expect(half.err()).toMatch(/whole number of days between 1 and 3650, got "0.5"/);
    expect(await runCli(['enroll-secret', 'create'], io().io)).toBe(2);
  });

  it('adds users from a password on stdin, once', async () => {
    const ok = io('a long enough password\n');
    expect(await runCli(['user', 'add', '--username', 'root', '--role', 'admin', '--org', '*', '--password-stdin'], ok.io)).toBe(0);
    await withStore(async (store) => {
      const user = await store.getUser('root');
      expect(user).toMatchObject({ role: 'admin', orgs: ['*'], passwordHash: expect.stringMatching(/^scrypt\$/) });
    });
    const again = io('a long enough password\n');
    expect(await runCli(['user', 'add', '--username', 'root', '--role', 'admin', '--org', '*', '--password-stdin'], again.io)).toBe(1);
    expect(again.err()).toMatch(/already exists/);
    expect(await runCli(['user', 'add', '--username', 'u', '--role', 'auditor', '--org', 'a', '--password-stdin'], io('short\n').io)).toBe(2);
    expect(await runCli(['user', 'add', '--username', 'u', '--role', 'auditor', '--password-stdin'], io('a long enough password').io)).toBe(2);
    expect(await runCli(['user', 'add', '--username', 'u', '--role', 'boss', '--org', 'a', '--password-stdin'], io('a long enough password').io)).toBe(2);
  });

  it('lists devices and findings, and revokes a device', async () => {
    const id = await withStore(async (store) => {
      const { device } = await store.enrollDevice({ newId: 'dev-1', machineId: 'm-1', org: 'acme', tokenHash: 't', device: sampleDevice({ machineId: 'm-1' }), now: new Date() });
      return device.id;
    });
    const json = io();
    expect(await runCli(['devices', '--json'], json.io)).toBe(0);
    expect(JSON.parse(json.out())).toEqual([expect.objectContaining({ id, hostname: 'lap-alice', org: 'acme', revoked: false })]);
    const text = io();
    expect(await runCli(['devices', '--data', dir], text.io)).toBe(0);
    expect(text.out()).toMatch(/dev-1\s+lap-alice\s+acme/);
    const findings = io();
    expect(await runCli(['findings', '--json'], findings.io)).toBe(0);
    expect(JSON.parse(findings.out())).toEqual([]);

    const missing = io();
    expect(await runCli(['device', 'revoke', 'nope'], missing.io)).toBe(1);
    expect(missing.err()).toMatch(/no device with id nope/);
    expect(await runCli(['device', 'revoke', id], io().io)).toBe(0);
    await withStore(async (store) => expect((await store.getDevice(id))?.revoked).toBe(true));

    // Re-enrolment does not lift a revocation; an operator does.
    const help = io();
    await runCli(['device', '--help'], help.io);
    expect(help.out()).toMatch(/restore/);
    const restored = io();
    expect(await runCli(['device', 'restore', id], restored.io)).toBe(0);
    expect(restored.out()).toMatch(/restored device dev-1; enrol it again with an enrolment secret of org acme/);
    await withStore(async (store) => {
      expect(await store.getDevice(id)).toMatchObject({ revoked: false });
      expect(await store.findDeviceByTokenHash('t')).toBeNull();
      expect((await store.listAudit({ action: 'device.restore', limit: 10, offset: 0 })).items).toEqual([expect.objectContaining({ target: id, outcome: 'success' })]);
    });
    const notRevoked = io();
    expect(await runCli(['device', 'restore', id], notRevoked.io)).toBe(1);
    expect(notRevoked.err()).toMatch(/is not revoked/);
  });

  it('serves until asked to stop, printing where and the CA fingerprint', async () => {
    let stop: (signal: string) => void = () => undefined;
    let running: RunningCollector | null = null;
    const t = io('', { waitForShutdown: () => new Promise((resolve) => (stop = resolve)), onServing: (r) => (running = r) });
    const done = runCli(['serve', '--listen', '127.0.0.1:0', '--log-level', 'silent'], t.io);
    for (let i = 0; i < 100 && !running; i++) await new Promise((r) => setTimeout(r, 50));
    expect(running).not.toBeNull();
    const fingerprint = fs.readFileSync(path.join(dir, 'ca-fingerprint.txt'), 'utf8').trim();
    expect(fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(t.out()).toBe(`vigie-collector listening on https://127.0.0.1:${running!.port} (CA sha256 ${fingerprint})\n`);
    stop('SIGTERM');
    expect(await done).toBe(0);
  });
});
