import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Exec, ExecResult } from '../exec';
import { fail, pass, stateWith } from './__fixtures__/state';
import { emptyMemory, NotifyStore, planNotifications, systemNotifier, type NotificationRequest, type NotifyMemory } from './notify';
import { trayState, type TrayState } from './state';
import type { Lang } from './strings';

const HOUR = 3600 * 1000;
const t0 = new Date('2026-11-24T10:00:00Z');
const at = (hours: number) => new Date(t0.getTime() + hours * HOUR);
const zone = 'Europe/Paris';

/** Runs the planner over a timeline, carrying the memory like the tray does, and collects every request. */
function timeline(steps: { at: Date; state: TrayState | null }[], lang: Lang = 'en', start: NotifyMemory = emptyMemory()) {
  let memory = start;
  const sent: (NotificationRequest & { at: string })[] = [];
  for (const step of steps) {
    const plan = planNotifications({ memory, state: step.state, lang, now: step.at, timeZone: zone });
    memory = plan.memory;
    sent.push(...plan.requests.map((r) => ({ ...r, at: step.at.toISOString() })));
  }
  return { sent, memory };
}

/** The status the collector would send at `now`: evaluated then, so never stale. */
const failingAt = (now: Date, findings = [fail('disk-encryption', '2026-11-24T09:00:00Z', '2026-12-01T09:00:00Z')]) =>
  stateWith(findings, {}, now.toISOString());

describe('notification planning', () => {
  it('tells once when a rule newly fails, with its title and due date in English', () => {
    const { sent } = timeline([{ at: t0, state: failingAt(t0) }]);
    expect(sent).toEqual([
      {
        ruleId: 'disk-encryption',
        kind: 'new',
        lang: 'en',
        urgency: 'normal',
        title: 'Vigie: action needed',
        body: 'System disk encrypted, with protection on: fix before 1 December',
        at: t0.toISOString(),
      },
    ]);
  });

  it('and in French', () => {
    const { sent } = timeline([{ at: t0, state: failingAt(t0) }], 'fr');
    expect(sent.map((r) => [r.title, r.body, r.lang])).toEqual([['Vigie : action requise', 'Disque système chiffré, protection active : à corriger avant le 1 décembre', 'fr']]);
  });

  it('sends at most one per rule per day, however often the tray polls', () => {
    const steps = Array.from({ length: 24 * 4 }, (_, i) => at(i / 4)).map((d) => ({ at: d, state: failingAt(d) }));
    expect(timeline(steps).sent).toHaveLength(1);
  });

  it('reminds once as the due date nears (24 h before), with the time', () => {
    // Due at t0 + 167 h: the window opens at 143 h.
    const steps = [t0, at(24), at(100), at(142.9), at(143), at(144), at(150), at(160)].map((d) => ({ at: d, state: failingAt(d) }));
    const { sent } = timeline(steps);
    expect(sent.map((r) => [r.kind, r.at, r.body])).toEqual([
      ['new', t0.toISOString(), 'System disk encrypted, with protection on: fix before 1 December'],
      ['reminder', at(143).toISOString(), 'System disk encrypted, with protection on: fix before 1 December at 10:00'],
    ]);
  });

  it('repeats daily once overdue, marked critical', () => {
    // Due at t0 + 167 h; reminded at 150 h; overdue from 167 h; the daily cap holds it to 174 h, then a day later.
    const steps = [t0, at(150), at(168), at(174), at(180), at(198), at(200)].map((d) => ({ at: d, state: failingAt(d) }));
    const { sent } = timeline(steps, 'fr');
    expect(sent.map((r) => [r.kind, r.at])).toEqual([
      ['new', t0.toISOString()],
      ['reminder', at(150).toISOString()],
      ['overdue', at(174).toISOString()],
      ['overdue', at(198).toISOString()],
    ]);
    expect(sent[2]).toMatchObject({ urgency: 'critical', title: 'Vigie : en retard', body: 'Disque système chiffré, protection active : en retard (échéance le 1 décembre)' });
  });

  it('counts a first notice inside the reminder window as the reminder too', () => {
    const usb = [fail('usb-storage', '2026-11-24T09:00:00Z', '2026-11-25T09:00:00Z', { severity: 'high' })];
    const steps = [t0, at(12), at(22)].map((d) => ({ at: d, state: failingAt(d, usb) }));
    const { sent } = timeline(steps);
    expect(sent.map((r) => [r.kind, r.body])).toEqual([['new', 'No unauthorised USB storage: fix before 25 November at 10:00']]);
  });

  it('does not notify again for the same non-conformity after a restart (memory round trip through the file)', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'vigie-notify-'));
    try {
      const store = new NotifyStore(path.join(dir, 'sub', 'notifications.json'));
      const first = planNotifications({ memory: await store.load(), state: failingAt(t0), lang: 'en', now: t0 });
      expect(first.requests).toHaveLength(1);
      await store.save(first.memory);
      expect((await stat(path.join(dir, 'sub', 'notifications.json'))).mode & 0o777).toBe(0o600);
      const again = planNotifications({ memory: await store.load(), state: failingAt(at(30)), lang: 'en', now: at(30) });
      expect(again.requests).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('starts afresh from a damaged memory file instead of failing', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'vigie-notify-'));
    try {
      const file = path.join(dir, 'notifications.json');
      await writeFile(file, '{"v": 1, "rules": {"x": "oops"}');
      const logs: string[] = [];
      expect(await new NotifyStore(file, (m) => logs.push(m)).load()).toEqual(emptyMemory());
      await writeFile(file, '{"v": 2}');
      expect(await new NotifyStore(file, (m) => logs.push(m)).load()).toEqual(emptyMemory());
      expect(logs).toHaveLength(2);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('tells about a new non-conformity of the same rule, but not within a day of the last notice', () => {
    const fixed = stateWith([pass('disk-encryption')], {}, at(2).toISOString());
    const again = (d: Date) => failingAt(d, [fail('disk-encryption', at(3).toISOString(), '2026-12-05T09:00:00Z')]);
    const { sent } = timeline([
      { at: t0, state: failingAt(t0) },
      { at: at(2), state: fixed },
      { at: at(3), state: again(at(3)) },
      { at: at(24), state: again(at(24)) },
    ]);
    expect(sent.map((r) => [r.kind, r.at, r.body])).toEqual([
      ['new', t0.toISOString(), 'System disk encrypted, with protection on: fix before 1 December'],
      ['new', at(24).toISOString(), 'System disk encrypted, with protection on: fix before 5 December'],
    ]);
  });

  it('says nothing for exempted rules, passing rules, no status, or a status more than a day old', () => {
    const exempted = stateWith([fail('disk-encryption', '2026-11-24T09:00:00Z', '2026-12-01T09:00:00Z', { exempted: true })], {}, t0.toISOString());
    const old = stateWith([fail('disk-encryption', '2026-11-20T09:00:00Z', '2026-12-01T09:00:00Z')], {}, '2026-11-22T09:00:00Z');
    const { sent } = timeline([
      { at: t0, state: exempted },
      { at: t0, state: stateWith([pass('disk-encryption')], {}, t0.toISOString()) },
      { at: t0, state: null },
      { at: t0, state: stateWith([], { status: null }) },
      { at: t0, state: old },
    ]);
    expect(sent).toEqual([]);
  });

  it('forgets a rule a week after it stopped failing', () => {
    const { memory } = timeline([
      { at: t0, state: failingAt(t0) },
      { at: at(24), state: stateWith([pass('disk-encryption')], {}, at(24).toISOString()) },
    ]);
    expect(Object.keys(memory.rules)).toEqual(['disk-encryption']);
    const later = timeline([{ at: at(24 * 8), state: stateWith([pass('disk-encryption')], {}, at(24 * 8).toISOString()) }], 'en', memory);
    expect(later.memory.rules).toEqual({});
  });
});

