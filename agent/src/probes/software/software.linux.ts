/**
 * Installed software on Linux: packages from dpkg (Debian, Ubuntu), rpm
 * (Fedora, RHEL, SUSE), snap and flatpak, whichever of these tools the
 * machine has. A missing tool is skipped without a word; when none exists the
 * section is unknown.
 *
 * Limits: packages installed by hand (tarballs, AppImages, /opt, pip, npm)
 * are not seen. Flatpaks installed per user are listed only for the account
 * the agent runs as (root), because flatpak reads ~/.local/share/flatpak of
 * the calling user. A snap binary without a running snapd (containers, WSL)
 * cannot list snaps; snaps cannot run there either, so we skip it.
 */
import type { SoftwareItem, SoftwareSection } from '@vigie/shared';
import { isUnknown } from '@vigie/shared';
import type { ExecResult } from '../../exec';
import type { ProbeContext } from '../types';
import { softwareSection } from './items';
import { DPKG_QUERY_FORMAT, parseDpkgQuery } from './parse-dpkg-query';
import { FLATPAK_COLUMNS, parseFlatpakList } from './parse-flatpak-list';
import { RPM_QUERY_FORMAT, parseRpmQa } from './parse-rpm-qa';
import { parseSnapList } from './parse-snap-list';

const TIMEOUT_MS = 60_000;

interface PackageTool {
  label: string;
  file: string;
  args: string[];
  parse: (text: string) => SoftwareSection;
  /** A failure that means "nothing to list here" rather than "could not tell". */
  isAbsent?: (result: ExecResult) => boolean;
}

// Format strings are passed as arguments, without a shell, so the "\t" and
// "\n" escapes reach dpkg-query and rpm as the two characters they expand.
export const LINUX_PACKAGE_TOOLS: readonly PackageTool[] = [
  {
    label: 'dpkg',
    file: '/usr/bin/dpkg-query',
    args: ['-W', `-f=${DPKG_QUERY_FORMAT}`],
    parse: parseDpkgQuery,
  },
  {
    label: 'rpm',
    file: '/usr/bin/rpm',
    args: ['-qa', '--queryformat', RPM_QUERY_FORMAT],
    parse: parseRpmQa,
  },
  {
    label: 'snap',
    file: '/usr/bin/snap',
    args: ['list', '--color=never', '--unicode=never'],
    parse: parseSnapList,
    isAbsent: (r) => /cannot communicate with server|snapd.*not running|system does not fully support snapd/i.test(r.stderr),
  },
  {
    label: 'flatpak',
    file: '/usr/bin/flatpak',
    args: ['list', '--app', `--columns=${FLATPAK_COLUMNS}`],
    parse: parseFlatpakList,
  },
];

function notInstalled(result: ExecResult): boolean {
  return result.code === null && /ENOENT/.test(result.error ?? '');
}

function failure(tool: PackageTool, result: ExecResult): string | null {
  if (result.timedOut) return `${tool.label}: ${tool.file} timed out`;
  if (result.truncated) return `${tool.label}: output too large, list would be incomplete`;
  if (result.code === null) return `${tool.label}: ${tool.file} could not start (${result.error ?? 'unknown error'})`;
  if (result.code !== 0) {
    const detail = result.stderr.trim().split(/\r?\n/)[0] ?? '';
    return `${tool.label}: ${tool.file} exited with ${result.code}${detail ? ` (${detail.slice(0, 200)})` : ''}`;
  }
  return null;
}

export async function collectSoftwareLinux(ctx: ProbeContext): Promise<SoftwareSection> {
  try {
    const items: SoftwareItem[] = [];
    const problems: string[] = [];
    let toolsFound = 0;
    for (const tool of LINUX_PACKAGE_TOOLS) {
      const result = await ctx.exec(tool.file, tool.args, { timeoutMs: TIMEOUT_MS });
      if (notInstalled(result)) continue;
      toolsFound++;
      if (tool.isAbsent?.(result)) continue;
      const problem = failure(tool, result);
      if (problem) {
        problems.push(problem);
        continue;
      }
      const section = tool.parse(result.stdout);
      if (isUnknown(section)) {
        problems.push(`${tool.label}: ${section.reason}`);
        continue;
      }
      items.push(...section.items);
    }
    if (toolsFound === 0) {
      return { unknown: true, reason: 'no package manager found (dpkg-query, rpm, snap, flatpak)' };
    }
    // A list missing one package manager could hide exactly the package a
    // rule looks for, so a partial list is reported as unknown.
    if (problems.length > 0) {
      return { unknown: true, reason: problems.join('; ') };
    }
    return softwareSection(items);
  } catch (err) {
    return { unknown: true, reason: `software inventory failed: ${(err as Error).message}` };
  }
}
