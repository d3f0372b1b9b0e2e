import type { EncryptionSection } from '@vigie/shared';
import { firstLine, stripBom, unknownSection, volumesSection } from './volume';

/*
 * `cryptsetup status <name>`:
 *   /dev/mapper/dm_crypt-0 is active and is in use.
 *     type:    LUKS2
 *     cipher:  aes-xts-plain64
 *     keysize: 512 bits
 *     key location: keyring
 *     device:  /dev/sda3
 * or "/dev/mapper/backup is inactive." for a closed mapping.
 */

export interface CryptsetupStatus {
  device: string;
  active: boolean;
  type: string | null;
  cipher: string | null;
  keysize: string | null;
}

const HEADER = /^(\S+) is (active(?: and is in use)?|inactive)\.?\s*$/m;

export function looksLikeCryptsetupStatus(text: string): boolean {
  return HEADER.test(stripBom(text).trim());
}

export function readCryptsetupStatus(text: string): CryptsetupStatus | { reason: string } {
  const t = stripBom(text).trim();
  const header = HEADER.exec(t);
  if (!header?.[1]) return { reason: t ? `cryptsetup status: unrecognised output ("${firstLine(t)}")` : 'cryptsetup status printed nothing' };
  const field = (name: string): string | null => {
    const m = new RegExp(`^\\s*${name}:\\s*(.+?)\\s*$`, 'm').exec(t);
    return m?.[1] ?? null;
  };
  return { device: header[1], active: header[2] !== 'inactive', type: field('type'), cipher: field('cipher'), keysize: field('keysize') };
}

/** "LUKS2 aes-xts-plain64 512 bits": what the mapping uses, for the volume's `method`. */
export function describeCryptsetup(status: CryptsetupStatus): string | null {
  const type = status.type && status.type !== 'n/a' ? status.type : null;
  const parts = [type, status.cipher, status.keysize].filter((p): p is string => Boolean(p));
  return parts.length > 0 ? parts.join(' ').slice(0, 128) : null;
}

/** One mapping as a volume, for `vigie-agent parse`; the Linux probe uses it to fill `method`. */
export function parseCryptsetupStatus(text: string): EncryptionSection {
  const status = readCryptsetupStatus(text);
  if ('reason' in status) return unknownSection(status.reason);
  if (!status.active) return unknownSection(`${status.device} is inactive: cryptsetup shows nothing about a closed mapping`);
  const device = status.device.startsWith('/') ? status.device : `/dev/mapper/${status.device}`;
  return volumesSection([
    {
      id: device,
      mountPoint: null,
      system: false,
      technology: 'luks',
      status: 'encrypted',
      percent: null,
      protection: 'on',
      method: describeCryptsetup(status),
    },
  ]);
}
