import {
  isUnknown,
  listChanges,
  type Facts,
  type OsName,
  type PartialFacts,
  type SoftwareFacts,
  type SoftwareItem,
  type UsbDevice,
  type UsbEvent,
  type Volume,
} from '../facts';
import { severityRank, type ApprovalStatus, type Check, type Policy, type Rule, type Severity } from './model';

export type FindingStatus = 'pass' | 'fail' | 'unknown';

export interface Finding {
  ruleId: string;
  status: FindingStatus;
  severity: Severity;
  /** A sentence an admin can act on, e.g. "C: is encrypted (XTS-AES 128) but BitLocker protection is off". */
  evidence: string;
  issp: string[];
}

/** An approved USB mass-storage device. Without a serial, any unit of that model is authorised. */
export interface AuthorisedUsb {
  vendorId: string;
  productId: string;
  serial?: string | null;
}

/** What the software catalog says of one installed item. */
export interface CatalogVerdict {
  product: string;
  status: ApprovalStatus;
}

export interface SoftwareCatalog {
  classify(item: SoftwareItem): CatalogVerdict;
}

export interface EvaluationContext {
  ciatLevel: number;
  org: string;
  authorisedUsb: readonly AuthorisedUsb[];
  softwareCatalog: SoftwareCatalog;
  /** When the collector last heard from the device; the check-in rule reads it. */
  lastSeenAt?: Date | null;
  /** The device's OS when the facts do not carry it (a device section that is unknown). */
  os?: OsName;
  /** USB events the agent sent as they happened, with when the collector received them; the USB rule reads the recent ones. */
  usbEvents?: readonly ReceivedUsbEvent[];
}

export interface ReceivedUsbEvent {
  event: UsbEvent;
  receivedAt: Date;
}

const MAX_NAMES_IN_EVIDENCE = 5;

/**
 * Evaluates every rule that applies to this device. Pure: the same facts,
 * context, policy and time always give the same findings.
 */
export function evaluate(facts: Facts | PartialFacts, context: EvaluationContext, policy: Policy, now: Date): Finding[] {
  const os = facts.device && !isUnknown(facts.device) ? facts.device.os : context.os;
  return policy.rules
    .filter((rule) => appliesTo(rule, os, context.ciatLevel))
    .map((rule) => {
      const { status, evidence } = runCheck(rule.check, facts, context, now);
      return { ruleId: rule.id, status, severity: effectiveSeverity(rule, context.ciatLevel), evidence, issp: rule.issp };
    });
}

export function appliesTo(rule: Rule, os: OsName | undefined, ciatLevel: number): boolean {
  if (os !== undefined && !rule.platforms.includes(os)) return false;
  return rule.ciatLevels.includes(ciatLevel);
}

/** Severity rises with the device's CIAT level where the rule says so; it never falls. */
export function effectiveSeverity(rule: Rule, ciatLevel: number): Severity {
  const raised = rule.severityByCiat[String(ciatLevel) as '0' | '1' | '2' | '3' | '4'];
  return raised && severityRank[raised] > severityRank[rule.severity] ? raised : rule.severity;
}

interface Outcome {
  status: FindingStatus;
  evidence: string;
}

function runCheck(check: Check, facts: Facts | PartialFacts, context: EvaluationContext, now: Date): Outcome {
  switch (check.kind) {
    case 'encryption':
      return checkEncryption(check, facts.encryption);
    case 'screenlock':
      return checkScreenlock(check, facts.screenlock);
    case 'software':
      return checkSoftware(check, facts.software, context.softwareCatalog);
    case 'usb':
      return checkUsb(check, facts.usb, context.authorisedUsb, context.usbEvents ?? [], now);
    case 'checkin':
      return checkCheckin(check, context.lastSeenAt ?? null, now);
  }
}

function missing(section: string, value: unknown): Outcome | null {
  if (value === undefined) return { status: 'unknown', evidence: `No ${section} facts have been reported` };
  if (isUnknown(value)) return { status: 'unknown', evidence: `The ${section} state could not be read: ${value.reason}` };
  return null;
}

const technologyName: Record<Volume['technology'], string> = {
  bitlocker: 'BitLocker',
  filevault: 'FileVault',
  luks: 'LUKS',
  none: 'encryption',
  unknown: 'encryption',
};

