import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { defineDatastoreContract } from '../contract';
import { SqliteStore } from '.';
import { openStore } from '../open';

defineDatastoreContract('sqlite (in memory)', async () => new SqliteStore({ path: ':memory:' }));

describe('SQLite store', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-store-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('uses WAL and records its migrations, and reopens an existing database', async () => {
    const file = path.join(dir, 'vigie.db');
    const store = new SqliteStore({ path: file });
    expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal');
    const versions = store.db.prepare('SELECT version FROM schema_migrations').all();
    expect(versions).toEqual([{ version: 1 }]);
    await store.createUser({ username: 'root', passwordHash: 'x', role: 'admin', orgs: ['*'], now: new Date() });
    await store.close();
    const again = new SqliteStore({ path: file });
    expect(await again.getUser('root')).not.toBeNull();
    await again.close();
  });

  it('refuses to change or delete an audit line, even through SQL', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    await store.appendAudit({ at: new Date(), actor: 'root', action: 'login', target: null, details: null, ip: null, outcome: 'success' });
    expect(() => store.db.prepare("UPDATE audit_log SET outcome = 'failure'").run()).toThrow(/append-only/);
    expect(() => store.db.prepare('DELETE FROM audit_log').run()).toThrow(/append-only/);
    await store.close();
  });

  it('opens sqlite: URLs and the default file, and refuses PostgreSQL for now', async () => {
    const byDefault = openStore(undefined, dir);
    expect(byDefault.ok && byDefault.description).toBe(`sqlite:${path.join(dir, 'vigie.db')}`);
    if (byDefault.ok) await byDefault.store.close();
    const explicit = openStore(`sqlite:${path.join(dir, 'other.db')}`, dir);
    expect(explicit.ok).toBe(true);
    if (explicit.ok) await explicit.store.close();
    expect(openStore('postgres://db/vigie', dir)).toEqual({ ok: false, message: expect.stringMatching(/not supported yet/) });
    expect(openStore('mysql://x', dir).ok).toBe(false);
  });
});
