/**
 * The whole tray path, process by process, under a virtual X server: a real
 * collector (WSS, SQLite) evaluates a real agent daemon's report (the system
 * volume is not encrypted), the daemon serves the result on its real tray
 * socket in a temp dir, and the real tray process (systray2's helper docked in
 * trayer, DISPLAY given to it explicitly) reads it. Run twice, with LANG
 * fr_FR.UTF-8 then en_GB.UTF-8, it must pick the language from the locale and
 * tell the helper, and ask for a notification, in that language with the
 * collector's texts and due date. A screenshot of each run goes to
 * artifacts/tray-e2e-<lang>.png and the docked icon must be amber; once the
 * volume is encrypted, "Check again now" makes the daemon rescan and report,
 * and the icon turns green.
 * Skipped only when Xvfb is absent (.ci/run installs it).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { Facts } from '@vigie/shared';
import { Daemon } from '../../agent/src/daemon/daemon';
import { AgentStateStore } from '../../agent/src/state/state';
import { Outbox } from '../../agent/src/transport/outbox';
import { alive, ARTIFACTS, canRunXvfb, runTray, startXSession, until, type XSession } from '../../agent/src/tray/__fixtures__/xvfb';
import { StatusClient } from '../../agent/src/tray/client';
import { escapeHtml } from '../../agent/src/tray/remediation';
import { serveTray, TrayStatusKeeper, type TrayService } from '../../agent/src/tray/serve';
import { iconFile } from '../../agent/src/tray/tray';
import { sampleFacts, unencrypted } from '../../collector/src/testing/fixtures';
import { startTestCollector, type TestCollector } from '../../collector/src/testing/harness';

const describeX = canRunXvfb('tray e2e under Xvfb') ? describe : describe.skip;

jest.setTimeout(30_000);

const logger = pino({ level: 'silent' });

// What the employee must read, word for word, from the default policy's texts
// (shared/policies/issp-default.yaml) and the tray's strings. The collector's
// test clock is 2 March 2026, and the rule's grace is 7 days.
const expected = {
  fr: {
    locale: 'fr_FR.UTF-8',
    item: 'Disque système chiffré, protection active — à corriger avant le 9 mars',
    headline: '1 point à corriger',
    tooltip: 'Vigie : 1 point à corriger',
    check: 'Vérifier maintenant',
    notify: { title: 'Vigie : action requise', body: 'Disque système chiffré, protection active : à corriger avant le 9 mars' },
    steps: /Le chiffrement complet du disque \(LUKS\) se choisit à l'installation/,
  },
  en: {
    locale: 'en_GB.UTF-8',
    item: 'System disk encrypted, with protection on — fix before 9 March',
    headline: '1 thing to fix',
    tooltip: 'Vigie: 1 thing to fix',
    check: 'Check again now',
    notify: { title: 'Vigie: action needed', body: 'System disk encrypted, with protection on: fix before 9 March' },
    steps: /Full-disk encryption \(LUKS\) is chosen when the system is installed/,
  },
} as const;

describeX('the tray process shows what the collector evaluated, under Xvfb and trayer', () => {
  let t: TestCollector;
  let session: XSession | undefined;
  let tray: TrayService | undefined;
  let stopDaemon: (() => Promise<void>) | undefined;
  let client: StatusClient | undefined;
  let socketPath: string;
  let encrypted = false;
  let scans = 0;
  const dirs: string[] = [];

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    // The X session and the collector do not depend on each other: start them together.
    const [s, c] = await Promise.all([startXSession(), startTestCollector()]);
    session = s;
    t = c;
    const { deviceId, token, agent } = await t.enrol('machine-tray-x');
    agent.close();
    const stateDir = mkdtempSync(join(tmpdir(), 'vigie-trayx-agent-'));
    const socketDir = mkdtempSync(join(tmpdir(), 'vigie-trayx-sock-'));
    dirs.push(stateDir, socketDir);
    socketPath = join(socketDir, 'tray.sock');
    const store = new AgentStateStore(stateDir);
    await store.init();
    await store.writeEnrolment({ server: t.collector.url.replace(/^https/, 'wss'), deviceId, org: 'acme', token, caPem: t.collector.caCertPem });
    const keeper = await TrayStatusKeeper.load(stateDir, logger);
    const daemon = await Daemon.create({
      store,
      outbox: await Outbox.open(store.outboxDir),
      enrolment: (await store.readEnrolment())!,
      // The system volume is not encrypted (disk-encryption fails) until the test encrypts it.
      scan: async (): Promise<Facts> => {
        scans++;
        return encrypted ? sampleFacts({}, { machineId: 'machine-tray-x' }) : sampleFacts({ encryption: unencrypted }, { machineId: 'machine-tray-x' });
      },
      logger,
      os: 'linux',
      observer: keeper,
      client: { backoff: { baseMs: 100, capMs: 500 } },
    });
    const uid = process.getuid?.();
    tray = await serveTray({
      keeper,
      daemon,
      agentVersion: '0.1.0-test',
      collector: t.collector.url,
      socketPath,
      findUser: async () => ({ uid, name: 'tester' }),
      platform: process.platform,
      env: {},
      uid,
      log: logger,
    });
    expect(tray.socketPath).toBe(socketPath);
    const abort = new AbortController();
    const running = daemon.run(abort.signal);
    stopDaemon = async () => {
      abort.abort();
      await running;
    };

    // The tray starts only once the daemon has reported and the collector answered, so each run sees the failing rule at once.
    client = new StatusClient({ socketPath });
    await until(
      'the daemon to serve the failing rule',
      async () => {
        const r = await client!.status();
        return r.ok && r.value.lastAckAt !== null && r.value.status?.findings.some((f) => f.ruleId === 'disk-encryption' && f.status === 'fail');
      },
      15_000,
    );
  });

  afterAll(async () => {
    client?.close();
    await stopDaemon?.();
    await tray?.close();
    await t?.stop();
    await session?.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it.each(['fr', 'en'] as const)('takes the language from LANG and shows the failing rule, its notice and steps in it (%s)', async (lang) => {
    const e = expected[lang];
    const run = await runTray(session!, { socketPath, lang: 'env', env: { LANG: e.locale }, pagesDir: join(dirs[0]!, `pages-${lang}`), now: t.clock.now });
    try {
      expect(run.lang).toBe(lang);

      // What the helper was told: the collector's title with its due date, in the locale's language, and the amber icon.
      const actions = run.helperActions();
      const titles = actions.filter((a) => a.type === 'update-item' && !a.item?.hidden).map((a) => a.item?.title);
      expect(titles).toEqual(expect.arrayContaining([e.headline, e.item, e.check]));
      const menus = actions.filter((a) => a.type === 'update-menu');
      expect(menus.at(-1)?.menu).toMatchObject({ tooltip: e.tooltip, icon: iconFile('action-needed', 'linux') });
      expect(run.view().failing.map((f) => f.ruleId)).toEqual(['disk-encryption']);

      // The notification request: one, for the new failure, in the locale's language.
      expect(run.notifications()).toEqual([{ ruleId: 'disk-encryption', kind: 'new', lang, urgency: 'normal', ...e.notify }]);

      // The helper lives, docked in trayer; the screenshot shows an amber icon.
      expect(alive(run.helperPid)).toBe(true);
      if (session!.hasTrayer) {
        const shot = join(ARTIFACTS, `tray-e2e-${lang}.png`);
        await session!.screenshot(shot);
        const c = await session!.iconColour(shot);
        expect(c.r).toBeGreaterThan(c.b + 60); // amber on white: red high, blue low
        expect(c.g).toBeLessThan(c.r);
      }

      // The rule's item opens the collector's Linux steps, in the locale's language.
      await run.click('rule-slot:0');
      expect(run.opened()).toHaveLength(1);
      const page = run.opened()[0]![1][0]!;
      const html = readFileSync(page, 'utf8');
      const steps = run.view().failing[0]?.steps ?? '';
      expect(steps).toMatch(e.steps);
      expect(html).toContain(escapeHtml(steps));
    } finally {
      await run.stop();
    }
    await until('the helper to exit', async () => !alive(run.helperPid), 3_000);
  });

  it('turns green after "Check again now" once the volume is encrypted', async () => {
    const run = await runTray(session!, { socketPath, lang: 'en', pagesDir: join(dirs[0]!, 'pages-check'), now: t.clock.now });
    try {
      expect(run.view().icon).toBe('action-needed');
      encrypted = true;
      const scansBefore = scans;
      t.clock.now = new Date(t.clock.now.getTime() + 60_000);
      await run.click('check-again');
      // The rescan's report goes to the collector and its verdict comes back over WSS: poll the tray until it shows it.
      await until(
        'the tray to show the new verdict',
        async () => {
          await run.refresh();
          return run.view().icon === 'compliant';
        },
        15_000,
      );
      expect(scans).toBeGreaterThan(scansBefore);
      expect(run.view().headline).toBe('Your device meets the security policy');
      expect(run.helperActions().filter((a) => a.type === 'update-menu').at(-1)?.menu?.icon).toBe(iconFile('compliant', 'linux'));
      if (session!.hasTrayer) {
        const shot = join(ARTIFACTS, 'tray-e2e-compliant.png');
        await session!.screenshot(shot);
        const c = await session!.iconColour(shot);
        expect(c.g).toBeGreaterThan(c.r); // green
      }
    } finally {
      await run.stop();
    }
  });
});