function describeVolume(v: Volume): string {
  const name = v.mountPoint && v.mountPoint !== v.id ? `${v.id} (${v.mountPoint})` : v.id;
  const method = v.method ? ` (${v.method})` : '';
  const tech = technologyName[v.technology];
  switch (v.status) {
    case 'encrypted':
      if (v.protection === 'off') return `${name} is encrypted${method} but ${tech} protection is off`;
      if (v.protection === 'unknown') return `${name} is encrypted${method} but its ${tech} protection state is unknown`;
      return `${name} is encrypted${method} with ${tech} protection on`;
    case 'encrypting':
      return `${name} is being encrypted${v.percent !== null ? ` (${v.percent}% done)` : ''}`;
    case 'decrypting':
      return `${name} is being decrypted${v.percent !== null ? ` (${v.percent}% left encrypted)` : ''}`;
    case 'decrypted':
      return `${name} is not encrypted`;
    case 'unknown':
      return `${name}: encryption state unknown`;
  }
}

function checkEncryption(check: Extract<Check, { kind: 'encryption' }>, section: Facts['encryption'] | undefined): Outcome {
  const gap = missing('disk encryption', section);
  if (gap || !section || isUnknown(section)) return gap ?? { status: 'unknown', evidence: 'No disk encryption facts' };
  const volumes = check.scope === 'system' ? section.volumes.filter((v) => v.system) : section.volumes;
  if (volumes.length === 0) {
    return { status: 'unknown', evidence: check.scope === 'system' ? 'The system volume was not found among the reported volumes' : 'No volumes were reported' };
  }
  const verdicts = volumes.map((v) => ({ v, ok: volumeCompliant(v, check.requireProtection), unsure: v.status === 'unknown' || (v.status === 'encrypted' && check.requireProtection && v.protection === 'unknown') }));
  const failing = verdicts.filter((x) => !x.ok && !x.unsure);
  const unsure = verdicts.filter((x) => x.unsure);
  const sentence = (xs: typeof verdicts) => xs.map((x) => describeVolume(x.v)).join('; ');
  if (failing.length > 0) return { status: 'fail', evidence: sentence(failing) };
  if (unsure.length > 0) return { status: 'unknown', evidence: sentence(unsure) };
  return { status: 'pass', evidence: sentence(verdicts) };
}

function volumeCompliant(v: Volume, requireProtection: boolean): boolean {
  if (v.status !== 'encrypted') return false;
  return !requireProtection || v.protection === 'on';
}

function formatDuration(seconds: number): string {
  if (seconds % 60 === 0 && seconds >= 60) return `${seconds / 60} min`;
  return `${seconds} s`;
}

function checkScreenlock(check: Extract<Check, { kind: 'screenlock' }>, section: Facts['screenlock'] | undefined): Outcome {
  const gap = missing('screen lock', section);
  if (gap || !section || isUnknown(section)) return gap ?? { status: 'unknown', evidence: 'No screen lock facts' };
  const who = section.user ? ` for ${section.user}` : '';
  if (section.enabled === false) return { status: 'fail', evidence: `The screen lock is turned off${who} (${section.source})` };
  if (section.idleSeconds === 0) return { status: 'fail', evidence: `The screen never locks when idle${who}: idle time is set to never (${section.source})` };
  if (check.requirePassword && section.requirePassword === false) {
    return { status: 'fail', evidence: `The screen saver does not ask for a password${who} (${section.source})` };
  }
  if (section.idleSeconds !== null) {
    const total = section.idleSeconds + (section.graceSeconds ?? 0);
    const parts = section.graceSeconds ? `${formatDuration(section.idleSeconds)} idle + ${formatDuration(section.graceSeconds)} grace` : `${formatDuration(section.idleSeconds)} idle`;
    if (total > check.maxSeconds) {
      return { status: 'fail', evidence: `The screen locks after ${formatDuration(total)} (${parts})${who}, more than the ${formatDuration(check.maxSeconds)} allowed` };
    }
    if (section.enabled === null || section.graceSeconds === null || (check.requirePassword && section.requirePassword === null)) {
      return { status: 'unknown', evidence: `The screen saver starts after ${formatDuration(section.idleSeconds)}${who}, but whether it locks with a password could not be read (${section.source})` };
    }
    return { status: 'pass', evidence: `The screen locks with a password after ${formatDuration(total)} (${parts})${who}` };
  }
  return { status: 'unknown', evidence: `The screen lock idle time could not be read${who} (${section.source})` };
}

