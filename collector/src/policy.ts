import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { formatPolicyError, loadPolicy, type Policy } from '@vigie/shared';

/** The default ISSP pack shipped with @vigie/shared. */
export function defaultPolicyPath(): string {
  return path.join(path.dirname(require.resolve('@vigie/shared/package.json')), 'policies', 'issp-default.yaml');
}

export type PolicyFileResult = { ok: true; policy: Policy } | { ok: false; message: string };

export function loadPolicyFile(file: string = defaultPolicyPath()): PolicyFileResult {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    return { ok: false, message: `cannot read the policy ${file}: ${(e as Error).message}` };
  }
  const result = loadPolicy(text, file);
  return result.ok ? result : { ok: false, message: result.errors.map(formatPolicyError).join('\n') };
}
