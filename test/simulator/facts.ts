/**
 * Realistic facts for simulated devices: a few volumes, hundreds of software
 * items drawn from real product names, USB devices, and a mix of compliant and
 * non-compliant settings. Deterministic for a given seed, so benchmarks and
 * demos are repeatable.
 */
import type { Facts, OsName, SoftwareItem, UsbDevice, Volume } from '@vigie/shared';

/** mulberry32: a tiny seeded PRNG, enough for test data (not for security). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pick = <T>(rnd: () => number, xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;

const windowsApps: [string, string, string][] = [
  ['Microsoft 365 Apps for enterprise - fr-fr', 'Microsoft Corporation', '16.0.17328.20162'],
  ['Microsoft Edge', 'Microsoft Corporation', '131.0.2903.70'],
  ['Microsoft Teams', 'Microsoft Corporation', '24295.605.3225.8804'],
  ['Google Chrome', 'Google LLC', '131.0.6778.86'],
  ['Mozilla Firefox (x64 fr)', 'Mozilla', '133.0'],
  ['Adobe Acrobat Reader (64-bit)', 'Adobe', '24.005.20320'],
  ['Adobe Acrobat (64-bit)', 'Adobe', '24.005.20320'],
  ['7-Zip 24.08 (x64)', 'Igor Pavlov', '24.08'],
  ['Notepad++ (64-bit x64)', 'Notepad++ Team', '8.7.1'],
  ['Zoom Workplace (64-bit)', 'Zoom Video Communications, Inc.', '6.2.11'],
  ['VLC media player', 'VideoLAN', '3.0.21'],
  ['JetBrains IntelliJ IDEA 2024.3', 'JetBrains s.r.o.', '243.21565.193'],
  ['Visual Studio Code', 'Microsoft Corporation', '1.95.3'],
  ['Git', 'The Git Development Community', '2.47.0'],
  ['Python 3.12.7 (64-bit)', 'Python Software Foundation', '3.12.7150.0'],
  ['Cisco Secure Client - AnyConnect VPN', 'Cisco Systems, Inc.', '5.1.2.42'],
  ['uTorrent', 'BitTorrent Limited', '3.6.0.47016'],
  ['Dropbox', 'Dropbox, Inc.', '213.4.6142'],
  ['Slack', 'Slack Technologies Inc.', '4.41.97'],
  ['KeePass Password Safe 2.57', 'Dominik Reichl', '2.57'],
  ['TeamViewer', 'TeamViewer', '15.59.5'],
  ['WinRAR 7.01 (64-bit)', 'win.rar GmbH', '7.01.0'],
];

function softwareItems(rnd: () => number, os: OsName, count: number): SoftwareItem[] {
  const items: SoftwareItem[] = [];
  const apps = windowsApps.filter(() => rnd() < 0.6);
  for (const [name, publisher, version] of apps) {
    items.push({ name, version, publisher, source: os === 'windows' ? 'registry' : os === 'macos' ? 'app' : 'flatpak', scope: rnd() < 0.1 ? 'user' : 'machine', installedAt: '2024-03-12' });
  }
  // The long tail real machines have: runtimes, drivers, libraries.
  for (let i = items.length; i < count; i++) {
    const n = Math.floor(rnd() * 4000);
    items.push(
      os === 'linux'
        ? { name: `lib${['ssl', 'gtk', 'xml', 'curl', 'png', 'glib', 'qt5', 'pulse'][n % 8]}${n}`, version: `${n % 9}.${n % 13}.${n % 7}-1`, publisher: 'Debian', source: 'dpkg', scope: 'machine', installedAt: null }
        : { name: `${['Microsoft Visual C++', 'Intel(R) Graphics Driver', 'Realtek Audio', 'Dell Command', 'HP Support Assistant', 'NVIDIA PhysX'][n % 6]} component ${n}`, version: `${n % 30}.${n % 100}.${n}`, publisher: ['Microsoft Corporation', 'Intel Corporation', 'Realtek', 'Dell Inc.', 'HP Inc.', 'NVIDIA Corporation'][n % 6] ?? null, source: os === 'macos' ? 'app' : 'registry', scope: 'machine', installedAt: '2023-11-02' },
    );
  }
  return items;
}

const usbStick: UsbDevice = { vendorId: '0781', productId: '5581', vendor: 'SanDisk', product: 'Ultra', serial: '4C530001231106116452', storage: true, mountPoints: [] };
const usbMouse: UsbDevice = { vendorId: '046d', productId: 'c077', vendor: 'Logitech, Inc.', product: 'M105 Optical Mouse', serial: null, storage: false, mountPoints: [] };
const usbHeadset: UsbDevice = { vendorId: '0b0e', productId: '245d', vendor: 'GN Netcom', product: 'Jabra Evolve2 65', serial: 'A0B1C2D3', storage: false, mountPoints: [] };

export interface SimulatedDevice {
  index: number;
  machineId: string;
  /** The share of devices that fail each rule is set by these flags. */
  compliant: { encryption: boolean; screenlock: boolean; usb: boolean };
}

