/**
 * The desktop app's few settings: which collector it talks to and which CA it
 * trusts for it. A small JSON file in Electron's userData folder, written
 * atomically (temp file + rename) and readable by the user only.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import * as path from 'node:path';

export interface Settings {
  /** https origin (and optional path prefix) of the collector, without a trailing slash. */
  collectorUrl: string | null;
  /** SHA-256 of the collector's CA certificate: lower-case hex, no colons. */
  caFingerprint: string | null;
}

export const defaultSettings: Readonly<Settings> = Object.freeze({ collectorUrl: null, caFingerprint: null });

export const settingsFileName = 'vigie-console.json';

export function settingsPath(userDataDir: string): string {
  return path.join(userDataDir, settingsFileName);
}

/**
 * Accepts only https (ISSP 9.17.5: no plain HTTP), with no credentials, query
 * or fragment. Returns the normalised URL, or null when it is not acceptable.
 */
export function normaliseCollectorUrl(input: string): string | null {
  let url: URL;
  try {
    url = new URL(input.trim());
  } catch {
    return null;
  }
  if (url.protocol !== 'https:' || url.username || url.password || url.search || url.hash || !url.hostname) return null;
  const pathname = url.pathname.replace(/\/+$/, '');
  return `${url.origin}${pathname}`;
}

/**
 * A SHA-256 fingerprint as lower-case hex. Accepts "AB:CD:…" (openssl,
 * browsers), plain hex, and an optional "sha256/" or "SHA256=" prefix.
 * Returns '' for an empty input (no pin) and null for anything else.
 */
export function normaliseFingerprint(input: string): string | null {
  const trimmed = input.trim().replace(/^sha-?256\s*[/=:]?\s*/i, '');
  if (trimmed === '') return '';
  const hex = trimmed.replace(/[\s:]/g, '').toLowerCase();
  return /^[0-9a-f]{64}$/.test(hex) ? hex : null;
}

/** Reads what a settings file holds; anything unreadable or invalid falls back to the defaults. */
export function parseSettings(text: string): Settings {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ...defaultSettings };
  }
  if (typeof raw !== 'object' || raw === null) return { ...defaultSettings };
  const r = raw as Record<string, unknown>;
  const collectorUrl = typeof r.collectorUrl === 'string' ? normaliseCollectorUrl(r.collectorUrl) : null;
  const fp = typeof r.caFingerprint === 'string' ? normaliseFingerprint(r.caFingerprint) : null;
  return { collectorUrl, caFingerprint: fp ? fp : null };
}

export async function loadSettings(userDataDir: string): Promise<Settings> {
  try {
    return parseSettings(await readFile(settingsPath(userDataDir), 'utf8'));
  } catch {
    return { ...defaultSettings };
  }
}

export async function saveSettings(userDataDir: string, settings: Settings): Promise<void> {
  await mkdir(userDataDir, { recursive: true });
  const file = settingsPath(userDataDir);
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(settings, null, 2) + '\n', { encoding: 'utf8', mode: 0o600 });
  await rename(tmp, file);
}
