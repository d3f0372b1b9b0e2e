import { spawn } from 'node:child_process';

/**
 * The one place in the agent that starts processes. Probes receive an `Exec`
 * so tests can replay real outputs on any OS. No shell is ever involved: the
 * command is an absolute path and its arguments, so nothing a device or a user
 * controls is interpreted.
 */
export interface ExecOptions {
  /** Milliseconds before the process is killed. */
  timeoutMs?: number;
  /** Bytes of stdout kept; the rest is dropped and `truncated` is set. */
  maxOutputBytes?: number;
  env?: NodeJS.ProcessEnv;
  /** Run as this uid/gid (POSIX): reading a desktop user's settings from a root agent. */
  uid?: number;
  gid?: number;
  input?: string;
}

export interface ExecResult {
  /** Exit code, or null when the process was killed or could not start. */
  code: number | null;
  stdout: string;
  stderr: string;
  truncated: boolean;
  timedOut: boolean;
  /** Set when the process could not be started at all (e.g. ENOENT). */
  error?: string;
}

export type Exec = (file: string, args: readonly string[], options?: ExecOptions) => Promise<ExecResult>;

export const DEFAULT_TIMEOUT_MS = 20_000;
export const DEFAULT_MAX_OUTPUT_BYTES = 16 * 1024 * 1024;

export const exec: Exec = (file, args, options = {}) =>
  new Promise((resolve) => {
    if (!isAbsolutePath(file)) {
      resolve({ code: null, stdout: '', stderr: '', truncated: false, timedOut: false, error: `not an absolute path: ${file}` });
      return;
    }
    const maxBytes = options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let stdoutBytes = 0;
    let stderrBytes = 0;
    let truncated = false;
    let timedOut = false;
    let settled = false;
    const child = spawn(file, [...args], {
      shell: false,
      windowsHide: true,
      env: options.env ?? process.env,
      uid: options.uid,
      gid: options.gid,
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    const finish = (result: Omit<ExecResult, 'stdout' | 'stderr' | 'truncated' | 'timedOut'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({
        ...result,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
        truncated,
        timedOut,
      });
    };
    child.stdout?.on('data', (chunk: Buffer) => {
      if (stdoutBytes >= maxBytes) {
        truncated = true;
        return;
      }
      const room = maxBytes - stdoutBytes;
      if (chunk.length > room) truncated = true;
      const kept = chunk.length > room ? chunk.subarray(0, room) : chunk;
      stdout.push(kept);
      stdoutBytes += kept.length;
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      if (stderrBytes < 64 * 1024) {
        stderr.push(chunk);
        stderrBytes += chunk.length;
      }
    });
    if (options.input !== undefined) child.stdin?.end(options.input);
    child.on('error', (err) => finish({ code: null, error: err.message }));
    child.on('close', (code) => finish({ code }));
  });

function isAbsolutePath(file: string): boolean {
  return file.startsWith('/') || /^[A-Za-z]:[\\/]/.test(file);
}

/** How a streamed command ended. */
export interface StreamExit {
  /** Exit code, or null when killed (including by stop()) or never started. */
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the process could not be started at all (e.g. ENOENT, not an absolute path). */
  error?: string;
}

export interface StreamOptions {
  /** Each line of stdout, without its line ending. */
  onLine: (line: string) => void;
  /** Called once, after the last line. */
  onExit?: (exit: StreamExit) => void;
  /**
   * Characters kept of one line; the rest of that line is dropped. A command
   * that never prints a newline must not grow the agent's memory without bound.
   */
  maxLineLength?: number;
  env?: NodeJS.ProcessEnv;
}

export interface StreamHandle {
  /** Ends the command (SIGTERM); onExit follows. Safe to call more than once, or after the exit. */
  stop(): void;
}

export const DEFAULT_MAX_LINE_LENGTH = 64 * 1024;

/**
 * Runs a long-lived command (e.g. `udevadm monitor`) and hands over its stdout
 * line by line as it comes. Same rules as `exec`: an absolute path, no shell.
 * stderr is discarded: a monitor's chatter there must not fill a pipe and
 * block it. There is no timeout; the caller ends it with stop().
 */
export function execStream(file: string, args: readonly string[], options: StreamOptions): StreamHandle {
  const maxLine = Math.max(1, options.maxLineLength ?? DEFAULT_MAX_LINE_LENGTH);
  let exited = false;
  const exit = (result: StreamExit) => {
    if (exited) return;
    exited = true;
    options.onExit?.(result);
  };
  if (!isAbsolutePath(file)) {
    // Asynchronously, like a spawn failure, so callers see one behaviour.
    process.nextTick(() => exit({ code: null, signal: null, error: `not an absolute path: ${file}` }));
    return { stop: () => {} };
  }
  const child = spawn(file, [...args], { shell: false, windowsHide: true, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'ignore'] });
  let partial = '';
  // True while the rest of an over-long line is being skipped.
  let skipping = false;
  const emit = (line: string) => options.onLine(line.endsWith('\r') ? line.slice(0, -1) : line);
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    let start = 0;
    for (let nl = chunk.indexOf('\n'); nl >= 0; nl = chunk.indexOf('\n', start)) {
      const piece = chunk.slice(start, nl);
      start = nl + 1;
      if (skipping) skipping = false;
      else emit((partial + piece).slice(0, maxLine));
      partial = '';
    }
    if (skipping) return;
    partial += chunk.slice(start);
    if (partial.length > maxLine) {
      emit(partial.slice(0, maxLine));
      partial = '';
      skipping = true;
    }
  });
  child.on('error', (err) => exit({ code: null, signal: null, error: err.message }));
  child.on('close', (code, signal) => {
    if (partial !== '' && !skipping) emit(partial);
    partial = '';
    exit({ code, signal });
  });
  return {
    stop: () => {
      if (!exited && child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    },
  };
}
