import type { EncryptionSection } from '@vigie/shared';
import type { OutputFormat } from '../format';
import type { ProbeContext } from '../types';
import { collectEncryptionDarwin } from './encryption.darwin';
import { collectEncryptionLinux } from './encryption.linux';
import { collectEncryptionWin32 } from './encryption.win32';
import { looksLikeCryptsetupStatus, parseCryptsetupStatus } from './parse-cryptsetup';
import { looksLikeDiskutilApfsList, parseDiskutilApfsList } from './parse-diskutil-apfs';
import { looksLikeFdesetupStatus, parseFdesetupStatus } from './parse-fdesetup';
import { looksLikeGetBitLockerVolume, parseGetBitLockerVolume } from './parse-get-bitlockervolume';
import { looksLikeLsblkJson, parseLsblk } from './parse-lsblk';
import { looksLikeManageBde, parseManageBde } from './parse-manage-bde';
import { looksLikeWmiEncryptableVolume, parseWmiEncryptableVolume } from './parse-wmi-encryptablevolume';
import { unknownSection } from './volume';

/** Disk encryption of every volume, on the OS the agent runs on. Never throws. */
export async function collectEncryption(ctx: ProbeContext): Promise<EncryptionSection> {
  switch (ctx.platform) {
    case 'win32':
      return collectEncryptionWin32(ctx);
    case 'darwin':
      return collectEncryptionDarwin(ctx);
    case 'linux':
      return collectEncryptionLinux(ctx);
    default:
      return unknownSection(`not supported on ${ctx.platform}`);
  }
}

/** What `vigie-agent parse encryption <file>` recognises; each detect() claims only its own tool's output. */
export const encryptionFormats: OutputFormat<EncryptionSection>[] = [
  {
    name: 'get-bitlockervolume-json',
    description: 'Get-BitLockerVolume | ConvertTo-Json (Windows PowerShell; enums as numbers or names)',
    detect: looksLikeGetBitLockerVolume,
    parse: (text) => parseGetBitLockerVolume(text),
  },
  {
    name: 'wmi-encryptablevolume-json',
    description: 'Win32_EncryptableVolume as JSON, bare or with GetConversionStatus/GetProtectionStatus results',
    detect: looksLikeWmiEncryptableVolume,
    parse: (text) => parseWmiEncryptableVolume(text),
  },
  {
    name: 'manage-bde',
    description: 'manage-bde -status (English, French or German)',
    detect: looksLikeManageBde,
    parse: (text) => parseManageBde(text),
  },
  {
    name: 'fdesetup-status',
    description: 'fdesetup status (macOS startup disk)',
    detect: looksLikeFdesetupStatus,
    parse: parseFdesetupStatus,
  },
  {
    name: 'diskutil-apfs-plist',
    description: 'diskutil apfs list -plist (macOS APFS volumes)',
    detect: looksLikeDiskutilApfsList,
    parse: (text) => parseDiskutilApfsList(text),
  },
  {
    name: 'lsblk-json',
    description: 'lsblk -J with NAME,TYPE,FSTYPE,MOUNTPOINT(S) columns, normal or inverted (-s)',
    detect: looksLikeLsblkJson,
    parse: (text) => parseLsblk(text),
  },
  {
    name: 'cryptsetup-status',
    description: 'cryptsetup status <name> (one dm-crypt mapping)',
    detect: looksLikeCryptsetupStatus,
    parse: parseCryptsetupStatus,
  },
];
