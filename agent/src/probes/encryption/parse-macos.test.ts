import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Volume } from '@vigie/shared';
import { parseDiskutilApfsList, parseDiskutilInfo } from './parse-diskutil-apfs';
import { fileVaultState, parseFdesetupStatus } from './parse-fdesetup';

const fixture = (name: string) => fs.readFileSync(path.join(__dirname, '../../../test/fixtures/encryption/macos', name), 'utf8');

const fv = (v: Partial<Volume> & Pick<Volume, 'id'>): Volume => ({
  mountPoint: null,
  system: false,
  technology: 'filevault',
  status: 'unknown',
  percent: null,
  protection: 'unknown',
  method: null,
  ...v,
});

describe('fdesetup status', () => {
  it.each([
    ['fdesetup-on-master-keychain.txt', { status: 'encrypted', percent: 100, protection: 'on' }],
    ['fdesetup-off.txt', { status: 'decrypted', percent: 0, protection: 'off' }],
    ['fdesetup-encrypting.txt', { status: 'encrypting', percent: 35.1, protection: 'on' }],
    ['fdesetup-encryption-pending.txt', { status: 'encrypting', percent: null, protection: 'on' }],
    // 35% decrypted means 65% still encrypted.
    ['fdesetup-decrypting.txt', { status: 'decrypting', percent: 65, protection: 'off' }],
    ['fdesetup-deferred.txt', { status: 'decrypted', percent: 0, protection: 'off' }],
    ['fdesetup-off-pending-restart.txt', { status: 'decrypted', percent: 0, protection: 'off' }],
  ])('%s', (name, expected) => {
    expect(fileVaultState(fixture(name))).toEqual(expected);
  });

  it('does not claim a state while a change waits for a restart', () => {
    expect(fileVaultState('FileVault is On, but needs to be restarted to finish.\n')).toEqual({ status: 'unknown', percent: null, protection: 'unknown' });
  });

  it('reports the startup disk as the system volume', () => {
    expect(parseFdesetupStatus(fixture('fdesetup-encrypting.txt'))).toEqual({
      volumes: [fv({ id: 'startup-disk', mountPoint: '/', system: true, status: 'encrypting', percent: 35.1, protection: 'on' })],
    });
  });

  it('returns unknown for empty output, errors and garbage', () => {
    expect(parseFdesetupStatus('')).toEqual({ unknown: true, reason: 'fdesetup status printed nothing' });
    expect(parseFdesetupStatus('Error: unable to get FileVault status.\n')).toEqual({
      unknown: true,
      reason: 'fdesetup status: unrecognised output ("Error: unable to get FileVault status.")',
    });
  });
});

describe('diskutil apfs list -plist', () => {
  it('reports the Data volume of an Apple silicon Mac as the system volume and skips Apple-owned roles', () => {
    expect(parseDiskutilApfsList(fixture('diskutil-apfs-list-applesilicon-filevault-on.plist'))).toEqual({
      volumes: [
        fv({ id: 'disk3s5', mountPoint: '/System/Volumes/Data', system: true, status: 'encrypted', percent: 100, protection: 'on' }),
        fv({ id: 'disk3s7', status: 'encrypted', percent: 100, protection: 'on' }),
      ],
    });
  });

  it('reads a crypto migration as encryption in progress', () => {
    const section = parseDiskutilApfsList(fixture('diskutil-apfs-list-applesilicon-crypto-migration.plist'));
    expect('volumes' in section && section.volumes[0]).toEqual(
      fv({ id: 'disk3s5', mountPoint: '/System/Volumes/Data', system: true, status: 'encrypting', protection: 'on' }),
    );
  });

  it('reads Mojave, where the startup volume has no role, and reports unencrypted volumes on other disks', () => {
    expect(parseDiskutilApfsList(fixture('diskutil-apfs-list-mojave-filevault-off.plist'))).toEqual({
      volumes: [
        fv({ id: 'disk1s1', mountPoint: '/', system: true, status: 'decrypted', percent: 0, protection: 'off' }),
        fv({ id: 'disk4s1', status: 'decrypted', percent: 0, protection: 'off' }),
        fv({ id: 'disk6s1', status: 'decrypted', percent: 0, protection: 'off' }),
      ],
    });
  });

  it('follows `diskutil info /` to the boot container rather than guessing', () => {
    const section = parseDiskutilApfsList(fixture('diskutil-apfs-list-mojave-filevault-off.plist'), { bootContainer: 'disk4', bootDevice: 'disk4s1' });
    expect('volumes' in section && section.volumes.filter((v) => v.system).map((v) => v.id)).toEqual(['disk4s1']);
  });

  it('reads hardware encryption without FileVault as encrypted but unprotected', () => {
    const xml = fixture('diskutil-apfs-list-applesilicon-filevault-on.plist').replace(
      /(<string>disk3s5<\/string>\s*<key>Encryption<\/key>\s*<true\/>\s*<key>FileVault<\/key>\s*)<true\/>/,
      '$1<false/>',
    );
    const section = parseDiskutilApfsList(xml);
    expect('volumes' in section && section.volumes[0]).toEqual(
      fv({ id: 'disk3s5', mountPoint: '/System/Volumes/Data', system: true, status: 'encrypted', percent: 100, protection: 'off' }),
    );
  });

  it('reads APFSContainerReference and DeviceIdentifier from diskutil info', () => {
    expect(parseDiskutilInfo(fixture('diskutil-info-root-applesilicon.plist'))).toEqual({ bootContainer: 'disk3', bootDevice: 'disk3s1s1' });
    expect(parseDiskutilInfo('not a plist')).toEqual({});
  });

  it('returns unknown for garbage and for a plist of another shape', () => {
    expect(parseDiskutilApfsList('FileVault is On.')).toMatchObject({ unknown: true });
    expect(parseDiskutilApfsList(fixture('diskutil-info-root-applesilicon.plist'))).toEqual({
      unknown: true,
      reason: 'diskutil apfs list: no Containers array',
    });
  });
});