function namesList(names: string[]): string {
  const shown = names.slice(0, MAX_NAMES_IN_EVIDENCE).join(', ');
  return names.length > MAX_NAMES_IN_EVIDENCE ? `${shown} and ${names.length - MAX_NAMES_IN_EVIDENCE} more` : shown;
}

/**
 * The last software outcome per software list, with the check and catalog it was for. Facts are
 * never mutated and a catalog object's verdicts never change (a new catalog is a new object), so
 * the same three give the same outcome: a report repeating the stored facts (every agent after a
 * collector restart) does not classify its 300 items again.
 */
const softwareOutcomes = new WeakMap<object, { check: Check; catalog: SoftwareCatalog; outcome: Outcome }>();

function checkSoftware(check: Extract<Check, { kind: 'software' }>, section: Facts['software'] | undefined, catalog: SoftwareCatalog): Outcome {
  const gap = missing('installed software', section);
  if (gap || !section || isUnknown(section)) return gap ?? { status: 'unknown', evidence: 'No software facts' };
  const known = softwareOutcomes.get(section.items);
  if (known && known.check === check && known.catalog === catalog) return known.outcome;
  const outcome = outcomeAsBefore(check, section.items, catalog) ?? classifySoftware(check, section, catalog);
  softwareOutcomes.set(section.items, { check, catalog, outcome });
  return outcome;
}

/** Past this many changed items, classifying the whole list is as cheap as comparing the changes. */
const MAX_CHANGES_COMPARED = 64;

/**
 * The previous list's outcome, when the list is that list with items added and removed whose
 * in-scope verdicts cancel out, as when an application is updated in place (same product, same
 * approval): the outcome depends only on the in-scope items' verdicts, with their count, so it is
 * the same. Undefined when that cannot be shown cheaply.
 */
function outcomeAsBefore(check: Extract<Check, { kind: 'software' }>, items: readonly SoftwareItem[], catalog: SoftwareCatalog): Outcome | undefined {
  const changes = listChanges(items);
  if (changes === undefined || changes.added.length + changes.removed.length > MAX_CHANGES_COMPARED) return undefined;
  const before = softwareOutcomes.get(changes.previous);
  if (before === undefined || before.check !== check || before.catalog !== catalog) return undefined;
  const balance = new Map<string, number>();
  const count = (item: SoftwareItem, by: number) => {
    if (!check.sources.includes(item.source)) return;
    const verdict = catalog.classify(item);
    // Statuses hold no NUL: the pair is unambiguous whatever the product's name.
    const key = `${verdict.status}\u0000${verdict.product}`;
    balance.set(key, (balance.get(key) ?? 0) + by);
  };
  for (const item of changes.added) count(item, 1);
  for (const item of changes.removed) count(item, -1);
  for (const n of balance.values()) if (n !== 0) return undefined;
  return before.outcome;
}

function classifySoftware(check: Extract<Check, { kind: 'software' }>, section: SoftwareFacts, catalog: SoftwareCatalog): Outcome {
  const inScope = section.items.filter((item) => check.sources.includes(item.source));
  const byStatus: Record<ApprovalStatus, Set<string>> = { approved: new Set(), denied: new Set(), unreviewed: new Set() };
  for (const item of inScope) {
    const verdict = catalog.classify(item);
    byStatus[verdict.status].add(verdict.product);
  }
  const problems: string[] = [];
  for (const status of check.failOn) {
    const names = [...byStatus[status]].sort();
    if (names.length > 0) problems.push(`${names.length} ${status} (${namesList(names)})`);
  }
  if (problems.length > 0) return { status: 'fail', evidence: `Software not approved: ${problems.join('; ')}` };
  return { status: 'pass', evidence: `All ${inScope.length} installed applications are approved` };
}

function usbLabel(d: UsbDevice): string {
  const name = [d.vendor, d.product].filter(Boolean).join(' ') || 'USB device';
  return `${name} [${d.vendorId}:${d.productId}${d.serial ? ` s/n ${d.serial}` : ''}]`;
}

