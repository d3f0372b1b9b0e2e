/**
 * Screen lock on Windows: the machine inactivity limit (InactivityTimeoutSecs
 * policy), the console user's screen saver (their own values and Group Policy
 * ones, ScreenSaverGracePeriod) and the display timeout with the "password on
 * wake" setting (powercfg). windows-lock.ts says which one locks first.
 *
 * The screen saver lives in the user's hive. The agent runs as SYSTEM, whose
 * HKCU is the SYSTEM profile: reading it would describe nobody (the same trap
 * as https://github.com/fleetdm/fleet/issues/12382 on macOS). So we find the
 * console user and read HKU\<their SID> instead:
 * - Win32_ComputerSystem.UserName is the user of the physical console session
 *   (not RDP sessions), which is the screen people walk away from;
 * - their SID comes from the owner of their explorer.exe (GetOwnerSid), which
 *   works for local, domain and Entra ID (AzureAD\...) accounts alike and
 *   proves their hive is loaded; an NTAccount translation is the fallback.
 * This needs one PowerShell call (-EncodedCommand, so its quotes survive the
 * command line); the registry itself is read with reg.exe.
 * HKLM\...\Winlogon is only read for ScreenSaverGracePeriod (/v): the key can
 * hold an autologon password, which the agent must never collect.
 *
 * reg.exe prints a localised error and exits 1 for a missing key or value
 * ("ERROR: The system was unable to find...", "ERREUR : ...", "FEHLER: ..."),
 * and for nothing else we can meet as SYSTEM, so exit 1 with no output is read
 * as absent whatever the language. powercfg labels are localised too: only its
 * GUIDs and hex values are parsed.
 */
import type { ScreenlockSection } from '@vigie/shared';
import type { ExecResult } from '../../exec';
import type { ProbeContext } from '../types';
import { CONSOLELOCK_GUID, parsePowerSetting, VIDEOIDLE_GUID } from './parse-powercfg';
import { parseRegQuery, type RegValue } from './parse-reg-query';
import { parseConsoleUser } from './parse-windows-user';
import { POLICIES_SYSTEM, POLICY_DESKTOP, USER_DESKTOP, WINLOGON, windowsSection } from './windows-lock';

const POWERSHELL = 'C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe';
const REG = 'C:\\Windows\\System32\\reg.exe';
const POWERCFG = 'C:\\Windows\\System32\\powercfg.exe';
const TIMEOUT = { timeoutMs: 20_000 };

export const CONSOLE_USER_SCRIPT = [
  "$ErrorActionPreference = 'Stop'",
  '$u = (Get-CimInstance -ClassName Win32_ComputerSystem).UserName',
  '$sid = $null',
  'if ($u) {',
  "  foreach ($p in @(Get-CimInstance -ClassName Win32_Process -Filter \"Name='explorer.exe'\")) {",
  '    $o = Invoke-CimMethod -InputObject $p -MethodName GetOwner',
  '    if ($o.ReturnValue -eq 0 -and ("$($o.Domain)\\$($o.User)" -ieq $u)) {',
  '      $sid = (Invoke-CimMethod -InputObject $p -MethodName GetOwnerSid).Sid; break',
  '    }',
  '  }',
  '  if (-not $sid) {',
  '    try { $sid = ([System.Security.Principal.NTAccount]$u).Translate([System.Security.Principal.SecurityIdentifier]).Value } catch { }',
  '  }',
  '}',
  '[pscustomobject]@{ user = $u; sid = $sid } | ConvertTo-Json -Compress',
].join('\n');

/** -EncodedCommand takes UTF-16LE base64, which spares the script's quotes from command-line escaping. */
export function encodePowerShell(script: string): string {
  return Buffer.from(script, 'utf16le').toString('base64');
}

function ok(result: ExecResult): boolean {
  return result.code === 0 && !result.error && !result.timedOut;
}

function failure(what: string, result: ExecResult): string {
  const detail = result.error ?? (result.timedOut ? 'timed out' : result.stderr.trim().split(/\r?\n/)[0] || `exit code ${result.code}`);
  return `${what} failed: ${detail}`;
}

/** Values of one reg query; [] when the key or value does not exist; a string on real failure. */
async function regQuery(ctx: ProbeContext, args: string[]): Promise<RegValue[] | string> {
  const result = await ctx.exec(REG, ['query', ...args], TIMEOUT);
  if (ok(result)) return parseRegQuery(result.stdout);
  if (result.code === 1 && !result.error && !result.timedOut && parseRegQuery(result.stdout).length === 0) return [];
  return failure(`reg query ${args[0] ?? ''}`, result);
}

export async function collectScreenlockWin32(ctx: ProbeContext): Promise<ScreenlockSection> {
  try {
    const who = await ctx.exec(POWERSHELL, ['-NoProfile', '-NonInteractive', '-EncodedCommand', encodePowerShell(CONSOLE_USER_SCRIPT)], TIMEOUT);
    if (!ok(who)) return { unknown: true, reason: failure('finding the console user', who) };
    const consoleUser = parseConsoleUser(who.stdout);
    if (!consoleUser) return { unknown: true, reason: 'finding the console user gave no readable answer' };
    if (!consoleUser.user) return { unknown: true, reason: 'no user logged in at the console' };
    if (!consoleUser.sid) return { unknown: true, reason: `no SID found for console user ${consoleUser.user}` };
    const hive = `HKU\\${consoleUser.sid}`;

    const reads = [
      ['HKLM' + POLICIES_SYSTEM, '/v', 'InactivityTimeoutSecs'],
      ['HKLM' + WINLOGON, '/v', 'ScreenSaverGracePeriod'],
      [hive + USER_DESKTOP],
      [hive + POLICY_DESKTOP],
    ];
    const registry: RegValue[] = [];
    for (const args of reads) {
      const values = await regQuery(ctx, args);
      if (typeof values === 'string') return { unknown: true, reason: values };
      if (args[0] === hive + USER_DESKTOP && values.length === 0) {
        // Every loaded profile has this key: without it the hive is not loaded.
        return { unknown: true, reason: `registry hive of ${consoleUser.user} is not loaded (${hive}${USER_DESKTOP} missing)` };
      }
      registry.push(...values);
    }

    const video = await ctx.exec(POWERCFG, ['/q', 'SCHEME_CURRENT', 'SUB_VIDEO', 'VIDEOIDLE'], TIMEOUT);
    // CONSOLELOCK is a hidden setting on many builds: /qh lists hidden ones too.
    const wake = await ctx.exec(POWERCFG, ['/qh', 'SCHEME_CURRENT', 'SUB_NONE', 'CONSOLELOCK'], TIMEOUT);

    return windowsSection({
      registry,
      displayOff: ok(video) ? parsePowerSetting(video.stdout, VIDEOIDLE_GUID) : null,
      consoleLock: ok(wake) ? parsePowerSetting(wake.stdout, CONSOLELOCK_GUID) : null,
      user: consoleUser.user,
    });
  } catch (err) {
    return { unknown: true, reason: `screen lock check failed: ${err instanceof Error ? err.message : String(err)}` };
  }
}
