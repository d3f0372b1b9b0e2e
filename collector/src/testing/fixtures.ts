import type { DeviceFacts, Facts } from '@vigie/shared';

/** A compliant Linux laptop's facts under the default policy; tests change one section at a time. */
export function sampleDevice(overrides: Partial<DeviceFacts> = {}): DeviceFacts {
  return {
    machineId: 'machine-0001',
    hostname: 'lap-alice',
    os: 'linux',
    osVersion: 'Ubuntu 24.04.1 LTS',
    model: 'ThinkPad T14 Gen 4',
    serial: 'PF4XYZ12',
    user: 'alice',
    ...overrides,
  };
}

export function sampleFacts(overrides: Partial<Facts> = {}, device: Partial<DeviceFacts> = {}): Facts {
  return {
    device: sampleDevice(device),
    encryption: {
      volumes: [
        { id: '/dev/nvme0n1p3', mountPoint: '/', system: true, technology: 'luks', status: 'encrypted', percent: null, protection: 'on', method: 'aes-xts-plain64' },
      ],
    },
    screenlock: { enabled: true, idleSeconds: 300, graceSeconds: 0, requirePassword: true, source: 'gsettings', user: 'alice' },
    software: { items: [] },
    usb: { devices: [], events: [] },
    ...overrides,
  };
}

/** The system disk not encrypted: fails `disk-encryption`. */
export const unencrypted: Facts['encryption'] = {
  volumes: [{ id: '/dev/sda2', mountPoint: '/', system: true, technology: 'none', status: 'decrypted', percent: null, protection: 'off', method: null }],
};
