import { promises as fs } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import {
  MAX_REQUEST_BYTES,
  TRAY_PROTOCOL_VERSION,
  trayRequest,
  trayState,
  type TrayErrorCode,
  type TrayRequest,
  type TrayResponse,
  type TrayState,
} from './state';

/**
 * The agent daemon's side of the tray socket: newline-delimited JSON, one
 * request per line (`{"op":"status"}`, `{"op":"rescan"}`), one response per line.
 *
 * Who may connect (the decision is in docs/tray.md):
 * - POSIX: a Unix domain socket in a directory only root (or the daemon's user)
 *   can write, so nobody can plant or swap it; the socket is chowned to the
 *   session user with mode 0600 (or to a group with 0660). Linux and macOS check
 *   write permission on the socket file at connect(). Node has no SO_PEERCRED /
 *   getpeereid(), so the peer's uid is not checked again per connection: the
 *   file mode IS the access check (a native addon could add it; see the doc).
 * - Windows: a named pipe. Node cannot set its DACL: the default one lets only
 *   SYSTEM, Administrators and the creator (here SYSTEM) open it read-write, so
 *   the service must create it with an explicit DACL for the session user (a gap
 *   written down in docs/tray.md).
 *
 * The socket carries no secret: the status and texts the employee may see, and
 * a rate-limited rescan. Every request is validated; garbage gets a typed error,
 * never a crash.
 */
export interface StatusServerOptions {
  socketPath: string;
  getState: () => TrayState;
  onRescan: () => Promise<void>;
  /** POSIX: the session user who may connect; the socket is chowned to them (the daemon must be root for another uid). */
  allowedUid?: number;
  /** POSIX: a group whose members may connect (mode 0660 instead of 0600). */
  allowedGid?: number;
  /** A rescan sooner than this after the previous one is refused with `rate-limited`; concurrent ones share the run. */
  minRescanIntervalMs?: number;
  maxConnections?: number;
  /** A connection idle this long is closed: a tray polls far more often. */
  idleTimeoutMs?: number;
  now?: () => number;
  /** Told about refused requests and failures (never about normal traffic). */
  log?: (message: string) => void;
}

export interface StatusServer {
  readonly socketPath: string;
  close(): Promise<void>;
}

const isWindows = process.platform === 'win32';

export async function startStatusServer(options: StatusServerOptions): Promise<StatusServer> {
  const { socketPath } = options;
  const now = options.now ?? Date.now;
  const log = options.log ?? (() => undefined);
  const minRescanIntervalMs = options.minRescanIntervalMs ?? 30_000;
  const idleTimeoutMs = options.idleTimeoutMs ?? 60_000;

  if (!isWindows) {
    await checkSocketDir(path.dirname(socketPath));
    await removeStaleSocket(socketPath);
  }

  let rescanRun: Promise<void> | null = null;
  let lastRescanAt = -Infinity;
  const sockets = new Set<net.Socket>();

  async function handle(request: TrayRequest): Promise<TrayResponse> {
    const id = request.id;
    if (request.op === 'status') {
      // Validating what we send keeps a daemon bug from reaching the tray as half a state.
      const parsed = trayState.safeParse(options.getState());
      if (!parsed.success) {
        log(`tray socket: the daemon's state does not validate: ${parsed.error.issues[0]?.message ?? ''}`);
        return fail('internal', 'the agent state is not available', id);
      }
      return { v: TRAY_PROTOCOL_VERSION, id, ok: true, op: 'status', state: parsed.data };
    }
    if (!rescanRun) {
      if (now() - lastRescanAt < minRescanIntervalMs) return fail('rate-limited', 'a scan ran moments ago; try again shortly', id);
      lastRescanAt = now();
      rescanRun = Promise.resolve()
        .then(() => options.onRescan())
        .finally(() => {
          rescanRun = null;
        });
    }
    try {
      await rescanRun;
      return { v: TRAY_PROTOCOL_VERSION, id, ok: true, op: 'rescan' };
    } catch (e) {
      return fail('rescan-failed', String((e as Error)?.message ?? e).slice(0, 300), id);
    }
  }

  function onConnection(socket: net.Socket): void {
    sockets.add(socket);
    socket.setEncoding('utf8');
    socket.setTimeout(idleTimeoutMs, () => socket.destroy());
    socket.on('error', () => undefined); // a tray that vanishes mid-write is not our failure
    socket.on('close', () => sockets.delete(socket));
    let buffered = '';
    const send = (response: TrayResponse) => {
      if (!socket.destroyed && socket.writable) socket.write(`${JSON.stringify(response)}\n`);
    };
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      let newline: number;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        if (Buffer.byteLength(line) > MAX_REQUEST_BYTES) {
          tooLarge();
          return;
        }
        if (line.trim() === '') continue;
        void answer(line).then(send, (e: unknown) => {
          log(`tray socket: ${(e as Error)?.message ?? String(e)}`);
          send(fail('internal', 'internal error'));
        });
      }
      // Without a newline in sight, a request this long can only be garbage: stop reading it.
      if (Buffer.byteLength(buffered) > MAX_REQUEST_BYTES) tooLarge();
    });
    function tooLarge(): void {
      log('tray socket: request too large; connection closed');
      buffered = '';
      socket.removeAllListeners('data');
      if (!socket.destroyed) socket.end(`${JSON.stringify(fail('too-large', `requests are at most ${MAX_REQUEST_BYTES} bytes`))}\n`);
    }
  }

  async function answer(line: string): Promise<TrayResponse> {
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      log('tray socket: malformed request');
      return fail('malformed', 'each request is one line of JSON');
    }
    const parsed = trayRequest.safeParse(json);
    if (!parsed.success) {
      log('tray socket: request refused by the schema');
      const id = typeof json === 'object' && json && 'id' in json && typeof json.id === 'string' && /^[A-Za-z0-9_-]{1,64}$/.test(json.id) ? json.id : undefined;
      return fail('schema', 'expected {"op":"status"} or {"op":"rescan"}', id);
    }
    return handle(parsed.data);
  }

  const server = net.createServer(onConnection);
  server.maxConnections = options.maxConnections ?? 16;
  server.on('error', (e) => log(`tray socket: ${e.message}`));
  await listen(server, socketPath);
  if (!isWindows) {
    try {
      await restrictSocket(socketPath, options.allowedUid, options.allowedGid);
    } catch (e) {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await fs.rm(socketPath, { force: true });
      throw e;
    }
  }

  return {
    socketPath,
    async close() {
      for (const s of sockets) s.destroy();
      // net.Server unlinks its socket file on close (libuv); removing it again could delete a successor's.
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function fail(code: TrayErrorCode, message: string, id?: string): TrayResponse {
  return { v: TRAY_PROTOCOL_VERSION, id, ok: false, error: { code, message } };
}

/**
 * Listens with a umask that makes the socket 0600 from its first instant, so no
 * one can connect in the moment between bind() and chmod(). process.umask() is
 * process-wide, but listen() binds synchronously inside this call.
 */
async function listen(server: net.Server, socketPath: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    let previous: number | undefined;
    try {
      if (!isWindows) previous = process.umask(0o177);
    } catch {
      previous = undefined; // worker threads cannot change the umask; chmod below still applies
    }
    try {
      server.listen(socketPath, () => {
        server.off('error', reject);
        resolve();
      });
    } finally {
      if (previous !== undefined) process.umask(previous);
    }
  });
}

