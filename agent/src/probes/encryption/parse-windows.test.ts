import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Volume } from '@vigie/shared';
import { conversionStatus, parseManageBde, protectionStatus } from './parse-manage-bde';
import { parseGetBitLockerVolume } from './parse-get-bitlockervolume';
import { parseWmiEncryptableVolume } from './parse-wmi-encryptablevolume';

const fixture = (name: string) => fs.readFileSync(path.join(__dirname, '../../../test/fixtures/encryption/windows', name), 'utf8');

const bitlocker = (v: Partial<Volume> & Pick<Volume, 'id'>): Volume => ({
  mountPoint: v.id,
  system: false,
  technology: 'bitlocker',
  status: 'unknown',
  percent: null,
  protection: 'unknown',
  method: null,
  ...v,
});

describe('parseGetBitLockerVolume', () => {
  it('reads numeric enums and marks the OperatingSystem volume as the system one', () => {
    expect(parseGetBitLockerVolume(fixture('get-bitlockervolume-fleet-two-volumes.json'))).toEqual({
      volumes: [
        bitlocker({ id: 'C:', system: true, status: 'encrypted', percent: 100, protection: 'on', method: 'XTS-AES 128' }),
        bitlocker({ id: 'E:', status: 'decrypted', percent: 0, protection: 'off' }),
      ],
    });
  });

  it('reads a single volume printed as an object, with enum names, and keeps a suspended volume encrypted but unprotected', () => {
    expect(parseGetBitLockerVolume(fixture('get-bitlockervolume-suspended-single-object-names.json'))).toEqual({
      volumes: [bitlocker({ id: 'C:', system: true, status: 'encrypted', percent: 100, protection: 'off', method: 'XTS-AES 128' })],
    });
  });

  it('never reports a decrypted volume as protected, whatever ProtectionStatus says (osquery#8931)', () => {
    const section = parseGetBitLockerVolume(fixture('get-bitlockervolume-stale-protection-decrypted.json'));
    expect(section).toEqual({ volumes: [bitlocker({ id: 'C:', system: true, status: 'decrypted', percent: 0, protection: 'off' })] });
  });

  it('reads encryption in progress, paused encryption, and a locked volume without a letter', () => {
    expect(parseGetBitLockerVolume(fixture('get-bitlockervolume-encrypting-paused.json'))).toEqual({
      volumes: [
        bitlocker({ id: 'C:', system: true, status: 'encrypting', percent: 3.5, protection: 'off', method: 'XTS-AES 128' }),
        bitlocker({ id: 'D:', status: 'encrypting', percent: 41, protection: 'off', method: 'XTS-AES 256' }),
        bitlocker({
          id: '\\\\?\\Volume{0e4c91e2-80c2-4433-bf7f-31fb65330364}',
          mountPoint: null,
          status: 'encrypted',
          protection: 'on',
          method: 'XTS-AES 256',
        }),
      ],
    });
  });

  it('uses the system drive when VolumeType is missing', () => {
    const text = JSON.stringify([
      { MountPoint: 'C:', VolumeStatus: 1, ProtectionStatus: 1 },
      { MountPoint: 'D:', VolumeStatus: 1, ProtectionStatus: 1 },
    ]);
    const section = parseGetBitLockerVolume(text, { systemDrive: 'D:' });
    expect('volumes' in section && section.volumes.map((v) => [v.id, v.system])).toEqual([
      ['C:', false],
      ['D:', true],
    ]);
  });

  it.each([
    ['empty output', '', 'Get-BitLockerVolume: empty output'],
    ['no volumes', '[]', 'Get-BitLockerVolume listed no volumes'],
    ['garbage', 'Get-BitLockerVolume : Access denied', 'Get-BitLockerVolume: not JSON'],
    ['an entry without MountPoint', '[{"VolumeStatus": 1}]', 'Get-BitLockerVolume: an entry has no MountPoint'],
  ])('returns unknown for %s', (_name, text, reason) => {
    const section = parseGetBitLockerVolume(text);
    expect(section).toMatchObject({ unknown: true });
    expect('reason' in section && section.reason.startsWith(reason)).toBe(true);
  });
});

