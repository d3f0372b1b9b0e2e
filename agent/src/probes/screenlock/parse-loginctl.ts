/** A logind session, as `loginctl show-session` describes it. */
export interface LoginSession {
  id: string;
  name: string;
  /** x11, wayland, mir, tty, unspecified */
  type: string;
  active: boolean;
  state: string;
  remote: boolean;
  display: string;
  /** XDG_SESSION_DESKTOP as the display manager set it: GNOME, ubuntu, KDE, plasma... */
  desktop: string;
  /** user, greeter, lock-screen, manager... (empty on old systemd) */
  class: string;
}

/*
 * `loginctl list-sessions --no-legend`: the session id is the first column
 * whatever the systemd version (newer ones add CLASS, STATE, IDLE columns).
 *        2 1000 alice seat0 tty2
 *       c1  120 gdm   seat0 tty1
 */
export function parseSessionIds(text: string): string[] {
  const ids: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    const id = line.trim().split(/\s+/)[0];
    if (id && /^[A-Za-z0-9_-]+$/.test(id)) ids.push(id);
  }
  return ids;
}

/*
 * `loginctl show-session 2 -p Name -p Type -p Active -p State -p Remote -p Display -p Desktop -p Class`
 *   Name=alice
 *   Type=wayland
 *   Active=yes
 *   State=active
 *   Remote=no
 *   Display=
 *   Desktop=GNOME
 *   Class=user
 */
export function parseShowSession(id: string, text: string): LoginSession {
  const props = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const eq = line.indexOf('=');
    if (eq > 0) props.set(line.slice(0, eq).trim(), line.slice(eq + 1).trim());
  }
  return {
    id,
    name: props.get('Name') ?? '',
    type: (props.get('Type') ?? '').toLowerCase(),
    active: props.get('Active') === 'yes',
    state: props.get('State') ?? '',
    remote: props.get('Remote') === 'yes',
    display: props.get('Display') ?? '',
    desktop: props.get('Desktop') ?? '',
    class: props.get('Class') ?? '',
  };
}

const GRAPHICAL = new Set(['x11', 'wayland', 'mir']);

/**
 * The local graphical session in front of the screen: remote (xrdp, VNC)
 * sessions have their own lock rules, and the greeter (gdm, sddm) is not a user.
 */
export function pickGraphicalSession(sessions: readonly LoginSession[]): LoginSession | undefined {
  const candidates = sessions.filter(
    (s) => GRAPHICAL.has(s.type) && s.active && !s.remote && s.name !== '' && (s.class === '' || s.class === 'user'),
  );
  return candidates.find((s) => s.state === 'active') ?? candidates[0];
}

/*
 * `getent passwd alice`
 *   alice:x:1000:1000:Alice,,,:/home/alice:/bin/bash
 */
export function parsePasswdHome(text: string): string | null {
  const fields = text.trim().split(/\r?\n/)[0]?.split(':') ?? [];
  const home = fields[5];
  return fields.length >= 7 && home && home.startsWith('/') ? home : null;
}

/** Which desktop's settings to read, from the session's XDG_SESSION_DESKTOP. */
export function desktopKind(desktop: string): 'gnome' | 'kde' | 'other' | 'unset' {
  const d = desktop.toLowerCase();
  if (d === '') return 'unset';
  if (/kde|plasma/.test(d)) return 'kde';
  // Ubuntu, Pop!_OS and Zorin ship GNOME Shell under their own session names.
  if (/gnome|ubuntu|pop|zorin/.test(d)) return 'gnome';
  return 'other';
}
