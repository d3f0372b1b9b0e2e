import { z } from 'zod';
import { deviceFacts, facts, osName, partialFacts, usbEvent } from '../facts';

/** Bumped on any change an older peer could not read. The hello carries it. */
export const PROTOCOL_VERSION = 1;

/** Optional features a peer may offer in its hello; one is used only when both sides list it. */
export const capabilityNames = ['delta-reports', 'usb-events', 'rescan'] as const;

const uuid = z.uuid();
const isoTime = z.iso.datetime({ offset: true });
const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'expected a SHA-256 in hex');
const token = z.string().min(16).max(512);

export const helloMessage = z
  .object({
    type: z.literal('hello'),
    protocolVersion: z.number().int().min(1),
    agentVersion: z.string().min(1).max(64),
    capabilities: z.array(z.string().max(64)).max(64),
    deviceId: z.string().min(1).max(256),
    os: osName,
    /** The per-device token; absent only on a connection that is about to enrol. */
    token: token.optional(),
  })
  .strict();

export const enrollMessage = z
  .object({
    type: z.literal('enroll'),
    secret: z.string().min(8).max(512),
    device: deviceFacts,
  })
  .strict();

export const enrolledMessage = z
  .object({
    type: z.literal('enrolled'),
    deviceId: z.string().min(1).max(256),
    org: z.string().min(1).max(256),
    token,
  })
  .strict();

export const fullReportBody = z.object({ kind: z.literal('full'), facts }).strict();
export const deltaReportBody = z
  .object({
    kind: z.literal('delta'),
    /** factsHash() of the full facts this delta applies to. */
    baseHash: sha256Hex,
    sections: partialFacts,
  })
  .strict();

export const reportMessage = z
  .object({
    type: z.literal('report'),
    reportId: uuid,
    /** Per-agent counter; the order in which reports were produced. */
    seq: z.number().int().min(0),
    collectedAt: isoTime,
    body: z.discriminatedUnion('kind', [fullReportBody, deltaReportBody]),
    /** Reports the outbox had to drop since the last report, because it was full. */
    dropped: z.number().int().min(0).default(0),
  })
  .strict();

/**
 * A full report checked without its facts. For a collector that already knows the facts to be ones
 * it validated and stored (the same canonical hash), the rest of the report still needs checking.
 */
export const fullReportEnvelope = reportMessage.extend({ body: z.object({ kind: z.literal('full'), facts: z.unknown() }).strict() });

export const ackMessage = z
  .object({
    type: z.literal('ack'),
    /** The reportId or eventId acknowledged. */
    id: uuid,
    /** `duplicate` when the collector had already stored it: the agent may forget it all the same. */
    status: z.enum(['stored', 'duplicate']),
    /** factsHash() of the facts the collector now holds, the base for the next delta. */
    factsHash: sha256Hex.optional(),
  })
  .strict();

export const usbEventMessage = z
  .object({
    type: z.literal('usb-event'),
    eventId: uuid,
    event: usbEvent,
  })
  .strict();

const localisedText = z.object({ en: z.string().max(4000), fr: z.string().max(4000) }).strict();

export const configMessage = z
  .object({
    type: z.literal('config'),
    intervalSeconds: z.number().int().min(10).max(86400),
    policyVersion: z.string().min(1).max(128),
    capabilities: z.array(z.string().max(64)).max(64),
    /** Per rule: the title and remediation steps the tray shows, in English and French. */
    remediation: z
      .record(
        z.string().max(128),
        z.object({ title: localisedText, steps: localisedText }).strict(),
      )
      .default({}),
  })
  .strict();

/**
 * The device's compliance as the collector last evaluated it, sent after each
 * report is stored. The agent keeps it for the employee's tray, which never
 * talks to the collector itself.
 */
export const statusMessage = z
  .object({
    type: z.literal('status'),
    evaluatedAt: isoTime,
    policyVersion: z.string().min(1).max(128),
    findings: z
      .array(
        z
          .object({
            ruleId: z.string().min(1).max(128),
            status: z.enum(['pass', 'fail', 'unknown']),
            severity: z.enum(['low', 'medium', 'high', 'critical']),
            evidence: z.string().max(4000),
            /** When the non-conformity was first seen, and when it must be fixed by; null unless failing. */
            firstSeenAt: isoTime.nullable(),
            dueAt: isoTime.nullable(),
            exempted: z.boolean(),
          })
          .strict(),
      )
      .max(500),
  })
  .strict();

/** Asks the agent to scan and report now (the tray's "Check again now", an admin's request). */
export const rescanMessage = z.object({ type: z.literal('rescan') }).strict();

export const errorCodes = [
  'malformed',
  'schema',
  'too-large',
  'unauthenticated',
  'unknown-device',
  'revoked',
  'token-mismatch',
  'bad-secret',
  'secret-expired',
  'rate-limited',
  'unsupported-version',
  'need-full-report',
  'timeout',
  'internal',
] as const;
export const errorCode = z.enum(errorCodes);
export type ErrorCode = z.infer<typeof errorCode>;

export const errorMessage = z
  .object({
    type: z.literal('error'),
    code: errorCode,
    message: z.string().max(2000),
    /** The report or event the error is about, when there is one. */
    id: uuid.optional(),
  })
  .strict();

export const message = z.discriminatedUnion('type', [
  helloMessage,
  enrollMessage,
  enrolledMessage,
  reportMessage,
  ackMessage,
  usbEventMessage,
  configMessage,
  statusMessage,
  rescanMessage,
  errorMessage,
]);

export type HelloMessage = z.infer<typeof helloMessage>;
export type EnrollMessage = z.infer<typeof enrollMessage>;
export type EnrolledMessage = z.infer<typeof enrolledMessage>;
export type ReportMessage = z.infer<typeof reportMessage>;
export type ReportBody = ReportMessage['body'];
export type AckMessage = z.infer<typeof ackMessage>;
export type UsbEventMessage = z.infer<typeof usbEventMessage>;
export type ConfigMessage = z.infer<typeof configMessage>;
export type StatusMessage = z.infer<typeof statusMessage>;
export type RescanMessage = z.infer<typeof rescanMessage>;
export type ErrorMessage = z.infer<typeof errorMessage>;
export type Message = z.infer<typeof message>;
export type MessageType = Message['type'];
