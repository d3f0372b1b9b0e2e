import type { UsbDevice, UsbSection } from '@vigie/shared';

const MAX_DEVICES = 256;
const MAX_TEXT = 1024;

// system_profiler writes Apple's vendor id as a word instead of 0x05ac.
const NAMED_VENDOR_IDS: Record<string, string> = { apple_vendor_id: '05ac' };

/**
 * A USB id as four lower-case hex digits, from any of the spellings the tools
 * use: "0781", "0x0781", "781" (udev PRODUCT), "0x0781  (SanDisk Corporation)",
 * "VID_0781". Null when it is not an id.
 */
export function hex4(value: string | undefined | null): string | null {
  if (!value) return null;
  const trimmed = value.trim();
  const named = NAMED_VENDOR_IDS[trimmed.toLowerCase()];
  if (named) return named;
  const match = /^(?:0x|VID_|PID_)?([0-9a-f]{1,4})\b/i.exec(trimmed);
  return match?.[1] ? match[1].toLowerCase().padStart(4, '0') : null;
}

/** Trimmed text or null; USB descriptors are often padded with spaces ("Flash Disk      "). */
export function text(value: string | undefined | null): string | null {
  if (value === undefined || value === null) return null;
  const trimmed = value.replace(/\0/g, '').trim();
  return trimmed === '' ? null : trimmed.slice(0, MAX_TEXT);
}

export function usbDevice(fields: {
  vendorId: string;
  productId: string;
  vendor?: string | null;
  product?: string | null;
  serial?: string | null;
  storage?: boolean;
  mountPoints?: readonly string[];
}): UsbDevice {
  return {
    vendorId: fields.vendorId,
    productId: fields.productId,
    vendor: text(fields.vendor),
    product: text(fields.product),
    serial: text(fields.serial),
    storage: fields.storage ?? false,
    mountPoints: [...new Set(fields.mountPoints ?? [])].slice(0, 64),
  };
}

/** A snapshot section: devices now, no events (events come from the watcher). */
export function usbSection(devices: readonly UsbDevice[]): UsbSection {
  if (devices.length > MAX_DEVICES) {
    return { unknown: true, reason: `${devices.length} USB devices, more than the ${MAX_DEVICES} a report can carry` };
  }
  return { devices: [...devices], events: [] };
}