export function simulatedDevice(index: number, seed = 1): SimulatedDevice {
  const rnd = seededRandom(seed * 1_000_003 + index);
  return {
    index,
    machineId: `sim-${seed}-${String(index).padStart(6, '0')}`,
    compliant: { encryption: rnd() > 0.12, screenlock: rnd() > 0.2, usb: rnd() > 0.05 },
  };
}

/** Full facts for one simulated device; `round` varies what changes between reports. */
export function simulatedFacts(device: SimulatedDevice, options: { softwareCount?: number; round?: number; seed?: number } = {}): Facts {
  const rnd = seededRandom((options.seed ?? 1) * 7919 + device.index);
  const os = pick(rnd, ['windows', 'windows', 'windows', 'macos', 'linux'] as const);
  const hostname = `${os === 'windows' ? 'LT' : os === 'macos' ? 'MBP' : 'LX'}-${pick(rnd, ['PARIS', 'LYON', 'NANTES', 'LILLE'])}-${String(device.index).padStart(5, '0')}`;
  const tech = os === 'windows' ? 'bitlocker' : os === 'macos' ? 'filevault' : 'luks';
  const systemVolume: Volume = device.compliant.encryption
    ? { id: os === 'windows' ? 'C:' : os === 'macos' ? 'Macintosh HD - Data' : '/dev/nvme0n1p3', mountPoint: os === 'windows' ? 'C:' : os === 'macos' ? '/System/Volumes/Data' : '/', system: true, technology: tech, status: 'encrypted', percent: 100, protection: 'on', method: os === 'windows' ? 'XTS-AES 128' : os === 'linux' ? 'aes-xts-plain64' : null }
    : { id: os === 'windows' ? 'C:' : os === 'macos' ? 'Macintosh HD - Data' : '/dev/nvme0n1p3', mountPoint: os === 'windows' ? 'C:' : os === 'macos' ? '/System/Volumes/Data' : '/', system: true, technology: os === 'windows' ? 'bitlocker' : 'none', status: os === 'windows' && rnd() < 0.5 ? 'encrypted' : 'decrypted', percent: null, protection: 'off', method: null };
  const volumes: Volume[] = [systemVolume];
  if (os === 'windows' && rnd() < 0.4) volumes.push({ id: 'D:', mountPoint: 'D:', system: false, technology: 'bitlocker', status: 'encrypted', percent: 100, protection: 'on', method: 'XTS-AES 256' });
  const user = `${pick(rnd, ['jdupont', 'mmartin', 'sbernard', 'lpetit', 'cdurand', 'nleroy'])}${device.index % 97}`;
  const idle = device.compliant.screenlock ? pick(rnd, [300, 600, 900]) : pick(rnd, [0, 1200, 1800]);
  const devices = [usbMouse, ...(rnd() < 0.3 ? [usbHeadset] : []), ...(device.compliant.usb ? [] : [{ ...usbStick, mountPoints: [os === 'windows' ? 'E:\\' : '/media/stick'] }])];
  return {
    device: { machineId: device.machineId, hostname, os, osVersion: os === 'windows' ? '10.0.22631' : os === 'macos' ? '14.6.1' : 'Debian GNU/Linux 12 (bookworm)', model: pick(rnd, ['Latitude 5440', 'ThinkPad T14 Gen 4', 'EliteBook 840 G10', 'MacBookPro18,3']), serial: `SN${(device.index * 7919).toString(36).toUpperCase()}`, user },
    encryption: { volumes },
    screenlock: { enabled: idle !== 0, idleSeconds: idle, graceSeconds: 0, requirePassword: true, source: os === 'windows' ? 'policy:InactivityTimeoutSecs' : os === 'macos' ? 'sysadminctl' : 'gsettings', user },
    software: { items: softwareItems(rnd, os, options.softwareCount ?? 300) },
    usb: { devices, events: [] },
  };
}
