import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Database } from 'better-sqlite3';

/** SQLite's own default: the writer checkpoints once the WAL holds this many pages. */
const DEFAULT_AUTOCHECKPOINT_PAGES = 1000;
/**
 * With the worker running, the writer still checkpoints, but only past this many pages (16 MB).
 * A PASSIVE checkpoint never restarts the WAL while reports keep coming (the writer is always a
 * few frames ahead), so without this the file would grow for as long as the load lasts; the
 * writer's checkpoint then finds almost every page already copied, and restarts the WAL.
 */
const WRITER_AUTOCHECKPOINT_PAGES = 4000;
/** The WAL file is cut back to this size when it restarts, so a burst does not keep its disk space. */
const WAL_SIZE_LIMIT_BYTES = 64 * 1024 * 1024;
/** How often the worker checkpoints; the WAL then stays at a few MB under load. */
const CHECKPOINT_INTERVAL_MS = 250;

/**
 * Moves the WAL checkpoints of a file database off the connection that writes reports.
 * SQLite's default runs them inside the commit of whichever transaction crosses 1,000 pages,
 * copying ~4 MB and fsyncing on the collector's main thread: the p99 of the reports that hit
 * it. Here a worker thread checkpoints every 250 ms on its own connection, so by the time the
 * writer's own (rarer) checkpoint comes, it has little left to copy. Should the worker not run
 * (tests from sources) or die, the writer's checkpoints come back at SQLite's default.
 */
export class WalCheckpointer {
  private worker: Worker | null = null;
  private closing = false;

  constructor(private readonly db: Database) {
    const script = join(__dirname, 'checkpoint-worker.js');
    if (db.memory || !existsSync(script)) return;
    const worker = new Worker(script, { workerData: { path: db.name, intervalMs: CHECKPOINT_INTERVAL_MS } });
    // The sockets keep the collector alive, not its checkpointer.
    worker.unref();
    worker.on('error', () => undefined);
    worker.on('exit', () => {
      this.worker = null;
      if (!this.closing && this.db.open) this.db.pragma(`wal_autocheckpoint = ${DEFAULT_AUTOCHECKPOINT_PAGES}`);
    });
    this.worker = worker;
    db.pragma(`wal_autocheckpoint = ${WRITER_AUTOCHECKPOINT_PAGES}`);
    db.pragma(`journal_size_limit = ${WAL_SIZE_LIMIT_BYTES}`);
  }

  get running(): boolean {
    return this.worker !== null;
  }

  /** Closes the worker's connection first, so the writer's close is the last and folds the WAL in. */
  async close(): Promise<void> {
    this.closing = true;
    const worker = this.worker;
    if (!worker) return;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.postMessage('close');
    const timeout = new Promise<void>((resolve) => setTimeout(resolve, 2000).unref());
    await Promise.race([exited, timeout]);
    if (this.worker) await worker.terminate();
  }
}
