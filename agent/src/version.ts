import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The agent's version, from its package.json (dist/ and src/ both sit one level below it). */
export const AGENT_VERSION: string = (() => {
  try {
    return (JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return '0.0.0';
  }
})();
