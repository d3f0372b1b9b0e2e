import WebSocket from 'ws';
import {
  encodeMessage,
  parseMessage,
  DEFAULT_MAX_FRAME_BYTES,
  type AckMessage,
  type ConfigMessage,
  type ErrorCode,
  type ErrorMessage,
  type HelloMessage,
  type Message,
  type OsName,
  type StatusMessage,
} from '@vigie/shared';
import { backoffDelay, type BackoffOptions } from './backoff';
import type { Logger } from './logger';
import type { Outbox, OutboxEntry } from './outbox';
import { tlsClientOptions, TrustError, type TrustOptions } from './tls';
import { AGENT_CAPABILITIES, AGENT_VERSION, PROTOCOL_VERSION } from './version';

/** The collector's WebSocket route for agents. */
export const AGENT_PATH = '/agent';

/** `wss://host:port` (any path) → `wss://host:port/agent`. Plain ws:// is refused: tokens never travel in clear. */
export function agentUrl(server: string): string {
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw new Error(`not a server URL: "${server}" (expected wss://HOST:PORT)`);
  }
  if (url.protocol === 'https:') url.protocol = 'wss:';
  if (url.protocol !== 'wss:') throw new Error(`the server URL must start with wss:// (got "${server}")`);
  if (url.pathname === '/' || url.pathname === '') url.pathname = AGENT_PATH;
  return url.toString();
}

export interface SocketOptions {
  server: string;
  trust: TrustOptions;
  handshakeTimeoutMs?: number;
  maxFrameBytes?: number;
  now?: () => Date;
}

/** Opens a WSS connection to the collector's /agent route, trusting it as `trust` says. */
export function openSocket(options: SocketOptions): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    let ws: WebSocket;
    try {
      ws = new WebSocket(agentUrl(options.server), {
        ...tlsClientOptions(options.trust, options.now),
        handshakeTimeout: options.handshakeTimeoutMs ?? 15_000,
        maxPayload: options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES,
        perMessageDeflate: false,
      });
    } catch (e) {
      reject(e as Error);
      return;
    }
    let settled = false;
    // Stays attached until open: ws may report more than one error on a failed handshake.
    const onError = (err: Error) => {
      if (settled) return;
      settled = true;
      reject(err);
    };
    ws.on('error', onError);
    ws.once('open', () => {
      ws.removeListener('error', onError);
      settled = true;
      resolve(ws);
    });
  });
}

/** Makes a readable one-line reason out of a connection failure. */
export function describeConnectError(err: Error): string {
  if (err instanceof TrustError) return `refusing the collector: ${err.message}`;
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ECONNREFUSED') return `connection refused (${err.message})`;
  if (code === 'ENOTFOUND') return `unknown host (${err.message})`;
  if (code && /CERT|SELF_SIGNED|UNABLE_TO/.test(code)) {
    return `the collector's certificate is not trusted (${code}); pass --ca-fingerprint with the fingerprint the collector printed`;
  }
  return err.message;
}

/** Errors after which retrying cannot help: the device must be enrolled again (or the agent upgraded). */
export const FATAL_ERROR_CODES: readonly ErrorCode[] = [
  'unauthenticated',
  'unknown-device',
  'revoked',
  'token-mismatch',
  'unsupported-version',
];

/** Errors about one message that a resend would only repeat: the message is dropped (and counted). */
const REFUSED_FOR_GOOD: readonly ErrorCode[] = ['malformed', 'schema', 'too-large'];

