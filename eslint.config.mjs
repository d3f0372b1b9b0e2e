// Lint enforces the layering in shared/handbook/ARCHITECTURE.md: the rules below
// are the architecture, not style.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

const otherWorkspaces = ['@vigie/agent', '@vigie/collector', '@vigie/console'];
const relativeIntoWorkspace = (ws) => [`../${ws}/*`, `../../${ws}/*`, `../../../${ws}/*`, `../../../../${ws}/*`, `../../../../../${ws}/*`];

export const layerRules = [
  {
    // shared is the contract: pure TypeScript, runs anywhere.
    files: ['shared/src/**/*.ts'],
    ignores: ['shared/src/**/*.test.ts'],
    languageOptions: { globals: {} },
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['node:*'], message: 'shared must not import Node built-ins (layering: shared is pure).' },
          { group: ['fs', 'path', 'os', 'child_process', 'crypto', 'net', 'http', 'https', 'tls', 'events', 'stream', 'util', 'buffer'], message: 'shared must not import Node built-ins (layering: shared is pure).' },
          { group: ['electron', 'electron/*'], message: 'shared must not import electron.' },
          { group: ['react', 'react-dom', 'react-dom/*'], message: 'shared must not import DOM libraries.' },
          { group: ['@vigie/*'], message: 'shared must not import another workspace.' },
          { group: [...relativeIntoWorkspace('agent'), ...relativeIntoWorkspace('collector'), ...relativeIntoWorkspace('console')], message: 'shared must not import another workspace.' },
        ],
      }],
      'no-restricted-globals': ['error',
        { name: 'window', message: 'shared must not use the DOM.' },
        { name: 'document', message: 'shared must not use the DOM.' },
        { name: 'process', message: 'shared must not use Node globals.' },
        { name: 'require', message: 'shared must not use Node globals.' },
        { name: 'Buffer', message: 'shared must not use Node globals.' },
      ],
    },
  },
  ...['agent', 'collector', 'console'].map((ws) => ({
    files: [`${ws}/src/**/*.ts`, `${ws}/src/**/*.tsx`],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: otherWorkspaces.filter((w) => w !== `@vigie/${ws}`), message: `${ws} must not import another workspace; share through @vigie/shared.` },
          { group: ['@vigie/shared/*'], message: 'import @vigie/shared by its package name only.' },
          { group: ['agent', 'collector', 'console', 'shared'].filter((w) => w !== ws).flatMap(relativeIntoWorkspace), message: 'workspaces import each other only through @vigie/shared, by package name.' },
        ],
      }],
    },
  })),
  {
    // Only exec.ts spawns processes, so every probe can be tested with a fake exec.
    files: ['agent/src/**/*.ts'],
    ignores: ['agent/src/exec.ts', 'agent/src/**/*.test.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['@vigie/collector', '@vigie/console'], message: 'agent must not import another workspace; share through @vigie/shared.' },
          { group: ['@vigie/shared/*'], message: 'import @vigie/shared by its package name only.' },
          { group: [...relativeIntoWorkspace('collector'), ...relativeIntoWorkspace('console'), ...relativeIntoWorkspace('shared')], message: 'workspaces import each other only through @vigie/shared, by package name.' },
          { group: ['child_process', 'node:child_process'], message: 'only agent/src/exec.ts spawns processes; take an injected exec.' },
        ],
      }],
    },
  },
];

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', 'coverage/**', 'artifacts/**', '**/fixtures/**', 'console/out/**', 'installers/**/build/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  { files: ['**/*.js', '**/*.cjs'], rules: { '@typescript-eslint/no-require-imports': 'off' } },
  { files: ['**/*.test.ts', 'test/**/*.ts'], languageOptions: { globals: { ...globals.node, ...globals.jest } } },
  ...layerRules,
);
