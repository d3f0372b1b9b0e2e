import type { SoftwareItem, SoftwareSection } from '@vigie/shared';
import { item, softwareSection, splitLines } from './items';

// Marks snap appends to a publisher's name: verified (✓, or ** / * when
// unicode or colour is off, as in older snapd) and starred (✪).
const PUBLISHER_MARKS = /(\*\*?|✓|✪)$/u;

/**
 * Snaps from `snap list` (a table; column titles are translated, so they are
 * only used to count columns):
 *
 *   Name                     Version   Rev   Tracking  Publisher   Notes
 *   core18                   20191030  1265  stable    canonical*  base
 *   scrcpy                   v1.10     174   stable    sisco311    -
 *
 * snapd before 2.36 printed "Name Version Rev Developer Notes" (no Tracking).
 * No cell contains a space, so splitting on whitespace is exact.
 */
export function parseSnapList(text: string): SoftwareSection {
  const lines = splitLines(text).filter((l) => l.trim() !== '');
  if (lines.length === 0) return { items: [] };
  const header = (lines[0] ?? '').trim().split(/\s+/);
  if (header.length !== 5 && header.length !== 6) {
    return { unknown: true, reason: `snap list header has ${header.length} columns, expected 5 or 6` };
  }
  const publisherColumn = header.length === 6 ? 4 : 3;
  const items: SoftwareItem[] = [];
  for (const line of lines.slice(1)) {
    const cells = line.trim().split(/\s+/);
    if (cells.length < header.length - 1) {
      return { unknown: true, reason: `snap list line not understood: ${line.slice(0, 200)}` };
    }
    const [name, version] = cells;
    const notes = cells[header.length - 1] ?? '';
    // Disabled revisions (shown by --all) are not the revision in use.
    if (notes.split(',').includes('disabled')) continue;
    const publisher = (cells[publisherColumn] ?? '').replace(PUBLISHER_MARKS, '');
    items.push(
      item({ name: name ?? '', version, publisher: publisher === '-' ? null : publisher, source: 'snap', scope: 'machine' }),
    );
  }
  return softwareSection(items);
}

export function looksLikeSnapList(text: string): boolean {
  const first = splitLines(text).find((l) => l.trim() !== '') ?? '';
  return /^Name\s+Version\s+Rev\s+(Tracking\s+Publisher|Developer)\s+Notes\s*$/.test(first);
}
