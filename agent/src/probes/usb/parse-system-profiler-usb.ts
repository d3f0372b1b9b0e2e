import type { UsbDevice, UsbSection } from '@vigie/shared';
import { hex4, text, usbDevice, usbSection } from './devices';

type Json = Record<string, unknown>;

function obj(value: unknown): Json | null {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : null;
}
function arr(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}
function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** Devices nest under buses and hubs in "_items"; the buses themselves have no vendor id. */
function walk(items: unknown[], visit: (item: Json) => void): void {
  for (const entry of items) {
    const item = obj(entry);
    if (!item) continue;
    visit(item);
    walk(arr(item._items), visit);
  }
}

// "0x0781  (SanDisk Corporation)": the name in parentheses is Apple's
// database name for the vendor id, better than an empty manufacturer string.
function vendorName(item: Json): string | null {
  const inParentheses = /\((.+)\)\s*$/.exec(str(item.vendor_id) ?? '')?.[1];
  if (str(item.vendor_id) === 'apple_vendor_id') return text(str(item.manufacturer)) ?? 'Apple Inc.';
  return text(str(item.manufacturer)) ?? text(inParentheses);
}

// SPUSBDataType (macOS up to 15): one entry per device, storage devices carry
// "Media" with their volumes and mount points.
function classicDevices(list: unknown[]): UsbDevice[] {
  const devices: UsbDevice[] = [];
  walk(list, (item) => {
    const vendorId = hex4(str(item.vendor_id));
    const productId = hex4(str(item.product_id));
    if (!vendorId || !productId) return;
    const media = arr(item.Media).map(obj).filter((m): m is Json => m !== null);
    const mountPoints = media.flatMap((m) =>
      arr(m.volumes)
        .map(obj)
        .map((v) => str(v?.mount_point))
        .filter((p): p is string => typeof p === 'string' && p !== ''),
    );
    devices.push(
      usbDevice({
        vendorId,
        productId,
        vendor: vendorName(item),
        product: str(item._name),
        serial: str(item.serial_num),
        storage: media.length > 0,
        mountPoints,
      }),
    );
  });
  return devices;
}

const normalise = (value: string) => value.toLowerCase().replace(/[^a-z0-9]/g, '');

interface UsbVolume {
  deviceName: string | null;
  mountPoint: string;
}

// SPStorageDataType lists mounted volumes; protocol "USB" ones are on USB
// disks. The physical drive's name is the only link to a device.
function usbVolumes(list: unknown[]): UsbVolume[] {
  return list
    .map(obj)
    .filter((v): v is Json => v !== null)
    .filter((v) => str(obj(v.physical_drive)?.protocol) === 'USB' && typeof v.mount_point === 'string')
    .map((v) => ({ deviceName: text(str(obj(v.physical_drive)?.device_name)), mountPoint: str(v.mount_point) ?? '' }));
}

// SPUSBHostDataType (macOS 26 and later, where SPUSBDataType is empty):
// USBDeviceKey* fields, no media. Volumes are matched by the drive's name.
function hostDevices(list: unknown[], volumes: UsbVolume[]): { devices: UsbDevice[]; unmatched: UsbVolume[] } {
  const devices: UsbDevice[] = [];
  const matched = new Set<UsbVolume>();
  walk(list, (item) => {
    const vendorId = hex4(str(item.USBDeviceKeyVendorID));
    const productId = hex4(str(item.USBDeviceKeyProductID));
    if (!vendorId || !productId) return;
    const name = text(str(item._name));
    const mine = volumes.filter((v) => name !== null && v.deviceName !== null && normalise(v.deviceName) === normalise(name));
    mine.forEach((v) => matched.add(v));
    const serial = str(item.USBDeviceKeySerialNumber);
    devices.push(
      usbDevice({
        vendorId,
        productId,
        vendor: str(item.USBDeviceKeyVendorName),
        product: name,
        serial: serial === 'Not Provided' ? null : serial,
        storage: mine.length > 0,
        mountPoints: mine.map((v) => v.mountPoint),
      }),
    );
  });
  return { devices, unmatched: volumes.filter((v) => !matched.has(v)) };
}

/**
 * USB devices from `system_profiler -json SPUSBDataType SPUSBHostDataType SPStorageDataType`:
 *
 *   { "SPUSBDataType" : [ { "_name" : "USB20Bus", "_items" : [ { "_name" : "Flash Disk",
 *       "vendor_id" : "0x058f  (Alcor Micro, Corp.)", "product_id" : "0x6387", "serial_num" : "59402D7A",
 *       "Media" : [ { "bsd_name" : "disk5", "volumes" : [ { "mount_point" : "/Volumes/TEST" } ] } ] } ] } ],
 *     "SPUSBHostDataType" : [ { "_items" : [ { "_name" : " SanDisk 3.2 Gen1",
 *       "USBDeviceKeyVendorID" : "0x0781", "USBDeviceKeyProductID" : "0x55fd", ... } ] } ] }
 *
 * Either report alone is understood too.
 */
export function parseSystemProfilerUsb(raw: string): UsbSection {
  let data: Json | null;
  try {
    data = obj(JSON.parse(raw));
  } catch {
    return { unknown: true, reason: 'system_profiler output is not JSON (truncated or an error message)' };
  }
  if (!data || (!Array.isArray(data.SPUSBDataType) && !Array.isArray(data.SPUSBHostDataType))) {
    return { unknown: true, reason: 'system_profiler JSON has neither SPUSBDataType nor SPUSBHostDataType' };
  }
  const classic = classicDevices(arr(data.SPUSBDataType));
  if (classic.length > 0 || !Array.isArray(data.SPUSBHostDataType)) return usbSection(classic);
  const { devices, unmatched } = hostDevices(arr(data.SPUSBHostDataType), usbVolumes(arr(data.SPStorageDataType)));
  if (unmatched.length > 0) {
    // A mounted USB volume we cannot tie to a device: reporting the devices
    // without it would say "no USB storage mounted" when one is.
    return {
      unknown: true,
      reason: `USB volume(s) mounted at ${unmatched.map((v) => v.mountPoint).join(', ')} cannot be tied to a device (macOS 26 report has no media per device)`,
    };
  }
  return usbSection(devices);
}

// Several data types come out as one object with sorted keys, so
// SPStorageDataType may come first.
export function looksLikeSystemProfilerUsb(raw: string): boolean {
  return /^\s*\{/.test(raw) && /"SPUSB(Host)?DataType"\s*:\s*\[/.test(raw);
}
