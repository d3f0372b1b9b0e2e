/**
 * Installed programs on Windows, as "Apps & features" lists them: the
 * Uninstall keys of HKLM (64-bit view and WOW6432Node for 32-bit programs)
 * and of every loaded user hive (HKU\<SID>, per-user installs such as VS
 * Code, Teams, Zoom), without system components and updates.
 *
 * Why reg.exe and not PowerShell's Get-ItemProperty | ConvertTo-Json:
 * reg.exe starts in ~50 ms instead of 1-3 s, is not subject to execution
 * policy, Constrained Language Mode or AppLocker script rules, and a service
 * spawning powershell.exe is what EDR products flag first. Its text output is
 * stable since Windows XP: key paths and REG_ type names are never
 * localised (only the "(Default)" value name is, which we do not read).
 * Limit: reg.exe writes in the console code page, so non-ASCII characters in
 * display names may come out mangled; names stay recognisable for policy.
 *
 * Limits: users who are not logged on have no loaded hive, so their per-user
 * programs are not seen until they log on. Store (MSIX/AppX) apps are not in
 * the Uninstall keys and are not listed.
 */
import type { SoftwareSection } from '@vigie/shared';
import { isUnknown } from '@vigie/shared';
import type { ExecResult } from '../../exec';
import type { ProbeContext } from '../types';
import { softwareSection } from './items';
import { parseRegQuery } from './parse-reg-query';

export const REG_EXE = 'C:\\Windows\\System32\\reg.exe';
const TIMEOUT_MS = 60_000;
const UNINSTALL = 'Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall';
export const MACHINE_UNINSTALL_KEYS = [
  `HKLM\\${UNINSTALL}`,
  'HKLM\\SOFTWARE\\WOW6432Node\\Microsoft\\Windows\\CurrentVersion\\Uninstall',
];

// reg.exe exits with 1 when the key does not exist (no WOW6432Node on 32-bit
// Windows, no per-user Uninstall key for a user who installed nothing).
function keyMissing(result: ExecResult): boolean {
  return result.code === 1 && result.stdout.trim() === '';
}

function failure(key: string, result: ExecResult): string | null {
  if (result.timedOut) return `reg query ${key} timed out`;
  if (result.truncated) return `reg query ${key}: output too large`;
  if (result.code === null) return `reg.exe could not start (${result.error ?? 'unknown error'})`;
  if (result.code !== 0) return `reg query ${key} exited with ${result.code}: ${result.stderr.trim().slice(0, 200)}`;
  return null;
}

/**
 * Loaded user hives from `reg query HKU`: real accounts are S-1-5-21-...
 * (local and domain) and S-1-12-1-... (Entra ID); the service accounts
 * (S-1-5-18/19/20), .DEFAULT and the *_Classes twins have no user programs.
 */
export function userHives(text: string): string[] {
  const sids = new Set<string>();
  for (const line of text.split(/\r?\n/)) {
    const match = /^HKEY_USERS\\(S-1-(?:5-21|12-1)-[\d-]+)\s*$/i.exec(line.trim());
    if (match?.[1]) sids.add(match[1]);
  }
  return [...sids];
}

export async function collectSoftwareWindows(ctx: ProbeContext): Promise<SoftwareSection> {
  try {
    const run = (key: string) => ctx.exec(REG_EXE, ['query', key, '/s'], { timeoutMs: TIMEOUT_MS });
    const outputs: string[] = [];
    for (const key of MACHINE_UNINSTALL_KEYS) {
      const result = await run(key);
      if (keyMissing(result)) continue;
      const problem = failure(key, result);
      if (problem) return { unknown: true, reason: problem };
      outputs.push(result.stdout);
    }
    const hku = await ctx.exec(REG_EXE, ['query', 'HKU'], { timeoutMs: TIMEOUT_MS });
    const hkuProblem = failure('HKU', hku);
    if (hkuProblem) return { unknown: true, reason: hkuProblem };
    for (const sid of userHives(hku.stdout)) {
      const key = `HKU\\${sid}\\${UNINSTALL}`;
      const result = await run(key);
      if (keyMissing(result)) continue;
      const problem = failure(key, result);
      if (problem) return { unknown: true, reason: problem };
      outputs.push(result.stdout);
    }
    if (outputs.length === 0) {
      return { unknown: true, reason: 'no Uninstall key could be read' };
    }
    const section = parseRegQuery(outputs.join('\r\n'));
    return isUnknown(section) ? section : softwareSection(section.items);
  } catch (err) {
    return { unknown: true, reason: `software inventory failed: ${(err as Error).message}` };
  }
}
