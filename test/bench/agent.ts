/**
 * npm run bench:agent — a full vigie-agent scan against fusioninventory-agent's
 * local inventory, in the same run on the same machine; then the daemon's RSS
 * after 20 scan cycles, to catch a leak.
 */
import { spawnSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verdict, writeSection } from './report';

const root = join(__dirname, '..', '..', '..');
const agentCli = join(root, 'agent', 'dist', 'cli.js');
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

function rssOfPidMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  return kb / 1024;
}

async function daemonRss(cycles: number, intervalSeconds: number): Promise<{ afterFirst: number; afterAll: number; cycles: number } | string> {
  const state = mkdtempSync(join(tmpdir(), 'vigie-bench-agent-'));
  try {
    // --offline-scan-interval runs scans without a collector: reports pile up in the outbox, which is the daemon's real steady state when offline.
    const child = spawn(process.execPath, [agentCli, 'run', '--state', state, '--offline', '--scan-interval', String(intervalSeconds)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let scans = 0;
    let afterFirst = NaN;
    const done = new Promise<{ afterFirst: number; afterAll: number; cycles: number } | string>((resolve) => {
      const onLine = (line: string) => {
        if (!/scan (complete|done)/i.test(line)) return;
        scans++;
        if (scans === 1) afterFirst = rssOfPidMb(child.pid as number);
        if (scans === cycles) {
          resolve({ afterFirst, afterAll: rssOfPidMb(child.pid as number), cycles: scans });
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
      child.on('exit', (code) => resolve(`the daemon exited (${code}) after ${scans} scans`));
    });
    return await done;
  } finally {
    rmSync(state, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  if (!existsSync(agentCli)) throw new Error('build first: npm run build');
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
  const daemon = await daemonRss(20, Number(process.env.VIGIE_BENCH_INTERVAL ?? 2));
  const lines = [
    '## Agent: a full scan, and the daemon\'s memory (`npm run bench:agent`)',
    '',
    `Medians of ${RUNS} interleaved runs. CPU is user + system time of the process and the commands it ran (GNU time).`,
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
  else lines.push(`- Daemon (\`vigie-agent run\`) RSS after 1 scan ${daemon.afterFirst.toFixed(1)} MB, after ${daemon.cycles} scans ${daemon.afterAll.toFixed(1)} MB. Target ≤ 60 MB: ${verdict(daemon.afterAll <= 60)}.`);
  writeSection('agent', lines.join('\n'));
  console.log(lines.join('\n'));
}

main().catch((e: Error) => {
  console.error(`bench:agent: ${e.message}`);
  process.exitCode = 1;
});
