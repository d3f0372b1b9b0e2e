import fs from 'node:fs';
import path from 'node:path';
import type { Exec, ExecResult } from '../../exec';
import { systemContext } from '../context';
import type { ProbeContext } from '../types';
import { collectSoftware } from './index';
import { LINUX_PACKAGE_TOOLS } from './software.linux';
import { REG_EXE } from './software.win32';

const fixture = (name: string) => fs.readFileSync(path.join(__dirname, '../../../test/fixtures/software', name), 'utf8');

const ok = (stdout: string): ExecResult => ({ code: 0, stdout, stderr: '', truncated: false, timedOut: false });
const exitWith = (code: number, stderr = ''): ExecResult => ({ code, stdout: '', stderr, truncated: false, timedOut: false });
const enoent = (file: string): ExecResult => ({
  code: null,
  stdout: '',
  stderr: '',
  truncated: false,
  timedOut: false,
  error: `spawn ${file} ENOENT`,
});

/** A fake exec replaying canned results; any command not in the map is "not installed". */
function fakeContext(platform: NodeJS.Platform, results: Record<string, ExecResult>): ProbeContext & { calls: string[] } {
  const calls: string[] = [];
  const exec: Exec = async (file, args) => {
    const key = [file, ...args].join(' ');
    calls.push(key);
    return results[key] ?? enoent(file);
  };
  return {
    exec,
    calls,
    platform,
    readFile: async () => Promise.reject(new Error('no file')),
    readDir: async () => Promise.reject(new Error('no dir')),
    now: () => new Date('2025-01-01T00:00:00Z'),
  };
}

const linuxKey = (label: string) => {
  const tool = LINUX_PACKAGE_TOOLS.find((t) => t.label === label);
  if (!tool) throw new Error(label);
  return [tool.file, ...tool.args].join(' ');
};

describe('collectSoftware on Linux', () => {
  it('merges dpkg and snap and skips the tools that are not installed', async () => {
    const ctx = fakeContext('linux', {
      [linuxKey('dpkg')]: ok(fixture('linux/dpkg-query-debian12.txt')),
      [linuxKey('snap')]: ok(fixture('linux/snap-list-fusioninventory.txt')),
    });
    const section = await collectSoftware(ctx);
    if (!('items' in section)) throw new Error(section.reason);
    expect(section.items).toHaveLength(195);
    expect(section.items.filter((i) => i.source === 'snap').map((i) => i.name)).toContain('scrcpy');
    expect(ctx.calls).toEqual([linuxKey('dpkg'), linuxKey('rpm'), linuxKey('snap'), linuxKey('flatpak')]);
    expect(ctx.calls[0]).toBe("/usr/bin/dpkg-query -W -f=${Package}\\t${Version}\\t${Maintainer}\\t${db:Status-Abbrev}\\n");
  });

  it('reads rpm and flatpak on a Fedora-like machine', async () => {
    const ctx = fakeContext('linux', {
      [linuxKey('rpm')]: ok(fixture('linux/rpm-qa-mageia2.txt')),
      [linuxKey('flatpak')]: ok('org.gaphor.Gaphor\tGaphor\t2.6.5\tstable\tuser\n'),
    });
    const section = await collectSoftware(ctx);
    expect('items' in section && section.items.map((i) => i.source)).toEqual([...Array(10).fill('rpm'), 'flatpak']);
  });

  it('skips snap when snapd is not running', async () => {
    const ctx = fakeContext('linux', {
      [linuxKey('dpkg')]: ok('bash\t5.2.15-2+b8\tMatthias Klose <doko@debian.org>\tii \n'),
      [linuxKey('snap')]: exitWith(1, 'error: cannot communicate with server: Get "http://localhost/v2/snaps": dial unix /run/snapd.socket: connect: no such file or directory'),
    });
    expect(await collectSoftware(ctx)).toMatchObject({ items: [{ name: 'bash' }] });
  });

  it('is unknown when no package manager exists', async () => {
    expect(await collectSoftware(fakeContext('linux', {}))).toEqual({
      unknown: true,
      reason: 'no package manager found (dpkg-query, rpm, snap, flatpak)',
    });
  });

  it('is unknown, not partial, when one package manager fails', async () => {
    const ctx = fakeContext('linux', {
      [linuxKey('dpkg')]: ok('bash\t5.2.15-2+b8\tMatthias Klose <doko@debian.org>\tii \n'),
      [linuxKey('flatpak')]: { ...exitWith(0), timedOut: true },
    });
    expect(await collectSoftware(ctx)).toEqual({ unknown: true, reason: 'flatpak: /usr/bin/flatpak timed out' });
  });
});

