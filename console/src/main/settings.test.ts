import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { loadSettings, normaliseCollectorUrl, normaliseFingerprint, parseSettings, saveSettings, settingsPath } from './settings';

const fp = 'DF:B3:2E:03:3E:4D:94:99:DC:7E:80:07:76:94:11:5E:24:67:6D:51:10:32:E5:AC:E4:59:B0:DC:3E:F1:EE:55';
const fpHex = fp.replace(/:/g, '').toLowerCase();

describe('settings', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'vigie-console-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('accepts https collector URLs only, without credentials, query or fragment', () => {
    expect(normaliseCollectorUrl(' https://collector.example:8443/ ')).toBe('https://collector.example:8443');
    expect(normaliseCollectorUrl('https://example.org/vigie/')).toBe('https://example.org/vigie');
    expect(normaliseCollectorUrl('http://collector.example')).toBeNull();
    expect(normaliseCollectorUrl('https://user:pw@collector.example')).toBeNull();
    expect(normaliseCollectorUrl('https://collector.example/?x=1')).toBeNull();
    expect(normaliseCollectorUrl('javascript:alert(1)')).toBeNull();
    expect(normaliseCollectorUrl('not a url')).toBeNull();
  });

  it('normalises SHA-256 fingerprints from openssl, hex or sha256/ forms', () => {
    expect(normaliseFingerprint(fp)).toBe(fpHex);
    expect(normaliseFingerprint(`SHA256 Fingerprint=${fp}`.replace(' Fingerprint', ''))).toBe(fpHex);
    expect(normaliseFingerprint(fpHex.toUpperCase())).toBe(fpHex);
    expect(normaliseFingerprint('')).toBe('');
    expect(normaliseFingerprint('abc')).toBeNull();
    expect(normaliseFingerprint(fpHex + '00')).toBeNull();
  });

  it('starts empty when there is no settings file or it is corrupt', async () => {
    expect(await loadSettings(dir)).toEqual({ collectorUrl: null, caFingerprint: null });
    await writeFile(settingsPath(dir), '{not json');
    expect(await loadSettings(dir)).toEqual({ collectorUrl: null, caFingerprint: null });
    expect(parseSettings(JSON.stringify({ collectorUrl: 'http://plain.example', caFingerprint: 'zz' }))).toEqual({ collectorUrl: null, caFingerprint: null });
  });

  it('remembers the collector URL and the pinned fingerprint across runs, in a file only the user can read', async () => {
    await saveSettings(dir, { collectorUrl: 'https://collector.example:8443', caFingerprint: fpHex });
    expect(await loadSettings(dir)).toEqual({ collectorUrl: 'https://collector.example:8443', caFingerprint: fpHex });
    expect(JSON.parse(await readFile(settingsPath(dir), 'utf8'))).toEqual({ collectorUrl: 'https://collector.example:8443', caFingerprint: fpHex });
    if (process.platform !== 'win32') expect((await stat(settingsPath(dir))).mode & 0o077).toBe(0);
  });
});
