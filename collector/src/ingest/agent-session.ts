import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import {
  capabilityNames,
  encodeMessage,
  PROTOCOL_VERSION,
  type ParseResult,
  type EnrollMessage,
  type ErrorCode,
  type HelloMessage,
  type Message,
  type ReportMessage,
  type UsbEventMessage,
} from '@vigie/shared';
import type { AuditEntry, Datastore, DeviceRecord, DeviceStatusRows, EvaluationResult } from '../store/datastore';
import type { PolicyEvaluator } from '../evaluate/evaluator';
import type { LiveHub } from '../server/live';
import { randomToken, sha256Hex } from '../util/crypto';
import type { AgentConnection, IncomingFrame } from './agent-connection';
import type { FrameParser, ParsedFrame } from './frame-parser';
import { TokenBucket } from './rate-limit';
import { buildStatusMessage, loadStatusMessage } from './status';

export interface IngestOptions {
  maxFrameBytes: number;
  /** Frames per second, sustained, per connection; `burst` at once. */
  rateLimit: { perSecond: number; burst: number };
  /** A connection that has not authenticated (or enrolled) by then is closed. */
  helloTimeoutMs: number;
}

export interface IngestDeps {
  store: Datastore;
  evaluator: PolicyEvaluator;
  live: LiveHub;
  logger: Logger;
  now: () => Date;
  options: IngestOptions;
  audit: (entry: Omit<AuditEntry, 'at'>) => void;
  /** Parses frames, big ones on a worker thread (frame-parser.ts). */
  parser: FrameParser;
}

/** The WebSocket close code for a protocol or policy violation (RFC 6455). */
const POLICY_VIOLATION = 1008;
/** After this many refused frames in a row, a flooding connection is closed. */
const MAX_REFUSED_FRAMES = 100;

type State = { kind: 'awaiting-hello' } | { kind: 'enrolling'; hello: HelloMessage } | { kind: 'authenticated'; device: DeviceRecord; capabilities: string[] } | { kind: 'closed' };

/**
 * One agent connection. Frames are handled one at a time, in order, so acks go
 * back in the order the reports came and a delta never races its base.
 */
export class AgentSession {
  private state: State = { kind: 'awaiting-hello' };
  private queue: Promise<void> = Promise.resolve();
  private readonly bucket: TokenBucket;
  private readonly helloTimer: NodeJS.Timeout;
  private refused = 0;
  /** Whether the next full report is likely to repeat the stored facts: true until one does not (see onFrame). */
  private expectRepeatedFacts = true;
  /** The expectation last given to the connection (shareExpectation). */
  private sharedExpectation: string | undefined = undefined;
  /** Stops the live hub's status pushes for the device (see accept). */
  private unwatch: (() => void) | null = null;
  private readonly log: Logger;

  constructor(
    private readonly connection: AgentConnection,
    private readonly ip: string | null,
    private readonly deps: IngestDeps,
  ) {
    this.log = deps.logger.child({ conn: randomUUID().slice(0, 8), ip });
    this.bucket = new TokenBucket(deps.options.rateLimit.perSecond, deps.options.rateLimit.burst, Date.now());
    this.helloTimer = setTimeout(() => {
      if (this.state.kind === 'awaiting-hello' || this.state.kind === 'enrolling') this.fail('timeout', 'no hello and authentication within the time allowed');
    }, deps.options.helloTimeoutMs);
    connection.onFrame((frame) => this.onFrame(frame));
    connection.onClose(() => {
      this.state = { kind: 'closed' };
      clearTimeout(this.helloTimer);
      this.unwatch?.();
    });
  }

  get deviceId(): string | null {
    return this.state.kind === 'authenticated' ? this.state.device.id : null;
  }

  /** The stored facts' hash the next full report is expected to repeat, if any (see onFrame). */
  private expectedFactsHash(): string | undefined {
    return this.state.kind === 'authenticated' && this.expectRepeatedFacts ? (this.state.device.factsHash ?? undefined) : undefined;
  }

  /** Tells a connection that parses frames before they arrive what the parser would be told here. */
  private shareExpectation(): void {
    const hash = this.expectedFactsHash();
    if (hash === this.sharedExpectation) return;
    this.sharedExpectation = hash;
    this.connection.expectFacts?.(hash);
  }

