import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The repository root, from test/helpers (jest) or test/dist/helpers (compiled benches). */
function findRoot(start: string): string {
  let dir = start;
  while (!existsSync(join(dir, 'shared', 'policies'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no Vigie checkout above ${start}`);
    dir = parent;
  }
  return dir;
}

export const root = findRoot(__dirname);
export const collectorCli = join(root, 'collector', 'dist', 'cli.js');
export const agentCli = join(root, 'agent', 'dist', 'cli.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a built CLI to completion (the e2e tests use the same binaries an operator does). */
export function runCli(cli: string, args: string[], input?: string, timeoutMs = 60_000): CliResult {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', input, timeout: timeoutMs, env: { ...process.env, VIGIE_LOG_LEVEL: 'warn' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

export function runCliAsync(cli: string, args: string[], timeoutMs = 90_000): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, ...args], { env: { ...process.env, VIGIE_LOG_LEVEL: 'warn' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

export interface CollectorProcess {
  child: ChildProcess;
  url: string;
  port: number;
  /** The agent listeners' port (serve --agent-listen), else null. */
  agentPort: number | null;
  fingerprint: string;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export interface StartCollectorOptions {
  /** Node flags for the collector process, e.g. --cpu-prof in a benchmark. */
  nodeArgs?: string[];
  /** Copy the collector's stderr to ours, prefixed (benchmarks show its warnings as progress). */
  echoStderr?: boolean;
  startTimeoutMs?: number;
}

/** Starts `vigie-collector serve` and resolves once it prints its listening line. */
export function startCollectorProcess(dataDir: string, listen = '127.0.0.1:0', extra: string[] = [], options: StartCollectorOptions = {}): Promise<CollectorProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...(options.nodeArgs ?? []), collectorCli, 'serve', '--data', dataDir, '--listen', listen, '--log-level', 'warn', ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`collector did not start: ${out}${err}`));
    }, options.startTimeoutMs ?? 30_000);
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
      if (options.echoStderr) process.stderr.write(`[collector] ${d.toString()}`);
    });
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (https:\/\/[^\s]+) \(CA sha256 ([0-9a-f]+)\)/.exec(out);
      if (!m) return;
      clearTimeout(timer);
      // Keep draining stdout: a full pipe would stall the collector under load.
      child.stdout.removeAllListeners('data');
      child.stdout.resume();
      const url = m[1] as string;
      const agentPort = /agents also on wss:\/\/\S+:(\d+)\/agent/.exec(out);
      resolve({
        child,
        url,
        port: Number(new URL(url).port),
        agentPort: agentPort ? Number(agentPort[1]) : null,
        fingerprint: m[2] as string,
        stop: (signal = 'SIGTERM') =>
          new Promise((done) => {
            if (child.exitCode !== null || child.signalCode !== null) return done();
            const kill = setTimeout(() => child.kill('SIGKILL'), 20_000);
            child.once('exit', () => {
              clearTimeout(kill);
              done();
            });
            child.kill(signal);
          }),
      });
    });
    child.once('exit', (code) => reject(new Error(`collector exited (${code}): ${err}`)));
  });
}

/** A JSON request to the collector's API, trusting only its local CA (dataDir/tls/ca.pem). */
export function apiRequest<T>(baseUrl: string, caPem: string, path: string, token?: string, init: { method?: string; body?: unknown } = {}): Promise<{ status: number; body: T; text: string }> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const https = require('node:https') as typeof import('node:https');
  return new Promise((resolve, reject) => {
    const payload = init.body === undefined ? undefined : JSON.stringify(init.body);
    const req = https.request(
      `${baseUrl}/api/v1${path}`,
      {
        method: init.method ?? 'GET',
        ca: caPem,
        headers: { ...(payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
      },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => {
          let body: unknown;
          try {
            body = JSON.parse(text);
          } catch {
            body = null;
          }
          resolve({ status: res.statusCode ?? 0, body: body as T, text });
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}
