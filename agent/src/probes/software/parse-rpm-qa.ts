import type { SoftwareItem, SoftwareSection } from '@vigie/shared';
import { isoFromEpochSeconds, item, softwareSection, splitLines } from './items';

/**
 * The query format, the one the GLPI and FusionInventory agents use, so their
 * real test outputs apply. INSTALLTIME stays raw (seconds): `:date` would be
 * printed in the machine's locale ("mar. 19 juil. 2011 15:05:03 CEST").
 */
export const RPM_QUERY_FORMAT =
  '%{NAME}\\t%{ARCH}\\t%{VERSION}-%{RELEASE}\\t%{INSTALLTIME}\\t%{SIZE}\\t%{VENDOR}\\t%{SUMMARY}\\t%{GROUP}\\n';

/**
 * RPM packages from `rpm -qa --queryformat RPM_QUERY_FORMAT`:
 *
 *   xfsprogs	x86_64	3.1.8-1.mga2	1332632724	3628382	Mageia.Org	Utilities for managing the XFS filesystem	System Environment/Base
 *
 * gpg-pubkey entries are imported signing keys, not software, and are left out.
 */
export function parseRpmQa(text: string): SoftwareSection {
  const items: SoftwareItem[] = [];
  let recognised = 0;
  let garbage = 0;
  for (const line of splitLines(text)) {
    if (line.trim() === '') continue;
    const fields = line.split('\t');
    const [name, , version, installTime, , vendor] = fields;
    if (fields.length < 6 || !name || !version || !/^\d+$/.test(installTime ?? '')) {
      garbage++;
      continue;
    }
    recognised++;
    if (name === 'gpg-pubkey') continue;
    items.push(
      item({
        name,
        version,
        publisher: vendor,
        source: 'rpm',
        scope: 'machine',
        installedAt: isoFromEpochSeconds(installTime ?? ''),
      }),
    );
  }
  if (recognised === 0 && garbage > 0) {
    return { unknown: true, reason: 'rpm -qa output has no "name<TAB>arch<TAB>version<TAB>installtime..." line' };
  }
  if (garbage > recognised) {
    return { unknown: true, reason: `rpm -qa output: ${garbage} unreadable lines for ${recognised} packages` };
  }
  return softwareSection(items);
}

export function looksLikeRpmQa(text: string): boolean {
  const lines = splitLines(text).filter((l) => l.trim() !== '').slice(0, 20);
  return lines.length > 0 && lines.every((l) => /^[^\t]+\t[^\t]+\t[^\t]+\t\d+\t\d*\t/.test(l));
}
