import { loadDefaultRules } from './service';
import { Normaliser, compareVersions, productsOnDevice, ruleErrors, unsafePattern, type CatalogRule, type RawSoftware } from './normalise';

const rules: CatalogRule[] = loadDefaultRules().map((r, i) => ({ ...r, id: i + 1 }));
const normaliser = new Normaliser(rules, 1);
const n = (name: string, version: string | null, publisher: string | null, os: 'windows' | 'macos' | 'linux' | null = 'windows') => normaliser.normalise({ name, version, publisher }, os);

describe('the default software dictionary', () => {
  it('maps Windows Uninstall names of Microsoft 365 in any language and publisher spelling to one product', () => {
    expect(n('Microsoft 365 Apps for enterprise - fr-fr', '16.0.17928.20156', 'Microsoft Corporation')).toMatchObject({ product: 'Microsoft 365 Apps', ignored: false });
    expect(n('Microsoft 365 Apps for enterprise - en-us', '16.0.17928.20156', 'Microsoft Corp.')).toMatchObject({ product: 'Microsoft 365 Apps' });
    expect(n('Microsoft 365 - de-de', '16.0.18025.20160', 'Microsoft Corporation')).toMatchObject({ product: 'Microsoft 365 Apps' });
    // A look-alike from another publisher is not Microsoft's product.
    expect(n('Microsoft 365 Apps for enterprise - en-us', '1.0', 'Totally Legit Software')).toMatchObject({ product: 'Microsoft 365 Apps for enterprise - en-us', ruleId: null });
    // macOS app bundles carry no publisher: the rule is for macOS only.
    expect(n('Microsoft Word', '16.89', null, 'macos')).toMatchObject({ product: 'Microsoft 365 Apps' });
    expect(n('Microsoft Word', '16.89', null, 'windows').ruleId).toBeNull();
  });

  it('normalises the version of Office and JetBrains products from the name when the raw version is a build', () => {
    expect(n('Microsoft Office Professional Plus 2019 - en-us', '16.0.10417.20012', 'Microsoft Corporation')).toEqual({ product: 'Microsoft Office Professional Plus', version: '2019', ignored: false, ruleId: expect.any(Number) });
    expect(n('IntelliJ IDEA 2024.3', '243.21565.193', 'JetBrains s.r.o.')).toMatchObject({ product: 'JetBrains IntelliJ IDEA Ultimate', version: '2024.3' });
    expect(n('IntelliJ IDEA Ultimate', '2024.3.1', null, 'macos')).toMatchObject({ product: 'JetBrains IntelliJ IDEA Ultimate', version: '2024.3' });
    expect(n('JetBrains IntelliJ IDEA Community Edition', '2024.2.4', 'JetBrains s.r.o.')).toMatchObject({ product: 'JetBrains IntelliJ IDEA Community', version: '2024.2' });
    expect(n('IntelliJ IDEA CE', '2023.3.8', null, 'macos')).toMatchObject({ product: 'JetBrains IntelliJ IDEA Community' });
  });

  it('tells Acrobat Reader from Acrobat Pro, whatever the suffix', () => {
    expect(n('Adobe Acrobat (64-bit)', '24.003.20112', 'Adobe')).toMatchObject({ product: 'Adobe Acrobat Pro' });
    expect(n('Adobe Acrobat DC (64-bit)', '23.006.20360', 'Adobe Systems Incorporated')).toMatchObject({ product: 'Adobe Acrobat Pro' });
    expect(n('Adobe Acrobat Reader DC', '23.008.20470', 'Adobe Systems Incorporated')).toMatchObject({ product: 'Adobe Acrobat Reader' });
    expect(n('Adobe Acrobat Reader - Français', '24.002.20933', 'Adobe')).toMatchObject({ product: 'Adobe Acrobat Reader' });
  });

  it('ignores runtimes, updates and drivers', () => {
    expect(n('Microsoft Visual C++ 2015-2022 Redistributable (x64) - 14.38.33130', '14.38.33130.0', 'Microsoft Corporation').ignored).toBe(true);
    expect(n('Microsoft .NET Runtime - 8.0.8 (x64)', '64.32.19341', 'Microsoft Corporation').ignored).toBe(true);
    expect(n('Intel(R) Wireless Bluetooth(R)', '23.60.0.1', 'Intel Corporation').ignored).toBe(true);
    expect(n('Google Chrome', '131.0.6778.86', 'Google LLC').ignored).toBe(false);
  });

  it('counts a product once per device across versions, copies and publisher spellings, keeping the highest version', () => {
    const inventory: RawSoftware[] = [
      { name: 'Mozilla Firefox (x64 fr)', version: '132.0.2', publisher: 'Mozilla' },
      { name: 'Mozilla Firefox (x64 en-US)', version: '133.0', publisher: 'Mozilla Corporation' },
      { name: 'Microsoft 365 Apps for enterprise - fr-fr', version: '16.0.17928.20156', publisher: 'Microsoft Corporation' },
      { name: 'Microsoft 365 Apps for enterprise - en-us', version: '16.0.17928.20156', publisher: 'Microsoft Corp.' },
      { name: 'IntelliJ IDEA 2023.3', version: '233.11799.241', publisher: 'JetBrains s.r.o.' },
      { name: 'IntelliJ IDEA 2024.3', version: '243.21565.193', publisher: 'JetBrains s.r.o.' },
      { name: '7-Zip 23.01 (x64)', version: '23.01', publisher: 'Igor Pavlov' },
      { name: 'Microsoft Visual C++ 2015-2022 Redistributable (x64) - 14.38.33130', version: '14.38.33130.0', publisher: 'Microsoft Corporation' },
      { name: 'Some  In-House   Tool ', version: '1.0', publisher: 'ACME' },
      { name: 'Some In-House Tool', version: '1.2', publisher: 'ACME SAS' },
    ];
    const products = productsOnDevice(normaliser, inventory, 'windows');
    expect([...products.keys()].sort()).toEqual(['7-Zip', 'JetBrains IntelliJ IDEA Ultimate', 'Microsoft 365 Apps', 'Mozilla Firefox', 'Some In-House Tool']);
    expect(products.get('Mozilla Firefox')?.version).toBe('133.0');
    expect(products.get('JetBrains IntelliJ IDEA Ultimate')?.version).toBe('2024.3');
    expect(products.get('Some In-House Tool')?.version).toBe('1.2');
  });
});

