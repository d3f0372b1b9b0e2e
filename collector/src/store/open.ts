import * as path from 'node:path';
import type { Datastore } from './datastore';
import { SqliteStore } from './sqlite';

export type OpenStoreResult = { ok: true; store: Datastore; description: string } | { ok: false; message: string };

/**
 * Opens the store a `--db` URL names: `sqlite:PATH` (relative to the working
 * directory), or by default `DATA_DIR/vigie.db`. PostgreSQL is planned, behind the
 * same Datastore interface.
 */
export function openStore(dbUrl: string | undefined, dataDir: string, now = new Date(), options: { server?: boolean } = {}): OpenStoreResult {
  let file: string;
  if (dbUrl === undefined || dbUrl === '') file = path.join(dataDir, 'vigie.db');
  else if (dbUrl.startsWith('sqlite:')) {
    file = dbUrl.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    if (!file) return { ok: false, message: '--db sqlite: needs a path, e.g. sqlite:/var/lib/vigie/vigie.db' };
  } else if (/^postgres(ql)?:/.test(dbUrl)) {
    return { ok: false, message: 'PostgreSQL is not supported yet: use sqlite:PATH or leave --db out' };
  } else {
    return { ok: false, message: `--db must be sqlite:PATH, got "${dbUrl}"` };
  }
  try {
    return { ok: true, store: new SqliteStore({ path: file, now, backgroundCheckpoints: options.server === true }), description: `sqlite:${file}` };
  } catch (e) {
    return { ok: false, message: `cannot open the database ${file}: ${(e as Error).message}` };
  }
}
