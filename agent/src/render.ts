import { isUnknown, type Facts, type SectionName } from '@vigie/shared';

/** Facts as a plain-text report for a person at a terminal. */
export function renderFacts(facts: Partial<Facts>): string {
  const out: string[] = [];
  for (const [name, section] of Object.entries(facts) as [SectionName, Facts[SectionName]][]) {
    out.push(`== ${name}`);
    if (isUnknown(section)) {
      out.push(`  unknown: ${section.reason}`);
      continue;
    }
    out.push(...renderSection(name, section).map((l) => `  ${l}`));
  }
  return out.join('\n') + '\n';
}

function table(rows: string[][]): string[] {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ').trimEnd());
}

const show = (v: unknown): string => (v === null || v === undefined ? '-' : String(v));

function renderSection(name: SectionName, section: Exclude<Facts[SectionName], { unknown: true }>): string[] {
  switch (name) {
    case 'device': {
      const d = section as Extract<Facts['device'], { machineId: string }>;
      return [`${d.hostname} (${d.os} ${d.osVersion}), ${d.model}, serial ${d.serial}`, `machine id ${d.machineId}, user ${show(d.user)}`];
    }
    case 'encryption': {
      const e = section as Extract<Facts['encryption'], { volumes: unknown }>;
      if (e.volumes.length === 0) return ['no volumes found'];
      return table([
        ['VOLUME', 'MOUNT', 'SYSTEM', 'TECHNOLOGY', 'STATUS', 'PERCENT', 'PROTECTION', 'METHOD'],
        ...e.volumes.map((v) => [v.id, show(v.mountPoint), v.system ? 'yes' : 'no', v.technology, v.status, show(v.percent), v.protection, show(v.method)]),
      ]);
    }
    case 'screenlock': {
      const s = section as Extract<Facts['screenlock'], { source: string }>;
      return [`enabled ${show(s.enabled)}, idle ${show(s.idleSeconds)} s, grace ${show(s.graceSeconds)} s, password ${show(s.requirePassword)}`, `source ${s.source}, user ${show(s.user)}`];
    }
    case 'software': {
      const s = section as Extract<Facts['software'], { items: unknown }>;
      const shown = s.items.slice(0, 40);
      const lines = table([['NAME', 'VERSION', 'PUBLISHER', 'SOURCE', 'SCOPE'], ...shown.map((i) => [i.name, show(i.version), show(i.publisher), i.source, i.scope])]);
      if (s.items.length > shown.length) lines.push(`... and ${s.items.length - shown.length} more (use --json for all)`);
      return [`${s.items.length} items`, ...lines];
    }
    case 'usb': {
      const u = section as Extract<Facts['usb'], { devices: unknown }>;
      if (u.devices.length === 0) return ['no USB devices connected'];
      return table([
        ['ID', 'VENDOR', 'PRODUCT', 'SERIAL', 'STORAGE', 'MOUNTS'],
        ...u.devices.map((d) => [`${d.vendorId}:${d.productId}`, show(d.vendor), show(d.product), show(d.serial), d.storage ? 'yes' : 'no', d.mountPoints.join(',') || '-']),
      ]);
    }
  }
}
