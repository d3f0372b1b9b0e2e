import type { ExecResult } from '../../exec';
import type { ProbeContext } from '../types';

/** Runs a command through ctx.exec and returns its stdout, or why there is none. */
export type RunOutcome = { ok: true; stdout: string } | { ok: false; reason: string; notFound: boolean };

function describeFailure(file: string, result: ExecResult): RunOutcome {
  const name = file.split(/[\\/]/).pop() ?? file;
  if (result.error) return { ok: false, reason: `${name} could not start: ${result.error}`, notFound: /ENOENT|not found/i.test(result.error) };
  if (result.timedOut) return { ok: false, reason: `${name} timed out`, notFound: false };
  const detail = (result.stderr.trim() || result.stdout.trim()).split(/\r?\n/)[0]?.slice(0, 300) ?? '';
  return { ok: false, reason: `${name} exited with code ${String(result.code)}${detail ? `: ${detail}` : ''}`, notFound: false };
}

export async function run(ctx: ProbeContext, file: string, args: readonly string[], timeoutMs: number): Promise<RunOutcome> {
  let result: ExecResult;
  try {
    result = await ctx.exec(file, args, { timeoutMs });
  } catch (err) {
    return { ok: false, reason: `${file} failed: ${(err as Error).message}`, notFound: false };
  }
  if (result.error || result.timedOut || result.code !== 0) return describeFailure(file, result);
  if (result.truncated) return { ok: false, reason: `${file} printed more than the output cap`, notFound: false };
  return { ok: true, stdout: result.stdout };
}

/** Tries each path in turn while the previous one does not exist (usr-merged or not). */
export async function runFirstFound(ctx: ProbeContext, files: readonly string[], args: readonly string[], timeoutMs: number): Promise<RunOutcome> {
  let last: RunOutcome = { ok: false, reason: 'no path to try', notFound: true };
  for (const file of files) {
    last = await run(ctx, file, args, timeoutMs);
    if (last.ok || !last.notFound) return last;
  }
  return last;
}