export class FatalTransportError extends Error {
  override name = 'FatalTransportError';
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export function fatalMessage(error: ErrorMessage): string {
  switch (error.code) {
    case 'revoked':
      return `the collector revoked this device (${error.message}); once an operator has restored it, enrol it again with vigie-agent enroll`;
    case 'unknown-device':
    case 'unauthenticated':
    case 'token-mismatch':
      return `the collector does not accept this device's token (${error.code}: ${error.message}); enrol it again with vigie-agent enroll`;
    case 'unsupported-version':
      return `the collector does not speak this agent's protocol version ${PROTOCOL_VERSION} (${error.message}); upgrade the agent`;
    default:
      return `${error.code}: ${error.message}`;
  }
}

export interface AgentClientHandlers {
  /** Each `config`, after every (re)connection. */
  onConfig?: (config: ConfigMessage) => void;
  /** A message was acknowledged and has left the outbox. */
  onAck?: (entry: OutboxEntry, ack: AckMessage) => void | Promise<void>;
  /** The collector could not apply a delta (or wants a full report): the entry has left the outbox. */
  onNeedFullReport?: (entry: OutboxEntry | undefined) => void;
  onRescan?: () => void;
  /** The device's status as the collector last evaluated it (sent after each stored report). */
  onStatus?: (status: StatusMessage) => void;
  /** The collector refused a message for good (schema, too large): it was dropped and counted. */
  onRefused?: (entry: OutboxEntry | undefined, error: ErrorMessage) => void;
  /** Retrying cannot help; the client has stopped. */
  onFatal?: (error: FatalTransportError) => void;
  /** Connected, and nothing is pending. */
  onDrained?: () => void;
}

export interface AgentClientOptions {
  server: string;
  trust: TrustOptions;
  deviceId: string;
  token: string;
  os: OsName;
  outbox: Outbox;
  logger: Logger;
  handlers?: AgentClientHandlers;
  /** Messages sent and not yet acknowledged at most. */
  window?: number;
  /** A ping every this many ms; no pong by the next one ends the connection. */
  heartbeatMs?: number;
  /** Time allowed for TLS + upgrade, and then for the `config` after the hello. */
  handshakeTimeoutMs?: number;
  backoff?: BackoffOptions;
  maxFrameBytes?: number;
  now?: () => Date;
}

export type ClientState = 'idle' | 'connecting' | 'ready' | 'waiting' | 'stopped';

/**
 * The agent's side of the /agent route. Keeps one connection up (reconnecting
 * with jittered exponential backoff), says hello, waits for `config`, then sends
 * the outbox in seq order with a bounded window, forgetting each message only
 * on its ack. The collector dedupes by id, so resending after a reconnect is
 * safe: delivery is at least once on the wire, exactly once in the store.
 */
export class AgentClient {
  private ws: WebSocket | undefined;
  private status: ClientState = 'idle';
  private attempt = 0;
  private readonly inFlight = new Set<string>();
  private reconnectTimer: NodeJS.Timeout | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private configTimer: NodeJS.Timeout | undefined;
  private alive = true;
  private error: string | undefined;
  private capabilities: readonly string[] | undefined;
  private readonly window: number;
  /** Frames are handled one after another, in arrival order; stop() waits for the last. */
  private processing: Promise<void> = Promise.resolve();

  constructor(private readonly options: AgentClientOptions) {
    this.window = Math.max(1, options.window ?? 8);
  }

  get state(): ClientState {
    return this.status;
  }

  /** Why the last connection failed or ended, for a clear message when delivery times out. */
  get lastError(): string | undefined {
    return this.error;
  }

  /** The collector's capabilities from its last config. */
  get serverCapabilities(): readonly string[] | undefined {
    return this.capabilities;
  }

  start(): void {
    if (this.status !== 'idle') return;
    void this.connect();
  }

  /** New messages are in the outbox: send them if connected. */
  kick(): void {
    this.pump();
  }

  /** Closes the connection and waits until the messages already received are handled. */
  async stop(): Promise<void> {
    await this.close();
    await this.processing;
  }

