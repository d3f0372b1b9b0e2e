import fs from 'node:fs';
import path from 'node:path';
import { softwareSection as softwareSchema } from '@vigie/shared';
import { looksLikeRegQuery, parseRegKeys, parseRegQuery } from './parse-reg-query';

const fixture = (name: string) =>
  fs.readFileSync(path.join(__dirname, '../../../test/fixtures/software/win32', name), 'utf8');

describe('parseRegQuery', () => {
  it('keeps nothing from a stock HKLM where every named entry is a system component', () => {
    const section = parseRegQuery(fixture('reg-query-hklm-appium.txt'));
    expect(section).toEqual({ items: [] });
  });

  it('reads name, version, publisher and the yyyymmdd install date of a 32-bit program', () => {
    const section = parseRegQuery(fixture('reg-query-wow6432-checkmk.txt'));
    expect(section).toEqual({
      items: [
        {
          name: 'Check MK Agent 2.1',
          version: '2.1.0.50010',
          publisher: 'tribe29 GmbH',
          source: 'registry',
          scope: 'machine',
          installedAt: '2025-04-05',
        },
      ],
    });
    expect(softwareSchema.safeParse(section).success).toBe(true);
  });

  it('leaves out a Visual C++ runtime marked SystemComponent', () => {
    expect(parseRegQuery(fixture('reg-query-wow6432-vcredist.txt'))).toEqual({ items: [] });
  });

  it('marks per-user installs as user scope and keeps entries without a version', () => {
    const section = parseRegQuery(fixture('reg-query-hkcu-zcode.txt'));
    expect(section).toEqual({
      items: [
        { name: 'ZCode 3.14.4', version: '3.14.4', publisher: 'ZCode', source: 'registry', scope: 'user', installedAt: null },
        { name: 'Netcatty 1.1.79', version: null, publisher: null, source: 'registry', scope: 'user', installedAt: null },
      ],
    });
  });

  it('leaves out KB updates and Office patches, even with a French name, and ignores a non-yyyymmdd date', () => {
    const section = parseRegQuery(fixture('reg-query-updates-reconstructed.txt'));
    expect(section).toEqual({
      items: [
        { name: '7-Zip 19.00 (x64)', version: '19.00', publisher: 'Igor Pavlov', source: 'registry', scope: 'machine', installedAt: null },
      ],
    });
  });

  it('deduplicates a program listed identically in two outputs', () => {
    const once = fixture('reg-query-wow6432-checkmk.txt');
    const section = parseRegQuery(`${once}\r\n${once}`);
    expect('items' in section && section.items).toHaveLength(1);
  });

  it('keeps value data that contains runs of spaces and values with no data', () => {
    const [key] = parseRegKeys(fixture('reg-query-wow6432-checkmk.txt'));
    expect(key?.values.get('InstallSource')).toBe('C:\\Users\\web_svc\\Desktop\\');
    expect(key?.values.get('Comments')).toBe('');
    expect(key?.values.get('NoModify')).toBe('0x1');
  });

  it('returns unknown with a reason for garbage or an error message', () => {
    expect(parseRegQuery('ERROR: The system was unable to find the specified registry key or value.')).toEqual({
      unknown: true,
      reason: 'no registry key in the reg query output',
    });
    expect(parseRegQuery('HKEY_LOCAL_MACHINE\\SOFTWARE\\Foo\r\n    Bar    REG_SZ    x\r\n')).toMatchObject({ unknown: true });
  });

  it('is detected on uninstall outputs only', () => {
    expect(looksLikeRegQuery(fixture('reg-query-wow6432-checkmk.txt'))).toBe(true);
    expect(looksLikeRegQuery(fixture('reg-query-hkcu-zcode.txt'))).toBe(true);
    expect(looksLikeRegQuery(fixture('reg-query-hku.txt'))).toBe(false);
  });
});
