import type { UsbDevice, UsbEvent, UsbSection } from '@vigie/shared';
import { hex4, text, usbDevice } from './devices';
import { parseMounts } from './mounts';

/** One property block of `udevadm monitor --property`. */
export interface UdevEvent {
  /** UDEV: after udev's rules (has ID_* properties); KERNEL: the raw uevent. */
  source: 'UDEV' | 'KERNEL';
  /** Seconds since boot, from the "[733866.322842]" stamp. */
  uptime: number;
  action: string;
  devpath: string;
  subsystem: string;
  props: Record<string, string>;
}

const HEADER = /^(UDEV|KERNEL)\s*\[\s*(\d+(?:\.\d+)?)\]\s+(\S+)\s+(\S+)\s+\((\S+)\)\s*$/;
const PROPERTY = /^([A-Za-z0-9_.]+)=(.*)$/;

/**
 * Reads `udevadm monitor --udev --property` line by line, as it streams:
 *
 *   UDEV  [733866.322842] add      /devices/pci0000:00/0000:00:14.0/usb3/3-1 (usb)
 *   ACTION=add
 *   DEVTYPE=usb_device
 *   PRODUCT=1050/407/527
 *   ID_VENDOR_ID=1050
 *   ...
 *   <blank line ends the event>
 *
 * The "monitor will print..." banner and anything else is ignored.
 */
export class UdevMonitorParser {
  private current: UdevEvent | null = null;

  /** Feeds one line; returns the event it completes, if any. */
  push(rawLine: string): UdevEvent | null {
    const line = rawLine.replace(/\r$/, '');
    const header = HEADER.exec(line);
    if (header) {
      const finished = this.flush();
      const [, source, uptime, action, devpath, subsystem] = header as unknown as [string, 'UDEV' | 'KERNEL', string, string, string, string];
      this.current = { source, uptime: Number(uptime), action, devpath, subsystem, props: {} };
      return finished;
    }
    if (line.trim() === '') return this.flush();
    const property = PROPERTY.exec(line);
    if (property && this.current) this.current.props[property[1] ?? ''] = property[2] ?? '';
    return null;
  }

  /** Ends the event in progress (end of the stream without a blank line). */
  flush(): UdevEvent | null {
    const done = this.current;
    this.current = null;
    return done;
  }
}

export function parseUdevEvents(text: string): UdevEvent[] {
  const parser = new UdevMonitorParser();
  const events: UdevEvent[] = [];
  for (const line of text.split('\n')) {
    const event = parser.push(line);
    if (event) events.push(event);
  }
  const last = parser.flush();
  if (last) events.push(last);
  return events;
}

/** A connection or removal seen in the udev stream, or a mount found later. */
export interface UsbChange {
  action: UsbEvent['action'];
  device: UsbDevice;
}

interface Tracked {
  device: UsbDevice;
  blockNodes: Set<string>;
}

// udev writes strings with unsafe bytes as \xNN ("YubiKey\x20OTP+FIDO+CCID").
function decodeEnc(value: string | undefined): string | null {
  if (value === undefined) return null;
  return text(value.replace(/\\x([0-9a-fA-F]{2})/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16))));
}

// ":080650:030101:" lists interfaces as class/subclass/protocol; 08 is mass storage.
function hasStorageInterface(interfaces: string | undefined): boolean {
  return (interfaces ?? '').split(':').some((i) => i.length === 6 && i.startsWith('08'));
}

// The device's own strings when it has them; udev falls back to the id
// ("090c") when it has none, and then the hwdb name is better.
function deviceFromProps(props: Record<string, string>): UsbDevice | null {
  const [productVid, productPid] = (props.PRODUCT ?? '').split('/');
  const vendorId = hex4(props.ID_VENDOR_ID ?? productVid);
  const productId = hex4(props.ID_MODEL_ID ?? productPid);
  if (!vendorId || !productId) return null;
  const ownVendor = decodeEnc(props.ID_VENDOR_ENC) ?? text(props.ID_VENDOR);
  const ownModel = decodeEnc(props.ID_MODEL_ENC) ?? text(props.ID_MODEL);
  return usbDevice({
    vendorId,
    productId,
    vendor: ownVendor && ownVendor.toLowerCase() !== vendorId ? ownVendor : text(props.ID_VENDOR_FROM_DATABASE),
    product: ownModel && ownModel.toLowerCase() !== productId ? ownModel : text(props.ID_MODEL_FROM_DATABASE),
    serial: text(props.ID_SERIAL_SHORT),
    storage: hasStorageInterface(props.ID_USB_INTERFACES),
  });
}