export function isAuthorisedUsb(device: UsbDevice, authorised: readonly AuthorisedUsb[]): boolean {
  return authorised.some(
    (a) =>
      a.vendorId.toLowerCase() === device.vendorId &&
      a.productId.toLowerCase() === device.productId &&
      (a.serial === undefined || a.serial === null || a.serial === device.serial),
  );
}

function checkUsb(check: Extract<Check, { kind: 'usb' }>, section: Facts['usb'] | undefined, authorised: readonly AuthorisedUsb[], received: readonly ReceivedUsbEvent[], now: Date): Outcome {
  const since = now.getTime() - check.lookbackHours * 3_600_000;
  // Events are judged by when the collector received them, not by the agent's clock: an event delivered late still counts.
  const recent = check.lookbackHours > 0 ? received.filter((r) => r.receivedAt.getTime() >= since && r.event.action !== 'disconnected') : [];
  const offenders = new Map<string, string>();
  const consider = (device: UsbDevice, when: string) => {
    if (check.storageOnly && !device.storage) return;
    if (isAuthorisedUsb(device, authorised)) return;
    const key = `${device.vendorId}:${device.productId}:${device.serial ?? ''}`;
    if (!offenders.has(key)) offenders.set(key, `${usbLabel(device)}${when}`);
  };
  const known = section !== undefined && !isUnknown(section);
  if (known) {
    for (const device of section.devices) consider(device, '');
    for (const e of section.events) if (e.action !== 'disconnected') consider(e.device, ` at ${e.at}${e.user ? ` by ${e.user}` : ''}`);
  }
  for (const { event: e } of recent) consider(e.device, ` at ${e.at}${e.user ? ` by ${e.user}` : ''}`);
  if (offenders.size > 0) return { status: 'fail', evidence: `Unauthorised USB storage used: ${namesList([...offenders.values()])}` };
  // Nothing unauthorised seen, but the scan could not read the devices: that is not a pass.
  const gap = missing('USB', section);
  if (gap || !known) return gap ?? { status: 'unknown', evidence: 'No USB facts' };
  const storage = [...section.devices, ...section.events.filter((e) => e.action !== 'disconnected').map((e) => e.device), ...recent.map((r) => r.event.device)].filter((d) => d.storage).length;
  return { status: 'pass', evidence: storage === 0 ? 'No USB mass storage was used' : 'Only authorised USB mass storage was used' };
}

function checkCheckin(check: Extract<Check, { kind: 'checkin' }>, lastSeenAt: Date | null, now: Date): Outcome {
  if (!lastSeenAt) return { status: 'unknown', evidence: 'The device has never reported' };
  const hours = (now.getTime() - lastSeenAt.getTime()) / 3_600_000;
  if (hours > check.maxSilentHours) {
    return { status: 'fail', evidence: `The device has not reported for ${Math.floor(hours)} h (last seen ${lastSeenAt.toISOString()}), more than the ${check.maxSilentHours} h allowed` };
  }
  return { status: 'pass', evidence: `The device reported ${hours < 1 ? 'within the last hour' : `${Math.floor(hours)} h ago`}` };
}

/** Picks the remediation text for a language and OS. */
export function remediationFor(rule: Rule, lang: 'en' | 'fr', os: OsName | undefined): string {
  const value = rule.remediation[lang];
  if (typeof value === 'string') return value;
  return (os && value[os]) || value.default || value.windows || value.macos || value.linux || '';
}

/** A catalog built from pattern rules; the licenses work replaces this with the full dictionary. */
export interface CatalogRule {
  /** Regular expression matched against the item's name, case-insensitive. */
  name: string;
  publisher?: string;
  product: string;
  status: ApprovalStatus;
}

export function catalogFromRules(rules: readonly CatalogRule[]): SoftwareCatalog {
  const compiled = rules.map((r) => ({
    name: new RegExp(r.name, 'i'),
    publisher: r.publisher ? new RegExp(r.publisher, 'i') : null,
    product: r.product,
    status: r.status,
  }));
  return {
    classify(item) {
      const hit = compiled.find((r) => r.name.test(item.name) && (!r.publisher || r.publisher.test(item.publisher ?? '')));
      return hit ? { product: hit.product, status: hit.status } : { product: item.name, status: 'unreviewed' };
    },
  };
}
