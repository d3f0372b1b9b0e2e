import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

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

let fullGc: (() => void) | null | undefined;

/**
 * One full, compacting GC. The daemon calls it once a scan is queued: the
 * scan's garbage (command outputs, parsed lists, serialised reports) sits in
 * old space, and with a 15-minute interval V8's memory reducer would collect
 * it only some seconds later, while a scan every few seconds (benchmarks, a
 * collector asking for rescans) never lets the reducer run at all, so the old
 * generation grew to ~3× its live size before V8 collected it. ~20 ms of CPU
 * per scan. `gc` comes from --expose-gc, which V8 reads when a context is
 * created: a fresh vm context gets it without a command-line flag.
 */
export function compactHeap(): void {
  if (fullGc === undefined) {
    try {
      setFlagsFromString('--expose-gc');
      fullGc = runInNewContext('gc') as () => void;
    } catch {
      fullGc = null;
    }
  }
  fullGc?.();
}
