import type { StatusMessage } from '@vigie/shared';
import type { Datastore, DeviceStatusRows, FindingRecord, NonconformityRecord } from '../store/datastore';

/**
 * The `status` message a device gets after each stored report: its findings as
 * the collector just committed them, with the due date of each open
 * non-conformity. The agent keeps it for the employee's tray, which never asks
 * the collector itself (docs/tray.md).
 */

/** The protocol's caps (shared/src/protocol/messages.ts): a bigger message would be refused by the agent. */
const MAX_FINDINGS = 500;
const MAX_EVIDENCE = 4000;

export interface StatusInput {
  evaluatedAt: Date;
  policyVersion: string;
  /** The device's findings, one per rule. */
  findings: DeviceStatusRows['findings'];
  /** The device's unresolved non-conformities (open or exempted); resolved ones are ignored. */
  nonconformities: DeviceStatusRows['nonconformities'];
}

/** Pure: store records in, the message out. */
export function buildStatusMessage(input: StatusInput): StatusMessage {
  const current = new Map<string, DeviceStatusRows['nonconformities'][number]>();
  for (const nc of input.nonconformities) {
    if (nc.resolvedAt !== null || nc.status === 'resolved') continue;
    // One unresolved non-conformity per rule and device is the store's invariant; keep the oldest if not.
    const seen = current.get(nc.ruleId);
    if (!seen || nc.firstSeenAt < seen.firstSeenAt) current.set(nc.ruleId, nc);
  }
  const findings = input.findings.slice(0, MAX_FINDINGS).map((f): StatusMessage['findings'][number] => {
    // firstSeenAt and dueAt only mean something for a rule that fails now.
    const nc = f.status === 'fail' ? current.get(f.ruleId) : undefined;
    return {
      ruleId: f.ruleId,
      status: f.status,
      severity: f.severity,
      evidence: f.evidence.length > MAX_EVIDENCE ? `${f.evidence.slice(0, MAX_EVIDENCE - 1)}…` : f.evidence,
      firstSeenAt: nc?.firstSeenAt ?? null,
      dueAt: nc?.dueAt ?? null,
      exempted: nc?.status === 'exempted',
    };
  });
  return { type: 'status', evaluatedAt: input.evaluatedAt.toISOString(), policyVersion: input.policyVersion, findings };
}

/** A store that reads a device's status rows in one go (the SQLite store); others go through the list queries. */
interface StatusRowsSource {
  deviceStatusRows(deviceId: string, now: Date, limit: number): { findings: FindingRecord[]; nonconformities: NonconformityRecord[] };
}

function hasStatusRows(store: Datastore): store is Datastore & StatusRowsSource {
  return typeof (store as Partial<StatusRowsSource>).deviceStatusRows === 'function';
}

/** Reads what buildStatusMessage needs for one device. */
export async function loadStatusMessage(store: Datastore, deviceId: string, policyVersion: string, now: Date): Promise<StatusMessage> {
  // After every stored report: the list queries (built, prepared and counted per call) cost more than the report's own transaction.
  if (hasStatusRows(store)) return buildStatusMessage({ evaluatedAt: now, policyVersion, ...store.deviceStatusRows(deviceId, now, MAX_FINDINGS) });
  const page = { scope: null, deviceId, limit: MAX_FINDINGS, offset: 0 } as const;
  const [findings, open, exempted] = await Promise.all([
    store.listFindings(page),
    store.listNonconformities({ ...page, status: 'open' }, now),
    store.listNonconformities({ ...page, status: 'exempted' }, now),
  ]);
  return buildStatusMessage({ evaluatedAt: now, policyVersion, findings: findings.items, nonconformities: [...open.items, ...exempted.items] });
}
