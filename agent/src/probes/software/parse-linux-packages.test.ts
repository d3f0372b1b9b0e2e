import fs from 'node:fs';
import path from 'node:path';
import { softwareSection as softwareSchema } from '@vigie/shared';
import { parseDpkgQuery } from './parse-dpkg-query';
import { parseFlatpakList } from './parse-flatpak-list';
import { parseRpmQa } from './parse-rpm-qa';
import { parseSnapList } from './parse-snap-list';

const fixture = (name: string) =>
  fs.readFileSync(path.join(__dirname, '../../../test/fixtures/software/linux', name), 'utf8');

describe('parseDpkgQuery', () => {
  it('reads every installed package of a real Debian 12 machine, maintainer without its address', () => {
    const section = parseDpkgQuery(fixture('dpkg-query-debian12.txt'));
    if (!('items' in section)) throw new Error(section.reason);
    expect(section.items).toHaveLength(190);
    expect(section.items).toContainEqual({
      name: 'bash',
      version: '5.2.15-2+b8',
      publisher: 'Matthias Klose',
      source: 'dpkg',
      scope: 'machine',
      installedAt: null,
    });
    expect(section.items.find((i) => i.name === 'erlang-base')?.version).toBe('1:25.2.3+dfsg-1+deb12u4');
    expect(softwareSchema.safeParse(section).success).toBe(true);
  });

  it('leaves out removed packages whose configuration remains (rc) and counts held ones (hi)', () => {
    const text = [
      'vim\t2:9.0.1378-2\tDebian Vim Maintainers <team+vim@tracker.debian.org>\tii ',
      'nano\t7.2-1\tJordi Mallach <jordi@debian.org>\trc ',
      'linux-image-amd64\t6.1.76-1\tDebian Kernel Team <debian-kernel@lists.debian.org>\thi ',
    ].join('\n');
    const section = parseDpkgQuery(text);
    expect('items' in section && section.items.map((i) => i.name)).toEqual(['vim', 'linux-image-amd64']);
  });

  it('returns unknown for output in another format', () => {
    expect(parseDpkgQuery('Desired=Unknown/Install/Remove/Purge/Hold\n||/ Name Version\nii  bash 5.2')).toMatchObject({
      unknown: true,
    });
  });
});

describe('parseRpmQa', () => {
  it('reads a real Mageia list with vendor and install time', () => {
    const section = parseRpmQa(fixture('rpm-qa-mageia2.txt'));
    if (!('items' in section)) throw new Error(section.reason);
    expect(section.items).toHaveLength(10);
    expect(section.items[6]).toEqual({
      name: 'xfsprogs',
      version: '3.1.8-1.mga2',
      publisher: 'Mageia.Org',
      source: 'rpm',
      scope: 'machine',
      installedAt: '2012-03-24T23:45:24.000Z',
    });
  });

  it('leaves out gpg-pubkey pseudo-packages and a (none) vendor', () => {
    const section = parseRpmQa(
      'gpg-pubkey\t(none)\tfd431d51-4ae0493b\t1714000000\t0\t(none)\tgpg(Red Hat, Inc.)\tPublic Keys\n' +
        'bash\tx86_64\t5.1.8-9.el9\t1714000000\t7738634\t(none)\tThe GNU Bourne Again shell\tUnspecified\n',
    );
    expect(section).toEqual({
      items: [{ name: 'bash', version: '5.1.8-9.el9', publisher: null, source: 'rpm', scope: 'machine', installedAt: '2024-04-24T23:06:40.000Z' }],
    });
  });

  it('returns unknown when install times were printed as localised dates', () => {
    const localised = 'gjs\tx86_64\t1.32.0-1.mga2\tmar. 27 mars 2012 19:08:21 CEST\t176167\tMageia.Org\tJavaScript bindings\n';
    expect(parseRpmQa(localised)).toMatchObject({ unknown: true });
  });
});

describe('parseSnapList', () => {
  it('reads a real snap list and strips the verified mark from publishers', () => {
    const section = parseSnapList(fixture('snap-list-fusioninventory.txt'));
    expect(section).toEqual({
      items: [
        { name: 'core18', version: '20191030', publisher: 'canonical', source: 'snap', scope: 'machine', installedAt: null },
        { name: 'kde-frameworks-5-core18', version: '5.61.0', publisher: 'kde', source: 'snap', scope: 'machine', installedAt: null },
        { name: 'kdenlive', version: '19.08.2', publisher: 'kde', source: 'snap', scope: 'machine', installedAt: null },
        { name: 'scrcpy', version: 'v1.10', publisher: 'sisco311', source: 'snap', scope: 'machine', installedAt: null },
        { name: 'snapd', version: '2.42', publisher: 'canonical', source: 'snap', scope: 'machine', installedAt: null },
      ],
    });
  });

  it('reads the old five-column layout and skips disabled revisions', () => {
    const text = [
      'Name     Version  Rev   Developer  Notes',
      'core     16-2.30  3748  canonical  core',
      'firefox  58.0     60    mozilla    disabled',
      'firefox  59.0     71    mozilla    -',
    ].join('\n');
    const section = parseSnapList(text);
    expect('items' in section && section.items.map((i) => [i.name, i.version, i.publisher])).toEqual([
      ['core', '16-2.30', 'canonical'],
      ['firefox', '59.0', 'mozilla'],
    ]);
  });

  it('returns an empty list when no snap is installed and unknown on garbage', () => {
    expect(parseSnapList('')).toEqual({ items: [] });
    expect(parseSnapList('error: unknown command "lsit"')).toMatchObject({ unknown: true });
  });
});

describe('parseFlatpakList', () => {
  it("reads GLPI's real list, installation giving the scope", () => {
    const section = parseFlatpakList(fixture('flatpak-list-glpi.txt'));
    if (!('items' in section)) throw new Error(section.reason);
    expect(section.items).toHaveLength(12);
    expect(section.items[0]).toEqual({
      name: 'com.vscodium.codium',
      version: null,
      publisher: null,
      source: 'flatpak',
      scope: 'machine',
      installedAt: null,
    });
    expect(section.items.find((i) => i.name === 'com.obsproject.Studio')?.scope).toBe('user');
  });

  it('reads the columns Vigie asks for, version included', () => {
    const section = parseFlatpakList('org.gaphor.Gaphor\tGaphor\t2.6.5\tstable\tuser\norg.mozilla.firefox\tFirefox\t115.0\tstable\tsystem\n');
    expect(section).toEqual({
      items: [
        { name: 'org.gaphor.Gaphor', version: '2.6.5', publisher: null, source: 'flatpak', scope: 'user', installedAt: null },
        { name: 'org.mozilla.firefox', version: '115.0', publisher: null, source: 'flatpak', scope: 'machine', installedAt: null },
      ],
    });
  });

  it('returns unknown for a line it does not understand', () => {
    expect(parseFlatpakList('Name  Application ID  Version\nGaphor org.gaphor.Gaphor 2.6.5')).toMatchObject({ unknown: true });
  });
});
