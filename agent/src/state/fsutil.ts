import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';

const isWindows = process.platform === 'win32';

/** Prefix of every temporary file: whatever carries it is an unfinished write and may be deleted. */
export const TMP_PREFIX = '.tmp-';

/**
 * Flushes a directory entry to disk, so a rename survives a power cut. Windows
 * cannot open a directory for fsync; NTFS journals the rename itself.
 */
export async function fsyncDir(dir: string): Promise<void> {
  if (isWindows) return;
  const handle = await fs.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Writes a file so that a reader (or a restart after a crash) sees either the
 * old content or the new one, never half: write a temporary file, fsync it,
 * rename it over the target, fsync the directory.
 */
export async function writeFileAtomic(file: string, data: string | Buffer, mode = 0o600): Promise<void> {
  const dir = path.dirname(file);
  const tmp = path.join(dir, `${TMP_PREFIX}${path.basename(file)}-${randomBytes(6).toString('hex')}`);
  const handle = await fs.open(tmp, 'w', mode);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } catch (e) {
    await handle.close();
    await fs.rm(tmp, { force: true });
    throw e;
  }
  await handle.close();
  // The mode given to open() is filtered by the umask; chmod makes it exact.
  if (!isWindows) await fs.chmod(tmp, mode);
  try {
    await fs.rename(tmp, file);
  } catch (e) {
    await fs.rm(tmp, { force: true });
    throw e;
  }
  await fsyncDir(dir);
}

/** Creates a private directory (0700 on POSIX), tightening it if it already exists. */
export async function ensurePrivateDir(dir: string): Promise<void> {
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  if (!isWindows) await fs.chmod(dir, 0o700);
}

/** Reads and parses a JSON file; undefined when it does not exist. */
export async function readJsonFile(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  return JSON.parse(text) as unknown;
}
