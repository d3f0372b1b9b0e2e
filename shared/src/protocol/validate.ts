import { z } from 'zod';
import { ErrorCode, fullReportEnvelope, Message, message } from './messages';

/** Default cap on one frame. Large fleets' software lists fit well under it. */
export const DEFAULT_MAX_FRAME_BYTES = 4 * 1024 * 1024;

export interface ProtocolError {
  code: Extract<ErrorCode, 'malformed' | 'schema' | 'too-large'>;
  message: string;
}

export type ParseResult = { ok: true; message: Message } | { ok: false; error: ProtocolError };

/** UTF-8 length of a string, without TextEncoder (shared has no DOM or Node types). */
export function utf8ByteLength(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.length ? issue.path.join('.') : '(root)'}: ${issue.message}`)
    .join('; ');
}

/**
 * Parses one frame from a peer. It never throws on foreign input: anything that
 * is not a valid message comes back as a typed error the server can send back.
 */
export function parseMessage(frame: unknown, maxBytes = DEFAULT_MAX_FRAME_BYTES): ParseResult {
  if (typeof frame !== 'string') {
    return { ok: false, error: { code: 'malformed', message: 'frame is not text' } };
  }
  // Checked on the string length first, so a huge frame is refused before it is scanned.
  if (frame.length > maxBytes || utf8ByteLength(frame) > maxBytes) {
    return { ok: false, error: { code: 'too-large', message: `frame exceeds ${maxBytes} bytes` } };
  }
  let data: unknown;
  try {
    data = JSON.parse(frame);
  } catch (e) {
    return { ok: false, error: { code: 'malformed', message: `not JSON: ${(e as Error).message}` } };
  }
  return validateMessage(data);
}

/** Validates an already-decoded value against the protocol. */
export function validateMessage(data: unknown): ParseResult {
  const result = message.safeParse(data);
  if (!result.success) {
    return { ok: false, error: { code: 'schema', message: describeIssues(result.error) } };
  }
  return { ok: true, message: result.data };
}

export function encodeMessage(msg: Message): string {
  return JSON.stringify(msg);
}

/**
 * Validates a full report except its facts, which the caller has recognised as facts it validated
 * before (by the hash of their canonical JSON). The message's facts are then whatever was received:
 * the caller must use the facts it knows, never these.
 */
export function validateFullReportEnvelope(data: unknown): ParseResult {
  const result = fullReportEnvelope.safeParse(data);
  if (!result.success) return { ok: false, error: { code: 'schema', message: describeIssues(result.error) } };
  return { ok: true, message: result.data as Message };
}
