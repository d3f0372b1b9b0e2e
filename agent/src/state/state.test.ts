import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { factsHash } from '@vigie/shared';
import { defaultStateDir } from './paths';
import { AgentStateStore, StateError } from './state';
import { sampleFacts } from '../transport/__fixtures__/facts';

describe('defaultStateDir', () => {
  const base = { env: {}, home: '/home/alice', isRoot: false };
  it('follows each OS convention', () => {
    expect(defaultStateDir({ ...base, platform: 'linux', isRoot: true })).toBe('/var/lib/vigie-agent');
    expect(defaultStateDir({ ...base, platform: 'linux' })).toBe('/home/alice/.local/state/vigie-agent');
    expect(defaultStateDir({ ...base, platform: 'darwin', isRoot: true })).toBe('/Library/Application Support/Vigie/agent');
    expect(defaultStateDir({ ...base, platform: 'darwin' })).toBe('/home/alice/Library/Application Support/Vigie/agent');
    expect(defaultStateDir({ ...base, platform: 'win32', env: { ProgramData: 'D:\\PD' } })).toBe('D:\\PD\\Vigie\\agent');
  });
  it('lets VIGIE_AGENT_STATE override', () => {
    expect(defaultStateDir({ ...base, platform: 'linux', env: { VIGIE_AGENT_STATE: '/srv/x' } })).toBe('/srv/x');
  });
});

describe('AgentStateStore', () => {
  let dir: string;
  beforeEach(async () => {
    dir = path.join(await fs.mkdtemp(path.join(os.tmpdir(), 'vigie-state-')), 'state');
  });
  afterEach(async () => {
    await fs.rm(path.dirname(dir), { recursive: true, force: true });
  });

  const enrolment = { server: 'wss://127.0.0.1:8443', deviceId: 'dev-1', org: 'acme', token: 't'.repeat(32), caFingerprint: 'ab'.repeat(32) };

  it('keeps the token readable by the agent only (0600 file, 0700 dir)', async () => {
    const store = new AgentStateStore(dir);
    await store.writeEnrolment(enrolment);
    expect(await store.readEnrolment()).toEqual(enrolment);
    if (process.platform !== 'win32') {
      expect((await fs.stat(store.enrolmentPath)).mode & 0o777).toBe(0o600);
      expect((await fs.stat(dir)).mode & 0o777).toBe(0o700);
    }
    expect((await fs.readdir(dir)).filter((f) => f.startsWith('.tmp-'))).toEqual([]);
  });

  it('reads no enrolment as undefined, and a damaged one as a clear error', async () => {
    const store = new AgentStateStore(dir);
    expect(await store.readEnrolment()).toBeUndefined();
    await store.init();
    await fs.writeFile(store.enrolmentPath, '{"server":');
    await expect(store.readEnrolment()).rejects.toThrow(StateError);
  });

  it('round-trips the delta base and reads a damaged one as empty', async () => {
    const store = new AgentStateStore(dir);
    const facts = sampleFacts();
    await store.writeHead({ facts, factsHash: factsHash(facts) });
    await store.writeMeta({ ackedHash: factsHash(facts), intervalSeconds: 60 });
    expect(await store.readSync()).toEqual({ head: { facts, factsHash: factsHash(facts) }, meta: { ackedHash: factsHash(facts), intervalSeconds: 60 } });
    await fs.writeFile(store.headPath, 'garbage');
    expect((await store.readSync()).head).toBeUndefined();
  });
});
