import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatPolicyError, loadPolicy, type Policy } from '@vigie/shared';

export const defaultPolicyPath = join(__dirname, '../../shared/policies/issp-default.yaml');

export function loadDefaultPolicy(): Policy {
  const result = loadPolicy(readFileSync(defaultPolicyPath, 'utf8'), 'issp-default.yaml');
  if (!result.ok) throw new Error(result.errors.map(formatPolicyError).join('\n'));
  return result.policy;
}