  private onFrame(frame: IncomingFrame): void {
    if (this.state.kind === 'closed') return;
    if (!this.bucket.take(Date.now())) {
      this.refused++;
      // Refused frames are not processed, so nothing is acked: the agent's outbox resends them later.
      if (this.refused >= MAX_REFUSED_FRAMES) this.fail('rate-limited', 'too many frames; closing');
      else if (this.refused === 1 || this.refused % 10 === 0) this.send({ type: 'error', code: 'rate-limited', message: 'too many frames; slow down and resend' });
      return;
    }
    this.refused = 0;
    // Parsing may run on a worker thread (big frames) while earlier frames are handled; the queue keeps the order.
    // A full report is expected to repeat the stored facts on a reconnect (and as long as they keep doing so):
    // the parser then checks that by hash before validating them.
    const parsing = frame.kind === 'parsed' ? frame.parsed : this.deps.parser.parse(frame.data, frame.isBinary, this.deps.options.maxFrameBytes, this.expectedFactsHash());
    this.queue = this.queue.then(async () => {
      const parsed = await parsing;
      if (this.state.kind === 'closed') return;
      if (!parsed.ok) this.refuse(parsed);
      else {
        const message = parsed.message;
        await this.handle(message, parsed).catch((e: unknown) => {
          this.log.error({ err: e }, 'failed to handle a frame');
          const id = message.type === 'report' ? message.reportId : message.type === 'usb-event' ? message.eventId : undefined;
          this.send({ type: 'error', code: 'internal', message: 'the collector could not process this message; resend it later', ...(id ? { id } : {}) });
        });
      }
      this.shareExpectation();
    });
  }

  private refuse(parsed: Extract<ParseResult, { ok: false }>): void {
    // A refused frame may have been tried as repeated facts first: a peer sending bad frames does not get that twice.
    this.expectRepeatedFacts = false;
    this.log.warn({ code: parsed.error.code, reason: parsed.error.message }, 'invalid frame');
    // Before a valid hello, the peer is not an agent we know how to talk to.
    if (this.state.kind === 'awaiting-hello') this.fail(parsed.error.code, parsed.error.message);
    else this.send({ type: 'error', code: parsed.error.code, message: parsed.error.message });
  }

  private async handle(message: Message, parsed: ParsedFrame): Promise<void> {
    if (this.state.kind === 'closed') return;
    switch (message.type) {
      case 'hello':
        return this.onHello(message);
      case 'enroll':
        return this.onEnroll(message);
      case 'report':
        return this.whenAuthenticated((device) => this.onReport(device, message, parsed));
      case 'usb-event':
        return this.whenAuthenticated((device) => this.onUsbEvent(device, message));
      case 'error':
        this.log.warn({ code: message.code, reason: message.message }, 'the agent reported an error');
        return;
      default:
        this.send({ type: 'error', code: 'schema', message: `an agent does not send "${message.type}" messages` });
    }
  }

  private async whenAuthenticated(fn: (device: DeviceRecord) => Promise<void>): Promise<void> {
    if (this.state.kind !== 'authenticated') return this.fail('unauthenticated', 'send a hello with your token first');
    return fn(this.state.device);
  }

  private async onHello(hello: HelloMessage): Promise<void> {
    if (this.state.kind !== 'awaiting-hello') {
      this.send({ type: 'error', code: 'schema', message: 'hello was already received on this connection' });
      return;
    }
    if (hello.protocolVersion !== PROTOCOL_VERSION) {
      return this.fail('unsupported-version', `this collector speaks protocol version ${PROTOCOL_VERSION}, not ${hello.protocolVersion}`);
    }
    if (hello.token === undefined) {
      // Without a token, the only thing this connection may do is enrol.
      this.state = { kind: 'enrolling', hello };
      return;
    }
    const device = await this.authenticate(hello.deviceId, hello.token);
    if (!device) return;
    this.accept(device, hello);
  }

  /** Checks the token once for the whole connection; the failure says which of the typed reasons it was. */
  private async authenticate(deviceId: string, token: string): Promise<DeviceRecord | null> {
    const { store } = this.deps;
    const byToken = await store.findDeviceByTokenHash(sha256Hex(token));
    let code: ErrorCode | null = null;
    let reason = '';
    if (byToken && byToken.id !== deviceId) [code, reason] = ['token-mismatch', 'this token belongs to another device'];
    else if (byToken?.revoked) [code, reason] = ['revoked', revokedReason(byToken.id)];
    else if (!byToken) {
      const device = await store.getDevice(deviceId);
      if (!device) [code, reason] = ['unknown-device', 'no device with this id is enrolled'];
      else if (device.revoked) [code, reason] = ['revoked', revokedReason(device.id)];
      else [code, reason] = ['unauthenticated', 'wrong token for this device'];
    }
    if (code) {
      this.deps.audit({ actor: `device:${deviceId}`, action: 'agent.authenticate', target: deviceId, details: { code }, ip: this.ip, outcome: 'failure' });
      this.fail(code, reason);
      return null;
    }
    return byToken;
  }

