import { promises as fs } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { MAX_RESPONSE_BYTES, trayResponse, type TrayErrorCode, type TrayResponse, type TrayState } from './state';

/**
 * The tray's side of the agent's local socket (see status-server.ts). One
 * connection, opened on first use and again on the next request after it
 * drops, so an agent restart costs the tray one failed poll. Errors are values:
 * the tray shows "Agent unreachable" for any of them.
 */
export type ClientErrorCode = 'unreachable' | 'untrusted' | 'timeout' | 'protocol' | TrayErrorCode;
export interface ClientError {
  code: ClientErrorCode;
  message: string;
}
export type ClientResult<T> = { ok: true; value: T } | { ok: false; error: ClientError };

export interface StatusClientOptions {
  socketPath: string;
  connectTimeoutMs?: number;
  /** For `status`. */
  requestTimeoutMs?: number;
  /** For `rescan`, which waits for the probes and the report. */
  rescanTimeoutMs?: number;
  /**
   * POSIX: check that the socket sits where only root or this user could have
   * put it before talking to it, so another local user cannot pose as the
   * agent and feed the employee false instructions. On by default.
   */
  verifyLocation?: boolean;
}

interface Pending {
  resolve: (r: ClientResult<TrayResponse>) => void;
  timer: NodeJS.Timeout;
}

export class StatusClient {
  private socket: net.Socket | null = null;
  private connecting: Promise<ClientResult<net.Socket>> | null = null;
  private readonly pending = new Map<string, Pending>();
  private counter = 0;
  private closed = false;

  constructor(private readonly options: StatusClientOptions) {}

  async status(): Promise<ClientResult<TrayState>> {
    const r = await this.request('status', this.options.requestTimeoutMs ?? 5_000);
    if (!r.ok) return r;
    if (r.value.ok && r.value.op === 'status') return { ok: true, value: r.value.state };
    return { ok: false, error: responseError(r.value) };
  }

  async rescan(): Promise<ClientResult<void>> {
    const r = await this.request('rescan', this.options.rescanTimeoutMs ?? 180_000);
    if (!r.ok) return r;
    if (r.value.ok && r.value.op === 'rescan') return { ok: true, value: undefined };
    return { ok: false, error: responseError(r.value) };
  }

  close(): void {
    this.closed = true;
    this.drop({ code: 'unreachable', message: 'client closed' });
  }

  private async request(op: 'status' | 'rescan', timeoutMs: number): Promise<ClientResult<TrayResponse>> {
    if (this.closed) return { ok: false, error: { code: 'unreachable', message: 'client closed' } };
    const conn = await this.connect();
    if (!conn.ok) return conn;
    const id = `r${++this.counter}`;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        resolve({ ok: false, error: { code: 'timeout', message: `the agent did not answer "${op}" within ${timeoutMs} ms` } });
      }, timeoutMs);
      this.pending.set(id, { resolve, timer });
      conn.value.write(`${JSON.stringify({ op, id })}\n`);
    });
  }

  private connect(): Promise<ClientResult<net.Socket>> {
    if (this.socket && !this.socket.destroyed) return Promise.resolve({ ok: true, value: this.socket });
    if (this.connecting) return this.connecting;
    this.connecting = this.open().finally(() => {
      this.connecting = null;
    });
    return this.connecting;
  }

  private async open(): Promise<ClientResult<net.Socket>> {
    const { socketPath } = this.options;
    if (process.platform !== 'win32' && this.options.verifyLocation !== false) {
      const problem = await untrustedLocation(socketPath);
      if (problem) return { ok: false, error: { code: problem.code, message: problem.message } };
    }
    return new Promise((resolve) => {
      const socket = net.connect(socketPath);
      const timer = setTimeout(() => {
        socket.destroy();
        resolve({ ok: false, error: { code: 'timeout', message: `no connection to the agent at ${socketPath}` } });
      }, this.options.connectTimeoutMs ?? 3_000);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.setEncoding('utf8');
        this.socket = socket;
        this.listen(socket);
        resolve({ ok: true, value: socket });
      });
      socket.once('error', (e: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        if (this.socket !== socket) resolve({ ok: false, error: { code: 'unreachable', message: `the agent is not listening at ${socketPath} (${e.code ?? e.message})` } });
      });
    });
  }

  private listen(socket: net.Socket): void {
    let buffered = '';
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      if (buffered.length > MAX_RESPONSE_BYTES) {
        this.drop({ code: 'protocol', message: 'the agent sent an oversized response' });
        return;
      }
      let newline: number;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        this.onLine(line);
      }
    });
    socket.on('error', () => undefined); // 'close' follows and reports
    socket.on('close', () => {
      if (this.socket === socket) this.drop({ code: 'unreachable', message: 'the agent closed the connection' });
    });
  }

  private onLine(line: string): void {
    let parsed: ReturnType<typeof trayResponse.safeParse>;
    try {
      parsed = trayResponse.safeParse(JSON.parse(line));
    } catch {
      this.drop({ code: 'protocol', message: 'the agent sent a line that is not JSON' });
      return;
    }
    if (!parsed.success) {
      this.drop({ code: 'protocol', message: `the agent sent a response the tray cannot read: ${parsed.error.issues[0]?.message ?? ''}` });
      return;
    }
    const response = parsed.data;
    // A response without an id is the server refusing the connection as a whole (too-large).
    const ids = response.id ? [response.id] : [...this.pending.keys()];
    for (const id of ids) {
      const p = this.pending.get(id);
      if (!p) continue;
      clearTimeout(p.timer);
      this.pending.delete(id);
      p.resolve({ ok: true, value: response });
    }
  }

  /** Fails every request in flight and forgets the connection; the next request reconnects. */
  private drop(error: ClientError): void {
    const socket = this.socket;
    this.socket = null;
    socket?.destroy();
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      this.pending.delete(id);
      p.resolve({ ok: false, error });
    }
  }
}

function responseError(r: TrayResponse): ClientError {
  if (!r.ok) return { code: r.error.code, message: r.error.message };
  return { code: 'protocol', message: `unexpected "${r.op}" response` };
}

/**
 * Null when the socket's directory and the socket itself belong to root or to
 * this user and the directory is not writable by others; otherwise why not.
 */
export async function untrustedLocation(socketPath: string): Promise<ClientError | null> {
  const ownUid = process.getuid?.();
  const trusted = (uid: number) => uid === 0 || uid === ownUid;
  try {
    const dir = await fs.stat(path.dirname(socketPath));
    const sticky = (dir.mode & 0o1000) !== 0;
    if (!trusted(dir.uid) || ((dir.mode & 0o022) !== 0 && !sticky)) {
      return { code: 'untrusted', message: `${path.dirname(socketPath)} could be written by another user; not trusting the socket in it` };
    }
    const sock = await fs.lstat(socketPath);
    if (!sock.isSocket() || !trusted(sock.uid)) {
      return { code: 'untrusted', message: `${socketPath} is not a socket owned by root or by you` };
    }
  } catch (e) {
    return { code: 'unreachable', message: `the agent is not listening at ${socketPath} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})` };
  }
  return null;
}
