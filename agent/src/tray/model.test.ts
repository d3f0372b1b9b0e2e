import { config, fail, pass, stateWith } from './__fixtures__/state';
import { buildTrayView, menuLines, type ModelInput } from './model';
import { detectLang, formatDate } from './strings';

const now = new Date('2026-11-24T10:00:00Z');
const base = { lang: 'en', os: 'windows', now, timeZone: 'Europe/Paris', trayVersion: '0.1.0' } as const;
const view = (input: Partial<ModelInput> & Pick<ModelInput, 'agent'>) => buildTrayView({ ...base, ...input });
const titles = (v: ReturnType<typeof buildTrayView>) => menuLines(v).map((e) => (e ? e.title : '---'));

describe('tray model: icon', () => {
  it('is green only when the collector recently evaluated the device and nothing fails', () => {
    const v = view({ agent: { kind: 'state', state: stateWith([pass('disk-encryption'), pass('screen-lock')]) } });
    expect(v.icon).toBe('compliant');
    expect(v.headline).toBe('Your device meets the security policy');
    expect(v.tooltip).toBe('Vigie: Your device meets the security policy');
    expect(v.ruleItems).toEqual([]);
  });

  it('says "Agent unreachable" plainly, grey, with nothing to click but About', () => {
    const v = view({ agent: { kind: 'unreachable', reason: 'ECONNREFUSED' } });
    expect(v.icon).toBe('unknown');
    expect(v.headline).toBe('Agent unreachable: the compliance status is unknown');
    expect(v.checkAgain.enabled).toBe(false);
    expect(v.about.children?.map((c) => c.title)).toEqual(['Vigie agent 0.1.0', 'Agent unreachable: the compliance status is unknown']);
  });

  it('says "Not reported yet" when the agent has no status, grey', () => {
    const v = view({ agent: { kind: 'state', state: stateWith([], { status: null, lastReportAt: null }) }, lang: 'fr' });
    expect(v.icon).toBe('unknown');
    expect(v.headline).toBe("Aucune remontée pour l'instant : l'état de conformité est inconnu");
    expect(v.about.children?.find((c) => c.key === 'about-last-report')?.title).toBe('Dernière remontée : jamais');
  });

  it('is amber when a rule fails before its due date, red once it is past', () => {
    const failing = [fail('disk-encryption', '2026-11-24T09:00:00Z', '2026-12-01T09:00:00Z'), pass('screen-lock')];
    expect(view({ agent: { kind: 'state', state: stateWith(failing) } }).icon).toBe('action-needed');
    const later = new Date('2026-12-01T09:00:00Z');
    const v = view({ agent: { kind: 'state', state: stateWith(failing, {}, '2026-12-01T08:00:00Z') }, now: later });
    expect(v.icon).toBe('overdue');
    expect(v.ruleItems[0]?.title).toBe('System disk encrypted, with protection on — overdue since 1 December');
  });

  it('does not count exempted failures, and says how many there are', () => {
    const v = view({ agent: { kind: 'state', state: stateWith([fail('disk-encryption', '2026-11-20T09:00:00Z', '2026-11-21T09:00:00Z', { exempted: true }), pass('screen-lock')]) } });
    expect(v.icon).toBe('compliant');
    expect(v.notes).toEqual(['1 exemption granted by IT']);
  });

  it('is grey, not green, when the last evaluation is more than a day old', () => {
    const v = view({ agent: { kind: 'state', state: stateWith([pass('disk-encryption')], { connected: false }, '2026-11-22T09:00:00Z') } });
    expect(v.icon).toBe('unknown');
    expect(v.headline).toBe('Status out of date (last checked 22 November at 10:00)');
  });

  it('keeps showing failures from an old status, with a note that it is out of date', () => {
    const v = view({ agent: { kind: 'state', state: stateWith([fail('disk-encryption', '2026-11-20T09:00:00Z', '2026-12-01T09:00:00Z')], {}, '2026-11-20T09:00:00Z') } });
    expect(v.icon).toBe('action-needed');
    expect(v.notes[0]).toMatch(/^Status out of date/);
  });

  it('is grey when no check could be measured (nothing passed, nothing failed)', () => {
    const unknown = { ...pass('disk-encryption'), status: 'unknown' as const };
    const v = view({ agent: { kind: 'state', state: stateWith([unknown]) } });
    expect(v.icon).toBe('unknown');
    expect(v.notes).toEqual(['1 check could not be measured']);
    expect(view({ agent: { kind: 'state', state: stateWith([]) } }).icon).toBe('unknown');
  });

  it('notes when the agent is offline but the status is recent', () => {
    const v = view({ agent: { kind: 'state', state: stateWith([pass('disk-encryption')], { connected: false }) } });
    expect(v.icon).toBe('compliant');
    expect(v.notes).toEqual(['The agent is offline; this is the last known status']);
  });
});

