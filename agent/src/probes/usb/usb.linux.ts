/**
 * USB devices connected now on Linux, read from sysfs (no command, works as
 * root without a session): every device under /sys/bus/usb/devices except
 * the root hubs (usbN, the controllers themselves), with vendor/product ids
 * and strings, serial, whether an interface is mass storage (class 08), and
 * the mount points of its disks, partitions and LUKS volumes from
 * /proc/self/mounts.
 *
 * Limits: a container without /sys/bus/usb reports unknown. Mounts made in
 * another mount namespace (a user's private namespace) are not in the
 * agent's /proc/self/mounts. Phones in MTP mode are not mass storage and have
 * no mount point (gvfs mounts them in user space).
 */
import type { UsbSection } from '@vigie/shared';
import type { ProbeContext } from '../types';
import { usbSection } from './devices';
import { type SysfsUsbDevice, usbDevicesFromSysfs } from './parse-sysfs';

export const SYSFS_USB = '/sys/bus/usb/devices';
const SYS_BLOCK = '/sys/class/block';
// "1-1", "3-2.4": devices; "usb1": root hubs; "1-1:1.0": interfaces.
const DEVICE_NAME = /^\d+-\d+(\.\d+)*$/;
const INTERFACE_NAME = /^\d+-\d+(\.\d+)*:\d+\.\d+$/;

async function attribute(ctx: ProbeContext, path: string): Promise<string | null> {
  try {
    return (await ctx.readFile(path)).replace(/\n$/, '');
  } catch {
    return null;
  }
}

async function list(ctx: ProbeContext, path: string): Promise<string[]> {
  try {
    return await ctx.readDir(path);
  } catch {
    return [];
  }
}

// The disks of a mass-storage interface sit at
// <interface>/hostN/targetN:0:0/N:0:0:L/block/sdX, partitions inside sdX.
async function blockNodesUnder(ctx: ProbeContext, interfacePath: string): Promise<string[]> {
  const nodes: string[] = [];
  for (const host of (await list(ctx, interfacePath)).filter((e) => /^host\d+$/.test(e))) {
    const hostPath = `${interfacePath}/${host}`;
    for (const target of (await list(ctx, hostPath)).filter((e) => /^target[\d:]+$/.test(e))) {
      const targetPath = `${hostPath}/${target}`;
      for (const lun of (await list(ctx, targetPath)).filter((e) => /^\d+:\d+:\d+:\d+$/.test(e))) {
        for (const disk of await list(ctx, `${targetPath}/${lun}/block`)) {
          const diskPath = `${targetPath}/${lun}/block/${disk}`;
          const partitions = (await list(ctx, diskPath)).filter((e) => e.startsWith(disk) && e !== disk);
          for (const name of [disk, ...partitions]) {
            nodes.push(`/dev/${name}`);
            const holdersPath = name === disk ? `${diskPath}/holders` : `${diskPath}/${name}/holders`;
            nodes.push(...(await mapperNodes(ctx, await list(ctx, holdersPath))));
          }
        }
      }
    }
  }
  return nodes;
}

// A LUKS or LVM volume on the stick is mounted from /dev/mapper/<name>,
// which sysfs shows as a holder dm-N of the partition.
async function mapperNodes(ctx: ProbeContext, holders: string[]): Promise<string[]> {
  const nodes: string[] = [];
  for (const holder of holders.filter((h) => /^dm-\d+$/.test(h))) {
    nodes.push(`/dev/${holder}`);
    const name = await attribute(ctx, `${SYS_BLOCK}/${holder}/dm/name`);
    if (name) nodes.push(`/dev/mapper/${name}`);
  }
  return nodes;
}

async function readDevice(ctx: ProbeContext, name: string): Promise<SysfsUsbDevice> {
  const path = `${SYSFS_USB}/${name}`;
  const interfaceClasses: string[] = [];
  const blockNodes: string[] = [];
  for (const entry of (await list(ctx, path)).filter((e) => INTERFACE_NAME.test(e))) {
    const cls = await attribute(ctx, `${path}/${entry}/bInterfaceClass`);
    if (cls) interfaceClasses.push(cls.trim().toLowerCase());
    if (cls?.trim() === '08') blockNodes.push(...(await blockNodesUnder(ctx, `${path}/${entry}`)));
  }
  return {
    name,
    idVendor: await attribute(ctx, `${path}/idVendor`),
    idProduct: await attribute(ctx, `${path}/idProduct`),
    manufacturer: await attribute(ctx, `${path}/manufacturer`),
    product: await attribute(ctx, `${path}/product`),
    serial: await attribute(ctx, `${path}/serial`),
    interfaceClasses,
    blockNodes,
  };
}

export async function collectUsbLinux(ctx: ProbeContext): Promise<UsbSection> {
  try {
    let entries: string[];
    try {
      entries = await ctx.readDir(SYSFS_USB);
    } catch (err) {
      return { unknown: true, reason: `cannot list ${SYSFS_USB} (no USB bus visible, e.g. in a container): ${(err as Error).message}` };
    }
    const devices: SysfsUsbDevice[] = [];
    for (const name of entries.filter((e) => DEVICE_NAME.test(e)).sort()) {
      devices.push(await readDevice(ctx, name));
    }
    let mounts = '';
    try {
      mounts = await ctx.readFile('/proc/self/mounts');
    } catch (err) {
      if (devices.some((d) => d.blockNodes.length > 0)) {
        return { unknown: true, reason: `cannot read /proc/self/mounts: ${(err as Error).message}` };
      }
    }
    return usbSection(usbDevicesFromSysfs(devices, mounts));
  } catch (err) {
    return { unknown: true, reason: `USB inventory failed: ${(err as Error).message}` };
  }
}
