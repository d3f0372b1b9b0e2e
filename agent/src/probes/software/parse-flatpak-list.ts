import type { SoftwareItem, SoftwareSection } from '@vigie/shared';
import { item, softwareSection, splitLines } from './items';

/** The columns Vigie asks for, in this order. */
export const FLATPAK_COLUMNS = 'application,name,version,branch,installation';

const APP_ID = /^[A-Za-z_][\w-]*(\.[\w-]+)+$/;
const INSTALLATION = /^(system|user)$/;

interface FlatpakRow {
  application: string;
  name: string;
  version: string;
  branch: string;
  installation: string;
}

// Two layouts are understood: ours (FLATPAK_COLUMNS) and the GLPI agent's
// "application,branch,installation,name", so support staff can paste either.
function readRow(cells: string[]): FlatpakRow | null {
  if (cells.length === 5 && INSTALLATION.test(cells[4] ?? '')) {
    const [application, name, version, branch, installation] = cells as [string, string, string, string, string];
    return { application, name, version, branch, installation };
  }
  if (cells.length === 4 && INSTALLATION.test(cells[2] ?? '')) {
    const [application, branch, installation, name] = cells as [string, string, string, string];
    return { application, name, version: '', branch, installation };
  }
  return null;
}

// Runtimes and some apps have no version, only a branch: a numbered branch
// ("20.08", "3.38") is their version; "stable" or "beta" is a channel, not one.
function versionOf(row: FlatpakRow): string | null {
  if (row.version !== '') return row.version;
  return /\d/.test(row.branch) ? row.branch : null;
}

/**
 * Flatpaks from `flatpak list --app --columns=application,name,version,branch,installation`.
 * Piped output has no title line and separates cells with tabs:
 *
 *   org.gaphor.Gaphor	Gaphor	2.6.5	stable	user
 *
 * The application ID is the name (display names are not unique); the
 * installation gives the scope. Per-user installations of other users are not
 * listed by flatpak run as root.
 */
export function parseFlatpakList(text: string): SoftwareSection {
  const items: SoftwareItem[] = [];
  for (const line of splitLines(text)) {
    if (line.trim() === '' || /^Application ID\b/.test(line) || /^Name\tApplication/.test(line)) continue;
    const row = readRow(line.split('\t').map((c) => c.trim()));
    if (!row || !APP_ID.test(row.application)) {
      return { unknown: true, reason: `flatpak list line not understood: ${line.slice(0, 200)}` };
    }
    items.push(
      item({
        name: row.application,
        version: versionOf(row),
        publisher: null,
        source: 'flatpak',
        scope: row.installation === 'user' ? 'user' : 'machine',
      }),
    );
  }
  return softwareSection(items);
}

export function looksLikeFlatpakList(text: string): boolean {
  const lines = splitLines(text).filter((l) => l.trim() !== '').slice(0, 20);
  return (
    lines.length > 0 &&
    lines.every((l) => {
      const row = readRow(l.split('\t').map((c) => c.trim()));
      return row !== null && APP_ID.test(row.application);
    })
  );
}
