/**
 * npm run bench:collector — the collector under simulated agents, on this machine.
 *
 * The collector runs as its own process (`vigie-collector serve`, --log-level warn,
 * a rate limit high enough never to refuse a frame, two agent listener processes);
 * the simulated agents speak the real protocol over real WSS connections. Phases:
 *   1. idle connections held on the listeners' port (authenticated hello, then nothing), from
 *      several client processes, and RSS per connection;
 *   2. load: enrol DEVICES devices, one full report each (times it; sizes the store);
 *   3. full-report throughput, connections sending back to back, with p50/p99: reports that change
 *      the facts each time (three runs on the collector's port and three through the listeners, in
 *      turns; the medians), then reports that repeat them;
 *   4. p50/p99 at a fixed 100 reports/s (facts changed each time);
 *   5. steady check-ins (deltas) of DEVICES devices at a 15-minute interval;
 *   6. the store's write transaction with better-sqlite3 and node-sqlite3, and a raw bulk insert.
 *
 * Flags: --devices N (default 50000), --connections N (default 30000), --agent-processes N (default 2).
 */
import { fork, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import type { Facts, Message } from '@vigie/shared';
import { SimulatedAgent } from '../simulator/agent';
import { simulatedDevice, simulatedFacts } from '../simulator/facts';
import { pool } from '../simulator/fleet';
import { collectorCli, runCli as runCollectorCli, startCollectorProcess, type CollectorProcess } from '../helpers/processes';
import type { HolderCommand, HolderMessage } from './connection-holder';
import { percentile, verdict, writeSection } from './report';
import { betterSqlite, loadSample, nodeSqlite, rawBulkInsert, type DriverResult } from './collector-sql';

const runCli = (args: string[]) => runCollectorCli(collectorCli, args);
/** The JSON length of a stored facts column: deflated by the collector (collector/src/util/facts-column.ts), text in older rows. */
const jsonLength = (column: string | Buffer): number => (typeof column === 'string' ? column.length : inflateRawSync(column).length);


const SEED = 7;
const SETUP_SEED = 99;
const TARGET_CONNECTIONS = 20_000;

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const n = Number(process.argv[i + 1]);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} needs a positive integer`);
  return n;
}

const DEVICES = flag('devices', 50_000);
const CONNECTIONS = flag('connections', 30_000);
const AGENT_PROCESSES = flag('agent-processes', 2);
const THROUGHPUT_CONNECTIONS = flag('throughput-connections', 48);
/** Throughput runs per port, in turns; the median is reported. */
const TURNS = 3;
const SQL_REPORTS = flag('sql-reports', 5_000);
const LOAD_BUDGET_S = flag('load-budget', 420);
/** The check-in rate is the fleet's, 50,000 (or --devices) every 15 minutes, whatever number the load reached. */
const CHECKIN_INTERVAL_S = 900;

const log = (s: string): void => void process.stderr.write(`[bench:collector ${new Date().toISOString().slice(11, 19)}] ${s}\n`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
/** Every network wait is bounded: a collector out of file descriptors accepts TCP but never answers TLS. */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer in ${ms / 1000} s`)), ms)));
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
const sorted = (xs: number[]): number[] => [...xs].sort((a, b) => a - b);
const ms = (n: number): string => (Number.isFinite(n) ? `${n < 10 ? n.toFixed(1) : n.toFixed(0)} ms` : 'n/a');
const int = (n: number): string => Math.round(n).toLocaleString('en-US');

// ---- The collector process, seen through /proc ----

const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

function rssMb(pid: number): number {
  const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);
  return kb / 1024;
}