describe('parseWmiEncryptableVolume', () => {
  it('reads Win32_EncryptableVolume with its GetConversionStatus results', () => {
    expect(parseWmiEncryptableVolume(fixture('wmi-encryptablevolume-cnquery-two-volumes.json'))).toEqual({
      volumes: [
        bitlocker({ id: 'C:', system: true, status: 'encrypted', percent: 100, protection: 'on', method: 'XTS-AES 128' }),
        bitlocker({ id: 'E:', status: 'decrypted', percent: 0, protection: 'off' }),
      ],
    });
  });

  it('prefers GetProtectionStatus over the cached ProtectionStatus property (osquery#8931)', () => {
    expect(parseWmiEncryptableVolume(fixture('wmi-encryptablevolume-stale-cached-protection.json'))).toEqual({
      volumes: [bitlocker({ id: 'C:', system: true, status: 'decrypted', percent: 0, protection: 'off' })],
    });
  });

  it('still refuses "protected" for a decrypted volume when only the cached property is there', () => {
    expect(parseWmiEncryptableVolume(fixture('wmi-encryptablevolume-cached-only-decrypted.json'))).toEqual({
      volumes: [bitlocker({ id: 'C:', system: true, status: 'decrypted', protection: 'off' })],
    });
  });

  it('ignores a method result whose ReturnValue reports a failure', () => {
    const text = JSON.stringify({
      volume: { DeviceID: '\\\\?\\Volume{x}\\', DriveLetter: 'C:', VolumeType: 0, ConversionStatus: 1, ProtectionStatus: 1, EncryptionMethod: 7 },
      protectionStatus: { ProtectionStatus: 0, ReturnValue: 2150694912 },
    });
    expect(parseWmiEncryptableVolume(text)).toEqual({
      volumes: [bitlocker({ id: 'C:', system: true, status: 'encrypted', protection: 'on', method: 'XTS-AES 256' })],
    });
  });

  it('returns unknown for garbage and for entries without an identity', () => {
    expect(parseWmiEncryptableVolume('Invalid namespace')).toMatchObject({ unknown: true });
    expect(parseWmiEncryptableVolume('[{"volume": {"ConversionStatus": 1}}]')).toEqual({
      unknown: true,
      reason: 'Win32_EncryptableVolume: an entry has neither DeviceID nor DriveLetter',
    });
  });
});

