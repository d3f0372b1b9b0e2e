import { z } from 'zod';
import { configMessage, statusMessage } from '@vigie/shared';

/**
 * What the agent daemon tells the employee's tray, over the local socket.
 *
 * Why a local socket and not the collector: the tray then holds no credential
 * at all (no device token, no device-scoped token), and the collector is never
 * exposed to, nor reachable from, the user session. The daemon already keeps the
 * latest `config` (rule titles and remediation steps, set centrally by the DSI)
 * and `status` (this device's findings) that the collector sends it; the tray
 * only reads them, and may ask for a rescan. See docs/tray.md.
 */
const isoTime = z.iso.datetime({ offset: true });

export const trayState = z
  .object({
    agentVersion: z.string().min(1).max(64),
    /** The collector's URL, shown in "About"; never a secret. */
    collector: z.string().max(2048).nullable(),
    /** When the agent last sent a report, and when the collector last acknowledged one. */
    lastReportAt: isoTime.nullable(),
    lastAckAt: isoTime.nullable(),
    config: configMessage.nullable(),
    status: statusMessage.nullable(),
    /** Whether the agent is connected to the collector right now. */
    connected: z.boolean(),
  })
  .strict();
export type TrayState = z.infer<typeof trayState>;

/** Version of the tray socket protocol below; bumped on any change an older tray could not read. */
export const TRAY_PROTOCOL_VERSION = 1;

/** Longest request line the server reads; real requests are ~40 bytes. */
export const MAX_REQUEST_BYTES = 1024;
/** Longest response line the client reads: a full config (500 rules x 2 languages x 2 texts) fits. */
export const MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

const requestId = z.string().min(1).max(64).regex(/^[A-Za-z0-9_-]+$/);

/** One request per line. `id`, when given, is echoed so a client can have several in flight. */
export const trayRequest = z.discriminatedUnion('op', [
  z.object({ op: z.literal('status'), id: requestId.optional() }).strict(),
  z.object({ op: z.literal('rescan'), id: requestId.optional() }).strict(),
]);
export type TrayRequest = z.infer<typeof trayRequest>;

export const trayErrorCodes = ['malformed', 'schema', 'too-large', 'rate-limited', 'rescan-failed', 'internal'] as const;
export const trayErrorCode = z.enum(trayErrorCodes);
export type TrayErrorCode = z.infer<typeof trayErrorCode>;

const base = { v: z.literal(TRAY_PROTOCOL_VERSION), id: requestId.optional() };
export const trayResponse = z.union([
  z.object({ ...base, ok: z.literal(true), op: z.literal('status'), state: trayState }).strict(),
  z.object({ ...base, ok: z.literal(true), op: z.literal('rescan') }).strict(),
  z
    .object({ ...base, ok: z.literal(false), error: z.object({ code: trayErrorCode, message: z.string().max(500) }).strict() })
    .strict(),
]);
export type TrayResponse = z.infer<typeof trayResponse>;
