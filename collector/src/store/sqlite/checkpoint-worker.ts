import BetterSqlite3 from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';

/**
 * Copies the WAL back into the database file from its own thread and connection (see
 * WalCheckpointer): the copy and its fsync no longer stall whichever report happened to
 * commit the thousandth page. PASSIVE never waits for, nor blocks, the writer or readers.
 */
const { path, intervalMs } = workerData as { path: string; intervalMs: number };
const db = new BetterSqlite3(path);
db.pragma('busy_timeout = 0');
const timer = setInterval(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch {
    // Busy or locked this time: the next round tries again.
  }
}, intervalMs);
parentPort?.on('message', (m: unknown) => {
  if (m !== 'close') return;
  clearInterval(timer);
  db.close();
  parentPort?.close();
});
