import { cpus, totalmem } from 'node:os';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** VIGIE_BENCH_OUT sends a trial run's sections to another file, leaving the recorded results alone. */
export const benchmarksFile = process.env.VIGIE_BENCH_OUT ?? join(__dirname, '..', '..', '..', 'docs', 'benchmarks.md');

/** The machine a result was measured on: results mean nothing without it. */
export function machineLine(): string {
  const cpu = cpus()[0]?.model.trim() ?? 'unknown CPU';
  return `${cpus().length} × ${cpu}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, Node ${process.version}, ${process.platform}`;
}

/**
 * Replaces one benchmark's section of docs/benchmarks.md (between its markers),
 * leaving the other benchmarks' latest results in place.
 */
export function writeSection(name: string, markdown: string): void {
  const begin = `<!-- bench:${name}:begin -->`;
  const end = `<!-- bench:${name}:end -->`;
  const header = '# Benchmarks\n\nRun with `npm run bench` (all) or `npm run bench:<name>`. Each section is rewritten by its benchmark, with the machine and the date it ran on.\n';
  let doc = existsSync(benchmarksFile) ? readFileSync(benchmarksFile, 'utf8') : header;
  const block = `${begin}\n${markdown.trim()}\n\n_Measured ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC on ${machineLine()}._\n${end}`;
  const start = doc.indexOf(begin);
  const stop = doc.indexOf(end);
  doc = start >= 0 && stop > start ? doc.slice(0, start) + block + doc.slice(stop + end.length) : `${doc.trimEnd()}\n\n${block}\n`;
  writeFileSync(benchmarksFile, doc);
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] as number;
}

export const verdict = (ok: boolean): string => (ok ? 'met' : '**not met**');
