import type { UsbDevice, UsbSection } from '@vigie/shared';
import { hex4, text, usbDevice, usbSection } from './devices';

type Json = Record<string, unknown>;

interface PnpEntity {
  id: string;
  name: string | null;
  manufacturer: string | null;
  service: string | null;
}

interface UsbDisk {
  pnpId: string;
  model: string | null;
  driveLetters: string[];
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

// ConvertTo-Json writes a one-element list as a bare object.
function list(value: unknown): Json[] {
  const items = Array.isArray(value) ? value : value === undefined || value === null ? [] : [value];
  return items.filter((v): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v));
}

// Both our command's Win32_PnPEntity fields and Get-PnpDevice's are accepted.
function entity(item: Json): PnpEntity | null {
  const id = str(item.PNPDeviceID) ?? str(item.InstanceId) ?? str(item.DeviceID);
  if (!id) return null;
  return {
    id,
    name: text(str(item.FriendlyName) ?? str(item.Name)),
    manufacturer: text(str(item.Manufacturer)),
    service: text(str(item.Service)),
  };
}

// USB\VID_0781&PID_5591\<instance>: the device itself. "&MI_00" ids are the
// interfaces of a composite device, listed separately by Windows; the
// ROOT_HUB ids are the controllers' hubs.
const USB_DEVICE_ID = /^USB\\VID_([0-9A-F]{4})&PID_([0-9A-F]{4})\\(.+)$/i;

// The last part of the id is the device's serial number, unless the device
// has none: Windows then makes one up, and made-up ids always contain "&"
// ("5&356B5377&0&12").
function serialOf(instance: string): string | null {
  return instance.includes('&') ? null : instance;
}

// USBSTOR\DISK&VEN_SANDISK&PROD_ULTRA&REV_1.00\<serial>&0
function diskSerial(pnpId: string): string | null {
  const instance = /\\([^\\]+)$/.exec(pnpId)?.[1];
  if (!instance) return null;
  const serial = instance.replace(/&\d+$/, '');
  return serial.includes('&') ? null : serial;
}

function diskVendor(pnpId: string): string | null {
  const ven = /VEN_([^&\\]*)/i.exec(pnpId)?.[1]?.replace(/_/g, ' ');
  return text(ven);
}

// Driver names, not the maker: "(Standard USB Host Controller)", its German
// "(USB-Standardhostcontroller)", "Compatible USB storage device".
function isGenericManufacturer(value: string | null, isStorage: boolean): boolean {
  return value === null || value.startsWith('(') || isStorage;
}

const STORAGE_SERVICES = new Set(['usbstor', 'uaspstor']);

function disks(value: unknown): UsbDisk[] {
  return list(value)
    .map((d) => ({
      pnpId: str(d.PNPDeviceID) ?? '',
      model: text(str(d.Model)),
      driveLetters: (Array.isArray(d.DriveLetters) ? d.DriveLetters : [d.DriveLetters]).filter(
        (l): l is string => typeof l === 'string' && /^[A-Z]:$/i.test(l),
      ),
    }))
    .filter((d) => d.pnpId !== '');
}

/**
 * USB devices from the PowerShell command in usb.win32.ts (German Windows):
 *
 *   { "usb":  [ { "PNPDeviceID":  "USB\\VID_0781\u0026PID_5591\\0501F3E04B26...", "Name":  "USB-Massenspeichergerät",
 *                 "Manufacturer":  "Kompatibles USB-Speichergerät", "Service":  "USBSTOR", "Status":  "OK" } ],
 *     "disks":  [ { "PNPDeviceID":  "USBSTOR\\DISK\u0026VEN_SANDISK\u0026PROD_ULTRA...\\0501F3E04B26...\u00260",
 *                   "Model":  "SanDisk Ultra USB Device", "DriveLetters":  [ "E:" ] } ] }
 *
 * or from `Get-PnpDevice -PresentOnly -Class USB | ConvertTo-Json` (a list of
 * devices with InstanceId/FriendlyName). Names are in the system's language.
 */
export function parseWindowsPnp(raw: string): UsbSection {
  let data: unknown;
  try {
    data = JSON.parse(raw.replace(/^\uFEFF/, ''));
  } catch {
    return { unknown: true, reason: 'PowerShell output is not JSON (an error message or a truncated output)' };
  }
  const wrapper = !Array.isArray(data) && typeof data === 'object' && data !== null && 'usb' in data ? (data as Json) : null;
  const entities = list(wrapper ? wrapper.usb : data)
    .map(entity)
    .filter((e): e is PnpEntity => e !== null);
  if (entities.length === 0 && !(wrapper && Array.isArray(wrapper.usb))) {
    return { unknown: true, reason: 'no PnP device (PNPDeviceID or InstanceId) in the JSON' };
  }
  const usbDisks = disks(wrapper?.disks);
  const devices: UsbDevice[] = [];
  const usedDisks = new Set<UsbDisk>();
  for (const e of entities) {
    const match = USB_DEVICE_ID.exec(e.id);
    if (!match || /&MI_[0-9A-F]{2}/i.test(e.id)) continue;
    const [, vid, pid, instance] = match as unknown as [string, string, string, string];
    const serial = serialOf(instance);
    const disk = serial ? usbDisks.find((d) => diskSerial(d.pnpId)?.toLowerCase() === serial.toLowerCase()) : undefined;
    if (disk) usedDisks.add(disk);
    const isStorage = STORAGE_SERVICES.has((e.service ?? '').toLowerCase()) || disk !== undefined;
    devices.push(
      usbDevice({
        vendorId: hex4(vid) ?? vid.toLowerCase(),
        productId: hex4(pid) ?? pid.toLowerCase(),
        vendor: disk ? diskVendor(disk.pnpId) : isGenericManufacturer(e.manufacturer, isStorage) ? null : e.manufacturer,
        product: disk?.model?.replace(/ USB Device$/i, '') ?? e.name,
        serial,
        storage: isStorage,
        mountPoints: disk?.driveLetters ?? [],
      }),
    );
  }
  // A stick without a serial gets a made-up instance id on both sides, so
  // its disk cannot be matched by serial: when exactly one storage device and
  // one disk are left over, they are the same stick.
  const leftDisks = usbDisks.filter((d) => !usedDisks.has(d));
  const leftStorage = devices.filter((d) => d.storage && d.mountPoints.length === 0 && d.serial === null);
  if (leftDisks.length === 1 && leftStorage.length === 1 && leftDisks[0] && leftStorage[0]) {
    leftStorage[0].mountPoints = leftDisks[0].driveLetters;
  }
  return usbSection(devices);
}

export function looksLikeWindowsPnp(raw: string): boolean {
  const trimmed = raw.replace(/^\uFEFF/, '').trimStart();
  return /^[[{]/.test(trimmed) && /"(PNPDeviceID|InstanceId)"\s*:\s*"(USB|USBSTOR)\\\\/i.test(trimmed);
}