  private accept(device: DeviceRecord, hello: HelloMessage): void {
    clearTimeout(this.helloTimer);
    const offered = new Set<string>(capabilityNames);
    const capabilities = hello.capabilities.filter((c) => offered.has(c));
    this.state = { kind: 'authenticated', device, capabilities };
    // An admin's change (an authorised drive, an exemption) reaches the employee's tray now.
    this.unwatch?.();
    this.unwatch = this.deps.live.watchDevice(device.id, () => {
      if (this.state.kind === 'authenticated') void this.sendStatus(device.id);
    });
    this.log.info({ deviceId: device.id, agentVersion: hello.agentVersion }, 'agent connected');
    const { evaluator } = this.deps;
    this.send({
      type: 'config',
      intervalSeconds: evaluator.policy.reportIntervalSeconds,
      policyVersion: evaluator.policyVersion(),
      capabilities,
      remediation: evaluator.remediation(device.os),
    });
  }

  private async onEnroll(message: EnrollMessage): Promise<void> {
    if (this.state.kind !== 'enrolling') {
      this.send({ type: 'error', code: 'schema', message: 'enroll is only accepted after a hello without a token' });
      return;
    }
    const { store, now: clock } = this.deps;
    const hello = this.state.hello;
    const now = clock();
    const secret = await store.findEnrollSecret(sha256Hex(message.secret));
    const auditBase = { actor: `machine:${message.device.machineId}`, action: 'agent.enroll', ip: this.ip };
    if (!secret) {
      this.deps.audit({ ...auditBase, target: null, details: { code: 'bad-secret', hostname: message.device.hostname }, outcome: 'failure' });
      return this.fail('bad-secret', 'this enrolment secret is not known');
    }
    if (secret.expiresAt !== null && secret.expiresAt <= now.toISOString()) {
      this.deps.audit({ ...auditBase, target: null, details: { code: 'secret-expired', secretId: secret.id }, outcome: 'failure' });
      return this.fail('secret-expired', `this enrolment secret expired at ${secret.expiresAt}`);
    }
    const token = randomToken();
    const enrolled = await store.enrollDevice({ newId: randomUUID(), machineId: message.device.machineId, org: secret.org, tokenHash: sha256Hex(token), device: message.device, now });
    if ('refused' in enrolled) {
      // Machine ids are not secret: another org's secret must not take a device over, nor lift a revocation.
      const target = enrolled.device.id;
      this.deps.audit({ ...auditBase, target, details: { code: enrolled.refused, org: secret.org, deviceOrg: enrolled.device.org, secretId: secret.id }, outcome: 'denied' });
      if (enrolled.refused === 'revoked') return this.fail('revoked', `this machine's device ${target} was revoked; an operator must run \`vigie-collector device restore ${target}\` before it can enrol again`);
      return this.fail('bad-secret', "this machine is already enrolled in another org; enrol it with that org's secret");
    }
    const { device, replaced } = enrolled;
    this.deps.audit({ ...auditBase, target: device.id, details: { org: secret.org, secretId: secret.id, hostname: device.hostname, replaced }, outcome: 'success' });
    this.log.info({ deviceId: device.id, org: secret.org, replaced }, 'device enrolled');
    this.send({ type: 'enrolled', deviceId: device.id, org: device.org, token });
    this.deps.live.publish({ type: 'device-updated', deviceId: device.id }, device.org);
    this.deps.live.publish({ type: 'summary-changed' }, device.org);
    // The connection is now the device's own, so an agent may report right after enrolling.
    this.accept(device, hello);
  }

  private async onReport(device: DeviceRecord, report: ReportMessage, { factsHash, factsFrom, factsDeflated }: ParsedFrame): Promise<void> {
    const { store, evaluator, now: clock } = this.deps;
    if (report.body.kind === 'full') this.expectRepeatedFacts = factsHash !== undefined && factsHash === device.factsHash;
    const now = clock();
    const inputs = await evaluator.inputsFor(device, now);
    const result = await store.applyReport(
      { deviceId: device.id, reportId: report.reportId, seq: report.seq, collectedAt: report.collectedAt, body: report.body, dropped: report.dropped, now, ...(factsHash ? { factsHash } : {}), ...(factsFrom ? { factsFrom } : {}), ...(factsDeflated ? { factsDeflated } : {}) },
      evaluator.derive(inputs),
    );
    switch (result.status) {
      case 'duplicate':
        this.send({ type: 'ack', id: report.reportId, status: 'duplicate', ...(result.factsHash ? { factsHash: result.factsHash } : {}) });
        return;
      case 'need-full-report':
        this.send({ type: 'error', code: 'need-full-report', message: 'the delta base is not the facts this collector holds; send a full report', id: report.reportId });
        return;
      case 'unknown-device':
        return this.fail('unknown-device', 'this device is no longer enrolled');
      case 'revoked':
        return this.fail('revoked', 'this device was revoked');
      case 'stored': {
        // Acked only now, after the commit: an ack means the report is durable.
        const ack: Message = { type: 'ack', id: report.reportId, status: 'stored', factsHash: result.factsHash };
        // The store usually hands back the rows the status needs from the report's own transaction;
        // the ack and the status then leave in one write (one TLS record, one system call).
        const status = result.current ? this.statusFrom(result.current) : null;
        if (status) this.sendTogether([ack, status]);
        else this.send(ack);
        if (this.state.kind === 'authenticated') this.state = { ...this.state, device: result.device };
        publishEvaluation(this.deps.live, result, { statusSent: true });
        if (!result.current) await this.sendStatus(result.device.id);
      }
    }
  }

