import path from 'node:path';
import type { Exec } from '../exec';
import { ensurePrivateDir, writeFileAtomic } from '../state/fsutil';
import type { FailingRule } from './model';
import { CHROME, type Lang } from './strings';

/**
 * A menu click on a failing rule opens its remediation steps: the tray writes a
 * small local HTML page into its private directory and hands it to the OS's
 * opener (xdg-open, open, explorer). The texts come from the collector, so the
 * page escapes every one of them and forbids scripts and remote content (CSP):
 * a policy text can never run code in the employee's browser.
 */
export function renderRemediationPage(rules: readonly FailingRule[], lang: Lang): string {
  const t = CHROME[lang];
  const sections = rules
    .map((r) => {
      const steps = (r.steps ?? t.noSteps)
        .split(/\n{2,}/)
        .map((p) => `<p>${escapeHtml(p).replace(/\n/g, '<br>')}</p>`)
        .join('\n');
      return `<section class="${r.overdue ? 'overdue' : 'due'}">\n<h2>${escapeHtml(r.title)}</h2>\n<p class="due">${escapeHtml(r.dueLabel)}</p>\n${steps}\n</section>`;
    })
    .join('\n');
  return `<!doctype html>
<html lang="${lang}">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(t.pageTitle)}</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 42rem; margin: 2rem auto; padding: 0 1rem; line-height: 1.5; color: #222; }
section { border-left: 4px solid #d98c00; padding: 0 1rem; margin: 1.5rem 0; }
section.overdue { border-color: #c62828; }
.due { font-weight: bold; }
</style>
</head>
<body>
<h1>${escapeHtml(t.pageTitle)}</h1>
<p>${escapeHtml(t.pageIntro)}</p>
${sections}
</body>
</html>
`;
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}

/** The OS's "open this file with its default application", as an absolute path and arguments. */
export function openCommand(platform: NodeJS.Platform, file: string, env: NodeJS.ProcessEnv = process.env): { file: string; args: string[] } | null {
  switch (platform) {
    case 'linux':
    case 'freebsd':
      return { file: '/usr/bin/xdg-open', args: [file] };
    case 'darwin':
      return { file: '/usr/bin/open', args: [file] };
    case 'win32':
      // explorer.exe opens a file with its associated application; unlike `start` it needs no cmd.exe (no shell).
      return { file: `${env.SystemRoot ?? env.SYSTEMROOT ?? 'C:\\Windows'}\\explorer.exe`, args: [file] };
    default:
      return null;
  }
}

export interface OpenPageOptions {
  dir: string;
  /** A rule id, or `all`. */
  name: string;
  rules: readonly FailingRule[];
  lang: Lang;
  platform: NodeJS.Platform;
  exec: Exec;
}

/** Writes the page and opens it; returns the page's path, or an error as a value. */
export async function openRemediationPage(options: OpenPageOptions): Promise<{ ok: true; file: string } | { ok: false; file: string; error: string }> {
  await ensurePrivateDir(options.dir);
  const safe = options.name.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 100);
  const file = path.join(options.dir, `${safe}.${options.lang}.html`);
  await writeFileAtomic(file, renderRemediationPage(options.rules, options.lang), 0o600);
  const cmd = openCommand(options.platform, file);
  if (!cmd) return { ok: false, file, error: `no opener known on ${options.platform}` };
  const result = await options.exec(cmd.file, cmd.args, { timeoutMs: 15_000, maxOutputBytes: 64 * 1024 });
  // explorer.exe exits 1 even when it opened the file: only a failure to start counts there.
  if (result.error || (options.platform !== 'win32' && result.code !== 0)) {
    return { ok: false, file, error: result.error ?? `${cmd.file} exited ${result.code}: ${result.stderr.trim().slice(0, 200)}` };
  }
  return { ok: true, file };
}