  private async close(): Promise<void> {
    if (this.status === 'stopped') return;
    this.status = 'stopped';
    this.clearTimers();
    clearTimeout(this.reconnectTimer);
    const ws = this.ws;
    this.ws = undefined;
    if (!ws || ws.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => ws.terminate(), 2000);
      ws.once('close', () => {
        clearTimeout(force);
        resolve();
      });
      if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
      else ws.close(1000, 'agent stopping');
    });
  }

  private async connect(): Promise<void> {
    if (this.status === 'stopped') return;
    this.status = 'connecting';
    const { logger } = this.options;
    let ws: WebSocket;
    try {
      ws = await openSocket({
        server: this.options.server,
        trust: this.options.trust,
        handshakeTimeoutMs: this.options.handshakeTimeoutMs,
        maxFrameBytes: this.options.maxFrameBytes,
        now: this.options.now,
      });
    } catch (e) {
      this.error = describeConnectError(e as Error);
      const log = e instanceof TrustError ? logger.error.bind(logger) : logger.warn.bind(logger);
      log({ err: this.error }, 'cannot connect to the collector');
      this.scheduleReconnect();
      return;
    }
    if ((this.status as ClientState) === 'stopped') {
      ws.terminate();
      return;
    }
    this.ws = ws;
    this.alive = true;
    ws.on('message', (data, isBinary) => this.onFrame(isBinary ? undefined : data.toString()));
    ws.on('pong', () => {
      this.alive = true;
    });
    ws.on('error', (err) => {
      this.error = describeConnectError(err);
      logger.warn({ err: this.error }, 'connection error');
    });
    ws.on('close', (code, reason) => this.onClose(ws, code, reason.toString()));
    const hello: HelloMessage = {
      type: 'hello',
      protocolVersion: PROTOCOL_VERSION,
      agentVersion: AGENT_VERSION,
      capabilities: [...AGENT_CAPABILITIES],
      deviceId: this.options.deviceId,
      os: this.options.os,
      token: this.options.token,
    };
    ws.send(encodeMessage(hello));
    this.configTimer = setTimeout(() => {
      this.error = 'the collector did not answer the hello in time';
      ws.terminate();
    }, this.options.handshakeTimeoutMs ?? 15_000);
    const heartbeatMs = this.options.heartbeatMs ?? 30_000;
    this.heartbeatTimer = setInterval(() => {
      if (!this.alive) {
        // No pong since the last ping: the path is dead even if TCP has not noticed.
        this.error = 'no heartbeat from the collector';
        logger.warn('heartbeat lost, reconnecting');
        ws.terminate();
        return;
      }
      this.alive = false;
      ws.ping();
    }, heartbeatMs);
  }

  private onClose(ws: WebSocket, code: number, reason: string): void {
    if (this.ws !== ws) return;
    this.ws = undefined;
    this.clearTimers();
    this.inFlight.clear();
    if (this.status === 'stopped') return;
    // Keep a reason given before the close (heartbeat, collector error); else say how it closed.
    if (!this.error) this.error = `connection closed (${code}${reason ? `: ${reason}` : ''})`;
    this.options.logger.info({ code, reason }, 'disconnected from the collector');
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.status === 'stopped') return;
    this.status = 'waiting';
    const delay = backoffDelay(this.attempt, this.options.backoff);
    this.attempt += 1;
    this.options.logger.debug({ delay, attempt: this.attempt }, 'reconnecting after backoff');
    this.reconnectTimer = setTimeout(() => void this.connect(), delay);
  }

  private clearTimers(): void {
    clearInterval(this.heartbeatTimer);
    clearTimeout(this.configTimer);
    this.heartbeatTimer = undefined;
    this.configTimer = undefined;
  }

  private onFrame(frame: string | undefined): void {
    this.alive = true;
    const parsed = parseMessage(frame, this.options.maxFrameBytes);
    if (!parsed.ok) {
      this.options.logger.warn({ error: parsed.error }, 'ignoring an invalid frame from the collector');
      return;
    }
    const msg = parsed.message;
    this.processing = this.processing
      .then(() => this.onMessage(msg))
      .catch((e: unknown) => {
        this.options.logger.error({ err: (e as Error).message }, 'handling a collector message failed');
      });
  }

  private async onMessage(msg: Message): Promise<void> {
    const { handlers = {}, logger, outbox } = this.options;
    switch (msg.type) {
      case 'config':
        clearTimeout(this.configTimer);
        this.status = 'ready';
        this.attempt = 0;
        this.error = undefined;
        this.capabilities = msg.capabilities;
        logger.info({ intervalSeconds: msg.intervalSeconds, policyVersion: msg.policyVersion }, 'connected to the collector');
        handlers.onConfig?.(msg);
        this.pump();
        return;
      case 'ack': {
        this.inFlight.delete(msg.id);
        const entry = await outbox.remove(msg.id);
        if (entry) await handlers.onAck?.(entry, msg);
        this.pump();
        return;
      }
      case 'rescan':
        handlers.onRescan?.();
        return;
      case 'status':
        handlers.onStatus?.(msg);
        return;
      case 'error':
        await this.onError(msg);
        return;
      default:
        logger.debug({ type: msg.type }, 'ignoring an unexpected message');
    }
  }

  private async onError(msg: ErrorMessage): Promise<void> {
    const { handlers = {}, logger, outbox } = this.options;
    if (FATAL_ERROR_CODES.includes(msg.code)) {
      const error = new FatalTransportError(msg.code, fatalMessage(msg));
      this.error = error.message;
      logger.error({ code: msg.code }, error.message);
      // close(), not stop(): stop() waits for this very handler.
      await this.close();
      handlers.onFatal?.(error);
      return;
    }
    if (msg.code === 'need-full-report') {
      if (msg.id) this.inFlight.delete(msg.id);
      // The delta cannot be applied; a full report supersedes it.
      const entry = msg.id ? await outbox.remove(msg.id) : undefined;
      logger.info({ id: msg.id }, 'the collector asked for a full report');
      handlers.onNeedFullReport?.(entry);
      this.pump();
      return;
    }
    if (msg.id && REFUSED_FOR_GOOD.includes(msg.code)) {
      this.inFlight.delete(msg.id);
      const entry = await outbox.discard(msg.id);
      logger.error({ id: msg.id, seq: entry?.seq, code: msg.code, message: msg.message }, 'the collector refused a message; dropped and counted');
      handlers.onRefused?.(entry, msg);
      this.pump();
      return;
    }
    // Transient (rate-limited, internal, timeout…): back off and resend from the outbox.
    this.error = `${msg.code}: ${msg.message}`;
    logger.warn({ code: msg.code, message: msg.message }, 'collector error, reconnecting later');
    this.ws?.terminate();
  }

  private pump(): void {
    const ws = this.ws;
    if (this.status !== 'ready' || !ws || ws.readyState !== WebSocket.OPEN) return;
    const { outbox, handlers = {} } = this.options;
    const entries = outbox.entries();
    if (entries.length === 0 && this.inFlight.size === 0) {
      handlers.onDrained?.();
      return;
    }
    const usbAllowed = this.capabilities?.includes('usb-events') ?? false;
    for (const entry of entries) {
      if (this.inFlight.size >= this.window) break;
      if (this.inFlight.has(entry.id)) continue;
      if (entry.message.type === 'usb-event' && !usbAllowed) {
        // Negotiated off: this collector cannot take events (the usb section still lists devices).
        this.inFlight.add(entry.id);
        void outbox.discard(entry.id).then(() => {
          this.inFlight.delete(entry.id);
          this.pump();
        });
        continue;
      }
      this.inFlight.add(entry.id);
      ws.send(encodeMessage(entry.message));
    }
  }
}
