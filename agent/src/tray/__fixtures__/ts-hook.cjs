// Lets a child Node process run the tray's TypeScript in tests, compiled by SWC
// as Jest does (`node -r ./ts-hook.cjs file.ts`). Jest gives a test a copy of
// process.env that child processes do not inherit, so the tray under Xvfb must
// run in a process of its own, with DISPLAY in its real environment.
const fs = require('node:fs');
const Module = require('node:module');
const path = require('node:path');
const { transformSync } = require('@swc/core');

const shared = path.resolve(__dirname, '../../../../shared/src/index.ts');
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  return resolve.call(this, request === '@vigie/shared' ? shared : request, ...rest);
};
// Registering .ts also makes extensionless relative imports ('./state') find .ts files.
Module._extensions['.ts'] = (module, filename) => {
  const { code } = transformSync(fs.readFileSync(filename, 'utf8'), {
    filename,
    jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
    module: { type: 'commonjs' },
    sourceMaps: 'inline',
  });
  module._compile(code, filename);
};