describe('system notifier', () => {
  const ok: ExecResult = { code: 0, stdout: '', stderr: '', truncated: false, timedOut: false };
  const request: NotificationRequest = { ruleId: 'r', kind: 'new', title: 'Vigie: action needed', body: 'It\'s "quoted" & <b>', lang: 'en', urgency: 'normal' };
  const capture = () => {
    const calls: { file: string; args: readonly string[]; env?: NodeJS.ProcessEnv }[] = [];
    const exec: Exec = async (file, args, options) => {
      calls.push({ file, args, env: options?.env });
      return ok;
    };
    return { calls, exec };
  };

  it('uses /usr/bin/notify-send on Linux, texts as separate arguments', async () => {
    const { calls, exec } = capture();
    await systemNotifier({ platform: 'linux', exec }).notify(request);
    expect(calls).toEqual([{ file: '/usr/bin/notify-send', args: ['--app-name=Vigie', '--urgency=normal', '--', request.title, request.body], env: undefined }]);
  });

  it('uses osascript on macOS, texts passed as argv (never in the script)', async () => {
    const { calls, exec } = capture();
    await systemNotifier({ platform: 'darwin', exec }).notify(request);
    expect(calls[0]?.file).toBe('/usr/bin/osascript');
    expect(calls[0]?.args.slice(-2)).toEqual([request.title, request.body]);
    expect(calls[0]?.args.slice(0, -2).join(' ')).not.toContain('quoted');
  });

  it('uses a PowerShell toast on Windows, texts in environment variables', async () => {
    const { calls, exec } = capture();
    await systemNotifier({ platform: 'win32', exec, env: { SystemRoot: 'C:\\Windows' } }).notify(request);
    expect(calls[0]?.file).toBe('C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe');
    expect(calls[0]?.args.join(' ')).not.toContain('quoted');
    expect(calls[0]?.env).toMatchObject({ VIGIE_NOTIFY_TITLE: request.title, VIGIE_NOTIFY_BODY: request.body });
  });

  it('logs once, with a hint, when notify-send is missing', async () => {
    const logs: string[] = [];
    const exec: Exec = async () => ({ ...ok, code: null, error: 'spawn /usr/bin/notify-send ENOENT' });
    const n = systemNotifier({ platform: 'linux', exec, log: (m) => logs.push(m) });
    await n.notify(request);
    await n.notify(request);
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatch(/libnotify-bin/);
  });
});

// Keeps the fixture file honest: it must parse as the tray state the socket carries.
it('the fixture state validates against the socket schema', () => {
  expect(trayState.safeParse(stateWith([fail('disk-encryption', '2026-11-24T09:00:00Z', null)])).success).toBe(true);
});
