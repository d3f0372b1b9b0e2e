import type { UsbDevice } from '@vigie/shared';
import { diffUsbDevices } from './diff';

const stick: UsbDevice = {
  vendorId: '058f',
  productId: '6387',
  vendor: 'USB',
  product: 'Flash Disk',
  serial: '59402D7A',
  storage: true,
  mountPoints: [],
};
const keyboard: UsbDevice = {
  vendorId: '05ac',
  productId: '029c',
  vendor: 'Apple Inc.',
  product: 'Magic Keyboard',
  serial: 'F0T2534RK0212HXAT',
  storage: false,
  mountPoints: [],
};
const hub: UsbDevice = { vendorId: '043e', productId: '9a00', vendor: null, product: 'hub_device', serial: null, storage: false, mountPoints: [] };
const mounted = { ...stick, mountPoints: ['/Volumes/TEST'] };

describe('diffUsbDevices', () => {
  it('reports nothing when nothing changed', () => {
    expect(diffUsbDevices([keyboard, stick], [stick, keyboard])).toEqual([]);
  });

  it('reports a new device as connected', () => {
    expect(diffUsbDevices([keyboard], [keyboard, stick])).toEqual([{ action: 'connected', device: stick }]);
  });

  it('reports a device that appears already mounted as connected then mounted', () => {
    expect(diffUsbDevices([], [mounted])).toEqual([
      { action: 'connected', device: mounted },
      { action: 'mounted', device: mounted },
    ]);
  });

  it('reports mounted when a device gains a mount point, not when it loses one', () => {
    expect(diffUsbDevices([stick], [mounted])).toEqual([{ action: 'mounted', device: mounted }]);
    expect(diffUsbDevices([mounted], [stick])).toEqual([]);
  });

  it('reports a device gone as disconnected, with what was last known of it', () => {
    expect(diffUsbDevices([keyboard, mounted], [keyboard])).toEqual([{ action: 'disconnected', device: mounted }]);
  });

  it('counts identical devices without serial instead of merging them', () => {
    expect(diffUsbDevices([hub], [hub, hub])).toEqual([{ action: 'connected', device: hub }]);
    expect(diffUsbDevices([hub, hub], [hub])).toEqual([{ action: 'disconnected', device: hub }]);
  });
});
