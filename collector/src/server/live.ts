import type { NonconformityRecord, OrgScope } from '../store/datastore';

export type LiveEvent =
  | { type: 'device-updated'; deviceId: string }
  | { type: 'nonconformity-opened'; nonconformity: NonconformityRecord }
  | { type: 'nonconformity-resolved'; id: number }
  | { type: 'summary-changed' };

export interface LiveSubscriber {
  scope: OrgScope;
  send(event: LiveEvent): void;
}

/**
 * Fans committed changes out to consoles, each seeing only its orgs (label security).
 * `device-updated` and `summary-changed` are coalesced over a short window: at a
 * thousand reports a second a console wants a refresh hint, not a thousand.
 *
 * It also tells a device's connected agent when the device's status changed outside its
 * own reports (an admin authorised its drive, granted or revoked an exemption, changed its
 * CIAT level), so the employee's tray shows it now and not at the next report. A report's
 * own status goes back with its ack (agent-session.ts), not through here.
 */
export class LiveHub {
  private readonly subscribers = new Set<LiveSubscriber>();
  private readonly pendingDevices = new Map<string, string>();
  private readonly pendingSummaryOrgs = new Set<string>();
  /** By device id: the connected agents' listeners, called with the status changes (coalesced like the rest). */
  private readonly agents = new Map<string, Set<() => void>>();
  private readonly pendingStatus = new Set<string>();
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly coalesceMs = 250) {}

  subscribe(subscriber: LiveSubscriber): () => void {
    this.subscribers.add(subscriber);
    return () => this.subscribers.delete(subscriber);
  }

  /** An agent connection of `deviceId`, called after its status changed outside its reports; returns the unwatch. */
  watchDevice(deviceId: string, listener: () => void): () => void {
    let listeners = this.agents.get(deviceId);
    if (!listeners) this.agents.set(deviceId, (listeners = new Set()));
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
      if (listeners.size === 0 && this.agents.get(deviceId) === listeners) this.agents.delete(deviceId);
    };
  }

  /** The device's findings or non-conformities changed outside its own reports: its connected agent is told. */
  deviceStatusChanged(deviceId: string): void {
    if (!this.agents.has(deviceId)) return;
    this.pendingStatus.add(deviceId);
    this.schedule();
  }

  get size(): number {
    return this.subscribers.size;
  }

  publish(event: LiveEvent, org: string): void {
    if (this.subscribers.size === 0) return;
    if (event.type === 'device-updated') this.pendingDevices.set(event.deviceId, org);
    else if (event.type === 'summary-changed') this.pendingSummaryOrgs.add(org);
    else {
      this.deliver(event, org);
      return;
    }
    this.schedule();
  }

  private schedule(): void {
    this.timer ??= setTimeout(() => this.flush(), this.coalesceMs);
    this.timer.unref?.();
  }

  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    for (const deviceId of this.pendingStatus) for (const listener of this.agents.get(deviceId) ?? []) listener();
    this.pendingStatus.clear();
    for (const [deviceId, org] of this.pendingDevices) this.deliver({ type: 'device-updated', deviceId }, org);
    this.pendingDevices.clear();
    const orgs = [...this.pendingSummaryOrgs];
    this.pendingSummaryOrgs.clear();
    if (orgs.length === 0) return;
    for (const s of this.subscribers) {
      if (s.scope === null || orgs.some((o) => s.scope!.includes(o))) s.send({ type: 'summary-changed' });
    }
  }

  private deliver(event: LiveEvent, org: string): void {
    for (const s of this.subscribers) if (s.scope === null || s.scope.includes(org)) s.send(event);
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.subscribers.clear();
    this.agents.clear();
    this.pendingStatus.clear();
  }
}