describe('rules', () => {
  const rule = (over: Partial<CatalogRule>): CatalogRule => ({ id: 1, position: 10, namePattern: '.', publisherPattern: null, os: null, product: 'X', versionPattern: null, ignore: false, ...over });

  it('applies the first matching rule by position, not by id', () => {
    const engine = new Normaliser([rule({ id: 1, position: 20, namePattern: '^Slack', product: 'Slack (late)' }), rule({ id: 2, position: 10, namePattern: '^slack', product: 'Slack' })], 3);
    expect(engine.normalise({ name: 'Slack (Machine - MSI)', version: '4.41', publisher: 'Slack Technologies Inc.' }, 'windows')).toMatchObject({ product: 'Slack', ruleId: 2 });
    expect(engine.catalogVersion).toBe(3);
  });

  it('reports a bad regular expression and a version pattern without a group', () => {
    expect(ruleErrors({ namePattern: '(unclosed', versionPattern: '\\d+' })).toEqual([
      { path: 'namePattern', message: expect.stringContaining('Invalid regular expression') },
      { path: 'versionPattern', message: 'needs one capture group: the normalised version' },
    ]);
    expect(ruleErrors({ namePattern: '^ok', versionPattern: '(\\d+)' })).toEqual([]);
  });

  it('compares versions numerically', () => {
    expect(compareVersions('10.2', '9.9')).toBeGreaterThan(0);
    expect(compareVersions('2024.3', '2024.10')).toBeLessThan(0);
    expect(compareVersions(null, '1')).toBeLessThan(0);
  });
});

describe('catalog pattern safety (user-supplied regexes run on the main thread)', () => {
  it('refuses the classic catastrophic-backtracking patterns, backreferences and lookarounds', () => {
    for (const evil of ['^(a+)+$', '(a*)*b', '(a|aa)+$', '(x+x+)+y', '^(\\w+\\s?)*$', '(.*a){12}', '((ab)?c?)+', '(a|a)*']) {
      expect(unsafePattern(evil)).toMatch(/nested quantifiers/);
      expect(ruleErrors({ namePattern: evil })).toEqual([{ path: 'namePattern', message: expect.stringContaining('nested quantifiers') }]);
    }
    expect(unsafePattern('^(a)\\1$')).toMatch(/backreferences/);
    expect(unsafePattern('(?<x>a)\\k<x>')).toMatch(/backreferences/);
    for (const look of ['^(?=a)', 'a(?!b)', '(?<=a)b', '(?<!a)b']) expect(unsafePattern(look)).toMatch(/lookarounds/);
    expect(unsafePattern('\\w*\\w*\\w*\\d')).toMatch(/repeating quantifiers/);
    expect(unsafePattern('a'.repeat(201))).toMatch(/longer than 200/);
    expect(ruleErrors({ namePattern: '^Foo', publisherPattern: '(a+)+', versionPattern: '(\\d+)(?=x)' }).map((e) => e.path)).toEqual(['publisherPattern', 'versionPattern']);
  });

  it('accepts ordinary product patterns and every shipped default rule', () => {
    for (const ok of ['^Microsoft 365 Apps', '^IntelliJ IDEA( Ultimate)?', 'Acrobat (Pro|Reader)', '^(?:JetBrains )?Rider', '^Notepad\\+\\+', '\\(KB\\d{6,}\\)', '^(\\d+\\.\\d+)', '[(a+)+]', '(?<edition>Pro|Std)', 'a{2}']) expect(unsafePattern(ok)).toBeNull();
    expect(rules.length).toBeGreaterThan(20);
    for (const r of rules) expect(ruleErrors(r)).toEqual([]);
  });

  it('skips an unsafe rule already in the catalog and matches only the first 256 characters of a name', () => {
    const stored: CatalogRule[] = [
      { id: 1, position: 1, namePattern: '^(a+)+$', publisherPattern: null, os: null, product: 'Evil', versionPattern: null, ignore: false },
      { id: 2, position: 2, namePattern: 'tail$', publisherPattern: null, os: null, product: 'Tail', versionPattern: null, ignore: false },
    ];
    const guarded = new Normaliser(stored, 7);
    const started = Date.now();
    expect(guarded.normalise({ name: `${'a'.repeat(40)}!`, version: null, publisher: null }, null)).toMatchObject({ ruleId: null });
    expect(Date.now() - started).toBeLessThan(1000);
    expect(guarded.normalise({ name: 'short tail', version: null, publisher: null }, null)).toMatchObject({ product: 'Tail' });
    expect(guarded.normalise({ name: `${'x'.repeat(300)} tail`, version: null, publisher: null }, null)).toMatchObject({ ruleId: null });
  });
});
