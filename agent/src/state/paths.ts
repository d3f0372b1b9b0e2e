import os from 'node:os';
import path from 'node:path';

export interface StateDirEnv {
  env: NodeJS.ProcessEnv;
  platform: NodeJS.Platform;
  /** Root (uid 0) on POSIX; a root agent is the system service, anyone else runs for themselves. */
  isRoot: boolean;
  home: string;
}

/**
 * Where the agent keeps its token, outbox and sync state. A pure function of its
 * inputs so each OS's answer is testable on any machine.
 */
export function defaultStateDir(input: StateDirEnv): string {
  const override = input.env.VIGIE_AGENT_STATE;
  if (override) return override;
  switch (input.platform) {
    case 'win32':
      return path.win32.join(input.env.ProgramData ?? input.env.PROGRAMDATA ?? 'C:\\ProgramData', 'Vigie', 'agent');
    case 'darwin':
      return input.isRoot
        ? '/Library/Application Support/Vigie/agent'
        : path.posix.join(input.home, 'Library', 'Application Support', 'Vigie', 'agent');
    default:
      return input.isRoot ? '/var/lib/vigie-agent' : path.posix.join(input.home, '.local', 'state', 'vigie-agent');
  }
}

/** The state dir on this machine, or the one given on the command line. */
export function resolveStateDir(given?: string): string {
  if (given) return path.resolve(given);
  return defaultStateDir({
    env: process.env,
    platform: process.platform,
    isRoot: typeof process.getuid === 'function' && process.getuid() === 0,
    home: os.homedir(),
  });
}
