import type { DeviceSection } from '@vigie/shared';
import { machineId } from 'node-machine-id';
import * as si from 'systeminformation';
import type { OutputFormat } from '../format';
import type { ProbeContext } from '../types';
import { collectDeviceWith, type DeviceLibraries } from './device';

export { consoleUser, type DeviceLibraries } from './device';

/** The real libraries. */
export const systemLibraries: DeviceLibraries = {
  machineId: () => machineId(),
  osInfo: () => si.osInfo(),
  system: () => si.system(),
  users: () => si.users(),
};

/** Identity of the device. No command of our own: the libraries query the OS. */
export async function collectDevice(ctx: ProbeContext, libs: DeviceLibraries = systemLibraries): Promise<DeviceSection> {
  try {
    return await collectDeviceWith(libs, ctx.platform);
  } catch (err) {
    return { unknown: true, reason: `device facts failed: ${(err as Error).message}` };
  }
}

// The facts come from libraries, not from one tool's output, so there is
// nothing for `vigie-agent parse device` to recognise.
export const deviceFormats: OutputFormat<DeviceSection>[] = [];