  /** The status message from the rows of the report's transaction; a failure costs the tray one update, never the ack. */
  private statusFrom(rows: DeviceStatusRows): Message | null {
    try {
      return buildStatusMessage({ evaluatedAt: this.deps.now(), policyVersion: this.deps.evaluator.policyVersion(), ...rows });
    } catch (e) {
      this.log.warn({ err: (e as Error).message }, 'cannot build the device its status');
      return null;
    }
  }

  /** The device's status for its tray, after the ack so it never delays it; a failure costs the tray one update, not the report. */
  private async sendStatus(deviceId: string): Promise<void> {
    try {
      this.send(await loadStatusMessage(this.deps.store, deviceId, this.deps.evaluator.policyVersion(), this.deps.now()));
    } catch (e) {
      this.log.warn({ err: (e as Error).message }, 'cannot send the device its status');
    }
  }

  private async onUsbEvent(device: DeviceRecord, message: UsbEventMessage): Promise<void> {
    const { store, evaluator, live } = this.deps;
    // A revocation made elsewhere (the CLI) takes effect at the device's next frame, as for reports.
    const current = await store.getDevice(device.id);
    if (!current) return this.fail('unknown-device', 'this device is no longer enrolled');
    if (current.revoked) return this.fail('revoked', 'this device was revoked');
    const now = this.deps.now();
    const status = await store.recordUsbEvent({ deviceId: device.id, eventId: message.eventId, event: message.event, now });
    // An unauthorised drive opens its non-conformity now, and the employee's tray shows it now. Evaluated
    // before the ack, and again for a resent event: a failure here is answered with an error, the agent
    // resends, and the evaluation is not lost.
    const result = await evaluator.reevaluateUsb(current, message.event, now);
    this.send({ type: 'ack', id: message.eventId, status });
    if (result) publishEvaluation(live, result, { statusSent: true });
    else if (status === 'stored') live.publish({ type: 'device-updated', deviceId: device.id }, device.org);
    if (result && (result.opened.length > 0 || result.resolved.length > 0 || result.statusChanged)) await this.sendStatus(device.id);
  }

  private send(message: Message): void {
    this.sendTogether([message]);
  }

  private sendTogether(messages: Message[]): void {
    if (this.connection.open) this.connection.send(messages.map(encodeMessage));
  }

  /** Sends the typed error, then closes: the peer knows why. */
  private fail(code: ErrorCode, reason: string): void {
    if (this.state.kind === 'closed') return;
    this.log.info({ code, reason }, 'closing agent connection');
    this.send({ type: 'error', code, message: reason });
    this.state = { kind: 'closed' };
    clearTimeout(this.helloTimer);
    this.connection.close(POLICY_VIOLATION, code);
  }
}

/** A revoked device enrols again only once an operator has restored it (enrolment is refused until then). */
function revokedReason(deviceId: string): string {
  return `this device was revoked; an operator must run \`vigie-collector device restore ${deviceId}\` before it can enrol again`;
}

/**
 * Tells consoles what a committed evaluation changed, and the device's connected agent when its
 * status changed, unless the caller sent it the status itself (`statusSent`: a report's ack).
 */
export function publishEvaluation(live: LiveHub, result: Omit<EvaluationResult, 'device'> & { device: DeviceRecord }, options: { statusSent?: boolean } = {}): void {
  const org = result.device.org;
  live.publish({ type: 'device-updated', deviceId: result.device.id }, org);
  for (const nc of result.opened) live.publish({ type: 'nonconformity-opened', nonconformity: nc }, org);
  for (const id of result.resolved) live.publish({ type: 'nonconformity-resolved', id }, org);
  if (result.statusChanged || result.opened.length > 0 || result.resolved.length > 0) {
    live.publish({ type: 'summary-changed' }, org);
    if (!options.statusSent) live.deviceStatusChanged(result.device.id);
  }
}
