import { promises as fs } from 'node:fs';
import { isUnknown, encodeMessage, parseMessage, type DeviceSection, type Message } from '@vigie/shared';
import type WebSocket from 'ws';
import { scanSection } from '../scan';
import { systemContext } from '../probes/context';
import { resolveStateDir } from '../state/paths';
import { AgentStateStore } from '../state/state';
import { agentUrl, describeConnectError, openSocket } from '../transport/client';
import { normalizeFingerprint, TrustError, type TrustOptions } from '../transport/tls';
import { AGENT_CAPABILITIES, AGENT_VERSION, PROTOCOL_VERSION } from '../transport/version';
import type { CommandIO } from './io';

export interface EnrollOptions {
  server: string;
  secret: string;
  caFingerprint?: string;
  caFile?: string;
  stateDir?: string;
}

export interface EnrollDeps {
  /** This device's identity; scanSection('device', systemContext()) by default. */
  deviceFacts?: () => Promise<DeviceSection>;
  /** How long to wait for the collector's answer. */
  timeoutMs?: number;
  now?: () => Date;
}

async function systemDeviceFacts(): Promise<DeviceSection> {
  return scanSection('device', systemContext());
}

/** One message from the socket, or the reason there was none. */
function nextMessage(ws: WebSocket, timeoutMs: number, accept: (m: Message) => boolean): Promise<Message> {
  return new Promise((resolve, reject) => {
    const cleanup = () => {
      clearTimeout(timer);
      ws.removeListener('message', onMessage);
      ws.removeListener('close', onClose);
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`no answer from the collector within ${Math.round(timeoutMs / 1000)} s`));
    }, timeoutMs);
    const onMessage = (data: WebSocket.RawData) => {
      const parsed = parseMessage(data.toString());
      if (!parsed.ok || !accept(parsed.message)) return;
      cleanup();
      resolve(parsed.message);
    };
    const onClose = (code: number, reason: Buffer) => {
      cleanup();
      reject(new Error(`the collector closed the connection (${code}${reason.length ? `: ${reason.toString()}` : ''})`));
    };
    ws.on('message', onMessage);
    ws.on('close', onClose);
  });
}

/**
 * `vigie-agent enroll`: trades an enrolment secret for this device's token and
 * keeps it in the state dir, readable by the agent only. Exit 0 when enrolled,
 * 1 when the collector refused or could not be reached, 2 on bad arguments.
 */
export async function enrollCommand(opts: EnrollOptions, io: CommandIO, deps: EnrollDeps = {}): Promise<number> {
  const fail = (code: number, text: string): number => {
    io.stderr.write(`vigie-agent enroll: ${text}\n`);
    return code;
  };
  let url: string;
  const trust: TrustOptions = {};
  try {
    url = agentUrl(opts.server);
    if (opts.caFingerprint) trust.caFingerprint = normalizeFingerprint(opts.caFingerprint);
    if (opts.caFile) trust.caPem = await fs.readFile(opts.caFile, 'utf8');
  } catch (e) {
    return fail(2, (e as Error).message);
  }
  const store = new AgentStateStore(resolveStateDir(opts.stateDir));
  try {
    await store.init();
  } catch (e) {
    return fail(1, `cannot create the state dir ${store.dir}: ${(e as Error).message} (run as the agent's service user, or pass --state)`);
  }
  const device = await (deps.deviceFacts ?? systemDeviceFacts)();
  if (isUnknown(device)) return fail(1, `cannot identify this device: ${device.reason}`);

  let ws: WebSocket;
  try {
    ws = await openSocket({ server: opts.server, trust, handshakeTimeoutMs: deps.timeoutMs, now: deps.now });
  } catch (e) {
    const reason = describeConnectError(e as Error);
    return fail(1, e instanceof TrustError ? reason : `cannot reach the collector at ${url}: ${reason}`);
  }
  let answer: Message;
  try {
    const waiting = nextMessage(ws, deps.timeoutMs ?? 30_000, (m) => m.type === 'enrolled' || m.type === 'error');
    // No token yet: this hello announces a connection that is about to enrol.
    ws.send(
      encodeMessage({
        type: 'hello',
        protocolVersion: PROTOCOL_VERSION,
        agentVersion: AGENT_VERSION,
        capabilities: [...AGENT_CAPABILITIES],
        deviceId: device.machineId,
        os: device.os,
      }),
    );
    ws.send(encodeMessage({ type: 'enroll', secret: opts.secret, device }));
    answer = await waiting;
  } catch (e) {
    ws.terminate();
    return fail(1, `enrolment failed: ${(e as Error).message}`);
  }
  ws.close(1000, 'enrolled');

  if (answer.type === 'error') {
    const hint =
      answer.code === 'bad-secret' || answer.code === 'secret-expired'
        ? '; check the secret, or create a new one with `vigie-collector enroll-secret create --org ORG`'
        : '';
    return fail(1, `the collector refused the enrolment (${answer.code}: ${answer.message})${hint}`);
  }
  if (answer.type !== 'enrolled') return fail(1, 'unexpected answer from the collector');
  try {
    await store.writeEnrolment({
      server: opts.server,
      deviceId: answer.deviceId,
      org: answer.org,
      token: answer.token,
      ...(trust.caFingerprint ? { caFingerprint: trust.caFingerprint } : {}),
      ...(trust.caPem ? { caPem: trust.caPem } : {}),
    });
  } catch (e) {
    return fail(1, `enrolled, but cannot save the token to ${store.enrolmentPath}: ${(e as Error).message}`);
  }
  io.logger.info({ deviceId: answer.deviceId, org: answer.org, server: opts.server }, 'enrolled');
  io.stdout.write(
    `Enrolled device ${answer.deviceId} in org ${answer.org} with ${opts.server}.\n` +
      `Token saved to ${store.enrolmentPath} (readable by this user only). Start the agent with: vigie-agent run\n`,
  );
  return 0;
}
