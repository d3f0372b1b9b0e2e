import fs from 'node:fs';
import path from 'node:path';
import { CONSOLELOCK_GUID, parsePowerSetting, VIDEOIDLE_GUID } from './parse-powercfg';
import { findRegValue, parseRegQuery, regNumber } from './parse-reg-query';
import { parseConsoleUser } from './parse-windows-user';

const fixture = (name: string) => fs.readFileSync(path.join(__dirname, '../../../test/fixtures/screenlock/windows', name), 'utf8');

describe('reg query', () => {
  it('reads a whole key with CRLF, an empty REG_SZ and subkey lines', () => {
    const values = parseRegQuery(fixture('reg-desktop-no-screensaver.txt'));
    expect(values).toHaveLength(45);
    expect(values.find((v) => v.name === 'ScreenSaveActive')).toEqual({
      key: 'HKEY_CURRENT_USER\\Control Panel\\Desktop',
      name: 'ScreenSaveActive',
      type: 'REG_SZ',
      data: '1',
    });
    expect(values.find((v) => v.name === 'WallPaper')).toMatchObject({ type: 'REG_SZ', data: '' });
    expect(findRegValue(values, '\\Control Panel\\Desktop', 'ScreenSaveTimeOut')).toBeUndefined();
  });

  it('reads DWORDs in hex and REG_SZ in decimal', () => {
    const policy = parseRegQuery(fixture('reg-policy-inactivity-600.txt'));
    expect(regNumber(findRegValue(policy, '\\Policies\\System', 'InactivityTimeoutSecs'))).toBe(600);
    const user = parseRegQuery(fixture('reg-user-screensavetimeout-300.txt'));
    expect(regNumber(findRegValue(user, '\\control panel\\desktop', 'screensavetimeout'))).toBe(300);
  });

  it('a missing value prints only an error, in any language: no values', () => {
    for (const lang of ['en', 'fr', 'de']) {
      expect(parseRegQuery(fixture(`reg-missing-value.${lang}.stderr.txt`))).toEqual([]);
    }
  });
});

describe('powercfg', () => {
  it('English VIDEOIDLE', () => {
    expect(parsePowerSetting(fixture('powercfg-videoidle.en.txt'), VIDEOIDLE_GUID)).toEqual({ ac: 900, dc: 900 });
  });

  it('French VIDEOIDLE, also when the OEM code page mangles the accents', () => {
    const text = fixture('powercfg-videoidle.fr.txt');
    expect(parsePowerSetting(text, VIDEOIDLE_GUID)).toEqual({ ac: 600, dc: 300 });
    const mangled = text.replace(/[éèÉ\u00a0]/g, '\ufffd');
    expect(parsePowerSetting(mangled, VIDEOIDLE_GUID)).toEqual({ ac: 600, dc: 300 });
    const otherBuild = text
      .replace("Index actuel du paramètre de courant alternatif\u00a0:", "Index des paramètres d'alimentation en courant alternatif actuels :")
      .replace('Index actuel du paramètre de courant continu\u00a0:', "Index des paramètres d'alimentation en courant continu actuels :");
    expect(parsePowerSetting(otherBuild, VIDEOIDLE_GUID)).toEqual({ ac: 600, dc: 300 });
  });

  it('German VIDEOIDLE, both label generations', () => {
    const text = fixture('powercfg-videoidle.de.txt');
    expect(parsePowerSetting(text, VIDEOIDLE_GUID)).toEqual({ ac: 0, dc: 300 });
    const newer = text
      .replace('Index der aktuellen Wechselstromeinstellung:', 'Aktueller Wechselstrom-Einstellungsindex:')
      .replace('Index der aktuellen Gleichstromeinstellung:', 'Aktueller Gleichstrom-Einstellungsindex:');
    expect(parsePowerSetting(newer, VIDEOIDLE_GUID)).toEqual({ ac: 0, dc: 300 });
  });

  it('CONSOLELOCK, past its possible-setting lines', () => {
    expect(parsePowerSetting(fixture('powercfg-consolelock.en.txt'), CONSOLELOCK_GUID)).toEqual({ ac: 1, dc: 1 });
  });

  it('does not read one setting as another in a full dump', () => {
    const both = fixture('powercfg-consolelock.en.txt') + fixture('powercfg-videoidle.en.txt');
    expect(parsePowerSetting(both, CONSOLELOCK_GUID)).toEqual({ ac: 1, dc: 1 });
    expect(parsePowerSetting(both, VIDEOIDLE_GUID)).toEqual({ ac: 900, dc: 900 });
    expect(parsePowerSetting(fixture('powercfg-videoidle.en.txt'), CONSOLELOCK_GUID)).toBeNull();
  });

  it('an error message is no value', () => {
    expect(parsePowerSetting('Invalid Parameters -- try "/?" for help', VIDEOIDLE_GUID)).toBeNull();
  });
});

describe('console user', () => {
  it('reads user and SID', () => {
    expect(parseConsoleUser(fixture('console-user.json'))).toEqual({
      user: 'CONTOSO\\alice',
      sid: 'S-1-5-21-00000000-1518580609-3671465160-1630',
    });
    expect(parseConsoleUser(fixture('console-user-nobody.json'))).toEqual({ user: null, sid: null });
  });

  it('drops anything that is not a SID, and rejects non-JSON', () => {
    expect(parseConsoleUser('{"user":"a","sid":"S-1-5-21-1\\\\..\\\\x"}')).toEqual({ user: 'a', sid: null });
    expect(parseConsoleUser('Get-CimInstance : Access denied')).toBeNull();
  });
});