/** Gives the socket to its user (0600) or group (0660). */
async function restrictSocket(socketPath: string, uid: number | undefined, gid: number | undefined): Promise<void> {
  const ownUid = process.getuid?.();
  if (uid !== undefined || gid !== undefined) {
    try {
      await fs.chown(socketPath, uid ?? -1, gid ?? -1);
    } catch (e) {
      // Not root: the socket is already ours; only giving it away needs the right.
      const needed = (uid !== undefined && uid !== ownUid) || gid !== undefined;
      if (needed) throw new Error(`cannot give the tray socket ${socketPath} to uid ${uid ?? '-'} gid ${gid ?? '-'}: ${(e as Error).message} (the agent daemon must run as root to serve another user)`, { cause: e });
    }
  }
  await fs.chmod(socketPath, gid !== undefined ? 0o660 : 0o600);
}

/**
 * Refuses a directory where someone else could swap the socket for a symlink
 * between bind() and chown(): it must belong to root or to us, and not be
 * writable by group or others (a sticky directory like /tmp is tolerated: others
 * cannot rename our entries there).
 */
async function checkSocketDir(dir: string): Promise<void> {
  let st: import('node:fs').Stats;
  try {
    st = await fs.stat(dir);
  } catch (e) {
    throw new Error(`the tray socket directory ${dir} is missing: ${(e as Error).message}`, { cause: e });
  }
  if (!st.isDirectory()) throw new Error(`${dir} is not a directory`);
  const ownUid = process.getuid?.();
  if (st.uid !== 0 && st.uid !== ownUid) throw new Error(`the tray socket directory ${dir} belongs to uid ${st.uid}, not to root or to the agent`);
  const sticky = (st.mode & 0o1000) !== 0;
  if ((st.mode & 0o022) !== 0 && !sticky) throw new Error(`the tray socket directory ${dir} is writable by others (mode ${(st.mode & 0o7777).toString(8)})`);
}

/** A socket left by a crashed daemon is removed; a live one, or anything that is not a socket, is left alone. */
async function removeStaleSocket(socketPath: string): Promise<void> {
  let st: import('node:fs').Stats;
  try {
    st = await fs.lstat(socketPath);
  } catch {
    return;
  }
  if (!st.isSocket()) throw new Error(`${socketPath} exists and is not a socket; not touching it`);
  const live = await new Promise<boolean>((resolve) => {
    const probe = net.connect(socketPath);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
  if (live) throw new Error(`another process already serves ${socketPath}`);
  await fs.rm(socketPath, { force: true });
}
