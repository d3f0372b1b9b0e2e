import type { UsbDevice } from '@vigie/shared';
import type { UsbChange } from './parse-udevadm-monitor';

// Two identical devices without a serial (two hubs of the same model) have
// the same key; they are counted, not merged.
function key(device: UsbDevice): string {
  return [device.vendorId, device.productId, device.serial ?? ''].join('|');
}

function groupByKey(devices: readonly UsbDevice[]): Map<string, UsbDevice[]> {
  const groups = new Map<string, UsbDevice[]>();
  for (const device of devices) {
    const list = groups.get(key(device)) ?? [];
    list.push(device);
    groups.set(key(device), list);
  }
  return groups;
}

/**
 * What changed between two snapshots of the connected devices (Windows and
 * macOS, where the watcher polls):
 *
 *   before [stick]                    after [stick + /Volumes/TEST]   →  mounted (stick)
 *   before []                         after [stick]                   →  connected (stick)
 *   before [stick, keyboard]          after [keyboard]                →  disconnected (stick)
 *
 * A stick plugged in and already mounted between two polls gives
 * "connected" then "mounted".
 */
export function diffUsbDevices(before: readonly UsbDevice[], after: readonly UsbDevice[]): UsbChange[] {
  const changes: UsbChange[] = [];
  const previous = groupByKey(before);
  const current = groupByKey(after);
  for (const [k, nowList] of current) {
    const thenList = previous.get(k) ?? [];
    nowList.forEach((device, index) => {
      const then = thenList[index];
      if (!then) {
        changes.push({ action: 'connected', device });
        if (device.mountPoints.length > 0) changes.push({ action: 'mounted', device });
      } else if (device.mountPoints.some((p) => !then.mountPoints.includes(p))) {
        changes.push({ action: 'mounted', device });
      }
    });
  }
  for (const [k, thenList] of previous) {
    const nowCount = current.get(k)?.length ?? 0;
    thenList.slice(nowCount).forEach((device) => changes.push({ action: 'disconnected', device }));
  }
  return changes;
}
