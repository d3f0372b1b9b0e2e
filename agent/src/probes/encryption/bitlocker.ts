import type { Protection, VolumeStatus } from './volume';

/**
 * BitLocker's enumerations as Get-BitLockerVolume and Win32_EncryptableVolume
 * report them. Windows PowerShell 5.1's ConvertTo-Json writes enums as
 * numbers, PowerShell 7 with -EnumsAsStrings (or a Select with ToString) as
 * names, so each mapping accepts both.
 * Codes: https://learn.microsoft.com/windows/win32/secprov/getconversionstatus-win32-encryptablevolume
 */

const statusByCode: Record<number, VolumeStatus> = {
  0: 'decrypted', // FullyDecrypted
  1: 'encrypted', // FullyEncrypted
  2: 'encrypting', // EncryptionInProgress
  3: 'decrypting', // DecryptionInProgress
  4: 'encrypting', // EncryptionPaused: part of the disk is still plain text
  5: 'decrypting', // DecryptionPaused
  6: 'encrypted', // FullyEncryptedWipeInProgress (Get-BitLockerVolume only)
  7: 'encrypted', // FullyEncryptedWipeSuspended
};

const statusByName: Record<string, VolumeStatus> = {
  fullydecrypted: 'decrypted',
  fullyencrypted: 'encrypted',
  encryptioninprogress: 'encrypting',
  decryptioninprogress: 'decrypting',
  encryptionpaused: 'encrypting',
  encryptionsuspended: 'encrypting',
  decryptionpaused: 'decrypting',
  decryptionsuspended: 'decrypting',
  fullyencryptedwipeinprogress: 'encrypted',
  fullyencryptedwipesuspended: 'encrypted',
  fullyencryptedwipeinterrupted: 'encrypted',
};

export function bitlockerStatus(value: unknown): VolumeStatus {
  if (typeof value === 'number') return statusByCode[value] ?? 'unknown';
  if (typeof value === 'string') {
    const key = value.replace(/[\s_-]/g, '').toLowerCase();
    if (/^\d+$/.test(key)) return statusByCode[Number(key)] ?? 'unknown';
    return statusByName[key] ?? 'unknown';
  }
  return 'unknown';
}

/** ProtectionStatus: 0 Off (unprotected or clear key), 1 On, 2 Unknown (volume locked). */
export function bitlockerProtection(value: unknown): Protection {
  const key = typeof value === 'string' ? value.trim().toLowerCase() : value;
  if (key === 0 || key === '0' || key === 'off' || key === 'unprotected') return 'off';
  if (key === 1 || key === '1' || key === 'on' || key === 'protected') return 'on';
  return 'unknown';
}

/** LockStatus: 0 Unlocked, 1 Locked. */
export function bitlockerLocked(value: unknown): boolean | null {
  const key = typeof value === 'string' ? value.trim().toLowerCase() : value;
  if (key === 1 || key === '1' || key === 'locked') return true;
  if (key === 0 || key === '0' || key === 'unlocked') return false;
  return null;
}

const methodByCode: Record<number, string | null> = {
  0: null,
  1: 'AES 128 with Diffuser',
  2: 'AES 256 with Diffuser',
  3: 'AES 128',
  4: 'AES 256',
  5: 'Hardware Encryption',
  6: 'XTS-AES 128',
  7: 'XTS-AES 256',
};

const methodByName: Record<string, string | null> = {
  none: null,
  unknown: null,
  aes128diffuser: 'AES 128 with Diffuser',
  aes256diffuser: 'AES 256 with Diffuser',
  aes128: 'AES 128',
  aes256: 'AES 256',
  hardware: 'Hardware Encryption',
  xtsaes128: 'XTS-AES 128',
  xtsaes256: 'XTS-AES 256',
};

export function bitlockerMethod(value: unknown): string | null {
  if (typeof value === 'number') return methodByCode[value] ?? null;
  if (typeof value === 'string') {
    const key = value.replace(/[\s_-]/g, '').toLowerCase();
    if (/^\d+$/.test(key)) return methodByCode[Number(key)] ?? null;
    return key in methodByName ? (methodByName[key] ?? null) : value.trim().slice(0, 64) || null;
  }
  return null;
}

/** VolumeType 0 is the operating-system volume, in both the cmdlet and WMI. */
export function isOsVolumeType(value: unknown): boolean | null {
  if (value === 0 || value === '0') return true;
  if (typeof value === 'string') {
    const key = value.trim().toLowerCase();
    if (key === 'operatingsystem') return true;
    if (key !== '') return false;
  }
  if (typeof value === 'number') return false;
  return null;
}

/**
 * A locked volume reports no conversion status, but it is locked because
 * BitLocker encrypts it and holds its key: count it as encrypted and protected.
 */
export function lockedFallback(status: VolumeStatus, protection: Protection, locked: boolean | null): { status: VolumeStatus; protection: Protection } {
  if (locked === true && status === 'unknown') return { status: 'encrypted', protection: 'on' };
  if (locked === true && protection === 'unknown') return { status, protection: 'on' };
  return { status, protection };
}

/** Drive letters compare case-insensitively, without a trailing backslash. */
export function sameDrive(a: string, b: string): boolean {
  return a.replace(/\\$/, '').toUpperCase() === b.replace(/\\$/, '').toUpperCase();
}
