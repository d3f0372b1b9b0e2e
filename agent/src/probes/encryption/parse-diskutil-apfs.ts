import type { EncryptionSection, Volume } from '@vigie/shared';
import { isDict, parsePlist } from './plist';
import type { PlistValue } from './plist';
import { stripBom, unknownSection, volumesSection } from './volume';

/*
 * `diskutil apfs list -plist`:
 *   <dict><key>Containers</key><array><dict>
 *     <key>ContainerReference</key><string>disk3</string>
 *     <key>Volumes</key><array><dict>
 *       <key>CryptoMigrationOn</key><false/> <key>DeviceIdentifier</key><string>disk3s5</string>
 *       <key>Encryption</key><true/> <key>FileVault</key><true/> <key>Locked</key><false/>
 *       <key>Name</key><string>Data</string> <key>Roles</key><array><string>Data</string></array>
 *     </dict>…
 *
 * Which volumes count: since Catalina the startup disk is a System volume
 * (sealed, read-only, the same bytes on every Mac) plus a Data volume that
 * holds everything users write; FileVault protects the Data volume, so it is
 * the one reported as the system volume. Volumes with no role (user-made,
 * Mojave's single startup volume, external disks), Data, User and Backup
 * (Time Machine) volumes are reported; Preboot, Recovery, VM, Update, xART,
 * Hardware and the System volume are Apple's and carry no user data.
 */

export interface ApfsOptions {
  /** APFSContainerReference of "/" from `diskutil info -plist /`, e.g. "disk3". */
  bootContainer?: string;
  /** DeviceIdentifier of "/" (Mojave has no Data role: the startup volume itself holds the data). */
  bootDevice?: string;
}

const REPORTED_ROLES = new Set(['Data', 'User', 'Backup']);

interface ApfsVolume {
  device: string;
  name: string;
  roles: string[];
  fileVault: boolean;
  encryption: boolean;
  migrating: boolean;
  locked: boolean;
}

interface ApfsContainer {
  reference: string;
  volumes: ApfsVolume[];
}

export function looksLikeDiskutilApfsList(text: string): boolean {
  const t = stripBom(text).trimStart();
  return t.startsWith('<?xml') || t.startsWith('<!DOCTYPE plist') || t.startsWith('<plist') ? /<key>Containers<\/key>/.test(t) : false;
}

function readContainers(root: PlistValue): ApfsContainer[] | string {
  if (!isDict(root) || !Array.isArray(root.Containers)) return 'no Containers array';
  const containers: ApfsContainer[] = [];
  for (const c of root.Containers) {
    if (!isDict(c) || typeof c.ContainerReference !== 'string' || !Array.isArray(c.Volumes)) return 'a container lacks ContainerReference or Volumes';
    const volumes: ApfsVolume[] = [];
    for (const v of c.Volumes) {
      if (!isDict(v) || typeof v.DeviceIdentifier !== 'string') return `a volume in ${c.ContainerReference} has no DeviceIdentifier`;
      if (typeof v.FileVault !== 'boolean' && typeof v.Encryption !== 'boolean') return `volume ${v.DeviceIdentifier} has neither FileVault nor Encryption`;
      volumes.push({
        device: v.DeviceIdentifier,
        name: typeof v.Name === 'string' ? v.Name : '',
        roles: Array.isArray(v.Roles) ? v.Roles.filter((r): r is string => typeof r === 'string') : [],
        fileVault: v.FileVault === true,
        encryption: v.Encryption === true,
        migrating: v.CryptoMigrationOn === true,
        locked: v.Locked === true,
      });
    }
    containers.push({ reference: c.ContainerReference, volumes });
  }
  return containers;
}

function isReported(volume: ApfsVolume): boolean {
  return volume.roles.length === 0 || volume.roles.some((role) => REPORTED_ROLES.has(role));
}

/** The volume holding the startup disk's user data, or undefined when it cannot be told. */
function bootDataVolume(containers: ApfsContainer[], options: ApfsOptions): ApfsVolume | undefined {
  const all = containers.flatMap((c) => c.volumes);
  if (options.bootContainer) {
    const container = containers.find((c) => c.reference === options.bootContainer);
    if (!container) return undefined;
    const data = container.volumes.find((v) => v.roles.includes('Data'));
    if (data) return data;
    return container.volumes.find((v) => v.device === options.bootDevice) ?? undefined;
  }
  if (options.bootDevice) return all.find((v) => v.device === options.bootDevice);
  // Without `diskutil info /`: the first container with a System and a Data
  // volume (Catalina and later), else the first with Preboot and a role-less
  // volume (Mojave's layout).
  for (const c of containers) {
    if (c.volumes.some((v) => v.roles.includes('System'))) {
      const data = c.volumes.find((v) => v.roles.includes('Data'));
      if (data) return data;
    }
  }
  for (const c of containers) {
    if (c.volumes.some((v) => v.roles.includes('Preboot'))) {
      const plain = c.volumes.find((v) => v.roles.length === 0);
      if (plain) return plain;
    }
  }
  return undefined;
}

function toVolume(v: ApfsVolume, system: boolean): Volume {
  let status: Volume['status'];
  let protection: Volume['protection'];
  if (v.locked) {
    // Locked means its key is wrapped and not loaded: the data is encrypted at rest.
    status = 'encrypted';
    protection = 'on';
  } else if (v.migrating) {
    status = v.fileVault ? 'encrypting' : 'decrypting';
    protection = v.fileVault ? 'on' : 'off';
  } else if (v.fileVault) {
    status = 'encrypted';
    protection = 'on';
  } else if (v.encryption) {
    // T2 and Apple silicon encrypt every volume with a hardware key, but
    // without FileVault nothing ties that key to a password: anyone who boots
    // the Mac reads the data, as with BitLocker's clear key.
    status = 'encrypted';
    protection = 'off';
  } else {
    status = 'decrypted';
    protection = 'off';
  }
  return {
    id: v.device,
    mountPoint: system ? (v.roles.includes('Data') ? '/System/Volumes/Data' : '/') : null,
    system,
    technology: 'filevault',
    status,
    percent: status === 'encrypted' ? 100 : status === 'decrypted' ? 0 : null,
    protection,
    method: null,
  };
}

export function parseDiskutilApfsList(text: string, options: ApfsOptions = {}): EncryptionSection {
  const plist = parsePlist(stripBom(text).trim());
  if (!plist.ok) return unknownSection(`diskutil apfs list: not a property list (${plist.error})`);
  const containers = readContainers(plist.value);
  if (typeof containers === 'string') return unknownSection(`diskutil apfs list: ${containers}`);
  const boot = bootDataVolume(containers, options);
  const volumes = containers
    .flatMap((c) => c.volumes)
    .filter((v) => v === boot || isReported(v))
    .map((v) => toVolume(v, v === boot));
  if (volumes.length === 0) return unknownSection('diskutil apfs list: no APFS volume holds user data');
  return volumesSection(volumes);
}

/** Reads APFSContainerReference and DeviceIdentifier from `diskutil info -plist /`. */
export function parseDiskutilInfo(text: string): ApfsOptions {
  const plist = parsePlist(stripBom(text).trim());
  if (!plist.ok || !isDict(plist.value)) return {};
  const out: ApfsOptions = {};
  if (typeof plist.value.APFSContainerReference === 'string') out.bootContainer = plist.value.APFSContainerReference;
  if (typeof plist.value.DeviceIdentifier === 'string') out.bootDevice = plist.value.DeviceIdentifier;
  return out;
}
