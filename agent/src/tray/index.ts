import os from 'node:os';
import path from 'node:path';
import type { OsName } from '@vigie/shared';
import { exec } from '../exec';
import { AGENT_VERSION } from '../version';
import { StatusClient } from './client';
import { NotifyStore, systemNotifier } from './notify';
import { defaultSocketPath, trayDataDir } from './paths';
import { detectLang, type Lang } from './strings';
import { DEFAULT_ICONS_DIR, packagedHelperPath, refuseRoot, startTray } from './tray';

export { startStatusServer, type StatusServer, type StatusServerOptions } from './status-server';
export { StatusClient } from './client';
export { defaultSocketPath, trayDataDir } from './paths';
export type { TrayState } from './state';

export interface TrayCommandOptions {
  socketPath?: string;
  lang?: Lang;
}

export function osNameOf(platform: NodeJS.Platform): OsName | null {
  return platform === 'win32' ? 'windows' : platform === 'darwin' ? 'macos' : platform === 'linux' ? 'linux' : null;
}

/**
 * `vigie-agent tray`: runs the employee's tray until the session ends (the
 * helper exits) or a signal comes. Returns the exit code: 0 on a normal end,
 * 1 when the tray cannot run (root, no helper, no graphical session).
 */
export async function trayCommand(opts: TrayCommandOptions = {}): Promise<number> {
  const log = (message: string) => process.stderr.write(`vigie-agent tray: ${message}\n`);
  const refused = refuseRoot(process.getuid?.());
  if (refused) {
    log(refused);
    return 1;
  }
  const osName = osNameOf(process.platform);
  if (!osName) {
    log(`no tray on ${process.platform}`);
    return 1;
  }
  const pathEnv = { platform: process.platform, env: process.env, uid: process.getuid?.(), user: os.userInfo().username, home: os.homedir() };
  const socketPath = opts.socketPath ?? defaultSocketPath(pathEnv);
  const dataDir = trayDataDir(pathEnv);
  const lang = opts.lang ?? detectLang(process.env);

  let helper: string;
  try {
    helper = packagedHelperPath(process.platform);
    // systray2 runs ./traybin/<helper> from the working directory if one is there: work from its own package.
    process.chdir(path.dirname(path.dirname(helper)));
  } catch (e) {
    log((e as Error).message);
    return 1;
  }

  const client = new StatusClient({ socketPath });
  let tray: Awaited<ReturnType<typeof startTray>>;
  try {
    tray = await startTray({
      client,
      lang,
      os: osName,
      platform: process.platform,
      now: () => new Date(),
      notifier: systemNotifier({ platform: process.platform, exec, iconPath: path.join(DEFAULT_ICONS_DIR, 'action-needed.png'), log }),
      memory: new NotifyStore(path.join(dataDir, 'notifications.json'), log),
      pagesDir: path.join(dataDir, 'pages'),
      exec,
      trayVersion: AGENT_VERSION,
      log,
    });
  } catch (e) {
    client.close();
    log((e as Error).message);
    return 1;
  }

  const signalled = new Promise<'signal'>((resolve) => {
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(sig, () => resolve('signal'));
  });
  const why = await Promise.race([tray.exited.then(() => 'helper' as const), signalled]);
  await tray.stop();
  if (why === 'helper') log('the tray helper exited; the session has probably ended');
  return 0;
}
