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
    expect(store.db.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
    store.db.exec('CREATE TABLE filler (x BLOB)');
    const insert = store.db.prepare('INSERT INTO filler (x) VALUES (randomblob(4000))');
    store.db.transaction(() => {
      for (let i = 0; i < 2000; i++) insert.run();
    })();
    const before = fs.statSync(file).size;
    // The writer never checkpoints now; only the worker can grow the database file.
    const deadline = Date.now() + 5000;
    while (fs.statSync(file).size <= before + 4_000_000 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(fs.statSync(file).size).toBeGreaterThan(before + 4_000_000);
    await store.close();
    expect(fs.existsSync(`${file}-wal`)).toBe(false);
  });

  it('leaves short-lived stores (the CLI) to SQLite\'s own checkpoints', async () => {
    const store = new SqliteStore({ path: path.join(dir, 'cli.db') });
    expect(store.db.pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
    await store.close();
  });
});
