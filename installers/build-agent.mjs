#!/usr/bin/env node
/**
 * Builds the shipped agent: one file, agent/dist/vigie-agent.js, plus an
 * optional V8 code cache beside it (vigie-agent.js.cache).
 *
 * Why a bundle: the agent's footprint is mostly module loading (issue 3,
 * Benchmark: a scan must cost at most half of fusioninventory-agent's CPU and
 * less peak RSS). Resolving and compiling hundreds of small files from
 * node_modules costs more than the scan itself; one minified file holding only
 * the code the agent reaches is the first half of the cure. The commands'
 * modules stay lazy inside it: esbuild turns `await import()` into a function
 * that evaluates them on first use (see agent/src/cli.ts).
 *
 * Why a code cache: compiling the 600 KB bundle still costs ~30 ms of CPU and,
 * through V8's parser zone, ~5 MB of malloc that glibc never hands back, in
 * every process. With a code cache V8 deserialises instead of parsing: ~4 ms
 * and no parser zone. This is what Node 22's module.enableCompileCache() and a
 * SEA's useCodeCache do; Node 20 has neither, so the file starts with a small
 * loader that compiles the bundle itself through vm.Script with the cache.
 * The bundle rides in the same file as line comments, so the outer script
 * costs V8 nothing to parse. A cache is valid only for the exact Node build
 * that wrote it: V8 rejects any other (checking its version, flags and the
 * source length) and the loader then compiles normally, so a stale or missing
 * cache costs speed, never correctness. Installers write it on the target
 * (`VIGIE_AGENT_WRITE_CODE_CACHE=1 node vigie-agent.js --version`) with the
 * same ownership as the bundle: V8 trusts the bytecode in it.
 *
 * It bundles from the TypeScript sources, shared included (aliased to its
 * src), so the bundle never depends on a stale `tsc -b` output.
 *
 * Usage: node installers/build-agent.mjs [--metafile] [--no-code-cache]
 *        (npm run build:agent-bundle)
 */
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { chmodSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
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
  write: false,
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
  // Maps positions in the bundle (the lines after the loader) back to the sources.
  sourcemap: 'linked',
  sourcesContent: false,
  legalComments: 'linked',
  metafile: true,
  logLevel: 'warning',
  plugins: [zodEnglishOnly, noYaml],
  // ws's optional native helpers (the collector installs bufferutil): a bundle cannot carry .node
  // files, ws falls back to JavaScript without them, and an agent sends a report every 15 minutes.
  external: ['bufferutil', 'utf-8-validate'],
});

const outputs = new Map(result.outputFiles.map((f) => [f.path, f.text]));
const bundle = outputs.get(outfile);
if (bundle === undefined) throw new Error(`esbuild produced no ${outfile}`);
for (const [path, text] of outputs) if (path !== outfile) writeFileSync(path, text);

// esbuild escapes non-ASCII text in strings but not in regular expression
// literals (the snap list parser matches ✓ and ✪). One such character makes V8
// hold and scan the whole source as UTF-16: twice the memory. \uXXXX escapes
// mean the same in every string and regex context (astral characters become
// surrogate pairs, which a /u regex reads as one). Source map columns after
// them on their line shift by five per character: acceptable.
const code = bundle
  .replace(/^#!.*\n/, '')
  .replace(/[^ -~\t\n\r]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
// Line comments end only at line terminators; after the escaping above only \n and \r remain.
if (code.includes('\r')) throw new Error('the bundle holds a raw carriage return: it cannot ride in line comments');

// The marker is built by concatenation so the loader's own text never contains it.
const flags = (
  await build({ entryPoints: [join(root, 'agent', 'src', 'v8-flags.ts')], bundle: true, platform: 'node', format: 'cjs', minify: true, write: false })
).outputFiles[0].text.trim();
const loader = `#!/usr/bin/env node
'use strict';
${flags}
// vigie-agent, built by installers/build-agent.mjs from agent/src (see there for why this loader).
// The bundle is in the line comments below the marker; ${basename(outfile)}.cache, when
// present and written by this very Node build, spares compiling it.
const fs = require('node:fs');
const vm = require('node:vm');
const text = fs.readFileSync(__filename, 'latin1');
const marker = '\\n//' + '@vigie-agent-bundle\\n';
const at = text.indexOf(marker) + marker.length;
// One pass and one copy: the source V8 keeps is the only large string left.
const body = text.slice(at + 2).replaceAll('\\n//', '\\n');
let cachedData;
try {
  cachedData = fs.readFileSync(__filename + '.cache');
} catch {
  // No cache: V8 compiles the source, as for any script.
}
const script = new vm.Script(body, { filename: __filename, lineOffset: text.slice(0, at).split('\\n').length - 1, cachedData });
if (process.env.VIGIE_AGENT_WRITE_CODE_CACHE === '1') {
  process.on('exit', () => fs.writeFileSync(__filename + '.cache', script.createCachedData(), { mode: 0o644 }));
}
script.runInThisContext()(exports, require, module, __filename, __dirname);
`;
// Wrapped at build time as Node wraps a CommonJS module, so the loader need not copy it again.
const wrapped = `(function (exports, require, module, __filename, __dirname) {${code}\n})`;
const file = `${loader}//@vigie-agent-bundle\n${wrapped.split('\n').map((line) => `//${line}`).join('\n')}\n`;
writeFileSync(outfile, file);
chmodSync(outfile, 0o755);

// The cache is written after compiling and before running anything, so no
// V8 flag the agent sets while it runs (agent/src/v8-flags.ts) is baked in.
rmSync(`${outfile}.cache`, { force: true });
if (!process.argv.includes('--no-code-cache')) {
  execFileSync(process.execPath, [outfile, '--version'], { env: { ...process.env, VIGIE_AGENT_WRITE_CODE_CACHE: '1' }, stdio: 'ignore' });
}

if (process.argv.includes('--metafile')) {
  writeFileSync(`${outfile}.meta.json`, JSON.stringify(result.metafile));
}
console.log(`agent bundle: ${outfile} (${(file.length / 1024).toFixed(0)} KB${process.argv.includes('--no-code-cache') ? '' : ', with code cache'})`);
