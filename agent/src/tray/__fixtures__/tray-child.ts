import path from 'node:path';
import readline from 'node:readline';
import type { Exec } from '../../exec';
import { StatusClient } from '../client';
import { emptyMemory, type NotifyMemory } from '../notify';
import { detectLang, type Lang } from '../strings';
import { startTray } from '../tray';

/**
 * The tray as its own process, for the Xvfb test: the real tray and helper,
 * with the notifier and the opener recorded instead of run. It reports on
 * stdout, one JSON event per line, and takes commands on stdin
 * (`{"cmd":"click","key":...}`, `{"cmd":"refresh"}`, `{"cmd":"stop"}`).
 * The language `env` means: from the OS locale, as `vigie-agent tray` finds it.
 */
const emit = (event: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(event)}\n`);

async function main(): Promise<void> {
  const [socketPath, langArg, pagesDir, nowIso] = process.argv.slice(2) as [string, Lang | 'env', string, string];
  const lang = langArg === 'env' ? detectLang(process.env) : langArg;
  let memory: NotifyMemory = emptyMemory();
  const exec: Exec = async (file, args) => {
    emit({ event: 'opened', file, args });
    return { code: 0, stdout: '', stderr: '', truncated: false, timedOut: false };
  };
  const tray = await startTray({
    client: new StatusClient({ socketPath, connectTimeoutMs: 500 }),
    lang,
    os: 'linux',
    platform: 'linux',
    now: () => new Date(nowIso),
    timeZone: 'Europe/Paris',
    notifier: {
      notify: async (request) => {
        emit({ event: 'notify', request });
      },
    },
    memory: {
      load: async () => memory,
      save: async (m) => {
        memory = m;
      },
    },
    pagesDir: path.resolve(pagesDir),
    exec,
    trayVersion: '0.1.0',
    log: (message) => emit({ event: 'log', message }),
    pollIntervalMs: 60_000,
    onHelperAction: (action) => emit({ event: 'helper', action }),
    onRender: (view) => emit({ event: 'view', view }),
  });
  emit({ event: 'ready', helperPid: tray.helperPid(), lang });
  const rl = readline.createInterface({ input: process.stdin });
  rl.on('line', (line) => {
    const command = JSON.parse(line) as { cmd: 'click' | 'refresh' | 'stop'; key?: string };
    const run = command.cmd === 'click' ? tray.click(command.key ?? '') : command.cmd === 'refresh' ? tray.refresh() : tray.stop();
    void run.then(() => {
      emit({ event: 'done', cmd: command.cmd });
      if (command.cmd === 'stop') process.exit(0);
    });
  });
}

main().catch((e: Error) => {
  emit({ event: 'error', message: e.message });
  process.exit(1);
});
