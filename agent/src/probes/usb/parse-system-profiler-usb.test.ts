import fs from 'node:fs';
import path from 'node:path';
import { usbSection as usbSchema } from '@vigie/shared';
import { parseSystemProfilerUsb } from './parse-system-profiler-usb';

const fixture = (name: string) => fs.readFileSync(path.join(__dirname, '../../../test/fixtures/usb/darwin', name), 'utf8');
const merged = (...names: string[]) =>
  JSON.stringify(Object.assign({}, ...names.map((n) => JSON.parse(fixture(n)) as Record<string, unknown>)));

describe('parseSystemProfilerUsb', () => {
  it('lists every device behind buses and hubs, with the stick, its serial and its mounted volume', () => {
    const section = parseSystemProfilerUsb(fixture('spusb-mbr-stick.json'));
    if (!('devices' in section)) throw new Error(section.reason);
    expect(section.devices.map((d) => `${d.vendorId}:${d.productId} ${d.product}`)).toEqual([
      '1050:0407 YubiKey OTP+FIDO+CCID',
      '043e:9a44 USB3.1 Hub',
      '043e:9a00 hub_device',
      '043e:9a4d LG UltraFine Display Camera',
      '043e:9a46 USB2.1 Hub',
      '05ac:029c Magic Keyboard',
      '043e:9a02 hub_device',
      '043e:9a40 USB Controls',
      '043e:9a4b USB Audio',
      '05ac:9127 hub_device',
      '05ac:9227 Apple Thunderbolt Display',
      '05ac:1112 FaceTime HD Camera (Display)',
      '05ac:1107 Display Audio',
      '058f:6387 Flash Disk',
    ]);
    expect(section.devices.at(-1)).toEqual({
      vendorId: '058f',
      productId: '6387',
      vendor: 'USB',
      product: 'Flash Disk',
      serial: '59402D7A',
      storage: true,
      mountPoints: ['/Volumes/TEST'],
    });
    expect(section.devices.filter((d) => d.storage)).toHaveLength(1);
    expect(section.events).toEqual([]);
    expect(usbSchema.safeParse(section).success).toBe(true);
  });

  it('names Apple and vendor-id-only devices', () => {
    const section = parseSystemProfilerUsb(fixture('spusb-mbr-stick.json'));
    if (!('devices' in section)) throw new Error(section.reason);
    expect(section.devices.find((d) => d.productId === '9127')?.vendor).toBe('Apple Inc.');
    expect(section.devices.find((d) => d.productId === '9a00')?.vendor).toBe('LG Electronics USA Inc.');
    expect(section.devices.find((d) => d.productId === '0407')?.vendor).toBe('Yubico');
  });

  it('reads the macOS 26 report and drops the "Not Provided" serial', () => {
    expect(parseSystemProfilerUsb(fixture('spusb-host-vm-macos26.json'))).toEqual({
      devices: [
        { vendorId: '05ac', productId: '8105', vendor: 'Apple Inc.', product: 'Virtual USB Keyboard', serial: null, storage: false, mountPoints: [] },
      ],
      events: [],
    });
    expect(parseSystemProfilerUsb(fixture('spusb-host-macos26.json'))).toEqual({
      devices: [
        { vendorId: '0781', productId: '55fd', vendor: 'USB', product: 'SanDisk 3.2 Gen1', serial: '03017022120225210315', storage: false, mountPoints: [] },
      ],
      events: [],
    });
  });

  it('ties a macOS 26 USB volume to its device by the drive name', () => {
    const storage = {
      SPStorageDataType: [
        { _name: 'KEY', mount_point: '/Volumes/KEY', physical_drive: { device_name: 'SanDisk 3.2Gen1', is_internal_disk: 'no', protocol: 'USB' } },
      ],
    };
    const text = JSON.stringify({ ...JSON.parse(fixture('spusb-host-macos26.json')), ...storage });
    expect(parseSystemProfilerUsb(text)).toMatchObject({ devices: [{ productId: '55fd', storage: true, mountPoints: ['/Volumes/KEY'] }] });
  });

  it('is unknown when a mounted USB volume cannot be tied to a device', () => {
    expect(parseSystemProfilerUsb(merged('spusb-host-macos26.json', 'storage-usb-apfs.json'))).toEqual({
      unknown: true,
      reason:
        'USB volume(s) mounted at /Volumes/USB_TM_1TB cannot be tied to a device (macOS 26 report has no media per device)',
    });
  });

  it('returns unknown for other JSON or truncated output', () => {
    expect(parseSystemProfilerUsb('{"SPApplicationsDataType": []}')).toMatchObject({ unknown: true });
    expect(parseSystemProfilerUsb('{"SPUSBDataType" : [ { "_items"')).toMatchObject({ unknown: true });
  });
});
