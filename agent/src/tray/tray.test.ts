import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Exec } from '../exec';
import { fail, stateWith } from './__fixtures__/state';
import { failingRules } from './model';
import { defaultSocketPath, trayDataDir } from './paths';
import { escapeHtml, openCommand, openRemediationPage, renderRemediationPage } from './remediation';
import { checkNoPlantedHelper, ensureExecutable, iconFile, packagedHelperPath, refuseRoot } from './tray';
import { trayCommand } from './index';

const now = new Date('2026-11-24T10:00:00Z');
let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'vigie-tray-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('tray process guards', () => {
  it('never runs as root', () => {
    expect(refuseRoot(0)).toMatch(/never as root/);
    expect(refuseRoot(1000)).toBeNull();
    expect(refuseRoot(undefined)).toBeNull();
  });

  it('trayCommand refuses to start as root, with a clear message', async () => {
    if (process.getuid?.() !== 0) return;
    const write = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(await trayCommand({ socketPath: path.join(dir, 'none.sock') })).toBe(1);
      expect(String(write.mock.calls[0]?.[0])).toMatch(/vigie-agent tray: .*never as root/);
    } finally {
      write.mockRestore();
    }
  });

  it('gives the helper its exec bit, and says clearly when it cannot', async () => {
    const helper = path.join(dir, 'tray_linux_release');
    await writeFile(helper, '#!/bin/sh\n', { mode: 0o644 });
    await ensureExecutable(helper, 'linux');
    expect((await stat(helper)).mode & 0o777).toBe(0o755);
    await expect(ensureExecutable(path.join(dir, 'missing'), 'linux')).rejects.toThrow(/is missing.*reinstall/);
  });

  it('refuses a helper planted in the working directory', async () => {
    const packaged = packagedHelperPath('linux');
    await checkNoPlantedHelper(dir, 'linux', packaged);
    await mkdir(path.join(dir, 'traybin'));
    await writeFile(path.join(dir, 'traybin', 'tray_linux_release'), 'evil');
    await expect(checkNoPlantedHelper(dir, 'linux', packaged)).rejects.toThrow(/would be run instead/);
    // The package's own directory is fine.
    await checkNoPlantedHelper(path.dirname(path.dirname(packaged)), 'linux', packaged);
  });

  it('ships an icon per state, PNG and ICO', async () => {
    for (const icon of ['compliant', 'action-needed', 'overdue', 'unknown'] as const) {
      for (const platform of ['linux', 'win32'] as const) {
        const file = iconFile(icon, platform);
        const head = (await readFile(file)).subarray(0, 4);
        expect(head.equals(platform === 'win32' ? Buffer.from([0, 0, 1, 0]) : Buffer.from([0x89, 0x50, 0x4e, 0x47]))).toBe(true);
      }
    }
  });
});

describe('tray paths', () => {
  const env = { platform: 'linux' as NodeJS.Platform, env: {}, uid: 1000, user: 'jane', home: '/home/jane' };
  it('puts the socket in a root-owned run directory per user, or a named pipe per user', () => {
    expect(defaultSocketPath(env)).toBe('/run/vigie-agent/tray-1000.sock');
    expect(defaultSocketPath({ ...env, platform: 'darwin', uid: 501 })).toBe('/var/run/vigie-agent/tray-501.sock');
    expect(defaultSocketPath({ ...env, platform: 'win32', uid: undefined, user: 'CORP\\jane' })).toBe('\\\\.\\pipe\\vigie-agent-CORP_jane');
    expect(defaultSocketPath({ ...env, env: { VIGIE_TRAY_SOCKET: '/tmp/x.sock' } })).toBe('/tmp/x.sock');
  });
  it('keeps its own memory in the user profile', () => {
    expect(trayDataDir(env)).toBe('/home/jane/.local/state/vigie-tray');
    expect(trayDataDir({ ...env, env: { XDG_STATE_HOME: '/s' } })).toBe('/s/vigie-tray');
    expect(trayDataDir({ ...env, platform: 'win32', env: { LOCALAPPDATA: 'C:\\Users\\jane\\AppData\\Local' } })).toBe('C:\\Users\\jane\\AppData\\Local\\Vigie\\tray');
  });
});

describe('remediation pages', () => {
  const state = stateWith([fail('disk-encryption', '2026-11-24T09:00:00Z', '2026-12-01T09:00:00Z')]);

  it('shows the collector-set title, due date and steps in the employee language', () => {
    const html = renderRemediationPage(failingRules(state, 'fr', now, 'Europe/Paris'), 'fr');
    expect(html).toContain('<html lang="fr">');
    expect(html).toContain('<h2>Disque système chiffré, protection active</h2>');
    expect(html).toContain('à corriger avant le 1 décembre');
    expect(html).toContain('Ouvrez Paramètres &gt; Confidentialité et sécurité');
  });

  it('escapes every collector text and forbids scripts', () => {
    const evil = stateWith([fail('x', '2026-11-24T09:00:00Z', null)], {
      config: { ...state.config!, remediation: { x: { title: { en: '<script>alert(1)</script>', fr: 'x' }, steps: { en: '<img src=x onerror=alert(1)>', fr: 'x' } } } },
    });
    const html = renderRemediationPage(failingRules(evil, 'en', now), 'en');
    expect(html).not.toMatch(/<script|<img/);
    expect(html).toContain("Content-Security-Policy\" content=\"default-src 'none'");
    expect(escapeHtml(`&<>"'`)).toBe('&amp;&lt;&gt;&quot;&#39;');
  });

  it('opens the page with the OS opener through exec, absolute paths only', async () => {
    expect(openCommand('linux', '/p.html')).toEqual({ file: '/usr/bin/xdg-open', args: ['/p.html'] });
    expect(openCommand('darwin', '/p.html')).toEqual({ file: '/usr/bin/open', args: ['/p.html'] });
    expect(openCommand('win32', 'C:\\p.html', { SystemRoot: 'C:\\Windows' })).toEqual({ file: 'C:\\Windows\\explorer.exe', args: ['C:\\p.html'] });
    const calls: [string, readonly string[]][] = [];
    const exec: Exec = async (file, args) => {
      calls.push([file, args]);
      return { code: 0, stdout: '', stderr: '', truncated: false, timedOut: false };
    };
    const pages = path.join(dir, 'pages');
    const r = await openRemediationPage({ dir: pages, name: '../../etc/passwd', rules: failingRules(state, 'en', now), lang: 'en', platform: 'linux', exec });
    expect(r).toEqual({ ok: true, file: path.join(pages, '.._.._etc_passwd.en.html') });
    expect(calls).toEqual([['/usr/bin/xdg-open', [path.join(pages, '.._.._etc_passwd.en.html')]]]);
    expect((await stat(path.join(pages, '.._.._etc_passwd.en.html'))).mode & 0o777).toBe(0o600);
  });
});
