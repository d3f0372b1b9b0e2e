import type { FrameDone } from '../ingest/frame-parser';

/**
 * The messages between the collector and its agent listener processes, over the
 * child process channel (v8 serialization: structured clones, not JSON).
 * Connection ids are the listener's own.
 */

/** The collector's messages to a listener. */
export type ToListener =
  | { t: 'init'; certPem: string; keyPem: string; maxFrameBytes: number; maxPayload: number; heartbeatMs: number }
  /** Sent with the accepted TCP socket as the handle; the listener does the TLS handshake. */
  | { t: 'socket' }
  | { t: 'send'; c: number; frames: string[] }
  | { t: 'close'; c: number; code: number; reason: string }
  /** The stored facts' hash the connection's next full reports are expected to repeat (AgentConnection.expectFacts). */
  | { t: 'expect'; c: number; hash?: string }
  /** Close every connection (1001, the collector is going away) and exit. */
  | { t: 'shutdown' };

/** A listener's messages to the collector. */
export type FromListener =
  | { t: 'ready' }
  /** A socket handed over was taken (one per `socket` message, in order). */
  | { t: 'took' }
  | { t: 'open'; c: number; ip: string | null }
  /** A frame, parsed and validated as the collector's frame-parsing workers do (frame-parser.ts). */
  | { t: 'frame'; c: number; done: Omit<FrameDone, 'id'> }
  | { t: 'closed'; c: number };
