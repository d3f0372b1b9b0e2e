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
