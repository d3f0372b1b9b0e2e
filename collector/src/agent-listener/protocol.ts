/**
 * The messages between the collector and its agent listener processes, over the
 * child process channel (v8 serialization, so frames travel as Buffers, not JSON).
 * Connection ids are the listener's own.
 */

/** The collector's messages to a listener. */
export type ToListener =
  | { t: 'init'; certPem: string; keyPem: string; maxPayload: number; heartbeatMs: number }
  /** Sent with the accepted TCP socket as the handle; the listener does the TLS handshake. */
  | { t: 'socket' }
  | { t: 'send'; c: number; frames: string[] }
  | { t: 'close'; c: number; code: number; reason: string }
  /** Close every connection (1001, the collector is going away) and exit. */
  | { t: 'shutdown' };

/** A listener's messages to the collector. */
export type FromListener =
  | { t: 'ready' }
  | { t: 'open'; c: number; ip: string | null }
  | { t: 'frame'; c: number; data: Buffer; binary: boolean }
  | { t: 'closed'; c: number };
