import type { SoftwareItem, SoftwareSection } from '@vigie/shared';
import { item, softwareSection } from './items';

interface AppRecord {
  _name?: unknown;
  version?: unknown;
  obtained_from?: unknown;
  path?: unknown;
  lastModified?: unknown;
  signed_by?: unknown;
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

// The first certificate of signed_by names the signer. For Developer ID apps
// it is "Developer ID Application: Spotify (2FNC3A47ZF)", the real publisher;
// Mac App Store apps are re-signed by Apple ("Apple Mac OS Application
// Signing"), so the signature does not name their developer.
function publisherOf(app: AppRecord): string | null {
  const from = str(app.obtained_from);
  if (from === 'apple') return 'Apple Inc.';
  const signers = Array.isArray(app.signed_by) ? app.signed_by : [];
  const leaf = str(signers[0]);
  const developerId = leaf ? /^Developer ID Application: (.+?)(?: \([A-Z0-9]{10}\))?$/.exec(leaf) : null;
  return developerId?.[1] ?? null;
}

// lastModified is the bundle's modification time: set when the app was
// installed or last updated, the closest macOS keeps to an install date.
function timestampOf(app: AppRecord): string | null {
  const value = str(app.lastModified);
  if (!value) return null;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

/**
 * Applications from `system_profiler SPApplicationsDataType -json`:
 *
 *   { "SPApplicationsDataType" : [ { "_name" : "Spotify", "version" : "1.2.0.1165.gabf054ab",
 *       "obtained_from" : "identified_developer", "path" : "/Applications/Spotify.app",
 *       "lastModified" : "2022-12-05T16:17:16Z",
 *       "signed_by" : [ "Developer ID Application: Spotify (2FNC3A47ZF)", ... ] } ] }
 *
 * Apps under a home folder (~/Applications) are the user's.
 */
export function parseSystemProfilerApps(text: string): SoftwareSection {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return { unknown: true, reason: 'system_profiler output is not JSON (truncated or an error message)' };
  }
  const list = (data as { SPApplicationsDataType?: unknown } | null)?.SPApplicationsDataType;
  if (!Array.isArray(list)) {
    return { unknown: true, reason: 'system_profiler JSON has no SPApplicationsDataType array' };
  }
  const items: SoftwareItem[] = [];
  for (const entry of list as unknown[]) {
    if (typeof entry !== 'object' || entry === null) continue;
    const app = entry as AppRecord;
    const name = str(app._name)?.trim();
    if (!name) continue;
    items.push(
      item({
        name,
        version: str(app.version),
        publisher: publisherOf(app),
        source: 'app',
        scope: /^\/Users\/[^/]+\//.test(str(app.path) ?? '') ? 'user' : 'machine',
        installedAt: timestampOf(app),
      }),
    );
  }
  return softwareSection(items);
}

export function looksLikeSystemProfilerApps(text: string): boolean {
  return /^\s*\{\s*"SPApplicationsDataType"\s*:/.test(text);
}
