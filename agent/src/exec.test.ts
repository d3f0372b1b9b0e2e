import { existsSync } from 'node:fs';
import { execStream, type StreamExit } from './exec';

/** Runs a command to its end and returns what execStream reported. */
function collect(file: string, args: string[], maxLineLength?: number): Promise<{ lines: string[]; exit: StreamExit }> {
  return new Promise((resolve) => {
    const lines: string[] = [];
    execStream(file, args, { onLine: (l) => lines.push(l), onExit: (exit) => resolve({ lines, exit }), maxLineLength });
  });
}

const PRINTF = '/usr/bin/printf';
const onPosix = process.platform !== 'win32' && existsSync(PRINTF) ? describe : describe.skip;

onPosix('execStream with real commands', () => {
  it('splits stdout into lines, drops CR of CRLF and keeps a last line without newline', async () => {
    const { lines, exit } = await collect(PRINTF, ['one\\ntwo\\r\\n\\nthree']);
    expect(lines).toEqual(['one', 'two', '', 'three']);
    expect(exit).toEqual({ code: 0, signal: null });
  });

  it('cuts an over-long line at the cap and drops its rest, then goes on with the next line', async () => {
    const { lines } = await collect(PRINTF, ['%s\\n%s\\n', 'x'.repeat(10_000), 'after'], 100);
    expect(lines).toEqual(['x'.repeat(100), 'after']);
  });

  it('reports the exit code of a failing command', async () => {
    const { exit } = await collect(PRINTF, []);
    expect(exit.code).not.toBe(0);
    expect(exit.error).toBeUndefined();
  });
});

describe('execStream', () => {
  it('streams lines as they come and stop() ends a long-running command', async () => {
    const lines: string[] = [];
    const exit = await new Promise<StreamExit>((resolve) => {
      // node itself: an absolute path on every OS, printing forever until stopped.
      const handle = execStream(process.execPath, ['-e', "setInterval(() => console.log('tick'), 10)"], {
        onLine: (line) => {
          lines.push(line);
          if (lines.length === 3) handle.stop();
        },
        onExit: resolve,
      });
    });
    expect(lines.slice(0, 3)).toEqual(['tick', 'tick', 'tick']);
    expect(exit.code).toBeNull();
    expect(exit.signal).toBe('SIGTERM');
  });

  it('refuses a relative path without starting anything', async () => {
    const { lines, exit } = await collect('udevadm', ['monitor']);
    expect(lines).toEqual([]);
    expect(exit).toEqual({ code: null, signal: null, error: 'not an absolute path: udevadm' });
  });

  it('reports a missing command as an error, once', async () => {
    const exits: StreamExit[] = [];
    await new Promise<void>((resolve) => {
      execStream('/nonexistent/vigie-no-such-tool', [], { onLine: () => {}, onExit: (e) => (exits.push(e), resolve()) });
    });
    await new Promise((r) => setTimeout(r, 50));
    expect(exits).toHaveLength(1);
    expect(exits[0]?.error).toMatch(/ENOENT/);
  });
});
