import { factsHash, isUnknown, listChanges, sectionNames, type Facts, type SectionName, type SoftwareFacts } from '@vigie/shared';
import type { TimelineChange } from '../store/datastore';
import { canonicalJson } from '../util/canonical-json';

const MAX_NAMES = 5;

function names(list: string[]): string {
  const shown = list.slice(0, MAX_NAMES).join(', ');
  return list.length > MAX_NAMES ? `${shown} and ${list.length - MAX_NAMES} more` : shown;
}

/**
 * One line per section that changed, in words an admin reads in the device's
 * timeline ("software: 2 installed (Zoom 6.1, VLC 3.0)"). Sections that did not
 * change leave no line, so the timeline stays short when the agent sends deltas.
 */
export function timelineChanges(previous: Facts | null, next: Facts): TimelineChange[] {
  if (!previous) return [{ section: 'agent', summary: 'First report received' }];
  const changes: TimelineChange[] = [];
  for (const section of sectionNames) {
    if (sameSection(previous[section], next[section], section)) continue;
    changes.push({ section, summary: describe(section, previous, next) });
  }
  return changes;
}

/**
 * Compared through canonical JSON, so key order never reads as a change. The store
 * has just canonicalised both reports' sections to hash them (memoised per object),
 * so this is a string comparison; data that is not plain JSON goes through shared's hash.
 */
function sameSection(before: unknown, after: unknown, section: SectionName): boolean {
  if (before === after) return true;
  const a = canonicalJson(before);
  const b = canonicalJson(after);
  if (a !== null && b !== null) return a === b;
  return factsHash({ [section]: before }) === factsHash({ [section]: after });
}

/** Each item's name and version as the timeline shows it, per item object: a device's next report shares its unchanged items. */
const itemLabels = new WeakMap<object, string>();

function itemLabel(item: { name: string; version: string | null }): string {
  let label = itemLabels.get(item);
  if (label === undefined) {
    label = item.version ? `${item.name} ${item.version}` : item.name;
    itemLabels.set(item, label);
  }
  return label;
}

/** The labels of a software list, per list object: a report's list is the next report's previous one. */
const labelSets = new WeakMap<object, Set<string>>();

function labelSet(items: readonly { name: string; version: string | null }[]): Set<string> {
  let labels = labelSets.get(items);
  if (labels === undefined) {
    labels = new Set(items.map(itemLabel));
    labelSets.set(items, labels);
  }
  return labels;
}

type Item = SoftwareFacts['items'][number];

/** The labels installed and removed, sorted: those in one list and not in the other. */
function softwareChanges(before: readonly Item[], after: readonly Item[]): { added: string[]; removed: string[] } {
  const changes = listChanges(after);
  if (changes?.previous === before && changes.added.length + changes.removed.length <= MAX_CHANGES_COMPARED) {
    // Only a changed item's label can be in one list and not the other; each is looked for in the other list.
    const added = [...new Set(changes.added.map(itemLabel))].filter((label) => !hasLabel(before, label)).sort();
    const removed = [...new Set(changes.removed.map(itemLabel))].filter((label) => !hasLabel(after, label)).sort();
    return { added, removed };
  }
  const b = labelSet(before);
  const a = labelSet(after);
  return { added: [...a].filter((x) => !b.has(x)).sort(), removed: [...b].filter((x) => !a.has(x)).sort() };
}

/** Past this many changed items, the two lists' label sets are cheaper than a search per change. */
const MAX_CHANGES_COMPARED = 16;

function hasLabel(items: readonly Item[], label: string): boolean {
  // A label starts with its item's name: most items are ruled out by a character, without building theirs.
  const first = label.charCodeAt(0);
  for (const item of items) if ((item.name.charCodeAt(0) === first || item.name === '') && label.startsWith(item.name) && itemLabel(item) === label) return true;
  return false;
}

function describe(section: SectionName, previous: Facts, next: Facts): string {
  const before = previous[section];
  const after = next[section];
  if (isUnknown(after)) return `could not be read: ${after.reason}`;
  if (isUnknown(before)) return 'readable again';
  switch (section) {
    case 'device': {
      const b = previous.device as Exclude<Facts['device'], { unknown: true }>;
      const a = next.device as Exclude<Facts['device'], { unknown: true }>;
      const diffs = (['hostname', 'osVersion', 'model', 'serial', 'user'] as const)
        .filter((k) => b[k] !== a[k])
        .map((k) => `${k} ${b[k] ?? '(none)'} → ${a[k] ?? '(none)'}`);
      return diffs.length ? diffs.join('; ') : 'device details changed';
    }
    case 'encryption': {
      const a = next.encryption as Exclude<Facts['encryption'], { unknown: true }>;
      return a.volumes.map((v) => `${v.id} ${v.status}${v.status === 'encrypted' ? ` (protection ${v.protection})` : ''}`).join('; ') || 'no volumes';
    }
    case 'screenlock': {
      const a = next.screenlock as Exclude<Facts['screenlock'], { unknown: true }>;
      return `enabled ${a.enabled ?? '?'}, idle ${a.idleSeconds ?? '?'} s, grace ${a.graceSeconds ?? '?'} s, password ${a.requirePassword ?? '?'} (${a.source})`;
    }
    case 'software': {
      const { added, removed } = softwareChanges((previous.software as SoftwareFacts).items, (next.software as SoftwareFacts).items);
      const parts: string[] = [];
      if (added.length) parts.push(`${added.length} installed (${names(added)})`);
      if (removed.length) parts.push(`${removed.length} removed (${names(removed)})`);
      return parts.join('; ') || 'software details changed';
    }
    case 'usb': {
      const a = next.usb as Exclude<Facts['usb'], { unknown: true }>;
      const storage = a.devices.filter((d) => d.storage).length;
      return `${a.devices.length} device(s) connected (${storage} storage), ${a.events.length} event(s)`;
    }
  }
}
