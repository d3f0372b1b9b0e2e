import type { EncryptionSection, Volume } from '@vigie/shared';
import { bitlockerLocked, bitlockerMethod, bitlockerProtection, bitlockerStatus, isOsVolumeType, lockedFallback, sameDrive } from './bitlocker';
import type { WindowsParseOptions } from './parse-get-bitlockervolume';
import { isRecord, parseJsonList, parsePercent, reconcileProtection, unknownSection, volumesSection } from './volume';

/** True for Win32_EncryptableVolume JSON: either the bare instances or our method-call wrapper. */
export function looksLikeWmiEncryptableVolume(text: string): boolean {
  const parsed = parseJsonList(text);
  if (!parsed.ok || parsed.items.length === 0) return false;
  return parsed.items.every((item) => isRecord(item) && (isRecord(item.volume) ? 'DeviceID' in item.volume : 'DeviceID' in item && 'DriveLetter' in item));
}

function methodResult(record: Record<string, unknown>, key: string, field: string): unknown {
  const result = record[key];
  if (!isRecord(result)) return undefined;
  // A method that failed (ReturnValue ≠ 0) returns no usable value.
  if (typeof result.ReturnValue === 'number' && result.ReturnValue !== 0) return undefined;
  return result[field];
}

/*
 * Win32_EncryptableVolume with the results of GetConversionStatus and
 * GetProtectionStatus beside each instance (the shape cnquery also uses):
 *   [{ "volume": { "DeviceID": "\\\\?\\Volume{…}\\", "DriveLetter": "C:", "VolumeType": 0,
 *                  "ConversionStatus": 1, "EncryptionMethod": 6, "ProtectionStatus": 1 },
 *      "conversionStatus": { "ConversionStatus": 1, "EncryptionPercentage": 100 },
 *      "protectionStatus": { "ProtectionStatus": 1 } }]
 * Bare instances (`Get-CimInstance … | ConvertTo-Json`) parse too, without a percentage.
 * The instance's ProtectionStatus property is a cached value that can say "on"
 * for a decrypted drive (https://github.com/osquery/osquery/pull/8931), so the
 * GetProtectionStatus result wins when present.
 */
export function parseWmiEncryptableVolume(text: string, options: WindowsParseOptions = {}): EncryptionSection {
  const parsed = parseJsonList(text);
  if (!parsed.ok) return unknownSection(`Win32_EncryptableVolume: ${parsed.reason}`);
  if (parsed.items.length === 0) return unknownSection('Win32_EncryptableVolume listed no volumes');
  const systemDrive = options.systemDrive ?? 'C:';
  const volumes: Volume[] = [];
  for (const item of parsed.items) {
    if (!isRecord(item)) return unknownSection('Win32_EncryptableVolume: an entry is not an object');
    const instance = isRecord(item.volume) ? item.volume : item;
    const deviceId = typeof instance.DeviceID === 'string' ? instance.DeviceID : '';
    const letter = typeof instance.DriveLetter === 'string' && /^[A-Za-z]:$/.test(instance.DriveLetter.trim()) ? instance.DriveLetter.trim().toUpperCase() : null;
    if (!deviceId && !letter) return unknownSection('Win32_EncryptableVolume: an entry has neither DeviceID nor DriveLetter');

    const conversion = methodResult(item, 'conversionStatus', 'ConversionStatus') ?? instance.ConversionStatus;
    const protectionValue = methodResult(item, 'protectionStatus', 'ProtectionStatus') ?? instance.ProtectionStatus;
    const lockValue = methodResult(item, 'lockStatus', 'LockStatus');
    const fallback = lockedFallback(bitlockerStatus(conversion), bitlockerProtection(protectionValue), bitlockerLocked(lockValue));
    const osType = isOsVolumeType(instance.VolumeType);
    volumes.push({
      id: letter ?? deviceId,
      mountPoint: letter,
      system: osType ?? (letter !== null && sameDrive(letter, systemDrive)),
      technology: 'bitlocker',
      status: fallback.status,
      percent: parsePercent(methodResult(item, 'conversionStatus', 'EncryptionPercentage')),
      protection: reconcileProtection(fallback.status, fallback.protection),
      method: bitlockerMethod(instance.EncryptionMethod),
    });
  }
  return volumesSection(volumes);
}
