import type { UsbDevice } from '@vigie/shared';
import { hex4, usbDevice } from './devices';
import { parseMounts } from './mounts';

/** What the Linux collect reads from sysfs for one USB device (/sys/bus/usb/devices/1-1). */
export interface SysfsUsbDevice {
  /** Kernel name, e.g. "1-1" or "3-2.4". */
  name: string;
  idVendor: string | null;
  idProduct: string | null;
  manufacturer: string | null;
  product: string | null;
  serial: string | null;
  /** bInterfaceClass of each interface, two hex digits ("08" is mass storage). */
  interfaceClasses: string[];
  /** Device nodes of the disks, partitions and device-mapper volumes (LUKS) on it: "/dev/sdb1", "/dev/mapper/usbkey". */
  blockNodes: string[];
}

const MASS_STORAGE_CLASS = '08';

/**
 * Turns the sysfs reading into devices, with mount points from /proc/self/mounts:
 *
 *   1-1  idVendor=1e3d idProduct=2093 manufacturer="Generic " product="Flash Disk      "
 *        interfaces [08] blocks [/dev/sdb, /dev/sdb1]   +   "/dev/sdb1 /media/clement/CAUMES vfat ..."
 *   →   { vendorId: "1e3d", productId: "2093", vendor: "Generic", product: "Flash Disk", storage: true,
 *         mountPoints: ["/media/clement/CAUMES"] }
 */
export function usbDevicesFromSysfs(devices: readonly SysfsUsbDevice[], mountsText: string): UsbDevice[] {
  const mounts = parseMounts(mountsText);
  const out: UsbDevice[] = [];
  for (const d of devices) {
    const vendorId = hex4(d.idVendor);
    const productId = hex4(d.idProduct);
    if (!vendorId || !productId) continue;
    const mountPoints = d.blockNodes.flatMap((node) => mounts.get(node) ?? []);
    out.push(
      usbDevice({
        vendorId,
        productId,
        vendor: d.manufacturer,
        product: d.product,
        serial: d.serial,
        storage: d.interfaceClasses.includes(MASS_STORAGE_CLASS) || d.blockNodes.length > 0,
        mountPoints,
      }),
    );
  }
  return out;
}
