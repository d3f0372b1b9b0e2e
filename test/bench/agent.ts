/**
 * npm run bench:agent — a full vigie-agent scan against fusioninventory-agent's
 * local inventory, in the same run on the same machine; then the daemon's RSS
 * after 20 scan cycles, to catch a leak.
 */
import { spawnSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verdict, writeSection } from './report';

const root = join(__dirname, '..', '..', '..');
// The shipped agent: the single-file bundle (npm run build:agent-bundle), not tsc's output.
const agentCli = join(root, 'agent', 'dist', 'vigie-agent.js');
const RUNS = 5;

interface Usage {
  wall: number;
  cpu: number;
  maxRssMb: number;
}

/** GNU time reports the process and its waited-for children: both tools shell out, so both are counted alike. */
function measure(command: string, args: string[]): Usage {
  const result = spawnSync('/usr/bin/time', ['-f', '%e %U %S %M', command, ...args], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  const last = result.stderr.trim().split('\n').pop() ?? '';
  const [wall, user, sys, rssKb] = last.split(' ').map(Number);
  if (result.status !== 0 || [wall, user, sys, rssKb].some((n) => n === undefined || Number.isNaN(n))) {
    throw new Error(`${command} failed (${result.status}): ${result.stderr.slice(-500)}`);
  }
  return { wall: wall as number, cpu: (user as number) + (sys as number), maxRssMb: (rssKb as number) / 1024 };
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

function summarise(samples: Usage[]): Usage {
  return { wall: median(samples.map((s) => s.wall)), cpu: median(samples.map((s) => s.cpu)), maxRssMb: median(samples.map((s) => s.maxRssMb)) };
}

function statusMb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN);
  return kb / 1024;
}

interface DaemonResult {
  afterFirst: number;
  afterAll: number;
  /** The highest RSS the daemon reached over all the cycles. */
  peak: number;
  cycles: number;
  /** RSS right after each scan, MB: a leak climbs, garbage awaiting a GC saw-tooths. */
  perScan: number[];
}

/**
 * An enrolment to a collector that cannot answer (port 9, discard, closed):
 * the daemon scans on schedule while its reports pile up in the outbox, which
 * is its real steady state when offline. Same format as `vigie-agent enroll`
 * writes (agent/src/state/state.ts), private like it.
 */
function offlineState(): string {
  const state = mkdtempSync(join(tmpdir(), 'vigie-bench-agent-'));
  chmodSync(state, 0o700);
  const enrolment = { server: 'wss://127.0.0.1:9', deviceId: 'bench-device', org: 'bench', token: 'bench-token', caFingerprint: '0'.repeat(64) };
  writeFileSync(join(state, 'enrolment.json'), `${JSON.stringify(enrolment, null, 2)}\n`, { mode: 0o600 });
  return state;
}

