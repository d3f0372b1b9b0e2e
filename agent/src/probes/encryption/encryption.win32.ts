/**
 * Disk encryption on Windows: BitLocker state of every volume Windows can
 * encrypt, the system volume being the one BitLocker types "operating system".
 *
 * Sources, most trusted first, each locale-independent but the last:
 *  1. Get-BitLockerVolume as JSON (BitLocker PowerShell module; absent on some
 *     editions and Server Core without the feature);
 *  2. Win32_EncryptableVolume over WMI, calling GetConversionStatus and
 *     GetProtectionStatus: the class's ProtectionStatus property is a cached
 *     value that can read "on" for a decrypted drive
 *     (https://github.com/osquery/osquery/pull/8931);
 *  3. manage-bde -status, read in English, French and German.
 * Whatever the source, a decrypted volume is never "protected", and an
 * encrypted volume whose protection is off (suspended, or a clear key waiting
 * for activation) stays encrypted with protection "off"
 * (https://github.com/fleetdm/fleet/issues/49401) so the policy can tell it
 * from a plain disk. Recovery passwords are never selected or read.
 * Needs an elevated agent (LocalSystem): all three refuse plain users.
 */
import type { EncryptionSection } from '@vigie/shared';
import { isUnknown } from '@vigie/shared';
import type { ProbeContext } from '../types';
import { parseGetBitLockerVolume } from './parse-get-bitlockervolume';
import { parseManageBde } from './parse-manage-bde';
import { parseWmiEncryptableVolume } from './parse-wmi-encryptablevolume';
import { run } from './run';
import { unknownSection } from './volume';

export const POWERSHELL = 'C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe';
export const MANAGE_BDE = 'C:\\Windows\\System32\\manage-bde.exe';
const TIMEOUT_MS = 60_000;

// Selecting the fields keeps KeyProtector (and its recovery passwords) out of our memory and logs.
export const GET_BITLOCKER_VOLUME_SCRIPT = [
  "$ErrorActionPreference = 'Stop'",
  '[Console]::OutputEncoding = [Text.Encoding]::UTF8',
  'ConvertTo-Json -Depth 2 -InputObject @(Get-BitLockerVolume | Select-Object MountPoint,VolumeType,VolumeStatus,ProtectionStatus,LockStatus,EncryptionPercentage,EncryptionMethod)',
].join('; ');

export const WMI_ENCRYPTABLE_VOLUME_SCRIPT = [
  "$ErrorActionPreference = 'Stop'",
  '[Console]::OutputEncoding = [Text.Encoding]::UTF8',
  "$out = @(foreach ($v in @(Get-CimInstance -Namespace 'root\\cimv2\\Security\\MicrosoftVolumeEncryption' -ClassName Win32_EncryptableVolume)) { " +
    '$c = Invoke-CimMethod -InputObject $v -MethodName GetConversionStatus; ' +
    '$p = Invoke-CimMethod -InputObject $v -MethodName GetProtectionStatus; ' +
    '$l = Invoke-CimMethod -InputObject $v -MethodName GetLockStatus; ' +
    '[pscustomobject]@{ ' +
    'volume = [pscustomobject]@{ DeviceID = $v.DeviceID; DriveLetter = $v.DriveLetter; VolumeType = $v.VolumeType; ConversionStatus = $v.ConversionStatus; EncryptionMethod = $v.EncryptionMethod; ProtectionStatus = $v.ProtectionStatus }; ' +
    'conversionStatus = [pscustomobject]@{ ConversionStatus = $c.ConversionStatus; EncryptionPercentage = $c.EncryptionPercentage; ReturnValue = $c.ReturnValue }; ' +
    'protectionStatus = [pscustomobject]@{ ProtectionStatus = $p.ProtectionStatus; ReturnValue = $p.ReturnValue }; ' +
    'lockStatus = [pscustomobject]@{ LockStatus = $l.LockStatus; ReturnValue = $l.ReturnValue } } })',
  'ConvertTo-Json -Depth 4 -Compress -InputObject $out',
].join('; ');

function powershellArgs(script: string): string[] {
  return ['-NoProfile', '-NonInteractive', '-ExecutionPolicy', 'Bypass', '-Command', script];
}

export async function collectEncryptionWin32(ctx: ProbeContext): Promise<EncryptionSection> {
  const reasons: string[] = [];
  try {
    const cmdlet = await run(ctx, POWERSHELL, powershellArgs(GET_BITLOCKER_VOLUME_SCRIPT), TIMEOUT_MS);
    if (cmdlet.ok) {
      const section = parseGetBitLockerVolume(cmdlet.stdout);
      if (!isUnknown(section)) return section;
      reasons.push(section.reason);
    } else {
      reasons.push(`Get-BitLockerVolume: ${cmdlet.reason}`);
    }

    const wmi = await run(ctx, POWERSHELL, powershellArgs(WMI_ENCRYPTABLE_VOLUME_SCRIPT), TIMEOUT_MS);
    if (wmi.ok) {
      const section = parseWmiEncryptableVolume(wmi.stdout);
      if (!isUnknown(section)) return section;
      reasons.push(section.reason);
    } else {
      reasons.push(`Win32_EncryptableVolume: ${wmi.reason}`);
    }

    const bde = await run(ctx, MANAGE_BDE, ['-status'], TIMEOUT_MS);
    if (bde.ok) {
      const section = parseManageBde(bde.stdout);
      if (!isUnknown(section)) return section;
      reasons.push(section.reason);
    } else {
      reasons.push(`manage-bde: ${bde.reason}`);
    }
  } catch (err) {
    reasons.push(`unexpected error: ${(err as Error).message}`);
  }
  return unknownSection(`BitLocker state unavailable. ${reasons.join(' | ')}`);
}
