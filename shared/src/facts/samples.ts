import type { Facts } from './index';

/**
 * A complete, valid set of facts for a compliant Windows laptop. Tests across
 * the workspaces start from it and change what they need.
 */
export function sampleFacts(): Facts {
  return {
    device: {
      machineId: '8d3f0c1e5b7a4e2f9c6d1a0b3e5f7a9c',
      hostname: 'LT-PARIS-042',
      os: 'windows',
      osVersion: '10.0.22631',
      model: 'Latitude 5440',
      serial: 'H7XK2Z3',
      user: 'ACME\\jdupont',
    },
    encryption: {
      volumes: [
        { id: 'C:', mountPoint: 'C:', system: true, technology: 'bitlocker', status: 'encrypted', percent: 100, protection: 'on', method: 'XTS-AES 128' },
        { id: 'D:', mountPoint: 'D:', system: false, technology: 'bitlocker', status: 'encrypted', percent: 100, protection: 'on', method: 'XTS-AES 128' },
      ],
    },
    screenlock: { enabled: true, idleSeconds: 600, graceSeconds: 0, requirePassword: true, source: 'policy:InactivityTimeoutSecs', user: 'ACME\\jdupont' },
    software: {
      items: [
        { name: 'Microsoft 365 Apps for enterprise - fr-fr', version: '16.0.17328.20162', publisher: 'Microsoft Corporation', source: 'registry', scope: 'machine', installedAt: '2024-02-14' },
        { name: 'Mozilla Firefox (x64 fr)', version: '123.0', publisher: 'Mozilla', source: 'registry', scope: 'machine', installedAt: null },
      ],
    },
    usb: { devices: [], events: [] },
  };
}
