/**
 * USB devices connected now on macOS, from system_profiler: the classic USB
 * report (SPUSBDataType, macOS up to 15: devices with their media and
 * mounted volumes), the new one (SPUSBHostDataType, macOS 26, where the
 * classic report is empty) and the storage report (SPStorageDataType) to find
 * USB volumes for the new one. One call asks for all three; an older macOS
 * ignores the type it does not know.
 *
 * Limits: on macOS 26 a volume is tied to its device by the drive's name
 * only; when that fails (APFS volumes have no drive name) the section is
 * unknown rather than "no USB storage". An unmounted stick on macOS 26 is not
 * recognised as storage.
 */
import type { UsbSection } from '@vigie/shared';
import type { ProbeContext } from '../types';
import { parseSystemProfilerUsb } from './parse-system-profiler-usb';

export const SYSTEM_PROFILER = '/usr/sbin/system_profiler';
export const SYSTEM_PROFILER_ARGS = ['-json', 'SPUSBDataType', 'SPUSBHostDataType', 'SPStorageDataType'];
const TIMEOUT_MS = 60_000;

export async function collectUsbMacos(ctx: ProbeContext): Promise<UsbSection> {
  try {
    const result = await ctx.exec(SYSTEM_PROFILER, SYSTEM_PROFILER_ARGS, { timeoutMs: TIMEOUT_MS });
    if (result.timedOut) return { unknown: true, reason: 'system_profiler USB report timed out' };
    if (result.code !== 0) {
      return {
        unknown: true,
        reason: `system_profiler failed (${result.error ?? `exit ${result.code}`}): ${result.stderr.trim().slice(0, 200)}`,
      };
    }
    return parseSystemProfilerUsb(result.stdout);
  } catch (err) {
    return { unknown: true, reason: `USB inventory failed: ${(err as Error).message}` };
  }
}
