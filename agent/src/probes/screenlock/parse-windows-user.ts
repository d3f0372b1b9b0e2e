/** The user at the Windows console and the SID under which their hive is loaded in HKU. */
export interface ConsoleUser {
  /** DOMAIN\name as Win32_ComputerSystem reports it; null when nobody is at the console. */
  user: string | null;
  sid: string | null;
}

const SID = /^S-1-\d+(?:-\d+)+$/;

/*
 * The JSON printed by CONSOLE_USER_SCRIPT (screenlock.win32.ts):
 *   {"user":"CONTOSO\\alice","sid":"S-1-5-21-1004336348-1177238915-682003330-1001"}
 *   {"user":null,"sid":null}
 * Returns null when the text is not that JSON. The SID ends up in a registry
 * path, so anything that is not a SID is dropped.
 */
export function parseConsoleUser(text: string): ConsoleUser | null {
  let data: unknown;
  try {
    data = JSON.parse(text.trim());
  } catch {
    return null;
  }
  if (typeof data !== 'object' || data === null || !('user' in data)) return null;
  const { user, sid } = data as { user?: unknown; sid?: unknown };
  return {
    user: typeof user === 'string' && user.trim() !== '' ? user.trim() : null,
    sid: typeof sid === 'string' && SID.test(sid.trim()) ? sid.trim() : null,
  };
}
