import * as fs from 'node:fs';
import type { IncomingMessage } from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import { availableParallelism } from 'node:os';
import * as path from 'node:path';
import type { Duplex } from 'node:stream';
import pino, { type Logger } from 'pino';
import { WebSocket, WebSocketServer } from 'ws';
import { DEFAULT_MAX_FRAME_BYTES, type Policy } from '@vigie/shared';
import { AuthService, defaultAuthOptions, type AuthOptions, type AuthUser } from '../auth/service';
import { PolicyEvaluator } from '../evaluate/evaluator';
import { wsConnection } from '../ingest/agent-connection';
import { AgentSession, publishEvaluation, type IngestOptions } from '../ingest/agent-session';
import { FrameParser } from '../ingest/frame-parser';
import { startAgentListeners, type AgentListeners } from '../agent-listener/pool';
import { LicenseService } from '../licenses/service';
import { loadPolicyFile } from '../policy';
import type { AuditEntry, Datastore } from '../store/datastore';
import { openStore } from '../store/open';
import { createApi } from './api/routes';
import { LiveHub, type LiveEvent } from './live';
import { createStaticHandler } from './static';
import { ensureLocalTls, loadTls, type TlsMaterial } from './tls';

export interface CollectorOptions {
  /** Where the database, the local CA and the fingerprint file live. */
  dataDir: string;
  /** Default 0.0.0.0 (every interface: agents connect from the network). */
  host?: string;
  /** Default 8443; 0 picks a free port (tests). */
  port?: number;
  /** The operator's certificate; without it a local CA is made in dataDir. */
  tls?: { certFile: string; keyFile: string } | TlsMaterial;
  /** `sqlite:PATH`; default dataDir/vigie.db. Ignored when `store` is given. */
  dbUrl?: string;
  store?: Datastore;
  policyFile?: string;
  policy?: Policy;
  maxFrameBytes?: number;
  /** Threads that parse and validate big agent frames off the main thread; default: the cores but one, at most 4 (0: inline). */
  parseWorkers?: number;
  /** Frames per second per agent connection (burst: twice as many). */
  rateLimit?: number;
  helloTimeoutMs?: number;
  auth?: Partial<AuthOptions>;
  /** The console build to serve at `/`; null serves a "not built" page. Default: console/dist/renderer if it exists. */
  uiDir?: string | null;
  apiBodyLimit?: number;
  logger?: Logger;
  logLevel?: string;
  now?: () => Date;
  /** How often silent devices and expired exemptions are looked for, and the daily snapshot written. */
  sweepIntervalMs?: number;
  heartbeatMs?: number;
  /**
   * Agent listener processes on a port of their own: they hold the agents' connections,
   * so the fleet is no longer capped by this process's open-files limit (agent-listener/pool.ts).
   * The collector's own port still serves agents too. None by default.
   */
  agentListeners?: { processes: number; host?: string; port: number; script?: string };
}

export interface RunningCollector {
  url: string;
  host: string;
  port: number;
  caFingerprint: string;
  caCertPem: string;
  store: Datastore;
  evaluator: PolicyEvaluator;
  /** null on a store the licenses module does not support yet. */
  licenses: LicenseService | null;
  live: LiveHub;
  /** The agent listeners' port, when they were asked for. */
  agentPort: number | null;
  /** The agent listener processes' pids (none without them). */
  agentListenerPids(): number[];
  /** Runs the silent-device and exemption sweep now (at `now`, default the clock). */
  sweep(now?: Date): Promise<void>;
  close(): Promise<void>;
}

/** The console build next to this package in the monorepo, if it was built. */
export function defaultUiDir(): string | null {
  const dir = path.resolve(__dirname, '..', '..', '..', 'console', 'dist', 'renderer');
  return fs.existsSync(path.join(dir, 'index.html')) ? dir : null;
}

