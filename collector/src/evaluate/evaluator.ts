import {
  catalogFromRules,
  evaluate,
  isAuthorisedUsb,
  remediationFor,
  type ApprovalStatus,
  type AuthorisedUsb,
  type CatalogVerdict,
  type ConfigMessage,
  type OsName,
  type Policy,
  type ReceivedUsbEvent,
  type Rule,
  type SoftwareCatalog,
  type SoftwareItem,
  type UsbEvent,
} from '@vigie/shared';
import type { Datastore, DeriveFn, DeviceRecord, EvaluatedFinding, EvaluationResult } from '../store/datastore';
import { timelineChanges } from './timeline';

/** Distinct software items whose catalog verdict is remembered (a fleet has some tens of thousands). */
const MAX_REMEMBERED_VERDICTS = 200_000;

/**
 * Every field of a software item in one string, each length-prefixed: unambiguous whatever the
 * names hold, so one agent's crafted names can never take another item's verdict.
 */
function itemKey(item: SoftwareItem): string {
  const field = (v: string | null) => (v === null ? '-' : `${v.length}:${v}`);
  return `${field(item.source)}${field(item.scope)}${field(item.name)}${field(item.publisher)}${field(item.version)}${field(item.installedAt)}`;
}

/** Distinct USB devices the USB rule looks back on, at most (the newest); a laptop sees a handful a day. */
const MAX_RECENT_USB_DEVICES = 200;

export interface EvaluationInputs {
  authorisedUsb: AuthorisedUsb[];
  /** The device's USB events within the USB rules' look-back. */
  usbEvents?: ReceivedUsbEvent[];
}

/**
 * Binds the shared policy engine to the collector's data: the device's CIAT level
 * and org, the authorised USB list and the software catalog. The store calls the
 * returned DeriveFn inside its transaction, so findings commit with their facts.
 */
export class PolicyEvaluator {
  private catalog: SoftwareCatalog = catalogFromRules([]);
  private readonly rulesById: Map<string, Rule>;

  constructor(
    readonly policy: Policy,
    private readonly store: Datastore,
  ) {
    this.rulesById = new Map(policy.rules.map((r) => [r.id, r]));
  }

  rule(id: string): Rule | undefined {
    return this.rulesById.get(id);
  }

  /** Reloads the software catalog; call after it changes. An empty catalog leaves everything unreviewed, as the ISSP wants. */
  async refreshCatalog(): Promise<void> {
    const rules = await this.store.listCatalogRules();
    this.catalog = catalogFromRules(rules.map((r) => ({ name: r.name, publisher: r.publisher ?? undefined, product: r.product, status: r.status })));
  }

  /** The licenses module's catalog (normalisation rules + product approvals) replaces the legacy one. */
  setSoftwareCatalog(catalog: SoftwareCatalog): void {
    // Verdicts kept until the catalog changes: by item object (a report whose software did not
    // change shares the stored items), else by every field of the item (a device's next report
    // lists mostly the same applications). Normalising 300 items against the rules each time was
    // a tenth of the collector's main thread. Bounded: past the bound, start over.
    const byItem = new WeakMap<object, CatalogVerdict>();
    let byContent = new Map<string, CatalogVerdict>();
    this.catalog = {
      classify: (item) => {
        let verdict = byItem.get(item);
        if (verdict !== undefined) return verdict;
        const key = itemKey(item);
        verdict = byContent.get(key);
        if (verdict === undefined) {
          verdict = catalog.classify(item);
          if (byContent.size >= MAX_REMEMBERED_VERDICTS) byContent = new Map();
          byContent.set(key, verdict);
        }
        byItem.set(item, verdict);
        return verdict;
      },
    };
  }

  /** Which approval statuses fail the software rules: an operator setting over the policy's default. */
  setSoftwareFailOn(failOn: ApprovalStatus[]): void {
    this.policy.rules.forEach((rule, i) => {
      if (rule.check.kind !== 'software') return;
      const next: Rule = { ...rule, check: { ...rule.check, failOn: [...failOn] } };
      this.policy.rules[i] = next;
      this.rulesById.set(rule.id, next);
    });
  }

  softwareRuleIds(): string[] {
    return this.policy.rules.filter((r) => r.check.kind === 'software').map((r) => r.id);
  }

  /** Re-evaluates only these rules from the stored facts (a catalog change touches one rule); the device's other findings stay. */
  async reevaluateRules(deviceId: string, ruleIds: ReadonlySet<string>, now: Date) {
    const derive = this.derive({ authorisedUsb: [] });
    return this.store.reevaluateDevice(deviceId, (input) => ({ findings: derive(input).findings.filter((f) => ruleIds.has(f.ruleId)), timeline: [] }), now, { partial: true });
  }

