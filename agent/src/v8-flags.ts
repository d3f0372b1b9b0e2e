import { setFlagsFromString } from 'node:v8';

/**
 * V8 settings for a small, mostly idle agent, imported first by cli.ts so they
 * apply before the rest of the agent loads (issue 3, Benchmark: a scan must
 * use less memory than fusioninventory-agent, and the daemon stay ≤ 60 MB).
 * Both flags are read by V8 while it runs, so setting them here works; flags
 * read only at start-up (heap sizes, --lite-mode) would do nothing this way.
 * - `--semi-space-growth-factor=1`: the young generation keeps its initial
 *   size instead of growing to 16 MB when a scan allocates a burst (parsing
 *   the package list); a few more scavenges, ~6 MB less RSS.
 * - `--no-opt`: no TurboFan. The agent runs no hot loop worth optimising, and
 *   optimising the code that runs once per scan cost more CPU and ~6 MB of RSS
 *   (compiler threads and optimised code) than it saved.
 * Measured in docs/benchmarks.md (npm run bench:agent).
 */
setFlagsFromString('--semi-space-growth-factor=1');
setFlagsFromString('--no-opt');
