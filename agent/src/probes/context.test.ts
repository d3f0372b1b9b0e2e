import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MAX_PROBE_FILE_BYTES, readProbeFile, systemContext, UnsafeFileError } from './context';

/** The real ProbeContext.readFile, as the probes get it. */
const read = (p: string): Promise<string> => systemContext().readFile(p);

const posix = process.platform !== 'win32';

(posix ? describe : describe.skip)('the real ProbeContext.readFile', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-probe-read-'));
  });
  afterAll(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('reads a regular file', async () => {
    const file = path.join(dir, 'kscreenlockerrc');
    fs.writeFileSync(file, '[Daemon]\nTimeout=15\n');
    expect(await read(file)).toBe('[Daemon]\nTimeout=15\n');
  });

  it('reads /proc files, which report a size of 0', async () => {
    if (process.platform !== 'linux') return;
    expect(await read('/proc/self/mounts')).toMatch(/ \/ /);
  });

  it('still rejects a missing file with ENOENT (probes read that as "absent")', async () => {
    await expect(read(path.join(dir, 'missing'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('does not follow a symlink, even to a harmless file', async () => {
    const target = path.join(dir, 'target');
    fs.writeFileSync(target, 'x');
    const zero = path.join(dir, 'zero-link');
    const plain = path.join(dir, 'plain-link');
    fs.symlinkSync('/dev/zero', zero);
    fs.symlinkSync(target, plain);
    // The harmless one first: without O_NOFOLLOW it is read, and the test stops before /dev/zero eats memory.
    await expect(read(plain)).rejects.toThrow(/is a symbolic link/);
    await expect(read(zero)).rejects.toThrow(UnsafeFileError);
  });

  it('refuses a FIFO at once instead of waiting for a writer', async () => {
    const fifo = path.join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const started = Date.now();
    await expect(read(fifo)).rejects.toThrow(/not a regular file/);
    // No writer ever comes: a blocking open would never return and Jest would time out.
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('refuses a device node', async () => {
    await expect(read('/dev/zero')).rejects.toThrow(/not a regular file/);
  });

  it('caps the size at 1 MiB', async () => {
    const exact = path.join(dir, 'exact');
    const big = path.join(dir, 'big');
    fs.writeFileSync(exact, Buffer.alloc(MAX_PROBE_FILE_BYTES, 'a'));
    fs.writeFileSync(big, Buffer.alloc(MAX_PROBE_FILE_BYTES + 1, 'a'));
    expect((await read(exact)).length).toBe(MAX_PROBE_FILE_BYTES);
    await expect(read(big)).rejects.toThrow(/larger than 1048576 bytes/);
  });

  it('stops at the cap when the size is not known up front', async () => {
    if (process.platform !== 'linux') return;
    // /proc files report size 0, so only the read loop can catch them (as it catches a file that grows while read).
    expect(fs.statSync('/proc/self/status').size).toBe(0);
    await expect(readProbeFile('/proc/self/status', 16)).rejects.toThrow(/larger than 16 bytes/);
  });
});
