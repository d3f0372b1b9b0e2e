/**
 * Disk encryption on macOS: FileVault on the startup disk, plus every other
 * APFS volume that holds user data (external disks, Time Machine, volumes a
 * user made).
 *
 * `fdesetup status` is Apple's word on the startup disk, with progress while
 * it converts; `diskutil apfs list -plist` gives each volume's FileVault,
 * Encryption, Locked and CryptoMigrationOn flags, and `diskutil info -plist /`
 * tells which container macOS booted from. On Catalina and later the startup
 * disk's user data lives in its Data volume, so that is the volume reported as
 * the system one (the sealed System volume holds only Apple's signed files).
 * Limits: CoreStorage (pre-APFS, macOS ≤ 10.12) volumes come only from
 * fdesetup; hardware encryption without FileVault (T2, Apple silicon) is
 * reported as encrypted with protection "off", since no password guards it.
 */
import type { EncryptionSection, Volume } from '@vigie/shared';
import { isUnknown } from '@vigie/shared';
import type { ProbeContext } from '../types';
import { parseDiskutilApfsList, parseDiskutilInfo } from './parse-diskutil-apfs';
import type { ApfsOptions } from './parse-diskutil-apfs';
import { fileVaultState, parseFdesetupStatus } from './parse-fdesetup';
import { run } from './run';
import { unknownSection, volumesSection } from './volume';

export const FDESETUP = '/usr/bin/fdesetup';
export const DISKUTIL = '/usr/sbin/diskutil';
const TIMEOUT_MS = 30_000;

export async function collectEncryptionDarwin(ctx: ProbeContext): Promise<EncryptionSection> {
  try {
    const [fdesetup, apfsList, rootInfo] = await Promise.all([
      run(ctx, FDESETUP, ['status'], TIMEOUT_MS),
      run(ctx, DISKUTIL, ['apfs', 'list', '-plist'], TIMEOUT_MS),
      run(ctx, DISKUTIL, ['info', '-plist', '/'], TIMEOUT_MS),
    ]);
    const state = fdesetup.ok ? fileVaultState(fdesetup.stdout) : { reason: `fdesetup: ${fdesetup.reason}` };
    const boot: ApfsOptions = rootInfo.ok ? parseDiskutilInfo(rootInfo.stdout) : {};
    const apfs = apfsList.ok ? parseDiskutilApfsList(apfsList.stdout, boot) : unknownSection(`diskutil apfs list: ${apfsList.reason}`);

    if (isUnknown(apfs)) {
      if ('reason' in state || !fdesetup.ok) {
        const why = 'reason' in state ? state.reason : 'fdesetup gave no output';
        return unknownSection(`FileVault state unavailable. ${why} | ${apfs.reason}`);
      }
      // Not APFS (CoreStorage/HFS+), or diskutil failed: the startup disk alone is still known.
      return parseFdesetupStatus(fdesetup.stdout);
    }
    if ('reason' in state) {
      // diskutil's flags still say whether FileVault guards each volume; only the progress is lost.
      return apfs;
    }
    const volumes: Volume[] = apfs.volumes.map((v) =>
      v.system ? { ...v, status: state.status, percent: state.percent, protection: state.protection } : v,
    );
    if (!volumes.some((v) => v.system)) {
      volumes.unshift({ id: 'startup-disk', mountPoint: '/', system: true, technology: 'filevault', ...state, method: null });
    }
    return volumesSection(volumes);
  } catch (err) {
    return unknownSection(`FileVault probe failed: ${(err as Error).message}`);
  }
}