/** utime + stime of the process, in seconds (fields 14 and 15 of /proc/PID/stat). */
/** CPU seconds of the whole process, or with `thread` of one of its threads (the main thread's id is the pid). */
function cpuSeconds(pid: number, thread?: number): number {
  const stat = readFileSync(thread === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${thread}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

function openFds(pid: number): number {
  const r = spawnSync('ls', [`/proc/${pid}/fd`], { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
  return r.stdout.split('\n').filter(Boolean).length;
}

function hardFdLimit(pid: number | 'self'): number {
  const line = readFileSync(`/proc/${pid}/limits`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('Max open files'));
  return Number(line?.trim().split(/\s+/)[4] ?? NaN);
}

/** The collector's agent listener processes (its children). */
function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** CPU seconds of the collector with its listener processes. */
const collectorCpuSeconds = (pid: number): number => [pid, ...childPids(pid)].reduce((sum, p) => sum + cpuSeconds(p), 0);

/** CPU use of the collector (its listener processes included) and of this bench over a window: share of one core. */
class CpuWindow {
  private readonly collector0: number;
  private readonly main0: number;
  private readonly self0 = process.cpuUsage();
  private readonly t0 = performance.now();
  constructor(private readonly pid: number) {
    this.collector0 = collectorCpuSeconds(pid);
    this.main0 = cpuSeconds(pid, pid);
  }
  /** Shares of one core: the collector's threads and processes together (frame-parsing workers, listeners), its main thread, the bench. */
  end(): { collector: number; main: number; bench: number; seconds: number } {
    const seconds = (performance.now() - this.t0) / 1000;
    const self = process.cpuUsage(this.self0);
    return {
      collector: (collectorCpuSeconds(this.pid) - this.collector0) / seconds,
      main: (cpuSeconds(this.pid, this.pid) - this.main0) / seconds,
      bench: (self.user + self.system) / 1e6 / seconds,
      seconds,
    };
  }
}
/** Samples the collector's scheduler state (R running, S sleeping, D disk wait) to tell CPU-bound from I/O-bound. */
class StateSampler {
  private readonly counts = new Map<string, number>();
  private readonly timer: NodeJS.Timeout;
  constructor(private readonly pid: number) {
    this.timer = setInterval(() => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
        this.counts.set(state, (this.counts.get(state) ?? 0) + 1);
      } catch {
        // the process ended
      }
    }, 10);
  }
  end(): string {
    clearInterval(this.timer);
    const total = [...this.counts.values()].reduce((a, b) => a + b, 0);
    const names: Record<string, string> = { R: 'running or runnable', S: 'sleeping', D: 'waiting on the disk' };
    return [...this.counts]
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${names[k] ?? k} ${((v / total) * 100).toFixed(0)}%`)
      .join(', ');
  }
}

const pct = (share: number): string => `${(share * 100).toFixed(0)}%`;

// ---- Agents ----

type DeviceFacts = Extract<Facts['device'], { machineId: string }>;

interface Credential {
  index: number;
  deviceId: string;
  token: string;
  os: DeviceFacts['os'];
  /** The facts hash the collector acked for the last report: a check-in's delta base. */
  hash: string;
}

function factsFor(index: number, seed: number): { facts: Facts; device: DeviceFacts } {
  const facts = simulatedFacts(simulatedDevice(index, seed), { seed });
  return { facts, device: facts.device as DeviceFacts };
}

const ackHash = (m: Message): string | null => (m.type === 'ack' && m.status === 'stored' && m.factsHash ? m.factsHash : null);

/** Enrols a device and sends its first full report on the same connection (the collector accepts the connection as the device's after `enrolled`). */
async function enrolAndReport(server: string, secret: string, index: number, seed: number): Promise<Credential & { reportMs: number }> {
  const { facts, device } = factsFor(index, seed);
  const agent = new SimulatedAgent({ server, machineId: device.machineId, os: device.os });
  try {
    await within(agent.connect(), 20_000, 'connect');
    const reply = agent.waitFor((m) => m.type === 'enrolled' || m.type === 'error');
    agent.hello();
    agent.send({ type: 'enroll', secret, device });
    const enrolled = await reply;
    if (enrolled.type !== 'enrolled') throw new Error(`enrolment refused: ${enrolled.type === 'error' ? enrolled.code : enrolled.type}`);
    agent.token = enrolled.token;
    agent.deviceId = enrolled.deviceId;
    const t0 = performance.now();
    const ack = await agent.report(facts, { full: true });
    const reportMs = performance.now() - t0;
    const hash = ackHash(ack);
    if (!hash) throw new Error(`report not stored: ${JSON.stringify(ack).slice(0, 200)}`);
    return { index, deviceId: enrolled.deviceId, token: enrolled.token, os: device.os, hash, reportMs };
  } finally {
    agent.close();
  }
}

function authenticatedAgent(server: string, c: Credential): SimulatedAgent {
  const agent = new SimulatedAgent({ server, machineId: `bench-${c.index}`, os: c.os, token: c.token });
  agent.deviceId = c.deviceId;
  return agent;
}


// ---- Phase 1: idle connections ----

interface ConnectionResult {
  attempted: number;
  held: number;
  failures: number;
  firstError: string;
  openSeconds: number;
  listeners: number;
  holders: number;
  rssBefore: number;
  rssAfter: number;
  rssAfterPing: number;
  pinged: number;
  openAfterPing: number;
  /** Open files of the collector process and of each listener process, at the peak. */
  collectorFds: number;
  listenerFds: number[];
  fdLimit: number;
  /** Still open after phases 2 to 5, which ran while they were held. */
  openAtEnd?: number;
}

/** The idle connections, held open while the other phases run. */
interface IdleConnections {
  /** How many are open now. */
  open(): Promise<number>;
  close(): Promise<void>;
}

/** RSS of the collector and its listener processes together. */
const fleetRssMb = (pid: number): number => [pid, ...childPids(pid)].reduce((sum, p) => sum + rssMb(p), 0);

/** Connections per holder process: well under one process's open-files limit. */
const PER_HOLDER = 8000;

/**
 * Idle agents on the agent listeners' port, held by several client processes (one process
 * cannot hold more sockets than its open-files limit, 20,000 here), each from its own
 * 127.0.0.x address (one source address has ~28,000 ports towards one server port).
 */
async function phaseConnections(collector: CollectorProcess, server: string, creds: Credential[], target: number): Promise<{ result: ConnectionResult; idle: IdleConnections }> {
  const pid = collector.child.pid as number;
  await sleep(2000);
  const listeners = childPids(pid).length;
  const rssBefore = fleetRssMb(pid);
  const count = Math.ceil(target / PER_HOLDER);
  const holders = Array.from({ length: count }, () => fork(join(__dirname, 'connection-holder.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  const ask = <T extends HolderMessage['t']>(holder: ChildProcess, command: HolderCommand, answer: T): Promise<Extract<HolderMessage, { t: T }>> =>
    new Promise((resolve) => {
      const onMessage = (m: HolderMessage) => {
        if (m.t !== answer) return;
        holder.off('message', onMessage);
        resolve(m as Extract<HolderMessage, { t: T }>);
      };
      holder.on('message', onMessage);
      holder.send(command);
    });
  const started = performance.now();
  const credentials = creds.map((c) => ({ deviceId: c.deviceId, token: c.token, os: c.os }));
  const held = await Promise.all(
    holders.map((h, k) =>
      ask(h, { t: 'hold', request: { server, credentials, count: Math.min(PER_HOLDER, target - k * PER_HOLDER), localAddress: `127.0.0.${k + 2}`, concurrency: Math.ceil(200 / count), budgetMs: 300_000 } }, 'held'),
    ),
  );
  const openSeconds = (performance.now() - started) / 1000;
  const total = held.reduce((s, h) => s + h.held, 0);
  const failures = held.reduce((s, h) => s + h.failures, 0);
  const firstError = held.find((h) => h.firstError)?.firstError ?? '';
  log(`connections: ${total} held after ${openSeconds.toFixed(0)} s by ${count} client processes (${failures} failures${firstError ? `: ${firstError}` : ''})`);
  await sleep(3000);
  const rssAfter = fleetRssMb(pid);
  const collectorFds = openFds(pid);
  const listenerFds = childPids(pid).map(openFds);
  log(`connections: open files: collector ${collectorFds}, listeners ${listenerFds.join(', ')}`);
  // The heartbeat pings every 30 s and ends a socket that missed a pong; wait for a round to reach every connection.
  const pingDeadline = performance.now() + 45_000;
  let states = await Promise.all(holders.map((h) => ask(h, { t: 'state' }, 'state')));
  while (states.reduce((s, h) => s + h.pinged, 0) < total && performance.now() < pingDeadline) {
    await sleep(1000);
    states = await Promise.all(holders.map((h) => ask(h, { t: 'state' }, 'state')));
  }
  const rssAfterPing = fleetRssMb(pid);
  const pinged = states.reduce((s, h) => s + h.pinged, 0);
  const openAfterPing = states.reduce((s, h) => s + h.open, 0);
  log(`connections: ${pinged} pinged by the heartbeat, ${openAfterPing} still open; RSS ${rssBefore.toFixed(0)} → ${rssAfter.toFixed(0)} → ${rssAfterPing.toFixed(0)} MB`);
  const idle: IdleConnections = {
    open: async () => (await Promise.all(holders.map((h) => ask(h, { t: 'state' }, 'state')))).reduce((s, h) => s + h.open, 0),
    close: async () => {
      await Promise.all(holders.map((h) => new Promise<void>((resolve) => (h.once('exit', () => resolve()), h.send({ t: 'close' } satisfies HolderCommand)))));
      const closeDeadline = performance.now() + 30_000;
      while (childPids(pid).some((p) => openFds(p) > 200) && performance.now() < closeDeadline) await sleep(500);
    },
  };
  const result: ConnectionResult = {
    attempted: target,
    held: total,
    failures,
    firstError,
    openSeconds,
    listeners,
    holders: count,
    rssBefore,
    rssAfter,
    rssAfterPing,
    pinged,
    openAfterPing,
    collectorFds,
    listenerFds,
    fdLimit: hardFdLimit(pid),
  };
  return { result, idle };
}

// ---- Phase 2: load the fleet ----

interface LoadResult {
  requested: number;
  enrolled: number;
  failures: number;
  firstError: string;
  seconds: number;
  p50: number;
  p99: number;
  cpu: { collector: number; main: number; bench: number };
  dbMb: number;
  truncated: boolean;
}

async function phaseLoad(collector: CollectorProcess, server: string, secret: string, devices: number, creds: Credential[], dbPath: string): Promise<LoadResult> {
  const pid = collector.child.pid as number;
  const latencies: number[] = [];
  let failures = 0;
  let firstError = '';
  let truncated = false;
  const cpu = new CpuWindow(pid);
  const started = performance.now();
  // Past LOAD_BUDGET_S the whole bench would overrun its ~15 minutes: stop and say how many were loaded.
  const deadline = started + LOAD_BUDGET_S * 1000;
  await pool(devices, 32, async (i) => {
    if (failures >= 200) return;
    if (performance.now() > deadline) {
      truncated = true;
      return;
    }
    try {
      const c = await enrolAndReport(server, secret, i, SEED);
      creds[i] = c;
      latencies.push(c.reportMs);
    } catch (e) {
      failures++;
      firstError ||= (e as Error).message;
    }
    if ((i + 1) % 2500 === 0) {
      const s = (performance.now() - started) / 1000;
      log(`load: ${i + 1}/${devices} devices in ${s.toFixed(0)} s (${((i + 1) / s).toFixed(0)}/s), ${failures} failures`);
    }
  });
  const seconds = (performance.now() - started) / 1000;
  const usage = cpu.end();
  const s = sorted(latencies);
  const dbMb = ['', '-wal'].reduce((sum, ext) => sum + (statSafe(dbPath + ext) ?? 0), 0) / 2 ** 20;
  return { requested: devices, enrolled: latencies.length, failures, firstError, seconds, p50: percentile(s, 50), p99: percentile(s, 99), cpu: usage, dbMb, truncated };
}

function statSafe(path: string): number | null {
  try {
    return statSync(path).size;
  } catch {
    return null;
  }
}

// ---- Phase 3 and 4: full reports ----

interface Reporter {
  agent: SimulatedAgent;
  facts: Facts;
  /** The same facts after an update of one application: a report of these differs from the stored facts. */
  updated: Facts;
}

/** The device's facts with its first application one version on, as after an automatic update. */
function withUpdatedApp(facts: Facts): Facts {
  const software = facts.software as Extract<Facts['software'], { items: unknown }>;
  const items = software.items.map((item, i) => (i === 0 ? { ...item, version: `${item.version ?? '0'}.1` } : item));
  return { ...facts, software: { items } };
}

async function openReporters(server: string, creds: Credential[], count: number): Promise<Reporter[]> {
  const reporters: Reporter[] = [];
  for (const c of creds.slice(0, count)) {
    const agent = authenticatedAgent(server, c);
    await within(agent.start(), 20_000, 'connect and hello');
    const { facts } = factsFor(c.index, SEED);
    reporters.push({ agent, facts, updated: withUpdatedApp(facts) });
  }
  return reporters;
}

interface ThroughputResult {
  connections: number;
  reports: number;
  seconds: number;
  perSecond: number;
  p50: number;
  p99: number;
  errors: number;
  cpu: { collector: number; main: number; bench: number };
  /** The collector's main thread, sampled every 10 ms: R running or runnable, S sleeping, D waiting on the disk. */
  states: string;
}

/** The run with the median rate, with every run's rate (`runs`). */
function median(results: ThroughputResult[]): ThroughputResult & { runs: number[] } {
  const byRate = [...results].sort((a, b) => a.perSecond - b.perSecond);
  return { ...(byRate[Math.floor(byRate.length / 2)] as ThroughputResult), runs: results.map((r) => r.perSecond) };
}

/**
 * Every connection sends full reports back to back; acks counted in the window after a warm-up.
 * `changing`: each report alternates between the facts and their updated variant, so every report
 * changes the stored facts (the facts row, the timeline, the licenses inventory are written);
 * otherwise each repeats the facts the device last reported, as an agent does after a reconnect.
 */
async function phaseThroughput(pid: number, reporters: Reporter[], seconds: number, changing: boolean): Promise<ThroughputResult> {
  const warmMs = 3000;
  const start = performance.now();
  const windowStart = start + warmMs;
  const windowEnd = windowStart + seconds * 1000;
  const latencies: number[] = [];
  let errors = 0;
  let cpu: CpuWindow | null = null;
  const sampler = new StateSampler(pid);
  const cpuTimer = setTimeout(() => (cpu = new CpuWindow(pid)), warmMs);
  let usage = { collector: NaN, main: NaN, bench: NaN, seconds: NaN };
  const endTimer = setTimeout(() => {
    if (cpu) usage = cpu.end();
  }, warmMs + seconds * 1000);
  await Promise.all(
    reporters.map(async ({ agent, facts, updated }) => {
      for (let k = 0; k < 100_000 && performance.now() < windowEnd && errors < 100; k++) {
        const t0 = performance.now();
        const ack = await agent.report(changing && k % 2 === 0 ? updated : facts, { full: true }).catch((e: Error) => ({ type: 'error', message: e.message }) as const);
        const t1 = performance.now();
        if (!ackHash(ack as Message)) {
          errors++;
          continue;
        }
        if (t1 >= windowStart && t1 <= windowEnd) latencies.push(t1 - t0);
      }
    }),
  );
  clearTimeout(cpuTimer);
  clearTimeout(endTimer);
  const states = sampler.end();
  const s = sorted(latencies);
  return { connections: reporters.length, reports: s.length, seconds, perSecond: s.length / seconds, p50: percentile(s, 50), p99: percentile(s, 99), errors, cpu: usage, states };
}

interface FixedRateResult {
  rate: number;
  sent: number;
  acked: number;
  p50: number;
  p99: number;
  max: number;
  maxLagMs: number;
  errors: number;
  cpu: { collector: number; main: number; bench: number };
}

/** Open loop: a report is due every 1/rate s whatever the earlier ones did; latency from its due time to its ack. */
async function phaseFixedRate(pid: number, reporters: Reporter[], rate: number, seconds: number): Promise<FixedRateResult> {
  const total = Math.round(rate * seconds);
  const latencies: number[] = [];
  const pending: Promise<void>[] = [];
  let errors = 0;
  let maxLagMs = 0;
  const cpu = new CpuWindow(pid);
  const t0 = performance.now();
  for (let i = 0; i < total; i++) {
    const due = t0 + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    maxLagMs = Math.max(maxLagMs, performance.now() - due);
    const { agent, facts, updated } = reporters[i % reporters.length] as Reporter;
    // Each device's reports alternate between its facts and their update: every one changes the stored facts.
    const round = Math.floor(i / reporters.length);
    pending.push(
      agent.report(round % 2 === 0 ? updated : facts, { full: true }).then(
        (ack) => {
          if (ackHash(ack)) latencies.push(performance.now() - due);
          else errors++;
        },
        () => void errors++,
      ),
    );
  }
  await Promise.all(pending);
  const usage = cpu.end();
  const s = sorted(latencies);
  return { rate, sent: total, acked: s.length, p50: percentile(s, 50), p99: percentile(s, 99), max: s[s.length - 1] ?? NaN, maxLagMs, errors, cpu: usage };
}

// ---- Phase 5: check-ins ----

interface CheckinResult {
  devices: number;
  distinct: number;
  rate: number;
  seconds: number;
  due: number;
  done: number;
  skipped: number;
  errors: number;
  firstError: string;
  fullFallbacks: number;
  reportP50: number;
  reportP99: number;
  totalP50: number;
  totalP99: number;
  cpu: { collector: number; main: number; bench: number };
  rssStart: number;
  rssEnd: number;
}

/** A check-in: connect, hello with the token, a delta against the facts acked at load time, close. One in ten changes a software version. */
async function checkIn(server: string, c: Credential, round: number): Promise<{ reportMs: number; full: boolean }> {
  const base = factsFor(c.index, SEED).facts;
  const agent = authenticatedAgent(server, c);
  agent.lastFacts = base;
  agent.lastHash = c.hash;
  let next = base;
  if (round % 10 === 0 && 'items' in base.software) {
    const items = base.software.items.map((it, j) => (j === 0 ? { ...it, version: `${it.version}.${round}` } : it));
    next = { ...base, software: { ...base.software, items } };
  }
  try {
    await within(agent.start(), 20_000, 'connect and hello');
    const t0 = performance.now();
    let full = false;
    agent.keepReceived = true;
    const ack = await agent.report(next, {});
    full = agent.received.some((m) => m.type === 'error' && m.code === 'need-full-report');
    const hash = ackHash(ack);
    if (!hash) throw new Error(`check-in not stored: ${JSON.stringify(ack).slice(0, 200)}`);
    c.hash = hash;
    return { reportMs: performance.now() - t0, full };
  } finally {
    agent.close();
  }
}

async function phaseCheckins(collector: CollectorProcess, server: string, creds: Credential[], devices: number, seconds: number): Promise<CheckinResult> {
  const pid = collector.child.pid as number;
  const rate = devices / CHECKIN_INTERVAL_S;
  const due = Math.round(rate * seconds);
  const loaded = creds.filter(Boolean);
  const reportMs: number[] = [];
  const totalMs: number[] = [];
  let inFlight = 0;
  let skipped = 0;
  let errors = 0;
  let firstError = '';
  let fullFallbacks = 0;
  const pending: Promise<void>[] = [];
  const rssStart = rssMb(pid);
  const cpu = new CpuWindow(pid);
  const t0 = performance.now();
  for (let i = 0; i < due; i++) {
    const at = t0 + (i * 1000) / rate;
    const wait = at - performance.now();
    if (wait > 0) await sleep(wait);
    // Bounded: if the collector fell this far behind, the rest is counted as skipped, not queued without end.
    if (inFlight >= 1000) {
      skipped++;
      continue;
    }
    // Devices past the ones the throughput phases used, in load order, as a 15-minute schedule would take them.
    const c = loaded[THROUGHPUT_CONNECTIONS + (i % (loaded.length - THROUGHPUT_CONNECTIONS))] as Credential;
    inFlight++;
    pending.push(
      checkIn(server, c, i)
        .then(
          (r) => {
            reportMs.push(r.reportMs);
            totalMs.push(performance.now() - at);
            if (r.full) fullFallbacks++;
          },
          (e: Error) => {
            errors++;
            firstError ||= e.message;
          },
        )
        .finally(() => void inFlight--),
    );
    if ((i + 1) % 1000 === 0) log(`check-ins: ${i + 1}/${due} due, ${reportMs.length} acked, ${inFlight} in flight`);
  }
  await Promise.race([Promise.all(pending), sleep(60_000)]);
  const usage = cpu.end();
  const r = sorted(reportMs);
  const t = sorted(totalMs);
  return {
    devices,
    distinct: Math.min(due - skipped, loaded.length - THROUGHPUT_CONNECTIONS),
    rate,
    seconds,
    due,
    done: r.length,
    skipped,
    errors,
    firstError,
    fullFallbacks,
    reportP50: percentile(r, 50),
    reportP99: percentile(r, 99),
    totalP50: percentile(t, 50),
    totalP99: percentile(t, 99),
    cpu: usage,
    rssStart,
    rssEnd: rssMb(pid),
  };
}

// ---- Main ----

async function main(): Promise<void> {
  const benchStart = performance.now();
  const phaseLoads: [string, number][] = [];
  const loadAvg = loadavg()
    .map((n) => n.toFixed(2))
    .join(' / ');
  const dataDir = mkdtempSync(join(tmpdir(), 'vigie-bench-collector-'));
  let collector: CollectorProcess | null = null;
  try {
    const created = runCli(['enroll-secret', 'create', '--data', dataDir, '--org', 'bench']);
    if (created.code !== 0) throw new Error(`enroll-secret create failed: ${created.stderr}`);
    const secret = created.stdout.trim().split('\n').pop() as string;
    // VIGIE_BENCH_COLLECTOR_NODE_ARGS: node flags for the collector, e.g. --cpu-prof to see where its time goes.
    // VIGIE_BENCH_COLLECTOR_ARGS: more `serve` flags, e.g. --parse-workers 1 to compare settings.
    const extraArgs = (process.env.VIGIE_BENCH_COLLECTOR_ARGS ?? '').split(' ').filter(Boolean);
    collector = await startCollectorProcess(dataDir, '127.0.0.1:0', ['--rate-limit', '1000000', '--hello-timeout', '120', '--agent-listen', '127.0.0.1:0', '--agent-processes', String(AGENT_PROCESSES), ...extraArgs], {
      nodeArgs: (process.env.VIGIE_BENCH_COLLECTOR_NODE_ARGS ?? '').split(' ').filter(Boolean),
      echoStderr: true,
    });
    const pid = collector.child.pid as number;
    const server = `wss://127.0.0.1:${collector.port}`;
    const agentServer = `wss://127.0.0.1:${collector.agentPort}`;
    log(`collector pid ${pid} on ${server}, agent listeners on ${agentServer}; ${DEVICES} devices, ${CONNECTIONS} idle connections`);

    // A few devices whose tokens the idle connections share.
    const shared: Credential[] = [];
    for (let i = 0; i < 8; i++) shared.push(await enrolAndReport(server, secret, i, SETUP_SEED));

    log('phase 1: idle connections');
    // The idle connections stay open through phases 2 to 5: the ingest is measured with the fleet connected.
    const { result: conn, idle } = await phaseConnections(collector, agentServer, shared, CONNECTIONS);
    phaseLoads.push(['connections', loadavg()[0] as number]);

    log(`phase 2: enrol and load ${DEVICES} devices (full report each)`);
    const creds: Credential[] = [];
    const load = await phaseLoad(collector, server, secret, DEVICES, creds, join(dataDir, 'vigie.db'));
    log(`load: ${load.enrolled} devices in ${load.seconds.toFixed(0)} s, ${load.failures} failures${load.firstError ? ` (${load.firstError})` : ''}`);
    phaseLoads.push(['load', loadavg()[0] as number]);
    const loaded = creds.filter(Boolean);
    if (loaded.length <= THROUGHPUT_CONNECTIONS) throw new Error(`only ${loaded.length} devices loaded`);

    // Changed facts on the collector's own port and through the agent listeners, in turns: runs of the
    // same code vary by 10-20% on this machine, so each is the median of three, side by side in time.
    log(`phase 3: full-report throughput, ${THROUGHPUT_CONNECTIONS} connections back to back, ${TURNS} turns on each port`);
    const reporters = await openReporters(server, loaded, THROUGHPUT_CONNECTIONS);
    const relayed = await openReporters(agentServer, loaded, THROUGHPUT_CONNECTIONS);
    const ownRuns: ThroughputResult[] = [];
    const relayedRuns: ThroughputResult[] = [];
    for (let turn = 0; turn < TURNS; turn++) {
      ownRuns.push(await phaseThroughput(pid, reporters, 20, true));
      log(`throughput, changed facts: ${(ownRuns[turn] as ThroughputResult).perSecond.toFixed(0)} reports/s on the collector's port`);
      relayedRuns.push(await phaseThroughput(pid, relayed, 20, true));
      log(`throughput, changed facts: ${(relayedRuns[turn] as ThroughputResult).perSecond.toFixed(0)} reports/s through the listeners`);
    }
    for (const r of relayed) r.agent.close();
    const tput = median(ownRuns);
    const tputRelayed = median(relayedRuns);
    phaseLoads.push(['throughput (changed)', loadavg()[0] as number]);
    log(`throughput, changed facts: median ${tput.perSecond.toFixed(0)} reports/s, p50 ${ms(tput.p50)}, p99 ${ms(tput.p99)}, collector CPU ${pct(tput.cpu.collector)}, bench CPU ${pct(tput.cpu.bench)}; through the listeners ${tputRelayed.perSecond.toFixed(0)}/s`);
    const tputSame = await phaseThroughput(pid, reporters, 20, false);
    phaseLoads.push(['throughput (same)', loadavg()[0] as number]);
    log(`throughput, repeated facts: ${tputSame.perSecond.toFixed(0)} reports/s, p50 ${ms(tputSame.p50)}, p99 ${ms(tputSame.p99)}, collector CPU ${pct(tputSame.cpu.collector)}, bench CPU ${pct(tputSame.cpu.bench)}`);

    log('phase 4: 100 reports/s');
    const fixed = await phaseFixedRate(pid, reporters, 100, 20);
    phaseLoads.push(['100/s', loadavg()[0] as number]);
    log(`100/s: p50 ${ms(fixed.p50)}, p99 ${ms(fixed.p99)}, ${fixed.errors} errors`);
    for (const r of reporters) r.agent.close();
    await sleep(1000);

    log(`phase 5: check-ins at the rate of ${DEVICES} devices every 15 min, for 60 s, from the ${loaded.length} loaded`);
    const checkins = await phaseCheckins(collector, server, creds, DEVICES, 60);
    phaseLoads.push(['check-ins', loadavg()[0] as number]);
    log(`check-ins: ${checkins.done}/${checkins.due}, report p50 ${ms(checkins.reportP50)} p99 ${ms(checkins.reportP99)}, collector CPU ${pct(checkins.cpu.collector)}`);
    conn.openAtEnd = await idle.open();
    log(`connections: ${conn.openAtEnd} of the ${conn.held} idle connections still open after phases 2 to 5`);
    await idle.close();

    await collector.stop();
    collector = null;

    log(`phase 6: the store's write transaction, ${SQL_REPORTS} reports per driver`);
    const sample = loadSample(join(dataDir, 'vigie.db'), Math.min(SQL_REPORTS, loaded.length));
    const count = sample.length;
    const better = await betterSqlite(join(dataDir, 'better.db'), sample, count);
    log(`better-sqlite3: ${better.perSecond.toFixed(0)} reports/s`);
    const node = await nodeSqlite(join(dataDir, 'node.db'), sample, count);
    log(`node-sqlite3: ${node.perSecond.toFixed(0)} reports/s`);
    const raw = rawBulkInsert(join(dataDir, 'raw.db'), sample, count);
    phaseLoads.push(['drivers', loadavg()[0] as number]);
    log(`raw bulk insert: ${raw.perSecond.toFixed(0)} reports/s (${raw.rows} rows)`);

    const minutes = (performance.now() - benchStart) / 60_000;
    const md = report({ conn, load, tput, tputSame, tputRelayed, fixed, checkins, better, node, raw, sample: { reports: count, avgFactsKb: sample.reduce((s, r) => s + jsonLength(r.facts), 0) / count / 1024, avgStoredFactsKb: sample.reduce((s, r) => s + r.facts.length, 0) / count / 1024, avgFindings: sample.reduce((s, r) => s + r.findings.length, 0) / count }, minutes, loadAvg, phaseLoads });
    writeSection('collector', md);
    console.log(md);
  } finally {
    if (collector) await collector.stop('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  }
}

interface Results {
  conn: ConnectionResult;
  load: LoadResult;
  /** Full reports whose facts change each time (the targets' figure), and full reports repeating the stored facts. */
  tput: ThroughputResult & { runs: number[] };
  tputSame: ThroughputResult;
  /** Facts changed each time, through the agent listener processes. */
  tputRelayed: ThroughputResult & { runs: number[] };
  fixed: FixedRateResult;
  checkins: CheckinResult;
  better: DriverResult;
  node: DriverResult;
  raw: DriverResult & { rows: number };
  sample: { reports: number; avgFactsKb: number; avgStoredFactsKb: number; avgFindings: number };
  minutes: number;
  loadAvg: string;
  /** The 1-minute load average at the end of each phase: on a 2-core machine, above 2 means something else took CPU. */
  phaseLoads: [string, number][];
}

const runsText = (runs: number[]): string => runs.map((n) => `${n.toFixed(0)}/s`).join(', ');

function report(r: Results): string {
  const { conn, load, tput, tputSame, tputRelayed, fixed, checkins, better, node, raw } = r;
  const perConnKb = ((conn.rssAfter - conn.rssBefore) * 1024) / Math.max(1, conn.held);
  const ratio = tput.perSecond / raw.perSecond;
  const loadRate = load.enrolled / load.seconds;
  const maxLoad = Math.max(...r.phaseLoads.map(([, v]) => v));
  const contended = maxLoad > cpus().length;
  const benchMax = Math.max(load.cpu.bench, tput.cpu.bench, fixed.cpu.bench, checkins.cpu.bench);
  const maxListenerFds = Math.max(0, ...conn.listenerFds);
  const connCause =
    conn.held >= conn.attempted
      ? `All ${int(conn.attempted)} asked for were held. The open files at the peak: the collector process ${int(conn.collectorFds)}, its ${conn.listeners} listener processes ${conn.listenerFds.map(int).join(' and ')}; the sandbox's hard limit is ${int(conn.fdLimit)} per process (\`ulimit -Hn\`, which cannot be raised here), so one process could not hold 20,000 connections and the listener processes are what lets the collector go past it${maxListenerFds > conn.fdLimit * 0.8 ? ' (add listener processes for more: each is near the limit)' : ''}.`
      : `${int(conn.attempted - conn.held)} of ${int(conn.attempted)} were not held (${conn.failures} failures, first: ${conn.firstError || 'time budget'}); the open files at the peak: the collector ${int(conn.collectorFds)}, its listeners ${conn.listenerFds.map(int).join(' and ')}, the limit ${int(conn.fdLimit)} per process.`;
  const lines = [
    '## Collector: connections, ingest, check-ins, drivers (`npm run bench:collector`)',
    '',
    `The collector runs as its own process (\`vigie-collector serve --log-level warn --rate-limit 1000000 --agent-listen 127.0.0.1:0 --agent-processes ${conn.listeners}\`; SQLite store, WAL, synchronous=NORMAL). The simulated agents (test/simulator) speak the real protocol over real WSS (TLS) connections to 127.0.0.1: the idle connections of section 1 from ${conn.holders} client processes on the agent listeners' port (held open through sections 2 to 5), everything else from the bench process, on the collector's own port unless said otherwise. The bench process's CPU is shown next to the collector's${benchMax < 0.8 ? `, and peaked at ${pct(benchMax)} of a core, so one client process was enough` : `; it peaked at ${pct(benchMax)} of a core, so the client may have held some numbers back`}. A device's facts are ${r.sample.avgFactsKb.toFixed(0)} KB of JSON (about 300 software items, volumes, USB devices) and give ${r.sample.avgFindings.toFixed(1)} findings. The machine has ${cpus().length} cores (load average ${r.loadAvg} at the start; 1-minute load at the end of each phase: ${r.phaseLoads.map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')}). The run took ${r.minutes.toFixed(1)} min.`,
    ...(contended
      ? [
          '',
          `> **Caveat: the cores were oversubscribed.** The load average went above the ${cpus().length} cores (up to ${maxLoad.toFixed(1)}). It counts every runnable thread: the collector's main thread, its parsing workers (one per core) and WAL checkpointer, the bench process, and anything else running. So in the phases with a high load, threads waited for a core. Compare the CPU columns: collector and bench together near ${cpus().length * 100}% means the machine, not the collector alone, was the limit.`,
        ]
      : []),
    '',
    '### Targets',
    '',
    '| target | measured | |',
    '|---|---|---|',
    `| ≥ 20,000 concurrent connections | ${int(conn.held)}, held by ${conn.listeners} agent listener processes (sandbox fd cap ${int(conn.fdLimit)} per process) | ${verdict(conn.held >= TARGET_CONNECTIONS)} |`,
    `| ≥ 1,000 full reports/s | ${tput.perSecond.toFixed(0)}/s when every report changes the facts (median of ${runsText(tput.runs)}); ${tputSame.perSecond.toFixed(0)}/s when reports repeat the stored facts | ${verdict(tput.perSecond >= 1000)}${tput.perSecond < 1000 && tputSame.perSecond >= 1000 ? ' (met only for repeated facts)' : ''} |`,
    `| p99 ≤ 50 ms at 100 reports/s | ${ms(fixed.p99)} | ${verdict(fixed.p99 <= 50 && fixed.acked === fixed.sent)} |`,
    `| ingest ≥ 50% of raw SQLite insert | ${(ratio * 100).toFixed(1)}% | ${verdict(ratio >= 0.5)} |`,
    '',
    '### 1. Concurrent connections',
    '',
    `- ${int(conn.held)} connections held at once on the agent listeners' port (each: TLS, authenticated hello, config received, then idle; they share 8 devices' tokens), opened in ${conn.openSeconds.toFixed(0)} s, 200 at a time, from ${conn.holders} client processes (127.0.0.2 and up: one source address has about 28,000 ports towards one server port). The listener processes' heartbeat pinged ${int(conn.pinged)} of them; ${int(conn.openAfterPing)} were still open after the round. They stay open while phases 2 to 5 run, so the ingest below is measured with them connected: ${int(conn.openAtEnd ?? 0)} were still open at the end.`,
    `- The collector with its listener processes: RSS ${conn.rssBefore.toFixed(0)} MB before → ${conn.rssAfter.toFixed(0)} MB with the connections (${conn.rssAfterPing.toFixed(0)} MB after the heartbeat round): **${perConnKb.toFixed(1)} KB per connection** (the listener's TLS socket and ws, the collector's session).`,
    `- ${connCause}`,
    '',
    '### 2. Loading the fleet',
    '',
    `- ${int(load.enrolled)} of ${int(load.requested)} devices enrolled and sent one full report each in ${load.seconds.toFixed(0)} s: **${loadRate.toFixed(0)} devices/s** (32 in flight; per device one connection: TLS handshake, hello, enrol, full report, close)${load.failures ? `; ${load.failures} failures (${load.firstError})` : ''}. Report send → ack p50 ${ms(load.p50)}, p99 ${ms(load.p99)} (with 32 in flight). Collector CPU ${pct(load.cpu.collector)} of a core, bench ${pct(load.cpu.bench)}.`,
    load.truncated
      ? `- **Not all ${int(load.requested)}**: the load stops after ${LOAD_BUDGET_S / 60} minutes to keep the bench near 15 minutes; at this rate ${int(load.requested)} devices take about ${(load.requested / loadRate / 60).toFixed(0)} minutes. Phases 3–5 run against the ${int(load.enrolled)} loaded devices; the check-in rate is still that of ${int(load.requested)} devices.`
      : `- Phases 3–5 run against this store.`,
    `- The database is then ${load.dbMb.toFixed(0)} MB (vigie.db + WAL).`,
    '',
    '### 3–5. Ingest',
    '',
    '| | acked | rate | p50 | p99 | collector CPU (main thread) | bench CPU |',
    '|---|---|---|---|---|---|---|',
    `| Full reports, facts changed each time, ${tput.connections} connections back to back, ${tput.seconds} s, median of ${tput.runs.length} runs (${runsText(tput.runs)}) | ${int(tput.reports)} | **${tput.perSecond.toFixed(0)}/s** | ${ms(tput.p50)} | ${ms(tput.p99)} | ${pct(tput.cpu.collector)} (${pct(tput.cpu.main)}) | ${pct(tput.cpu.bench)} |`,
    `| Full reports repeating the stored facts, ${tputSame.connections} connections back to back, ${tputSame.seconds} s | ${int(tputSame.reports)} | **${tputSame.perSecond.toFixed(0)}/s** | ${ms(tputSame.p50)} | ${ms(tputSame.p99)} | ${pct(tputSame.cpu.collector)} (${pct(tputSame.cpu.main)}) | ${pct(tputSame.cpu.bench)} |`,
    `| Full reports, facts changed each time, through the agent listener processes, ${tputRelayed.connections} connections back to back, ${tputRelayed.seconds} s, median of ${tputRelayed.runs.length} runs (${runsText(tputRelayed.runs)}) | ${int(tputRelayed.reports)} | **${tputRelayed.perSecond.toFixed(0)}/s** | ${ms(tputRelayed.p50)} | ${ms(tputRelayed.p99)} | ${pct(tputRelayed.cpu.collector)} (${pct(tputRelayed.cpu.main)}) | ${pct(tputRelayed.cpu.bench)} |`,
    `| Full reports at a fixed ${fixed.rate}/s, facts changed each time, open loop, ${int(fixed.sent)} sent | ${int(fixed.acked)} | ${fixed.rate}/s | ${ms(fixed.p50)} | **${ms(fixed.p99)}** | ${pct(fixed.cpu.collector)} (${pct(fixed.cpu.main)}) | ${pct(fixed.cpu.bench)} |`,
    `| Check-ins (deltas) at ${int(checkins.devices)} devices / 15 min, ${checkins.seconds} s, ${int(checkins.due)} due | ${int(checkins.done)} | ${checkins.rate.toFixed(1)}/s | ${ms(checkins.reportP50)} | ${ms(checkins.reportP99)} | ${pct(checkins.cpu.collector)} (${pct(checkins.cpu.main)}) | ${pct(checkins.cpu.bench)} |`,
    '',
    `- Two kinds of full report. **Changed facts**: each report of a device alternates between its facts and the same facts after one application's update, so every report rewrites the stored facts (${r.sample.avgFactsKb.toFixed(0)} KB of JSON, stored deflated in ${r.sample.avgStoredFactsKb.toFixed(0)} KB), adds a timeline entry, re-evaluates the policy and moves the licenses inventory: ${tput.perSecond.toFixed(0)}/s${tput.errors ? ` (${tput.errors} errors)` : ''}${tput.perSecond < 1000 ? `, ${(1000 / tput.perSecond).toFixed(1)}× short of the target` : ''}; per report ${((tput.cpu.collector * 1000) / tput.perSecond).toFixed(1)} ms of collector CPU, ${((tput.cpu.main * 1000) / tput.perSecond).toFixed(1)} ms of it on the main thread (${tput.states}; ${tput.cpu.main > 0.85 ? 'CPU-bound' : 'not saturated'}). **Repeated facts**: each report repeats the facts the device last reported, as an agent's first report after a reconnect or restart does: ${tputSame.perSecond.toFixed(0)}/s, ${((tputSame.cpu.collector * 1000) / tputSame.perSecond).toFixed(1)} ms of collector CPU per report, ${((tputSame.cpu.main * 1000) / tputSame.perSecond).toFixed(1)} ms on the main thread (${tputSame.states}).`,
    `- Where the time goes (CPU profiles of shorter runs with \`VIGIE_BENCH_COLLECTOR_NODE_ARGS=--cpu-prof\`): worker threads (one per core) take each big frame from memory shared with the main thread, decode and validate it, compute the facts' canonical JSON and hash, and deflate it as the store keeps it (from the frame's own bytes when the agent wrote the facts canonically); the facts come back to the main thread as that text, built into objects only if the store needs them. A full report is read from its text (collector/src/ingest/full-report-text.ts): the facts are found by their brackets; when they are, byte for byte, the canonical text of the device's stored facts (a reconnect), they are hashed and neither parsed nor validated again; otherwise each section is validated on its own, and each software item too, an item whose exact text was validated before (a device's unchanged applications, and the same applications across the fleet) being taken as it is. Anything unexpected goes to the full JSON.parse and schema validation. The main thread keeps TLS and WebSocket framing, the SQLite transaction (reports arriving together share one commit; WAL checkpoints run on another thread; a 64 MiB page cache holds the indexes a report walks), the policy evaluation, the licenses inventory and the ack with the device's status. A report whose hash is the stored one rewrites nothing but its report row and last-seen time. A changed report is built from its text against the device's previous facts (collector/src/util/canonical-json.ts): unchanged sections are the previous objects, and in a changed section each array element whose canonical text is unchanged is the previous element, so only the changed elements are parsed; the unchanged run before the first change is found by a binary search, and the rest after a change in one comparison. The new list records the items it added and removed against the previous list (shared/src/facts/list-changes.ts), so the software rule's outcome, the timeline line and the licenses inventory are worked out from those few items, not from all 300. What is left on the main thread is mostly the SQLite statements and commit, garbage collection, the socket writes and waking the parsing threads; the parsing threads spend most of their time on looking up each software item among those validated before, deflating, and hashing. The whole machine is the limit: the collector's threads and the simulated agents share its two cores. SQLite alone runs the first-report transaction at ${better.perSecond.toFixed(0)}/s (section 6).`,
    `- Through the agent listener processes (\`--agent-listen\`), run in turns with the collector's own port, the listener does the TLS and WebSocket work, parses and validates each frame, and relays it to the collector over its IPC channel: ${tputRelayed.perSecond.toFixed(0)}/s against ${tput.perSecond.toFixed(0)}/s on the collector's own port (${(((tputRelayed.perSecond - tput.perSecond) / tput.perSecond) * 100).toFixed(0)}%), with ${((tputRelayed.cpu.main * 1000) / tputRelayed.perSecond).toFixed(2)} ms of main-thread CPU per report against ${((tput.cpu.main * 1000) / tput.perSecond).toFixed(2)} ms; the collector CPU column counts the listener processes.`,
    `- At ${fixed.rate} reports/s: p50 ${ms(fixed.p50)}, p99 ${ms(fixed.p99)}, max ${ms(fixed.max)}${fixed.errors ? `, ${fixed.errors} errors` : ''} (latency from each report's due time; the bench's scheduling lag peaked at ${ms(fixed.maxLagMs)}). Every report changes the facts, the costlier kind. ${fixed.p99 > 50 ? `Not met: 100/s is a large part of the ${tput.perSecond.toFixed(0)}/s the collector can take at all, so reports queue behind each other.` : ''}`,
    `- Check-ins: each connects (TLS handshake), sends hello with its token and a delta against the facts the collector acked at load (one in ten changes a software version; the rest change nothing), then closes; ${int(checkins.distinct)} distinct devices. p50/p99 above are send → ack; from the due time to the ack, connection included: p50 ${ms(checkins.totalP50)}, p99 ${ms(checkins.totalP99)}. ${checkins.skipped ? `${checkins.skipped} were skipped because 1,000 were already in flight. ` : ''}${checkins.errors ? `${checkins.errors} failed (${checkins.firstError}). ` : ''}${checkins.fullFallbacks ? `${checkins.fullFallbacks} fell back to a full report. ` : ''}Collector RSS ${checkins.rssStart.toFixed(0)} → ${checkins.rssEnd.toFixed(0)} MB. Real agents keep their connection open, so they would not pay a handshake per check-in: this is the heavier case.`,
    '',
    '### 6. Drivers, and the raw SQLite ceiling',
    '',
    `The store's write transaction for a first full report: the statements \`applyReport\` runs (collector/src/store/sqlite/index.ts), in its order: device and duplicate checks, facts upsert, device update, report row, timeline, findings upserts, non-conformities, status refresh (about 20 statements). Replayed for ${int(r.sample.reports)} reports whose rows were taken from the collector's database after the run, one transaction per report, on fresh databases with the collector's migrations and pragmas. No JSON or policy work: only the driver and SQLite.`,
    '',
    '| | reports/s | time |',
    '|---|---|---|',
    `| better-sqlite3 (synchronous; the collector's driver) | **${better.perSecond.toFixed(0)}** | ${better.seconds.toFixed(2)} s |`,
    `| node-sqlite3 (asynchronous; each statement awaited, since the transaction's reads decide its writes) | **${node.perSecond.toFixed(0)}** | ${node.seconds.toFixed(2)} s |`,
    `| raw bulk insert of the same rows (better-sqlite3, one transaction, prepared statements; ${int(raw.rows)} rows) | ${raw.perSecond.toFixed(0)} | ${raw.seconds.toFixed(2)} s |`,
    '',
    `- better-sqlite3 does ${(better.perSecond / node.perSecond).toFixed(2)}× the reports of node-sqlite3. Each node-sqlite3 statement is a round trip through the thread pool; both pay the same for writing ${r.sample.avgStoredFactsKb.toFixed(0)} KB of deflated facts and for the WAL checkpoints on this disk, which is most of the time${better.perSecond < node.perSecond ? ' (node-sqlite3 ahead can only be noise from a contended machine: it does the same SQLite work plus the round trips; see the load averages above)' : ''}.`,
    `- End-to-end ingest of reports that change the facts (which write the rows the raw insert writes) is **${(ratio * 100).toFixed(1)}%** of the raw insert (${tput.perSecond.toFixed(0)} vs ${raw.perSecond.toFixed(0)} reports/s): ${verdict(ratio >= 0.5)}. Reports repeating the stored facts reach ${tputSame.perSecond.toFixed(0)}/s, ${((tputSame.perSecond / raw.perSecond) * 100).toFixed(0)}% of it, but write fewer rows, so they are not the same comparison. The store's transaction replayed alone reaches ${((better.perSecond / raw.perSecond) * 100).toFixed(0)}% of raw (one commit per report and the reads; the collector itself commits reports that arrive together at once); the rest of the gap is the CPU work around it in the collector (above), on a machine whose second core also runs the simulated agents.`,
  ];
  return lines.join('\n');
}

main().catch((e: Error) => {
  console.error(`bench:collector: ${e.stack ?? e.message}`);
  process.exitCode = 1;
});