  /** Reads what the evaluation needs from the store before the (synchronous) transaction starts. */
  async inputsFor(device: Pick<DeviceRecord, 'id' | 'org'>, now: Date): Promise<EvaluationInputs> {
    const usb = await this.store.listAuthorisedUsb(device.org);
    const lookback = this.usbLookbackHours();
    const usbEvents = lookback > 0 ? await this.store.recentUsbConnections(device.id, new Date(now.getTime() - lookback * 3_600_000), MAX_RECENT_USB_DEVICES) : [];
    return { authorisedUsb: usb.map((u) => ({ vendorId: u.vendorId, productId: u.productId, serial: u.serial })), usbEvents };
  }

  /** The longest look-back of the USB rules, in hours (0 without any). */
  usbLookbackHours(): number {
    return Math.max(0, ...this.policy.rules.map((r) => (r.check.kind === 'usb' ? r.check.lookbackHours : 0)));
  }

  /**
   * Re-evaluates the USB rules when a USB connection arrives, so a drive plugged in between two
   * scans opens its non-conformity now and not at the next report; the device's other findings
   * stay. Null when the event cannot change them (not storage under storage-only rules, or an
   * authorised drive): every keyboard plugged in must not cost a re-evaluation.
   */
  async reevaluateUsb(device: DeviceRecord, event: UsbEvent, now: Date) {
    const usbRules = this.policy.rules.filter((r) => r.check.kind === 'usb' && r.check.lookbackHours > 0 && (event.device.storage || !r.check.storageOnly));
    if (usbRules.length === 0 || event.action === 'disconnected') return null;
    const inputs = await this.inputsFor(device, now);
    if (isAuthorisedUsb(event.device, inputs.authorisedUsb)) return null;
    return this.reevaluateUsbRules(device, new Set(usbRules.map((r) => r.id)), inputs, now);
  }

  private reevaluateUsbRules(device: DeviceRecord, ruleIds: ReadonlySet<string>, inputs: EvaluationInputs, now: Date) {
    const derive = this.derive(inputs);
    return this.store.reevaluateDevice(device.id, (input) => ({ findings: derive(input).findings.filter((f) => ruleIds.has(f.ruleId)), timeline: [] }), now, { partial: true });
  }

  /**
   * After a USB device is authorised: the devices failing a USB rule (in `org`, or in every org)
   * are evaluated again, so the findings the drive caused clear now, not at each device's next report.
   */
  async reevaluateUsbFailures(org: string | null, now: Date): Promise<EvaluationResult[]> {
    const ruleIds = new Set(this.policy.rules.filter((r) => r.check.kind === 'usb').map((r) => r.id));
    const deviceIds = new Set<string>();
    for (const rule of ruleIds) {
      // All ids first: re-evaluating moves devices out of the failing list while it is paged.
      for (let offset = 0; ; offset += 500) {
        const page = await this.store.listFindings({ scope: null, rule, status: 'fail', ...(org !== null ? { org } : {}), limit: 500, offset });
        for (const f of page.items) deviceIds.add(f.deviceId);
        if (page.items.length < 500) break;
      }
    }
    const results: EvaluationResult[] = [];
    for (const id of deviceIds) {
      const device = await this.store.getDevice(id);
      if (!device || device.revoked) continue;
      const result = await this.reevaluateUsbRules(device, ruleIds, await this.inputsFor(device, now), now);
      if (result) results.push(result);
    }
    return results;
  }

  derive(inputs: EvaluationInputs): DeriveFn {
    return ({ device, previous, facts, lastSeenAt, now }) => {
      const findings = evaluate(
        facts,
        { ciatLevel: device.ciatLevel, org: device.org, authorisedUsb: inputs.authorisedUsb, softwareCatalog: this.catalog, lastSeenAt, os: device.os, usbEvents: inputs.usbEvents ?? [] },
        this.policy,
        now,
      );
      const evaluated: EvaluatedFinding[] = findings.map((f) => ({ ...f, graceDays: this.rulesById.get(f.ruleId)?.graceDays ?? 0 }));
      return { findings: evaluated, timeline: previous === facts ? [] : timelineChanges(previous, facts) };
    };
  }

  async reevaluate(device: DeviceRecord, now: Date) {
    return this.store.reevaluateDevice(device.id, this.derive(await this.inputsFor(device, now)), now);
  }

  /** The check-in rules: the silent-device sweep evaluates them from lastSeenAt alone. */
  checkinRules(): { id: string; maxSilentHours: number }[] {
    return this.policy.rules.flatMap((r) => (r.check.kind === 'checkin' ? [{ id: r.id, maxSilentHours: r.check.maxSilentHours }] : []));
  }

  policyVersion(): string {
    return `${this.policy.id}@${this.policy.version}`;
  }

  /** Titles and remediation steps for the tray, in the device's OS wording. */
  remediation(os: OsName): ConfigMessage['remediation'] {
    const out: ConfigMessage['remediation'] = {};
    for (const rule of this.policy.rules) {
      if (!rule.platforms.includes(os)) continue;
      out[rule.id] = { title: rule.title, steps: { en: remediationFor(rule, 'en', os), fr: remediationFor(rule, 'fr', os) } };
    }
    return out;
  }
}
