import fs from 'node:fs';
import path from 'node:path';
import { softwareFormats } from './index';

const dir = path.join(__dirname, '../../../test/fixtures/software');
const samples: Record<string, string> = {
  'linux/dpkg-query-debian12.txt': 'dpkg-query',
  'linux/rpm-qa-mageia2.txt': 'rpm-qa',
  'linux/snap-list-fusioninventory.txt': 'snap-list',
  'linux/flatpak-list-glpi.txt': 'flatpak-list',
  'win32/reg-query-hklm-appium.txt': 'reg-query',
  'win32/reg-query-wow6432-checkmk.txt': 'reg-query',
  'win32/reg-query-hkcu-zcode.txt': 'reg-query',
  'win32/reg-query-updates-reconstructed.txt': 'reg-query',
  'darwin/system-profiler-apps.json': 'system-profiler-apps-json',
};

describe('softwareFormats', () => {
  it.each(Object.entries(samples))('%s is claimed by %s and by no other format', (file, expected) => {
    const text = fs.readFileSync(path.join(dir, file), 'utf8');
    expect(softwareFormats.filter((f) => f.detect(text)).map((f) => f.name)).toEqual([expected]);
  });

  it('has the documented format names', () => {
    expect(softwareFormats.map((f) => f.name)).toEqual([
      'reg-query',
      'dpkg-query',
      'rpm-qa',
      'snap-list',
      'flatpak-list',
      'system-profiler-apps-json',
    ]);
  });

  it('claims nothing for an empty file or an error message', () => {
    for (const text of ['', 'ERROR: Access is denied.\r\n']) {
      expect(softwareFormats.filter((f) => f.detect(text))).toEqual([]);
    }
  });
});
