/**
 * The layering rules of shared/handbook/ARCHITECTURE.md are enforced by ESLint.
 * Each case lints a deliberately wrong file at a path inside a layer and checks
 * that lint refuses it, so a weakened config fails here.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';

const root = join(__dirname, '..');
const script = join(__dirname, 'helpers', 'lint-texts.mjs');

interface LintMessage {
  ruleId: string | null;
  message: string;
}

/** Lints every file in one ESLint process: starting ESLint once per case is slow on a loaded CI machine. */
function lintAll(files: { filePath: string; code: string }[]): Promise<LintMessage[][]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script], { cwd: root });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', () => {
      try {
        resolve(JSON.parse(out) as LintMessage[][]);
      } catch {
        reject(new Error(`eslint printed no JSON: ${err || out}`));
      }
    });
    child.stdin.end(JSON.stringify(files));
  });
}

const cases: [string, string, string, RegExp][] = [
  ['shared imports a Node built-in', 'shared/src/facts/layer-break.ts', "import { readFileSync } from 'node:fs';\nexport const x = readFileSync;\n", /shared must not import Node built-ins/],
  ['shared imports fs without the node: prefix', 'shared/src/policy/layer-break.ts', "import * as fs from 'fs';\nexport const x = fs;\n", /shared must not import Node built-ins/],
  ['shared imports electron', 'shared/src/protocol/layer-break.ts', "import { app } from 'electron';\nexport const x = app;\n", /shared must not import electron/],
  ['shared imports another workspace', 'shared/src/layer-break.ts', "import { exec } from '@vigie/agent';\nexport const x = exec;\n", /shared must not import another workspace/],
  ['shared uses the DOM', 'shared/src/layer-break.ts', 'export const x = window.location;\n', /shared must not use the DOM/],
  ['shared uses process', 'shared/src/layer-break.ts', 'export const x = process.env;\n', /shared must not use Node globals/],
  ['the collector imports the agent', 'collector/src/layer-break.ts', "import { exec } from '@vigie/agent';\nexport const x = exec;\n", /collector must not import another workspace/],
  ['the agent reaches into the collector by path', 'agent/src/layer-break.ts', "import { x } from '../../collector/src/cli';\nexport const y = x;\n", /only through @vigie\/shared/],
  ['the agent imports shared by a deep path', 'agent/src/layer-break.ts', "import { x } from '@vigie/shared/dist/facts';\nexport const y = x;\n", /by its package name only/],
  ['a probe spawns a process itself', 'agent/src/probes/encryption/layer-break.ts', "import { spawn } from 'node:child_process';\nexport const x = spawn;\n", /only agent\/src\/exec.ts spawns processes/],
];

const allowed: [string, string][] = [
  ['collector/src/layer-ok.ts', "import { readFileSync } from 'node:fs';\nimport { facts } from '@vigie/shared';\nexport const x = [readFileSync, facts];\n"],
  ['agent/src/exec-like.ts', "import { facts } from '@vigie/shared';\nexport const x = facts;\n"],
];

describe('layering is enforced by lint', () => {
  let results: LintMessage[][] = [];

  beforeAll(async () => {
    results = await lintAll([...cases.map(([, filePath, code]) => ({ filePath, code })), ...allowed.map(([filePath, code]) => ({ filePath, code }))]);
  }, 120_000);

  it.each(cases.map((c, i) => [...c, i] as const))('refuses a file where %s', (_label, _filePath, _code, expected, i) => {
    expect((results[i] ?? []).map((m) => m.message).join('\n')).toMatch(expected);
  });

  it('accepts the same imports where the layer allows them', () => {
    expect(results.slice(cases.length)).toEqual(allowed.map(() => []));
  });
});
