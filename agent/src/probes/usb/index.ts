import type { UsbSection } from '@vigie/shared';
import type { OutputFormat } from '../format';
import type { ProbeContext } from '../types';
import { looksLikeSystemProfilerUsb, parseSystemProfilerUsb } from './parse-system-profiler-usb';
import { looksLikeUdevadmMonitor, parseUdevadmMonitor } from './parse-udevadm-monitor';
import { looksLikeWindowsPnp, parseWindowsPnp } from './parse-windows-pnp';
import { collectUsbMacos } from './usb.darwin';
import { collectUsbLinux } from './usb.linux';
import { collectUsbWindows } from './usb.win32';

export { type LineStream, type RunningCommand, UsbWatcher, type UsbWatcherOptions } from './watch';

/** USB devices connected now; events are [] here, they come from UsbWatcher. */
export async function collectUsb(ctx: ProbeContext): Promise<UsbSection> {
  switch (ctx.platform) {
    case 'win32':
      return collectUsbWindows(ctx);
    case 'darwin':
      return collectUsbMacos(ctx);
    case 'linux':
      return collectUsbLinux(ctx);
    default:
      return { unknown: true, reason: `not supported on ${ctx.platform}` };
  }
}

// sysfs is a tree, not a file, so Linux snapshots have no parse format; a
// udevadm monitor capture does.
export const usbFormats: OutputFormat<UsbSection>[] = [
  {
    name: 'system-profiler-usb-json',
    description: 'system_profiler -json SPUSBDataType [SPUSBHostDataType SPStorageDataType] (macOS)',
    detect: looksLikeSystemProfilerUsb,
    parse: parseSystemProfilerUsb,
  },
  {
    name: 'windows-pnp-json',
    description: "Vigie's PowerShell USB query, or Get-PnpDevice -Class USB | ConvertTo-Json (Windows, any language)",
    detect: looksLikeWindowsPnp,
    parse: parseWindowsPnp,
  },
  {
    name: 'udevadm-monitor',
    description: 'udevadm monitor --property [--udev|--kernel] capture (Linux; times are seconds since boot, shown from 1970-01-01)',
    detect: looksLikeUdevadmMonitor,
    parse: parseUdevadmMonitor,
  },
];
