/**
 * What this device is: a stable machine id, hostname, OS and version, maker
 * and model, serial number, and the user logged on at the console. The same
 * code serves Windows, macOS and Linux because the two libraries do the OS
 * work: node-machine-id (MachineGuid in the registry, IOPlatformUUID, or
 * /etc/machine-id) and systeminformation (osInfo, system, users).
 *
 * The machine id is node-machine-id's SHA-256 of the OS id, not the id
 * itself: machine-id(5) asks that the raw id not be exposed to the network.
 * When there is no OS id, node-machine-id hashes the hostname instead (Linux
 * without /etc/machine-id); that is no stable identity, so the section is
 * unknown.
 *
 * Limits: on Linux the console user comes from utmp (`who`), which some
 * Wayland sessions do not write; the user is then null. Virtual machines and
 * custom-built PCs often have placeholder serials ("To be filled by O.E.M."),
 * reported as an empty string.
 */
import { createHash } from 'node:crypto';
import type { DeviceSection, OsName } from '@vigie/shared';

/** The parts of systeminformation this probe reads. */
export interface OsInfo {
  platform: string;
  distro: string;
  release: string;
  hostname: string;
}
export interface SystemInfo {
  manufacturer: string;
  model: string;
  serial: string;
}
export interface UserSession {
  user: string;
  tty: string;
}

/** Injected so tests do not depend on the machine they run on. */
export interface DeviceLibraries {
  machineId: () => Promise<string>;
  osInfo: () => Promise<OsInfo>;
  system: () => Promise<SystemInfo>;
  users: () => Promise<UserSession[]>;
}

const OS_NAMES: Partial<Record<NodeJS.Platform, OsName>> = { win32: 'windows', darwin: 'macos', linux: 'linux' };
const MAX_TEXT = 1024;

// Firmware placeholders that mean "not set"; reporting them as a serial or a
// model would make every such machine look the same.
const PLACEHOLDERS = new Set(
  [
    '',
    '-',
    '0',
    'none',
    'n/a',
    'default string',
    'to be filled by o.e.m.',
    'system serial number',
    'system product name',
    'system manufacturer',
    'not specified',
    'not applicable',
    'o.e.m.',
    '0123456789',
  ].map((s) => s.toLowerCase()),
);

export function meaningful(value: string | undefined | null): string {
  const trimmed = (value ?? '').trim();
  return PLACEHOLDERS.has(trimmed.toLowerCase()) ? '' : trimmed.slice(0, MAX_TEXT);
}

const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');

// node-machine-id hashes the hostname (lower-cased, whitespace removed) when
// it finds no machine id, and an empty string when even that fails.
function fallbackReason(id: string, hostname: string): string | null {
  if (id === sha256('')) return 'machine id unavailable: the OS returned no id';
  if (hostname !== '' && id === sha256(hostname.replace(/\s+/g, '').toLowerCase())) {
    return 'machine id unavailable: no /etc/machine-id or /var/lib/dbus/machine-id, only the hostname';
  }
  return null;
}

/**
 * The user of the console session: macOS and Windows sessions say "console",
 * X11/Wayland ones ":0" or a tty; an SSH login (pts/N) only when nobody sits
 * at the machine.
 */
export function consoleUser(sessions: readonly UserSession[]): string | null {
  const named = sessions.filter((s) => s.user.trim() !== '');
  const atConsole = named.find((s) => /^(console|:\d+|tty\d+|seat\d+)/i.test(s.tty.trim()));
  const chosen = atConsole ?? named[0];
  return chosen ? chosen.user.trim().slice(0, MAX_TEXT) : null;
}

export async function collectDeviceWith(libs: DeviceLibraries, platform: NodeJS.Platform): Promise<DeviceSection> {
  const os = OS_NAMES[platform];
  if (!os) return { unknown: true, reason: `not supported on ${platform}` };
  let osInfo: OsInfo;
  try {
    osInfo = await libs.osInfo();
  } catch (err) {
    return { unknown: true, reason: `cannot read OS information: ${(err as Error).message}` };
  }
  let id: string;
  try {
    id = (await libs.machineId()).trim();
  } catch (err) {
    return { unknown: true, reason: `machine id unavailable: ${(err as Error).message}` };
  }
  if (!/^[0-9a-f]{64}$/i.test(id)) return { unknown: true, reason: 'machine id unavailable: unexpected value from node-machine-id' };
  const fallback = fallbackReason(id, osInfo.hostname);
  if (fallback) return { unknown: true, reason: fallback };

  // Maker, model and user are descriptive: without them the device is still
  // identified, so a failure leaves them empty rather than the whole section unknown.
  const system = await libs.system().catch((): SystemInfo => ({ manufacturer: '', model: '', serial: '' }));
  const sessions = await libs.users().catch((): UserSession[] => []);
  return {
    machineId: id.toLowerCase(),
    hostname: osInfo.hostname.trim().slice(0, 256),
    os,
    osVersion: [osInfo.distro, osInfo.release].map((s) => s.trim()).filter(Boolean).join(' ').slice(0, MAX_TEXT),
    model: [meaningful(system.manufacturer), meaningful(system.model)].filter(Boolean).join(' ').slice(0, MAX_TEXT),
    serial: meaningful(system.serial),
    user: consoleUser(sessions),
  };
}