async function daemonRss(cycles: number, intervalSeconds: number): Promise<DaemonResult | string> {
  const state = offlineState();
  try {
    const child = spawn(process.execPath, [agentCli, 'run', '--state', state, '--scan-interval', String(intervalSeconds)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let scans = 0;
    let afterFirst = NaN;
    const perScan: number[] = [];
    let stderrTail = '';
    const done = new Promise<DaemonResult | string>((resolve) => {
      const timer = setTimeout(() => {
        resolve(`only ${scans} of ${cycles} scans within ${cycles * intervalSeconds + 120} s`);
        child.kill('SIGTERM');
      }, (cycles * intervalSeconds + 120) * 1000);
      // pino's JSON lines on stderr: {"level":30,...,"msg":"scan complete"}
      const onLine = (line: string) => {
        stderrTail = `${stderrTail}${line}\n`.slice(-2000);
        if (!/"msg":"scan complete"/.test(line)) return;
        scans++;
        perScan.push(statusMb(child.pid as number, 'VmRSS'));
        if (scans === 1) afterFirst = statusMb(child.pid as number, 'VmRSS');
        if (scans === cycles) {
          clearTimeout(timer);
          resolve({ afterFirst, afterAll: statusMb(child.pid as number, 'VmRSS'), peak: statusMb(child.pid as number, 'VmHWM'), cycles: scans, perScan });
          child.kill('SIGTERM');
        }
      };
      let buffer = '';
      const feed = (d: Buffer) => {
        buffer += d.toString();
        const lines = buffer.split('\n');
        buffer = lines.pop() ?? '';
        lines.forEach(onLine);
      };
      child.stdout.on('data', feed);
      child.stderr.on('data', feed);
      child.on('exit', (code) => resolve(`the daemon exited (${code}) after ${scans} scans: ${stderrTail.slice(-300)}`));
    });
    const result = await done;
    await new Promise((resolve) => (child.exitCode === null ? child.once('exit', resolve) : resolve(undefined)));
    return result;
  } finally {
    rmSync(state, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  if (!existsSync(agentCli)) throw new Error('build the agent bundle first: npm run build:agent-bundle');
  const bundleKb = statSync(agentCli).size / 1024;
  const codeCache = existsSync(`${agentCli}.cache`);
  const vigie: Usage[] = [];
  const fusion: Usage[] = [];
  const hasFusion = existsSync('/usr/bin/fusioninventory-agent');
  // Interleaved, so both tools see the same machine state (caches, load).
  for (let i = 0; i < RUNS; i++) {
    vigie.push(measure(process.execPath, [agentCli, 'scan', '--json']));
    if (hasFusion) {
      const out = mkdtempSync(join(tmpdir(), 'fusion-'));
      fusion.push(measure('/usr/bin/fusioninventory-agent', ['--local', out, '--no-category=printer']));
      rmSync(out, { recursive: true, force: true });
    }
    process.stderr.write(`run ${i + 1}/${RUNS}\n`);
  }
  const v = summarise(vigie);
  const f = hasFusion ? summarise(fusion) : null;
  const daemonInterval = Number(process.env.VIGIE_BENCH_INTERVAL ?? 2);
  const daemon = await daemonRss(20, daemonInterval);
  const lines = [
    '## Agent: a full scan, and the daemon\'s memory (`npm run bench:agent`)',
    '',
    `Medians of ${RUNS} interleaved runs. CPU is user + system time of the process and the commands it ran (GNU time).`,
    `The agent measured is the shipped bundle, \`agent/dist/vigie-agent.js\` (${bundleKb.toFixed(0)} KB, ${codeCache ? 'with' : 'without'} its V8 code cache; \`npm run build:agent-bundle\`), run as \`node vigie-agent.js …\`.`,
    '',
    '| | wall | CPU | peak RSS |',
    '|---|---|---|---|',
    `| \`vigie-agent scan --json\` | ${v.wall.toFixed(2)} s | ${v.cpu.toFixed(2)} s | ${v.maxRssMb.toFixed(1)} MB |`,
    f ? `| \`fusioninventory-agent --local DIR\` | ${f.wall.toFixed(2)} s | ${f.cpu.toFixed(2)} s | ${f.maxRssMb.toFixed(1)} MB |` : '| fusioninventory-agent | not installed (`apt-get install fusioninventory-agent`) | | |',
    '',
  ];
  if (f) {
    lines.push(`- Target: CPU at most half of fusioninventory-agent's (${(f.cpu / 2).toFixed(2)} s): ${verdict(v.cpu <= f.cpu / 2)} (${((v.cpu / f.cpu) * 100).toFixed(0)}%).`);
    lines.push(`- Target: lower peak RSS: ${verdict(v.maxRssMb < f.maxRssMb)}.`);
  }
  if (typeof daemon === 'string') lines.push(`- Daemon RSS after 20 scans: not measured: ${daemon}.`);
  else {
    lines.push(
      `- Daemon (\`vigie-agent run --scan-interval ${daemonInterval}\`, enrolled to an unreachable collector so reports pile up in the outbox): ` +
        `RSS right after scan 1 ${daemon.afterFirst.toFixed(1)} MB, right after scan ${daemon.cycles} ${daemon.afterAll.toFixed(1)} MB ` +
        `(peak over the run ${daemon.peak.toFixed(1)} MB). Target ≤ 60 MB after ${daemon.cycles} scans: ${verdict(daemon.afterAll <= 60)}.`,
      `  RSS after each scan (MB): ${daemon.perScan.map((mb) => mb.toFixed(1)).join(', ')}. The daemon runs a full GC once each scan is queued (agent/src/v8-flags.ts compactHeap), as V8's memory reducer would some seconds into the real 15-minute interval.`,
    );
  }
  writeSection('agent', lines.join('\n'));
  console.log(lines.join('\n'));
}

main().catch((e: Error) => {
  console.error(`bench:agent: ${e.message}`);
  process.exitCode = 1;
});
