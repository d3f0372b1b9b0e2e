import { promises as fs } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { configMessage, statusMessage, type ConfigMessage, type StatusMessage } from '@vigie/shared';
import type { DaemonObserver } from '../daemon/daemon';
import type { Exec } from '../exec';
import { readJsonFile, writeFileAtomic } from '../state/fsutil';
import type { Logger } from '../transport/logger';
import { defaultSocketPath } from './paths';
import type { TrayState } from './state';
import { startStatusServer, type StatusServer } from './status-server';

/**
 * The daemon's side of the tray (`vigie-agent run`): keeps what the collector
 * last said about this device, and serves it on the tray socket.
 */

/** In the state dir, beside sync.json: a restarted daemon answers the tray at once, even offline. */
export const TRAY_FILE = 'tray.json';

const isoTime = z.iso.datetime({ offset: true });
const persisted = z
  .object({
    v: z.literal(1),
    config: configMessage.nullable(),
    status: statusMessage.nullable(),
    lastReportAt: isoTime.nullable(),
    lastAckAt: isoTime.nullable(),
  })
  .strict();
type Persisted = z.infer<typeof persisted>;

/**
 * The latest `config` (rule titles and steps) and `status` (findings, due
 * dates), and when reports went and were acknowledged. It is the daemon's
 * observer; each change is written to `tray.json` (0600, atomically), in order.
 */
export class TrayStatusKeeper implements DaemonObserver {
  private data: Persisted;
  private writes: Promise<void> = Promise.resolve();

  private constructor(
    readonly file: string,
    data: Persisted,
    private readonly log: Logger,
  ) {
    this.data = data;
  }

  /** A missing or unreadable file starts empty: the next config and status refill it. */
  static async load(stateDir: string, log: Logger): Promise<TrayStatusKeeper> {
    const file = path.join(stateDir, TRAY_FILE);
    let data: Persisted = { v: 1, config: null, status: null, lastReportAt: null, lastAckAt: null };
    try {
      const parsed = persisted.safeParse(await readJsonFile(file));
      if (parsed.success) data = parsed.data;
      else if ((await fs.stat(file).catch(() => null)) !== null) log.warn({ file }, 'ignoring an invalid tray status file');
    } catch (e) {
      log.warn({ file, err: (e as Error).message }, 'cannot read the tray status file');
    }
    return new TrayStatusKeeper(file, data, log);
  }

  onConfig(config: ConfigMessage): void {
    this.update({ config });
  }

  onStatus(status: StatusMessage): void {
    this.update({ status });
  }

  onReportQueued(at: Date): void {
    this.update({ lastReportAt: at.toISOString() });
  }

  onReportAcked(at: Date): void {
    this.update({ lastAckAt: at.toISOString() });
  }

  state(input: { agentVersion: string; collector: string | null; connected: boolean }): TrayState {
    const { config, status, lastReportAt, lastAckAt } = this.data;
    return { ...input, config, status, lastReportAt, lastAckAt };
  }

  /** Resolves once every change so far is on disk (or failed and was logged). */
  flush(): Promise<void> {
    return this.writes;
  }

  private update(patch: Partial<Persisted>): void {
    this.data = { ...this.data, ...patch };
    const snapshot = JSON.stringify(this.data);
    this.writes = this.writes
      .then(() => writeFileAtomic(this.file, snapshot, 0o600))
      .catch((e: unknown) => this.log.warn({ err: (e as Error).message }, 'cannot save the tray status'));
  }
}

/** Who the socket is for. `uid` undefined: the daemon's own user (a daemon that is not root). */
export type TrayUser = { uid: number | undefined; name: string } | string;

export interface ServeTrayOptions {
  keeper: TrayStatusKeeper;
  daemon: { readonly connected: boolean; requestScan(): void };
  agentVersion: string;
  collector: string | null;
  /** `--tray-socket`; else the per-user default (`VIGIE_TRAY_SOCKET` overrides it). */
  socketPath?: string;
  /**
   * Root only: who the socket is for, or why nobody (a string). Asked again every
   * `recheckMs` while nobody is found, and to follow a new session user.
   */
  findUser: () => Promise<TrayUser>;
  platform: NodeJS.Platform;
  env: NodeJS.ProcessEnv;
  /** The daemon's uid on POSIX. */
  uid: number | undefined;
  log: Logger;
  recheckMs?: number;
}

