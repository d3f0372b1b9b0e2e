import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

// The checkpointer runs compiled code in a worker thread, so this test loads the built store
// (npm test builds it with `tsc -b` before jest runs).
const built = path.join(__dirname, '..', '..', '..', 'dist', 'store', 'sqlite', 'index.js');
// eslint-disable-next-line @typescript-eslint/no-require-imports -- the built module, by path
const { SqliteStore } = require(built) as typeof import('.');

describe('WAL checkpoints on a worker thread', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-checkpoint-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('folds the WAL into the database file without the writer doing it, and leaves no WAL at close', async () => {
    const file = path.join(dir, 'vigie.db');
    const store = new SqliteStore({ path: file, backgroundCheckpoints: true });
    expect(store.db.pragma('wal_autocheckpoint', { simple: true })).toBe(4000);
    store.db.exec('CREATE TABLE filler (x BLOB)');
    const insert = store.db.prepare('INSERT INTO filler (x) VALUES (randomblob(4000))');
    store.db.transaction(() => {
      for (let i = 0; i < 2000; i++) insert.run();
    })();
    const before = fs.statSync(file).size;
    // 2,000 pages is under the writer's own threshold: only the worker can grow the database file.
    const deadline = Date.now() + 5000;
    while (fs.statSync(file).size <= before + 4_000_000 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(fs.statSync(file).size).toBeGreaterThan(before + 4_000_000);
    await store.close();
    expect(fs.existsSync(`${file}-wal`)).toBe(false);
  });

  it('keeps the WAL bounded under a steady stream of commits', async () => {
    const file = path.join(dir, 'steady.db');
    const store = new SqliteStore({ path: file, backgroundCheckpoints: true });
    store.db.exec('CREATE TABLE filler (x BLOB)');
    const insert = store.db.prepare('INSERT INTO filler (x) VALUES (randomblob(4000))');
    // 8,000 commits of a page each, with the worker checkpointing meanwhile: 32 MB written in all.
    for (let i = 0; i < 8000; i++) {
      insert.run();
      if (i % 500 === 0) await new Promise((r) => setImmediate(r));
    }
    // Restarted by the writer's own checkpoint (at 4,000 pages) instead of growing with every commit.
    expect(fs.statSync(`${file}-wal`).size).toBeLessThan(24 * 1024 * 1024);
    await store.close();
  });

  it('leaves short-lived stores (the CLI) to SQLite\'s own checkpoints', async () => {
    const store = new SqliteStore({ path: path.join(dir, 'cli.db') });
    expect(store.db.pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
    await store.close();
  });
});