const isRootHub = (devpath: string) => /\/usb\d+$/.test(devpath);

// Changes hand out copies: the tracker keeps updating its own device (storage, mounts).
const copy = (device: UsbDevice): UsbDevice => ({ ...device, mountPoints: [...device.mountPoints] });

/**
 * Turns udev events into USB connections, removals and (with the mount
 * table) mounts. It remembers each device by its sysfs path, because a
 * modern udev sends a removal without ID_VENDOR_ID or serial, only
 * PRODUCT=1050/407/527; disks and partitions appear below the device's path.
 * Pure: no clock, no I/O.
 */
export class UsbTracker {
  private readonly devices = new Map<string, Tracked>();

  constructor(private readonly source: UdevEvent['source'] = 'UDEV') {}

  handle(event: UdevEvent): UsbChange[] {
    if (event.source !== this.source) return [];
    const { action, devpath, subsystem, props } = event;
    if (subsystem === 'usb' && props.DEVTYPE === 'usb_device' && !isRootHub(devpath)) {
      if (action === 'add') {
        if (this.devices.has(devpath)) return [];
        const device = deviceFromProps(props);
        if (!device) return [];
        this.devices.set(devpath, { device, blockNodes: new Set() });
        return [{ action: 'connected', device: copy(device) }];
      }
      if (action === 'remove') {
        const tracked = this.devices.get(devpath);
        this.devices.delete(devpath);
        const device = tracked?.device ?? deviceFromProps(props);
        return device ? [{ action: 'disconnected', device: copy(device) }] : [];
      }
      return [];
    }
    const owner = this.ownerOf(devpath);
    if (!owner) return [];
    if (subsystem === 'usb' && props.DEVTYPE === 'usb_interface' && action === 'add' && /^8\//.test(props.INTERFACE ?? '')) {
      owner.device.storage = true;
    }
    if (subsystem === 'block' && props.DEVNAME) {
      if (action === 'add') {
        owner.blockNodes.add(props.DEVNAME);
        owner.device.storage = true;
      } else if (action === 'remove') {
        owner.blockNodes.delete(props.DEVNAME);
      }
    }
    return [];
  }

  /** Whether some tracked device has a disk, so the mount table is worth reading. */
  hasBlockDevices(): boolean {
    return [...this.devices.values()].some((t) => t.blockNodes.size > 0);
  }

  /** Compares the mount table with what each device had: a new mount point is a "mounted" change. */
  mountsChanged(mountsText: string): UsbChange[] {
    const mounts = parseMounts(mountsText);
    const changes: UsbChange[] = [];
    for (const tracked of this.devices.values()) {
      const now = [...tracked.blockNodes].flatMap((node) => mounts.get(node) ?? []);
      const added = now.some((p) => !tracked.device.mountPoints.includes(p));
      tracked.device.mountPoints = [...new Set(now)];
      if (added) changes.push({ action: 'mounted', device: copy(tracked.device) });
    }
    return changes;
  }

  /** Devices connected (and not removed) so far. */
  connected(): UsbDevice[] {
    return [...this.devices.values()].map((t) => copy(t.device));
  }

  private ownerOf(devpath: string): Tracked | undefined {
    for (const [path, tracked] of this.devices) {
      if (devpath.startsWith(`${path}/`)) return tracked;
    }
    return undefined;
  }
}

/**
 * A saved `udevadm monitor --property` capture as a section: the events it
 * shows, and the devices still connected at its end. Its clock is the
 * machine's uptime, not the date, so `at` counts from 1970-01-01 (an event
 * 8414 s after boot is at 1970-01-01T02:20:14Z). Captures without udev
 * processing (`--kernel`) are read from their KERNEL events.
 */
export function parseUdevadmMonitor(raw: string): UsbSection {
  const events = parseUdevEvents(raw);
  if (events.length === 0) {
    return { unknown: true, reason: 'no "UDEV [...]" or "KERNEL[...]" event in the udevadm monitor output' };
  }
  const tracker = new UsbTracker(events.some((e) => e.source === 'UDEV') ? 'UDEV' : 'KERNEL');
  const usbEvents: UsbEvent[] = [];
  for (const event of events) {
    for (const change of tracker.handle(event)) {
      usbEvents.push({
        at: new Date(Math.round(event.uptime * 1000)).toISOString(),
        action: change.action,
        device: change.device,
        user: null,
      });
    }
  }
  return { devices: tracker.connected(), events: usbEvents };
}

export function looksLikeUdevadmMonitor(raw: string): boolean {
  return raw.split('\n').some((line) => HEADER.test(line.replace(/\r$/, '')));
}
