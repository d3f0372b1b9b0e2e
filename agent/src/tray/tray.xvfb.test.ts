import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { config, fail, pass, stateWith } from './__fixtures__/state';
import { alive, ARTIFACTS, canRunXvfb, runTray, startXSession, until, type XSession } from './__fixtures__/xvfb';
import { escapeHtml } from './remediation';
import type { TrayState } from './state';
import { startStatusServer, type StatusServer } from './status-server';
import type { Lang } from './strings';
import { iconFile } from './tray';

/**
 * The tray end to end under a virtual X server: a fake agent daemon (the real
 * status server, fed a config and a status as the collector would send them)
 * with a failing rule, the real tray with systray2's real helper docked in
 * trayer, in French then in English. Checks what the helper is told, the
 * notification request, the remediation page, that the helper lives in the
 * tray host, and the icon's colour in a screenshot saved to artifacts/.
 * Skipped only when Xvfb is absent (.ci/run installs it).
 */
const describeX = canRunXvfb('tray integration test') ? describe : describe.skip;

jest.setTimeout(30_000);

const now = new Date('2026-11-24T10:00:00Z');
const failing = stateWith([fail('disk-encryption', '2026-11-24T09:00:00Z', '2026-12-01T09:00:00Z'), pass('screen-lock')], {}, '2026-11-24T09:30:00Z');
const fixed = stateWith([pass('disk-encryption'), pass('screen-lock')], { lastReportAt: '2026-11-24T10:00:00Z' }, '2026-11-24T10:00:00Z');

describeX('tray under Xvfb and trayer', () => {
  let session: XSession;
  let dir: string;
  let server: StatusServer;
  let agentState: TrayState = failing;
  let rescans = 0;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'vigie-tray-x-'));
    await mkdir(ARTIFACTS, { recursive: true });
    session = await startXSession();
    server = await startStatusServer({
      socketPath: path.join(dir, 'agent.sock'),
      getState: () => agentState,
      minRescanIntervalMs: 0,
      onRescan: async () => {
        rescans++;
        agentState = fixed;
      },
    });
  });

  afterAll(async () => {
    await server?.close();
    await session?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const run = (lang: Lang, socketPath = server.socketPath) => runTray(session, { socketPath, lang, pagesDir: path.join(dir, `pages-${lang}`), now });

  const expected = {
    fr: {
      title: 'Disque système chiffré, protection active',
      item: 'Disque système chiffré, protection active — à corriger avant le 1 décembre',
      headline: '1 point à corriger',
      tooltip: 'Vigie : 1 point à corriger',
      check: 'Vérifier maintenant',
      notify: { title: 'Vigie : action requise', body: 'Disque système chiffré, protection active : à corriger avant le 1 décembre' },
      compliant: 'Votre poste respecte la politique de sécurité',
    },
    en: {
      title: 'System disk encrypted, with protection on',
      item: 'System disk encrypted, with protection on — fix before 1 December',
      headline: '1 thing to fix',
      tooltip: 'Vigie: 1 thing to fix',
      check: 'Check again now',
      notify: { title: 'Vigie: action needed', body: 'System disk encrypted, with protection on: fix before 1 December' },
      compliant: 'Your device meets the security policy',
    },
  } as const;

  it.each(['fr', 'en'] as const)('shows a failing rule, notifies, opens its steps and rescans (%s)', async (lang) => {
    const e = expected[lang];
    agentState = failing;
    const tray = await run(lang);
    try {
      // What the helper was told: the rule's collector-set title, in the employee's language, and the amber icon.
      const items = tray.helperActions();
      const titles = items.filter((a) => a.type === 'update-item' && !a.item?.hidden).map((a) => a.item?.title);
      expect(titles).toEqual(expect.arrayContaining([e.headline, e.item, e.check]));
      expect(items.some((a) => a.type === 'update-menu' && a.menu?.tooltip === e.tooltip)).toBe(true);
      expect(tray.view().icon).toBe('action-needed');
      expect(items.find((a) => a.type === 'update-menu')?.menu?.icon).toBe(iconFile('action-needed', 'linux'));

      // The notification request.
      expect(tray.notifications()).toEqual([{ ruleId: 'disk-encryption', kind: 'new', lang, urgency: 'normal', ...e.notify }]);

      // The helper is alive and docked in the tray host; the icon in the screenshot is amber.
      expect(alive(tray.helperPid)).toBe(true);
      if (session.hasTrayer) {
        const shot = path.join(ARTIFACTS, `tray-${lang}-action-needed.png`);
        await session.screenshot(shot);
        const c = await session.iconColour(shot);
        expect(c.r).toBeGreaterThan(c.b + 60); // amber on white: red high, blue low
        expect(c.g).toBeLessThan(c.r);
      }

      // A click on the rule opens its steps, in the employee's language.
      await tray.click('rule-slot:0');
      expect(tray.opened()).toHaveLength(1);
      const [opener, [page]] = tray.opened()[0]!;
      expect(opener).toBe('/usr/bin/xdg-open');
      const html = await readFile(page!, 'utf8');
      expect(html).toContain(e.title);
      expect(html).toContain(escapeHtml(config.remediation['disk-encryption']!.steps[lang]));

      // "Check again now": the agent rescans, the rule is fixed, the icon turns green.
      const before = rescans;
      await tray.click('check-again');
      expect(rescans).toBe(before + 1);
      expect(tray.view().icon).toBe('compliant');
      expect(tray.view().headline).toBe(e.compliant);
      const last = tray.helperActions().filter((a) => a.type === 'update-menu').pop();
      expect(last?.menu?.icon).toBe(iconFile('compliant', 'linux'));
      if (session.hasTrayer) {
        const shot = path.join(ARTIFACTS, `tray-${lang}-compliant.png`);
        await session.screenshot(shot);
        const c = await session.iconColour(shot);
        expect(c.g).toBeGreaterThan(c.r); // green
      }

      // No second notice on the next poll.
      await tray.refresh();
      expect(tray.notifications()).toHaveLength(1);
    } finally {
      await tray.stop();
    }
    await until('the helper to exit', async () => !alive(tray.helperPid), 3_000);
  });

  it('shows "Agent unreachable" with the grey icon when the agent is gone', async () => {
    const tray = await run('fr', path.join(dir, 'nobody.sock'));
    try {
      expect(tray.view().icon).toBe('unknown');
      expect(tray.view().headline).toBe("Agent injoignable : l'état de conformité est inconnu");
      expect(tray.notifications()).toEqual([]);
      if (session.hasTrayer) {
        const shot = path.join(ARTIFACTS, 'tray-unreachable.png');
        await session.screenshot(shot);
        const c = await session.iconColour(shot);
        expect(Math.max(c.r, c.g, c.b) - Math.min(c.r, c.g, c.b)).toBeLessThan(30); // grey
      }
    } finally {
      await tray.stop();
    }
  });
});
