import { constants } from 'node:fs';
import { open, readdir } from 'node:fs/promises';
import { exec } from '../exec';
import type { ProbeContext } from './types';

/** Largest file a probe reads: its config files and /proc, /sys entries are a few KiB. */
export const MAX_PROBE_FILE_BYTES = 1024 * 1024;

/** A file the agent refuses to read (symlink, not a regular file, too big): the probe reports unknown with this reason. */
export class UnsafeFileError extends Error {
  override name = 'UnsafeFileError';
}

const CHUNK = 64 * 1024;

/**
 * Reads a regular file as UTF-8 without following a final symlink, without
 * blocking on a FIFO and never past `maxBytes`. The agent runs as root and some
 * of what it reads (~/.config/kscreenlockerrc) is in a user's hands: a symlink
 * to /dev/zero or a FIFO there must not exhaust memory or hang the probe.
 * (Windows has neither flag; no probe reads user-owned files there.)
 */
export async function readProbeFile(path: string, maxBytes = MAX_PROBE_FILE_BYTES): Promise<string> {
  const flags = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0);
  let handle;
  try {
    handle = await open(path, flags);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // Linux and macOS say ELOOP for O_NOFOLLOW on a symlink, some BSDs EMLINK.
    if (code === 'ELOOP' || code === 'EMLINK') throw new UnsafeFileError(`${path} is a symbolic link; not followed`);
    throw err;
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw new UnsafeFileError(`${path} is not a regular file`);
    if (stat.size > maxBytes) throw new UnsafeFileError(`${path} is larger than ${maxBytes} bytes (${stat.size})`);
    // /proc and /sys files report size 0 and any file may grow while read: read
    // by chunks until end of file, and stop one byte past the cap.
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const buffer = Buffer.alloc(Math.min(CHUNK, maxBytes + 1 - total));
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) break;
      chunks.push(buffer.subarray(0, bytesRead));
      total += bytesRead;
      if (total > maxBytes) throw new UnsafeFileError(`${path} is larger than ${maxBytes} bytes`);
    }
    return Buffer.concat(chunks, total).toString('utf8');
  } finally {
    await handle.close();
  }
}

/** The real machine. */
export function systemContext(): ProbeContext {
  return {
    exec,
    readFile: (path) => readProbeFile(path),
    readDir: (path) => readdir(path),
    platform: process.platform,
    now: () => new Date(),
  };
}