function closeUpgrade(socket: Duplex, status: string): void {
  socket.write(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  socket.destroy();
}

/** Reads the console's session token from the live socket's subprotocols (`bearer.<token>`) or `?token=`. */
function liveToken(req: IncomingMessage, url: URL): string | null {
  const protocols = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
  const bearer = protocols.find((p) => p.startsWith('bearer.'));
  return bearer ? bearer.slice('bearer.'.length) : url.searchParams.get('token');
}

/**
 * Starts a collector: one HTTPS server for `/agent` (WebSocket), `/api/v1` (JSON),
 * `/api/v1/live` (WebSocket) and `/` (the console UI). Rejects with a message an
 * operator can act on when the configuration is wrong.
 */
export async function startCollector(options: CollectorOptions): Promise<RunningCollector> {
  const now = options.now ?? (() => new Date());
  const logger = options.logger ?? pino({ level: options.logLevel ?? 'info', base: { service: 'vigie-collector' } });
  fs.mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });

  let policy = options.policy;
  if (!policy) {
    const loaded = loadPolicyFile(options.policyFile);
    if (!loaded.ok) throw new Error(loaded.message);
    policy = loaded.policy;
  }

  let tls: TlsMaterial;
  if (options.tls && 'certPem' in options.tls) tls = options.tls;
  else {
    const result = options.tls ? loadTls(options.tls.certFile, options.tls.keyFile) : ensureLocalTls(options.dataDir, now());
    if (!result.ok) throw new Error(result.message);
    tls = result.tls;
    if (tls.generated) logger.info({ caFingerprint: tls.caFingerprint }, 'made a local CA and server certificate');
  }

  let store = options.store;
  const ownsStore = !store;
  if (!store) {
    const opened = openStore(options.dbUrl, options.dataDir, now(), { server: true });
    if (!opened.ok) throw new Error(opened.message);
    store = opened.store;
    logger.info({ db: opened.description }, 'store opened');
  }
  const db = store;

  const audit = (entry: Omit<AuditEntry, 'at'>) => {
    // The audit write is awaited by nobody: a failure is logged loudly rather than failing the request after the fact.
    db.appendAudit({ ...entry, at: now() }).catch((err: unknown) => logger.error({ err, entry }, 'could not write the audit log'));
  };

  const evaluator = new PolicyEvaluator(policy, db);
  await evaluator.refreshCatalog();
  // The licenses module takes over the software catalog (normalisation rules and approvals).
  const licenses = LicenseService.open(db, evaluator, now());
  const live = new LiveHub();
  const auth = new AuthService(db, { ...defaultAuthOptions, ...options.auth, lockout: { ...defaultAuthOptions.lockout, ...options.auth?.lockout } }, now, audit);
  const maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
  const perSecond = options.rateLimit ?? 20;
  const ingestOptions: IngestOptions = { maxFrameBytes, rateLimit: { perSecond, burst: perSecond * 2 }, helloTimeoutMs: options.helloTimeoutMs ?? 10_000 };
  // The main thread keeps TLS, SQLite (one writer) and the evaluation; parsing full reports is what can move.
  // One parsing worker per core (up to 4): the main thread is not busy all the time, so on a
  // 2-core machine a second worker takes the time it leaves instead of waiting behind the first.
  const parser = new FrameParser({ workers: options.parseWorkers ?? Math.min(4, availableParallelism()), minWorkerBytes: 16 * 1024 });
  const api = createApi({ store: db, auth, evaluator, licenses, live, now, bodyLimit: options.apiBodyLimit ?? 64 * 1024, audit, onError: (err) => logger.error({ err }, 'API request failed') });
  const serveStatic = createStaticHandler(options.uiDir === undefined ? defaultUiDir() : options.uiDir);

  const server = https.createServer({ cert: tls.certPem, key: tls.keyPem, minVersion: 'TLSv1.2' }, (req, res) => {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'https://collector');
    } catch {
      res.writeHead(400).end();
      return;
    }
    if (url.pathname === '/api/v1' || url.pathname.startsWith('/api/v1/')) {
      void api(req, res, url.pathname.slice('/api/v1'.length) || '/', url.searchParams);
      return;
    }
    serveStatic(req, res, url.pathname);
  });
  server.headersTimeout = 20_000;
  server.requestTimeout = 60_000;

  // The ws limit sits above the protocol's, so a frame just over it still gets a typed
  // `too-large` error from parseMessage; far bigger frames are cut by ws (close 1009).
  const agentWss = new WebSocketServer({ noServer: true, maxPayload: maxFrameBytes + 64 * 1024, perMessageDeflate: false });
  const liveWss = new WebSocketServer({
    noServer: true,
    maxPayload: 4096,
    handleProtocols: (protocols) => (protocols.has('vigie-live') ? 'vigie-live' : ([...protocols].find((p) => p.startsWith('bearer.')) ?? false)),
  });
  const alive = new WeakMap<WebSocket, boolean>();
  const track = (ws: WebSocket) => {
    alive.set(ws, true);
    ws.on('pong', () => alive.set(ws, true));
  };

  const ingestDeps = { store: db, evaluator, live, logger, now, options: ingestOptions, audit, parser };
  agentWss.on('connection', (ws: WebSocket, req: IncomingMessage) => {
    track(ws);
    new AgentSession(wsConnection(ws, req.socket), req.socket.remoteAddress ?? null, ingestDeps);
  });

  const liveSessions = new Map<WebSocket, AuthUser>();
  liveWss.on('connection', (ws: WebSocket, _req: IncomingMessage, user: AuthUser) => {
    track(ws);
    liveSessions.set(ws, user);
    const unsubscribe = live.subscribe({ scope: user.scope, send: (event: LiveEvent) => ws.readyState === ws.OPEN && ws.send(JSON.stringify(event)) });
    ws.on('close', () => {
      unsubscribe();
      liveSessions.delete(ws);
    });
    // The console only listens; anything it sends is ignored.
    ws.on('message', () => undefined);
  });

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'https://collector');
    } catch {
      return closeUpgrade(socket, '400 Bad Request');
    }
    if (url.pathname === '/agent') {
      agentWss.handleUpgrade(req, socket, head, (ws) => agentWss.emit('connection', ws, req));
      return;
    }
    if (url.pathname === '/api/v1/live') {
      const token = liveToken(req, url);
      void (async () => {
        const user = token ? await auth.authenticate(token).catch(() => null) : null;
        if (!user) return closeUpgrade(socket, '401 Unauthorized');
        liveWss.handleUpgrade(req, socket, head, (ws) => liveWss.emit('connection', ws, req, user));
      })();
      return;
    }
    // Only the two WebSocket routes exist; anything else is dropped at once.
    socket.destroy();
  });

  // Heartbeat: a socket that missed a pong since the last round is dead (a laptop that
  // slept, a NAT that forgot us) and is ended, freeing its memory.
  const heartbeat = setInterval(() => {
    for (const wss of [agentWss, liveWss]) {
      for (const ws of wss.clients) {
        if (alive.get(ws) === false) {
          ws.terminate();
          continue;
        }
        alive.set(ws, false);
        ws.ping();
      }
    }
    // A console's live socket ends with its session (idle expiry, logout).
    for (const [ws, user] of liveSessions) {
      void auth.stillValid(user.tokenHash).then((ok) => {
        if (!ok) ws.close(4001, 'session expired');
      });
    }
  }, options.heartbeatMs ?? 30_000);
  heartbeat.unref();

  let lastSweep = now();
  let sweeping: Promise<void> | null = null;
  async function sweepOnce(at: Date): Promise<void> {
    for (const rule of evaluator.checkinRules()) {
      const cutoff = new Date(at.getTime() - rule.maxSilentHours * 3_600_000);
      for (;;) {
        const ids = await db.listSilentDevices(rule.id, cutoff, 500);
        let changed = 0;
        for (const id of ids) {
          const device = await db.getDevice(id);
          if (!device) continue;
          const result = await evaluator.reevaluate(device, at);
          if (result) {
            publishEvaluation(live, result);
            changed++;
          }
        }
        // A device whose re-evaluation could not make the finding fail (no facts) would come back forever.
        if (ids.length < 500 || changed === 0) break;
      }
    }
    for (const id of await db.listDevicesWithExemptionsEndingBetween(lastSweep, new Date(at.getTime() + 1))) {
      if (await db.refreshDeviceStatus(id, at)) {
        const device = await db.getDevice(id);
        if (device) {
          live.publish({ type: 'device-updated', deviceId: id }, device.org);
          live.publish({ type: 'summary-changed' }, device.org);
          live.deviceStatusChanged(id);
        }
      }
    }
    lastSweep = at;
    await db.recordDailySnapshot(at);
  }
  const sweep = (at: Date = now()): Promise<void> => {
    const run = (sweeping ?? Promise.resolve()).then(() => sweepOnce(at));
    sweeping = run.catch((err: unknown) => logger.error({ err }, 'sweep failed'));
    return run;
  };
  const sweepTimer = setInterval(() => void sweep().catch(() => undefined), options.sweepIntervalMs ?? 60_000);
  sweepTimer.unref();

  const host = options.host ?? '0.0.0.0';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 8443, host, () => {
      server.off('error', reject);
      resolve();
    });
  }).catch(async (e: unknown) => {
    clearInterval(heartbeat);
    clearInterval(sweepTimer);
    await parser.close();
    if (ownsStore) await db.close();
    throw new Error(`cannot listen on ${host}:${options.port ?? 8443}: ${(e as Error).message}`);
  });
  let listeners: AgentListeners | null = null;
  if (options.agentListeners && options.agentListeners.processes > 0) {
    const { processes, host: agentHost = host, port: agentPort, script } = options.agentListeners;
    listeners = await startAgentListeners({
      processes,
      host: agentHost,
      port: agentPort,
      tls,
      maxFrameBytes,
      maxPayload: maxFrameBytes + 64 * 1024,
      heartbeatMs: options.heartbeatMs ?? 30_000,
      logger,
      onConnection: (connection, ip) => new AgentSession(connection, ip, ingestDeps),
      ...(script ? { script } : {}),
    }).catch(async (e: unknown) => {
      clearInterval(heartbeat);
      clearInterval(sweepTimer);
      server.close();
      await parser.close();
      if (ownsStore) await db.close();
      throw e;
    });
    logger.info({ port: listeners.port, processes, pids: listeners.pids() }, 'agent listener processes started');
  }
  await sweep().catch(() => undefined);
  const port = (server.address() as AddressInfo).port;
  const urlHost = host === '0.0.0.0' || host === '::' ? 'localhost' : host.includes(':') ? `[${host}]` : host;

  let closing: Promise<void> | null = null;
  const close = () => {
    closing ??= (async () => {
      clearInterval(heartbeat);
      clearInterval(sweepTimer);
      live.close();
      await listeners?.close();
      for (const ws of [...agentWss.clients, ...liveWss.clients]) ws.close(1001, 'collector shutting down');
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections?.();
        // Sockets that do not answer the close handshake are cut after a moment.
        setTimeout(() => {
          for (const ws of [...agentWss.clients, ...liveWss.clients]) ws.terminate();
        }, 1000).unref();
      });
      await sweeping;
      await parser.close();
      if (ownsStore) await db.close();
    })();
    return closing;
  };

  return { url: `https://${urlHost}:${port}`, host, port, caFingerprint: tls.caFingerprint, caCertPem: tls.caCertPem, store: db, evaluator, licenses, live, agentPort: listeners?.port ?? null, agentListenerPids: () => listeners?.pids() ?? [], sweep, close };
}
