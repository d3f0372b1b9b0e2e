import type { SoftwareSection } from '@vigie/shared';
import type { OutputFormat } from '../format';
import type { ProbeContext } from '../types';
import { looksLikeDpkgQuery, parseDpkgQuery } from './parse-dpkg-query';
import { looksLikeFlatpakList, parseFlatpakList } from './parse-flatpak-list';
import { looksLikeRegQuery, parseRegQuery } from './parse-reg-query';
import { looksLikeRpmQa, parseRpmQa } from './parse-rpm-qa';
import { looksLikeSnapList, parseSnapList } from './parse-snap-list';
import { looksLikeSystemProfilerApps, parseSystemProfilerApps } from './parse-system-profiler-apps';
import { collectSoftwareMacos } from './software.darwin';
import { collectSoftwareLinux } from './software.linux';
import { collectSoftwareWindows } from './software.win32';

/** Installed software: what a person or an installer put on the machine. */
export async function collectSoftware(ctx: ProbeContext): Promise<SoftwareSection> {
  switch (ctx.platform) {
    case 'win32':
      return collectSoftwareWindows(ctx);
    case 'darwin':
      return collectSoftwareMacos(ctx);
    case 'linux':
      return collectSoftwareLinux(ctx);
    default:
      return { unknown: true, reason: `not supported on ${ctx.platform}` };
  }
}

export const softwareFormats: OutputFormat<SoftwareSection>[] = [
  {
    name: 'reg-query',
    description: 'reg query <...\\CurrentVersion\\Uninstall> /s (Windows, any language)',
    detect: looksLikeRegQuery,
    parse: parseRegQuery,
  },
  {
    name: 'dpkg-query',
    description: "dpkg-query -W -f='${Package}\\t${Version}\\t${Maintainer}\\t${db:Status-Abbrev}\\n' (Debian, Ubuntu)",
    detect: looksLikeDpkgQuery,
    parse: parseDpkgQuery,
  },
  {
    name: 'rpm-qa',
    description:
      "rpm -qa --queryformat '%{NAME}\\t%{ARCH}\\t%{VERSION}-%{RELEASE}\\t%{INSTALLTIME}\\t%{SIZE}\\t%{VENDOR}\\t%{SUMMARY}\\t%{GROUP}\\n'",
    detect: looksLikeRpmQa,
    parse: parseRpmQa,
  },
  {
    name: 'snap-list',
    description: 'snap list (English column titles)',
    detect: looksLikeSnapList,
    parse: parseSnapList,
  },
  {
    name: 'flatpak-list',
    description: 'flatpak list --app --columns=application,name,version,branch,installation (or application,branch,installation,name)',
    detect: looksLikeFlatpakList,
    parse: parseFlatpakList,
  },
  {
    name: 'system-profiler-apps-json',
    description: 'system_profiler SPApplicationsDataType -json (macOS)',
    detect: looksLikeSystemProfilerApps,
    parse: parseSystemProfilerApps,
  },
];
