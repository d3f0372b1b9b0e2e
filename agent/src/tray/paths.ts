import path from 'node:path';

export interface TrayPathEnv {
  platform: NodeJS.Platform;
  env: NodeJS.ProcessEnv;
  /** The session user's uid on POSIX (undefined on Windows). */
  uid: number | undefined;
  /** The session user's login name (the named pipe is per user on Windows). */
  user: string;
  home: string;
}

/**
 * Where the agent daemon serves the tray, one socket per session user.
 *
 * POSIX: `/run/vigie-agent/tray-<uid>.sock` (Linux) or `/var/run/vigie-agent/tray-<uid>.sock`
 * (macOS). The directory belongs to root and is writable by root only, so no
 * other user can plant or swap the socket; the daemon gives the socket to that
 * user with mode 0600 (see status-server.ts). Windows: the named pipe
 * `\\.\pipe\vigie-agent-<user>`. `VIGIE_TRAY_SOCKET` overrides both (an agent
 * run by the user itself, tests).
 */
export function defaultSocketPath(input: TrayPathEnv): string {
  const override = input.env.VIGIE_TRAY_SOCKET;
  if (override) return override;
  if (input.platform === 'win32') return `\\\\.\\pipe\\vigie-agent-${pipeSafe(input.user)}`;
  const dir = input.platform === 'darwin' ? '/var/run/vigie-agent' : '/run/vigie-agent';
  return path.posix.join(dir, `tray-${input.uid ?? 'unknown'}.sock`);
}

/** Pipe names may not hold a backslash; domain users (`CORP\jane`) keep the rest. */
function pipeSafe(user: string): string {
  return user.replace(/[^A-Za-z0-9._@-]/g, '_').slice(0, 200) || 'unknown';
}

/**
 * The tray's own per-user directory: its notification memory and the
 * remediation pages it writes. Private to the user (0700), never the agent's.
 */
export function trayDataDir(input: TrayPathEnv): string {
  const override = input.env.VIGIE_TRAY_DIR;
  if (override) return override;
  switch (input.platform) {
    case 'win32':
      return path.win32.join(input.env.LOCALAPPDATA ?? path.win32.join(input.home, 'AppData', 'Local'), 'Vigie', 'tray');
    case 'darwin':
      return path.posix.join(input.home, 'Library', 'Application Support', 'Vigie', 'tray');
    default:
      return path.posix.join(input.env.XDG_STATE_HOME || path.posix.join(input.home, '.local', 'state'), 'vigie-tray');
  }
}