describe('collectSoftware on Windows', () => {
  const hklm = `${REG_EXE} query HKLM\\Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall /s`;
  const wow = `${REG_EXE} query HKLM\\SOFTWARE\\WOW6432Node\\Microsoft\\Windows\\CurrentVersion\\Uninstall /s`;
  const hku = `${REG_EXE} query HKU`;
  const userKey = `${REG_EXE} query HKU\\S-1-5-21-3623811015-3361044348-30300820-1013\\Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall /s`;
  const hkcuAsHku = fixture('win32/reg-query-hkcu-zcode.txt').replace(
    /HKEY_CURRENT_USER\\/g,
    'HKEY_USERS\\S-1-5-21-3623811015-3361044348-30300820-1013\\',
  );

  it('reads HKLM, WOW6432Node and each loaded user hive, with the right scopes', async () => {
    const ctx = fakeContext('win32', {
      [hklm]: ok(fixture('win32/reg-query-hklm-appium.txt')),
      [wow]: ok(fixture('win32/reg-query-wow6432-checkmk.txt')),
      [hku]: ok(fixture('win32/reg-query-hku.txt')),
      [userKey]: ok(hkcuAsHku),
    });
    const section = await collectSoftware(ctx);
    if (!('items' in section)) throw new Error(section.reason);
    expect(section.items.map((i) => [i.name, i.scope])).toEqual([
      ['Check MK Agent 2.1', 'machine'],
      ['ZCode 3.14.4', 'user'],
      ['Netcatty 1.1.79', 'user'],
    ]);
    // Service accounts, .DEFAULT and _Classes hives are not queried.
    expect(ctx.calls).toEqual([hklm, wow, hku, userKey]);
  });

  it('treats a missing WOW6432Node or user key (exit 1) as empty', async () => {
    const missing = exitWith(1, 'ERROR: The system was unable to find the specified registry key or value.');
    const ctx = fakeContext('win32', {
      [hklm]: ok(fixture('win32/reg-query-wow6432-checkmk.txt').replace(/WOW6432Node\\/g, '')),
      [wow]: missing,
      [hku]: ok(fixture('win32/reg-query-hku.txt')),
      [userKey]: missing,
    });
    expect(await collectSoftware(ctx)).toMatchObject({ items: [{ name: 'Check MK Agent 2.1', scope: 'machine' }] });
  });

  it('is unknown when reg.exe cannot run', async () => {
    const section = await collectSoftware(fakeContext('win32', {}));
    expect(section).toEqual({ unknown: true, reason: `reg.exe could not start (spawn ${REG_EXE} ENOENT)` });
  });
});

describe('collectSoftware on macOS', () => {
  const key = '/usr/sbin/system_profiler SPApplicationsDataType -json';

  it('parses system_profiler applications', async () => {
    const ctx = fakeContext('darwin', { [key]: ok(fixture('darwin/system-profiler-apps.json')) });
    const section = await collectSoftware(ctx);
    expect('items' in section && section.items.map((i) => i.name)).toEqual([
      'App Store',
      'Pages',
      'Spotify',
      'Automator Application Stub',
      'liquiddetectiond',
    ]);
  });

  it('is unknown when system_profiler times out', async () => {
    const ctx = fakeContext('darwin', { [key]: { ...ok(''), code: null, timedOut: true } });
    expect(await collectSoftware(ctx)).toEqual({ unknown: true, reason: 'system_profiler SPApplicationsDataType timed out' });
  });
});

describe('collectSoftware elsewhere', () => {
  it('is unknown on an unsupported platform', async () => {
    expect(await collectSoftware(fakeContext('freebsd', {}))).toEqual({ unknown: true, reason: 'not supported on freebsd' });
  });
});

describe('collectSoftware on this machine', () => {
  const hasDpkg = process.platform === 'linux' && fs.existsSync('/usr/bin/dpkg-query');
  (hasDpkg ? it : it.skip)('lists the real dpkg database through the real exec', async () => {
    const section = await collectSoftware(systemContext());
    if (!('items' in section)) throw new Error(section.reason);
    expect(section.items.find((i) => i.name === 'dpkg')).toMatchObject({ source: 'dpkg', scope: 'machine' });
    expect(section.items.every((i) => i.name.length > 0 && !i.name.includes('\\t'))).toBe(true);
  }, 60_000);
});