describe('tray model: menu', () => {
  const failing = stateWith([
    fail('screen-lock', '2026-11-24T09:00:00Z', '2026-11-27T09:00:00Z', { severity: 'high' }),
    fail('disk-encryption', '2026-11-24T09:00:00Z', '2026-12-01T09:00:00Z'),
    pass('usb-storage'),
  ]);

  it('lists each failing rule with its collector-set title and due date, most urgent first (English)', () => {
    expect(titles(view({ agent: { kind: 'state', state: failing } }))).toEqual([
      '2 things to fix',
      'Screen locks with a password within 15 minutes of inactivity — fix before 27 November',
      'System disk encrypted, with protection on — fix before 1 December',
      '---',
      'Check again now',
      'About',
    ]);
  });

  it('says the same in French', () => {
    const v = view({ agent: { kind: 'state', state: failing }, lang: 'fr' });
    expect(titles(v)).toEqual([
      '2 points à corriger',
      "Verrouillage de l'écran par mot de passe après 15 minutes d'inactivité au plus — à corriger avant le 27 novembre",
      'Disque système chiffré, protection active — à corriger avant le 1 décembre',
      '---',
      'Vérifier maintenant',
      'À propos',
    ]);
    expect(v.ruleItems[0]?.tooltip).toBe('Voir comment corriger');
    expect(v.failing[1]?.steps).toBe(config.remediation['disk-encryption']?.steps.fr);
  });

  it('opens the remediation of the rule clicked', () => {
    const v = view({ agent: { kind: 'state', state: failing } });
    expect(v.ruleItems.map((i) => i.action)).toEqual([
      { kind: 'open-remediation', ruleId: 'screen-lock' },
      { kind: 'open-remediation', ruleId: 'disk-encryption' },
    ]);
  });

  it('falls back to the rule id when the collector sent no title (never a text of its own)', () => {
    const state = stateWith([fail('new-rule', '2026-11-24T09:00:00Z', null)]);
    const v = view({ agent: { kind: 'state', state } });
    expect(v.ruleItems[0]?.title).toBe('new-rule — fix as soon as possible');
    expect(v.failing[0]?.steps).toBeNull();
  });

  it('shows About with the agent version, last report time, collector and connection', () => {
    const v = view({ agent: { kind: 'state', state: failing } });
    expect(v.about.children?.map((c) => [c.title, c.enabled])).toEqual([
      ['Vigie agent 0.1.0', false],
      ['Last report: 24 November at 10:00', false],
      ['Server: wss://vigie.example.fr:8443', false],
      ['Connected to the server', false],
    ]);
  });

  it('caps the rule items and offers the rest in one "more" item', () => {
    const many = stateWith(Array.from({ length: 5 }, (_, i) => fail(`r${i}`, '2026-11-24T09:00:00Z', `2026-11-2${5 + i}T09:00:00Z`)));
    const v = view({ agent: { kind: 'state', state: many }, maxRuleItems: 3 });
    expect(v.ruleItems.map((i) => i.key)).toEqual(['rule:r0', 'rule:r1', 'rule:r2']);
    expect(v.more).toMatchObject({ title: '2 more…', action: { kind: 'open-all' } });
    expect(v.failing).toHaveLength(5);
  });

  it('shows a check in progress, and a failed one', () => {
    const checking = view({ agent: { kind: 'state', state: failing }, rescanning: true, lang: 'fr' });
    expect([checking.checkAgain.title, checking.checkAgain.enabled]).toEqual(['Vérification…', false]);
    const failed = view({ agent: { kind: 'state', state: failing }, rescanFailed: true });
    expect([failed.checkAgain.title, failed.checkAgain.enabled, failed.checkAgain.tooltip]).toEqual(['Check again now', true, 'The check could not run; try again later']);
  });

  it('does not read inherited properties as rule texts', () => {
    const v = view({ agent: { kind: 'state', state: stateWith([fail('constructor', '2026-11-24T09:00:00Z', null)]) } });
    expect(v.ruleItems[0]?.title).toBe('constructor — fix as soon as possible');
  });
});

describe('tray language and dates', () => {
  it('takes the language from LC_ALL, LC_MESSAGES, LANG, then Intl', () => {
    expect(detectLang({ LANG: 'fr_FR.UTF-8' }, 'en-US')).toBe('fr');
    expect(detectLang({ LC_ALL: 'en_GB.UTF-8', LANG: 'fr_FR.UTF-8' }, 'fr-FR')).toBe('en');
    expect(detectLang({ LC_ALL: 'C', LANG: 'fr_CA.UTF-8' }, 'en')).toBe('fr');
    expect(detectLang({ LANGUAGE: 'fr:en', LANG: 'en_US.UTF-8' }, 'en')).toBe('fr');
    expect(detectLang({}, 'fr-FR')).toBe('fr');
    expect(detectLang({}, 'de-DE')).toBe('en');
    expect(detectLang({}, undefined)).toBe('en');
  });

  it('formats due dates in the locale, with the year only when it is not this year', () => {
    const due = new Date('2026-12-01T09:00:00Z');
    expect(formatDate(due, 'en', { timeZone: 'Europe/Paris', now })).toBe('1 December');
    expect(formatDate(due, 'fr', { timeZone: 'Europe/Paris', now })).toBe('1 décembre');
    expect(formatDate(new Date('2027-01-15T09:00:00Z'), 'fr', { timeZone: 'Europe/Paris', now })).toBe('15 janvier 2027');
    expect(formatDate(due, 'fr', { timeZone: 'Europe/Paris', now, withTime: true })).toBe('1 décembre à 10:00');
  });
});
