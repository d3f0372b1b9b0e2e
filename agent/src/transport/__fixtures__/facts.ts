import type { Facts } from '@vigie/shared';

/** A small, schema-valid set of facts; `n` varies the screen lock so reports differ. */
export function sampleFacts(n = 0, machineId = 'machine-1'): Facts {
  return {
    device: { machineId, hostname: 'laptop-1', os: 'linux', osVersion: 'Debian 12', model: 'X1', serial: 'S1', user: 'alice' },
    encryption: {
      volumes: [
        { id: '/dev/nvme0n1p3', mountPoint: '/', system: true, technology: 'luks', status: 'encrypted', percent: 100, protection: 'on', method: 'aes-xts-plain64' },
      ],
    },
    screenlock: { enabled: true, idleSeconds: 300 + n, graceSeconds: 0, requirePassword: true, source: 'gsettings', user: 'alice' },
    software: { items: [{ name: 'firefox', version: '128.0', publisher: null, source: 'dpkg', scope: 'machine', installedAt: null }] },
    usb: { devices: [], events: [] },
  };
}
