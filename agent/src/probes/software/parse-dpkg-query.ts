import type { SoftwareItem, SoftwareSection } from '@vigie/shared';
import { item, softwareSection, splitLines, withoutEmail } from './items';

/** The format string given to dpkg-query; the parser below expects exactly these four tab-separated fields. */
export const DPKG_QUERY_FORMAT = '${Package}\\t${Version}\\t${Maintainer}\\t${db:Status-Abbrev}\\n';

// The second letter of db:Status-Abbrev is the package state. "i" is installed;
// "U", "F", "W" and "t" (unpacked, half-configured, awaiting/pending triggers)
// still have their files on disk, so they are present for policy. "n" (not
// installed), "c" (only config files left, "rc") and "H" (half-installed) are not.
const PRESENT_STATES = new Set(['i', 'U', 'F', 'W', 't']);
const LINE = /^([^\t]+)\t([^\t]*)\t([^\t]*)\t([a-zA-Z]{2}[a-zA-Z ]?)\s*$/;

/**
 * Debian/Ubuntu packages from dpkg-query with DPKG_QUERY_FORMAT:
 *
 *   bash	5.2.15-2+b8	Matthias Klose <doko@debian.org>	ii
 *   erlang-base	1:25.2.3+dfsg-1+deb12u4	Debian Erlang Packagers <pkg-erlang-devel@lists.alioth.debian.org>	ii
 *
 * dpkg keeps no install date in its database, so installedAt is null.
 */
export function parseDpkgQuery(text: string): SoftwareSection {
  const items: SoftwareItem[] = [];
  let recognised = 0;
  let garbage = 0;
  for (const line of splitLines(text)) {
    if (line.trim() === '') continue;
    const match = LINE.exec(line);
    if (!match) {
      garbage++;
      continue;
    }
    recognised++;
    const [, name, version, maintainer, status] = match as unknown as [string, string, string, string, string];
    if (!PRESENT_STATES.has(status.charAt(1))) continue;
    items.push(item({ name, version, publisher: withoutEmail(maintainer), source: 'dpkg', scope: 'machine' }));
  }
  if (recognised === 0 && garbage > 0) {
    return { unknown: true, reason: 'dpkg-query output has no "package<TAB>version<TAB>maintainer<TAB>status" line' };
  }
  if (garbage > recognised) {
    return { unknown: true, reason: `dpkg-query output: ${garbage} unreadable lines for ${recognised} packages` };
  }
  return softwareSection(items);
}

export function looksLikeDpkgQuery(text: string): boolean {
  const lines = splitLines(text).filter((l) => l.trim() !== '').slice(0, 20);
  return lines.length > 0 && lines.every((l) => LINE.test(l));
}
