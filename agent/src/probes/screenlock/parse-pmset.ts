/** Settings of one pmset profile ("Currently in use:", "AC Power:", "Battery Power:"), by name. */
export type PmsetProfiles = Map<string, Map<string, string>>;

const PROFILE = /^(System-wide power settings|Currently in use|AC Power|Battery Power|UPS Power):\s*$/;

/*
 * `pmset -g` (the profile in use) or `pmset -g custom` (every profile):
 *   System-wide power settings:
 *    SleepDisabled          0
 *   Currently in use:
 *    displaysleep         10 (display sleep prevented by zoom.us)
 *    sleep                1 (sleep prevented by bluetoothd, coreaudiod)
 * `pmset -g custom` prints "Battery Power:" and "AC Power:" blocks instead.
 * The "(... prevented by ...)" note is a temporary assertion held by an app;
 * the configured value is the first field.
 */
export function parsePmset(text: string): PmsetProfiles {
  const profiles: PmsetProfiles = new Map();
  let current: Map<string, string> | null = null;
  for (const line of text.split(/\r?\n/)) {
    const header = PROFILE.exec(line.trim());
    if (header && header[1]) {
      current = new Map();
      profiles.set(header[1], current);
      continue;
    }
    // Keys may hold spaces ("Sleep On Power Button 1"): the value is the last field.
    const m = /^\s+([A-Za-z].*?)\s+(\S+)$/.exec(line.replace(/\s*\(.*\)\s*$/, ''));
    if (m && m[1] && m[2] && current) current.set(m[1], m[2]);
  }
  return profiles;
}

/**
 * The worst value of a timer (minutes) over the user-facing profiles: the
 * longest one, with 0 (never) the worst of all. A laptop runs on either
 * profile, and we cannot know which when the user walks away.
 */
export function worstPmsetMinutes(profiles: PmsetProfiles, key: string): number | null {
  let worst: number | null = null;
  for (const [name, settings] of profiles) {
    if (name === 'System-wide power settings') continue;
    const raw = settings.get(key);
    if (raw === undefined || !/^\d+$/.test(raw)) continue;
    const value = Number(raw);
    if (worst === null) worst = value;
    else if (value === 0 || worst === 0) worst = 0;
    else worst = Math.max(worst, value);
  }
  return worst;
}

export function isPmset(text: string): boolean {
  const profiles = parsePmset(text);
  return worstPmsetMinutes(profiles, 'displaysleep') !== null;
}
