import type { DeviceSection } from '@vigie/shared';
import { machineId } from 'node-machine-id';
import type { OutputFormat } from '../format';
import type { ProbeContext } from '../types';
import { collectDeviceWith, type DeviceLibraries } from './device';

export { consoleUser, type DeviceLibraries } from './device';

/**
 * systeminformation's index loads its 25 modules (CPU, Wi-Fi, Docker,
 * Bluetooth vendor tables...) for the three functions used here, which cost
 * the agent ~10 MB of RSS and 300 KB of bundle to parse on every start. So the
 * libraries are loaded on the first device scan only, and only the modules
 * that hold osInfo, system and users: these are the very functions the index
 * re-exports. The index's one piece of start-up work, finding PowerShell and
 * the code page on Windows, is repeated here, since those modules rely on it.
 */
let systemInfo: Promise<Pick<DeviceLibraries, 'osInfo' | 'system' | 'users'>> | undefined;
function loadSystemInfo(): Promise<Pick<DeviceLibraries, 'osInfo' | 'system' | 'users'>> {
  systemInfo ??= (async () => {
    if (process.platform === 'win32') {
      const util = await import('systeminformation/lib/util.js');
      util.getCodepage();
      util.getPowershell();
    }
    const [{ osInfo }, { system }, { users }] = await Promise.all([
      import('systeminformation/lib/osinfo.js'),
      import('systeminformation/lib/system.js'),
      import('systeminformation/lib/users.js'),
    ]);
    return { osInfo: () => osInfo(), system: () => system(), users: () => users() };
  })();
  return systemInfo;
}

/** The real libraries, loaded on first use. */
export const systemLibraries: DeviceLibraries = {
  machineId: () => machineId(),
  osInfo: async () => (await loadSystemInfo()).osInfo(),
  system: async () => (await loadSystemInfo()).system(),
  users: async () => (await loadSystemInfo()).users(),
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
