/**
 * Installed applications on macOS, from system_profiler's Applications
 * report: every .app bundle Spotlight knows about (/Applications,
 * ~/Applications, /System/Applications and bundles elsewhere on the disk).
 *
 * Limits: command-line software (Homebrew formulae, pkg receipts without an
 * .app) is not listed. system_profiler relies on the Spotlight index, so apps
 * on a volume with indexing turned off are missed. It takes 10 to 60 s on a
 * full machine, hence the long timeout.
 */
import type { SoftwareSection } from '@vigie/shared';
import type { ProbeContext } from '../types';
import { parseSystemProfilerApps } from './parse-system-profiler-apps';

export const SYSTEM_PROFILER = '/usr/sbin/system_profiler';
const TIMEOUT_MS = 180_000;

export async function collectSoftwareMacos(ctx: ProbeContext): Promise<SoftwareSection> {
  try {
    const result = await ctx.exec(SYSTEM_PROFILER, ['SPApplicationsDataType', '-json'], { timeoutMs: TIMEOUT_MS });
    if (result.timedOut) return { unknown: true, reason: 'system_profiler SPApplicationsDataType timed out' };
    if (result.truncated) return { unknown: true, reason: 'system_profiler output too large, list would be incomplete' };
    if (result.code !== 0) {
      return {
        unknown: true,
        reason: `system_profiler failed (${result.error ?? `exit ${result.code}`}): ${result.stderr.trim().slice(0, 200)}`,
      };
    }
    return parseSystemProfilerApps(result.stdout);
  } catch (err) {
    return { unknown: true, reason: `software inventory failed: ${(err as Error).message}` };
  }
}
