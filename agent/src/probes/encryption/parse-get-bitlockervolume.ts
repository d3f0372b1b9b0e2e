import type { EncryptionSection, Volume } from '@vigie/shared';
import { bitlockerLocked, bitlockerMethod, bitlockerProtection, bitlockerStatus, isOsVolumeType, lockedFallback, sameDrive } from './bitlocker';
import { isRecord, parseJsonList, parsePercent, reconcileProtection, unknownSection, volumesSection } from './volume';

export interface WindowsParseOptions {
  /** %SystemDrive%; used only when the output does not say which volume holds Windows. */
  systemDrive?: string;
}

/** True when the JSON looks like Get-BitLockerVolume's objects rather than WMI's. */
export function looksLikeGetBitLockerVolume(text: string): boolean {
  const parsed = parseJsonList(text);
  if (!parsed.ok || parsed.items.length === 0) return false;
  return parsed.items.every(
    (item) => isRecord(item) && 'MountPoint' in item && ('VolumeStatus' in item || 'ProtectionStatus' in item) && !('DeviceID' in item) && !('volume' in item),
  );
}

/*
 * `Get-BitLockerVolume | Select-Object MountPoint,VolumeType,VolumeStatus,ProtectionStatus,
 *  LockStatus,EncryptionPercentage,EncryptionMethod | ConvertTo-Json` (one volume prints an
 * object, several an array; enums as numbers in PowerShell 5.1, as names with -EnumsAsStrings):
 *   [{ "MountPoint": "C:", "VolumeType": 0, "VolumeStatus": 1, "ProtectionStatus": 1,
 *      "LockStatus": 0, "EncryptionPercentage": 100, "EncryptionMethod": 6 }, ...]
 */
export function parseGetBitLockerVolume(text: string, options: WindowsParseOptions = {}): EncryptionSection {
  const parsed = parseJsonList(text);
  if (!parsed.ok) return unknownSection(`Get-BitLockerVolume: ${parsed.reason}`);
  if (parsed.items.length === 0) return unknownSection('Get-BitLockerVolume listed no volumes');
  const systemDrive = options.systemDrive ?? 'C:';
  const volumes: Volume[] = [];
  for (const item of parsed.items) {
    if (!isRecord(item) || typeof item.MountPoint !== 'string' || item.MountPoint.trim() === '') {
      return unknownSection('Get-BitLockerVolume: an entry has no MountPoint');
    }
    const mountPoint = item.MountPoint.trim();
    const hasLetter = /^[A-Za-z]:\\?$/.test(mountPoint);
    const osType = isOsVolumeType(item.VolumeType);
    const locked = bitlockerLocked(item.LockStatus);
    const fallback = lockedFallback(bitlockerStatus(item.VolumeStatus), bitlockerProtection(item.ProtectionStatus), locked);
    volumes.push({
      id: mountPoint.replace(/\\$/, '') || mountPoint,
      mountPoint: hasLetter ? mountPoint.replace(/\\$/, '').toUpperCase() : null,
      system: osType ?? (hasLetter && sameDrive(mountPoint, systemDrive)),
      technology: 'bitlocker',
      status: fallback.status,
      percent: parsePercent(item.EncryptionPercentage),
      protection: reconcileProtection(fallback.status, fallback.protection),
      method: bitlockerMethod(item.EncryptionMethod),
    });
  }
  return volumesSection(volumes);
}