export interface TrayService {
  /** The socket being served, if any. */
  readonly socketPath: string | undefined;
  close(): Promise<void>;
}

export const DEFAULT_RECHECK_MS = 60_000;

/**
 * Serves the tray socket for as long as the daemon runs. Never throws: a socket
 * that cannot be made (no /run/vigie-agent, not root, nobody logged in) is a
 * warning, and the agent goes on reporting.
 */
export async function serveTray(options: ServeTrayOptions): Promise<TrayService> {
  const { keeper, daemon, log } = options;
  const asRoot = options.platform !== 'win32' && options.uid === 0;
  let server: StatusServer | undefined;
  let servedFor: number | undefined;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  let lastProblem: string | undefined;

  const warnOnce = (problem: string) => {
    // Said once, not every minute while nobody is logged in.
    if (problem !== lastProblem) log.warn({ reason: problem }, 'the tray socket is not served');
    lastProblem = problem;
  };

  const open = async (uid: number | undefined): Promise<void> => {
    const socketPath =
      options.socketPath ?? defaultSocketPath({ platform: options.platform, env: options.env, uid: uid ?? options.uid, user: options.env.USER ?? 'unknown', home: '' });
    if (asRoot && options.socketPath === undefined && !options.env.VIGIE_TRAY_SOCKET) {
      // The default directory is the daemon's own: root-owned, writable by root only (status-server checks it).
      await fs.mkdir(path.dirname(socketPath), { mode: 0o755 }).catch(() => undefined);
    }
    server = await startStatusServer({
      socketPath,
      allowedUid: asRoot ? uid : undefined,
      getState: () => keeper.state({ agentVersion: options.agentVersion, collector: options.collector, connected: daemon.connected }),
      onRescan: async () => daemon.requestScan(),
      log: (message) => log.warn({ socketPath }, message),
    });
    servedFor = uid;
    lastProblem = undefined;
    log.info({ socketPath, uid }, 'serving the tray');
  };

  const attempt = async (): Promise<void> => {
    try {
      let uid: number | undefined;
      if (asRoot) {
        const user = await options.findUser();
        if (typeof user === 'string') return warnOnce(`no session user to serve: ${user}`);
        uid = user.uid;
      }
      if (server && servedFor === uid) return;
      if (server) {
        // Another user now sits at the screen: the socket is theirs, not the previous user's.
        await server.close();
        server = undefined;
      }
      if (closed) return;
      await open(uid);
    } catch (e) {
      warnOnce((e as Error).message);
    }
  };

  await attempt();
  const schedule = () => {
    if (closed || !asRoot) return;
    timer = setTimeout(() => void attempt().finally(schedule), options.recheckMs ?? DEFAULT_RECHECK_MS);
    timer.unref();
  };
  // Only root follows the session user; a user's own daemon serves that user from the start, or says why not once.
  schedule();

  return {
    get socketPath() {
      return server?.socketPath;
    },
    async close() {
      closed = true;
      clearTimeout(timer);
      await server?.close();
      server = undefined;
      await keeper.flush();
    },
  };
}

/**
 * Linux: the user at the active graphical session, found with loginctl as the
 * screen-lock probe does. macOS: the owner of /dev/console. `--tray-user NAME`
 * is resolved with `id -u`.
 */
export function systemTrayUser(input: { platform: NodeJS.Platform; exec: Exec; trayUser?: string; findSessionUser: () => Promise<{ uid: number; name: string } | string> }): () => Promise<TrayUser> {
  return async () => {
    if (input.trayUser !== undefined) {
      if (!/^[A-Za-z_][A-Za-z0-9_.-]*\$?$/.test(input.trayUser)) return `--tray-user "${input.trayUser}" is not a user name`;
      const id = await input.exec('/usr/bin/id', ['-u', input.trayUser], { timeoutMs: 10_000 });
      const uid = id.stdout.trim();
      if (id.code !== 0 || !/^\d+$/.test(uid)) return `no user "${input.trayUser}" (${id.stderr.trim() || id.error || `exit ${id.code}`})`;
      return { uid: Number(uid), name: input.trayUser };
    }
    if (input.platform === 'linux') return input.findSessionUser();
    if (input.platform === 'darwin') {
      const st = await fs.stat('/dev/console').catch(() => null);
      if (!st || st.uid === 0) return 'nobody is logged in at the console';
      return { uid: st.uid, name: String(st.uid) };
    }
    return `no session user lookup on ${input.platform}`;
  };
}