describe('parseManageBde', () => {
  it('reads English output with comma decimals', () => {
    expect(parseManageBde(fixture('manage-bde-en-dreknix-used-space-aes256.txt'))).toEqual({
      volumes: [bitlocker({ id: 'C:', system: true, status: 'encrypted', percent: 100, protection: 'on', method: 'AES 256' })],
    });
  });

  it('reads dot decimals and a decrypted OS volume (osquery#8931 capture)', () => {
    expect(parseManageBde(fixture('manage-bde-en-osquery8931-decrypted.txt'))).toEqual({
      volumes: [bitlocker({ id: 'C:', system: true, status: 'decrypted', percent: 0, protection: 'off' })],
    });
  });

  it('keeps an encrypted volume with protection off (clear key) apart from a decrypted data volume', () => {
    expect(parseManageBde(fixture('manage-bde-en-clear-key-two-volumes.txt'))).toEqual({
      volumes: [
        bitlocker({ id: 'C:', system: true, status: 'encrypted', percent: 100, protection: 'off', method: 'XTS-AES 128' }),
        bitlocker({ id: 'D:', status: 'decrypted', percent: 0, protection: 'off' }),
      ],
    });
  });

  it('reads French output with non-breaking spaces and a garbled apostrophe', () => {
    expect(parseManageBde(fixture('manage-bde-fr-netinvent-decrypted-c.txt'))).toEqual({
      volumes: [bitlocker({ id: 'C:', system: true, status: 'decrypted', percent: 0, protection: 'off' })],
    });
  });

  it('reads a locked French data volume whose status is "Inconnu" as encrypted and protected', () => {
    expect(parseManageBde(fixture('manage-bde-fr-netinvent-locked-d.txt'))).toEqual({
      volumes: [bitlocker({ id: 'D:', status: 'encrypted', protection: 'on', method: 'XTS-AES 128' })],
    });
  });

  it('reads French "Espace utilisé uniquement chiffré" with protection on', () => {
    expect(parseManageBde(fixture('manage-bde-fr-used-space-protection-on.txt'))).toEqual({
      volumes: [bitlocker({ id: 'C:', system: true, status: 'encrypted', percent: 100, protection: 'on', method: 'XTS-AES 128' })],
    });
  });

  it.each([
    ['manage-bde-de-bnachtwey-decrypted.txt', { status: 'decrypted', percent: 0, protection: 'off', method: null }],
    ['manage-bde-de-bnachtwey-encrypting.txt', { status: 'encrypting', percent: 3.5, protection: 'off', method: 'XTS-AES 128' }],
    ['manage-bde-de-bnachtwey-protection-on.txt', { status: 'encrypting', percent: 100, protection: 'on', method: 'XTS-AES 128' }],
  ])('reads German output %s', (name, expected) => {
    expect(parseManageBde(fixture(name))).toEqual({ volumes: [bitlocker({ id: 'C:', system: true, ...(expected as Partial<Volume>) })] });
  });

  it('survives CRLF line ends and accents lost to the OEM code page', () => {
    const garbled = fixture('manage-bde-fr-used-space-protection-on.txt').replace(/[éèÉ]/g, '\uFFFD').replace(/\n/g, '\r\n');
    expect(parseManageBde(garbled)).toEqual(parseManageBde(fixture('manage-bde-fr-used-space-protection-on.txt')));
    const german = fixture('manage-bde-de-bnachtwey-decrypted.txt').replace(/[äöüß]/g, '\uFFFD');
    expect(parseManageBde(german)).toEqual({ volumes: [bitlocker({ id: 'C:', system: true, status: 'decrypted', percent: 0, protection: 'off' })] });
  });

  it('returns unknown for an access-denied error and for output in a language it cannot read', () => {
    expect(parseManageBde(fixture('manage-bde-en-access-denied.txt'))).toEqual({
      unknown: true,
      reason: 'manage-bde: no volume in the output ("ERROR: An attempt to access a required resource was denied.")',
    });
    const spanish = 'Volumen C: [OS]\n[Volumen del sistema operativo]\n    Estado de conversión: Cifrado completo\n';
    expect(parseManageBde(spanish)).toMatchObject({ unknown: true });
  });
});

describe('manage-bde value words', () => {
  it.each([
    ['Fully Encrypted', 'encrypted'],
    ['Fully Decrypted', 'decrypted'],
    ['Used Space Only Encrypted', 'encrypted'],
    ['Encryption in Progress', 'encrypting'],
    ['Decryption in Progress', 'decrypting'],
    ['Encryption Paused', 'encrypting'],
    ['Fully Encrypted Wipe in Progress', 'encrypted'],
    ['Chiffrement complet', 'encrypted'],
    ['Entièrement déchiffré', 'decrypted'],
    ['Intégralement déchiffré', 'decrypted'],
    ['Chiffrement en cours', 'encrypting'],
    ['Déchiffrement en cours', 'decrypting'],
    ['Vollständig verschlüsselt', 'encrypted'],
    ['Nur verwendeter Speicherplatz ist verschlüsselt', 'encrypted'],
    ['Entschlüsselung wird durchgeführt', 'decrypting'],
    ['Inconnu', 'unknown'],
    ['Something else', 'unknown'],
  ])('conversion "%s" is %s', (text, expected) => {
    expect(conversionStatus(text)).toBe(expected);
  });

  it.each([
    ['Protection On', 'on'],
    ['Protection Off', 'off'],
    ['Protection activée', 'on'],
    ['Protection désactivée', 'off'],
    ['Der Schutz ist aktiviert.', 'on'],
    ['Der Schutz ist deaktiviert.', 'off'],
    ['Protection Unknown', 'unknown'],
  ])('protection "%s" is %s', (text, expected) => {
    expect(protectionStatus(text)).toBe(expected);
  });
});
