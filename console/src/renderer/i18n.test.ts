import { dictionaries, languages, pickLanguage, placeholders, translate, type MessageKey } from './i18n';
import { apiErrorCodes } from './api';

describe('i18n', () => {
  const enKeys = Object.keys(dictionaries.en).sort();

  it('has every key in both English and French, and no extra key', () => {
    for (const lang of languages) expect(Object.keys(dictionaries[lang]).sort()).toEqual(enKeys);
  });

  it('uses the same placeholders in both languages', () => {
    for (const key of enKeys as MessageKey[]) expect([key, placeholders(dictionaries.fr[key])]).toEqual([key, placeholders(dictionaries.en[key])]);
  });

  it('translates every non-empty English text (no French left blank)', () => {
    for (const key of enKeys as MessageKey[]) {
      if (dictionaries.en[key] !== '') expect([key, dictionaries.fr[key].trim().length > 0]).toEqual([key, true]);
    }
  });

  it('has a human sentence for every API error code', () => {
    for (const code of apiErrorCodes) {
      for (const lang of languages) expect(dictionaries[lang][`error.${code}`]).toMatch(/\w{3,}/);
    }
  });

  it('fills placeholders and leaves unknown ones visible', () => {
    expect(translate('fr', 'common.pageInfo', { from: 1, to: 50, total: 120 })).toBe('1–50 sur 120');
    expect(translate('en', 'lock.body', { minutes: 15 })).toContain('{user}');
  });

  it('follows the system language unless the user chose one', () => {
    expect(pickLanguage(null, ['fr-FR', 'en-US'])).toBe('fr');
    expect(pickLanguage(null, ['de-DE', 'en-GB'])).toBe('en');
    expect(pickLanguage(null, ['de-DE'])).toBe('en');
    expect(pickLanguage('en', ['fr-CA'])).toBe('en');
    expect(pickLanguage('xx', ['fr-CA'])).toBe('fr');
  });
});
