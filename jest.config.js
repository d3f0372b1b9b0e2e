/** One Jest run for every workspace; TypeScript is compiled by SWC (types are checked by `tsc -b`). */
const swc = ['@swc/jest', { jsc: { parser: { syntax: 'typescript', tsx: true }, target: 'es2022' } }];

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  // CI machines are small and shared; a slow test is a benchmark's business, not a failure.
  testTimeout: 30_000,
  transform: { '^.+\\.(t|j)sx?$': swc },
  moduleNameMapper: { '^@vigie/shared$': '<rootDir>/shared/src/index.ts' },
  testMatch: ['<rootDir>/{shared,agent,collector,console}/src/**/*.test.ts?(x)', '<rootDir>/test/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  modulePathIgnorePatterns: ['<rootDir>/.*/dist/'],
};
