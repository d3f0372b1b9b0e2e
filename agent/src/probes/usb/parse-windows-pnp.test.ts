import fs from 'node:fs';
import path from 'node:path';
import { usbSection as usbSchema } from '@vigie/shared';
import { parseWindowsPnp } from './parse-windows-pnp';

const fixture = (name: string) => fs.readFileSync(path.join(__dirname, '../../../test/fixtures/usb/win32', name), 'utf8');
const SERIAL =
  '0501F3E04B26DCBD25FCCD682AEB3CEE13B090D4CC0EEECAA0CEDA20E82E407094C4000000000000000000001C68EEC2FF1B021091558107A4281CC9';

describe('parseWindowsPnp', () => {
  it('reads a German Windows: the stick with its disk model and drive letter, without hubs or interfaces', () => {
    const section = parseWindowsPnp(fixture('pnp-usb-german.json'));
    expect(section).toEqual({
      devices: [
        { vendorId: '0781', productId: '5591', vendor: 'SANDISK', product: 'SanDisk Ultra', serial: SERIAL, storage: true, mountPoints: ['E:'] },
        { vendorId: '04f3', productId: '9999', vendor: null, product: 'USB-Verbundgerät', serial: null, storage: false, mountPoints: [] },
        { vendorId: '046d', productId: 'c52b', vendor: null, product: 'USB-Verbundgerät', serial: null, storage: false, mountPoints: [] },
      ],
      events: [],
    });
    expect(usbSchema.safeParse(section).success).toBe(true);
  });

  it('skips the interfaces of composite devices in a Get-PnpDevice listing', () => {
    expect(parseWindowsPnp(fixture('get-pnpdevice-hid-instanceid.json'))).toEqual({ devices: [], events: [] });
  });

  it('reads a single Get-PnpDevice object and a storage device known only by its driver', () => {
    const one = JSON.stringify({
      Class: 'USB',
      FriendlyName: 'USB Mass Storage Device',
      InstanceId: 'USB\\VID_090C&PID_1000\\0361420080000139',
      Manufacturer: 'Compatible USB storage device',
      Service: 'USBSTOR',
      Status: 'OK',
    });
    expect(parseWindowsPnp(`\uFEFF${one}`)).toEqual({
      devices: [
        { vendorId: '090c', productId: '1000', vendor: null, product: 'USB Mass Storage Device', serial: '0361420080000139', storage: true, mountPoints: [] },
      ],
      events: [],
    });
  });

  it('gives the only unmatched disk to the only storage device without serial', () => {
    const text = JSON.stringify({
      usb: [{ PNPDeviceID: 'USB\\VID_1234&PID_5678\\5&1A2B3C4D&0&2', Name: 'USB Mass Storage Device', Service: 'USBSTOR' }],
      disks: { PNPDeviceID: 'USBSTOR\\DISK&VEN_GENERIC&PROD_FLASH_DISK&REV_8.07\\6&2C7A1F0&0', Model: 'Generic Flash Disk USB Device', DriveLetters: 'F:' },
    });
    expect(parseWindowsPnp(text)).toMatchObject({ devices: [{ vendorId: '1234', storage: true, serial: null, mountPoints: ['F:'] }] });
  });

  it('returns unknown for an error message or JSON without devices', () => {
    expect(parseWindowsPnp('Get-CimInstance : Access denied')).toMatchObject({ unknown: true });
    expect(parseWindowsPnp('[{"Name": "x"}]')).toMatchObject({ unknown: true });
  });
});
