#!/usr/bin/env node
/**
 * Builds the shipped agent: one minified CommonJS file, agent/dist/vigie-agent.js.
 *
 * Why a bundle: the agent's footprint is mostly module loading. Resolving and
 * compiling hundreds of small files from node_modules costs more CPU and RSS
 * than the scan itself; one file with only the code a command reaches (tree
 * shaking, lazy imports kept as separate chunks are not possible in CJS, so
 * esbuild inlines them but evaluates them only when `import()` runs) is what
 * brings a scan under fusioninventory-agent's footprint (issue 3, Benchmark).
 *
 * It bundles from the TypeScript sources, shared included (aliased to its src),
 * so the bundle never depends on a stale `tsc -b` output.
 *
 * Usage: node installers/build-agent.mjs [--metafile]   (npm run build:agent-bundle)
 */
import { build } from 'esbuild';
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outfile = process.env.VIGIE_AGENT_BUNDLE_OUT ?? join(root, 'agent', 'dist', 'vigie-agent.js');

const require = createRequire(import.meta.url);
const zodEnLocale = join(dirname(require.resolve('zod/package.json', { paths: [join(root, 'shared')] })), 'v4', 'locales', 'en.js');

/**
 * Keeps only zod's English messages. zod re-exports its ~50 locales as the
 * `z.locales` namespace, which esbuild cannot shake: 260 KB, the biggest part
 * of the bundle, parsed at every start. zod registers `en` by default and the
 * agent never selects another locale (its messages are for logs, not users).
 */
const zodEnglishOnly = {
  name: 'zod-english-only',
  setup(b) {
    b.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      /[\\/]zod[\\/]v4[\\/]/.test(args.importer) ? { path: 'zod-locales', namespace: 'vigie-stub' } : undefined,
    );
    b.onLoad({ filter: /^zod-locales$/, namespace: 'vigie-stub' }, () => ({
      contents: `export { default as en } from ${JSON.stringify(zodEnLocale)};`,
      resolveDir: root,
      loader: 'js',
    }));
  },
};

/**
 * The agent never loads a policy file, but @vigie/shared's barrel reaches
 * loadPolicy, and esbuild cannot drop a module it must keep lazily
 * initialised (the commands are imported on demand; see agent/src/cli.ts), so
 * yaml would be evaluated at every start (~1.5 MB RSS, 110 KB to parse). In
 * the agent's bundle, yaml is a stub that fails loudly if ever used.
 */
const noYaml = {
  name: 'no-yaml',
  setup(b) {
    b.onResolve({ filter: /^yaml$/ }, () => ({ path: 'yaml', namespace: 'vigie-stub' }));
    b.onLoad({ filter: /^yaml$/, namespace: 'vigie-stub' }, () => ({
      contents: [
        'const absent = () => { throw new Error("yaml is not part of the vigie-agent bundle (installers/build-agent.mjs)"); };',
        'export class LineCounter { constructor() { absent(); } }',
        'export const parseDocument = absent, isMap = absent, isSeq = absent;',
      ].join('\n'),
      loader: 'js',
    }));
  },
};

const result = await build({
  absWorkingDir: root,
  entryPoints: [join(root, 'agent', 'src', 'cli.ts')],
  outfile,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  // ESM builds of dependencies tree-shake better than their CJS mains (zod ships both).
  mainFields: ['module', 'main'],
  alias: { '@vigie/shared': join(root, 'shared', 'src', 'index.ts') },
  tsconfig: join(root, 'agent', 'tsconfig.json'),
  minify: true,
  treeShaking: true,
  // Keeps stack traces in support logs readable against the sources.
  sourcemap: 'linked',
  sourcesContent: false,
  legalComments: 'linked',
  metafile: true,
  logLevel: 'warning',
  plugins: [zodEnglishOnly, noYaml],
  ...(process.env.VIGIE_V8_FLAGS ? { banner: { js: `require('v8').setFlagsFromString(${JSON.stringify(process.env.VIGIE_V8_FLAGS)});` } } : {}),
});

if (process.argv.includes('--metafile')) {
  writeFileSync(`${outfile}.meta.json`, JSON.stringify(result.metafile));
}
const bytes = Object.values(result.metafile.outputs).find((o) => o.entryPoint)?.bytes ?? 0;
console.log(`agent bundle: ${outfile} (${(bytes / 1024).toFixed(0)} KB)`);
