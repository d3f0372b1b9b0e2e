/**
 * A process of the collector benchmark that holds idle agent connections: one
 * process can hold only as many sockets as its open-files limit allows, so the
 * bench spreads the connections over several of these (forked with an IPC channel).
 */
import { SimulatedAgent } from '../simulator/agent';
import { pool } from '../simulator/fleet';

export interface HoldRequest {
  server: string;
  /** Devices whose tokens the connections share, round robin. */
  credentials: { deviceId: string; token: string; os: 'windows' | 'macos' | 'linux' }[];
  count: number;
  localAddress: string;
  concurrency: number;
  budgetMs: number;
}

export type HolderMessage =
  | { t: 'held'; held: number; failures: number; firstError: string }
  | { t: 'state'; held: number; pinged: number; open: number };

export type HolderCommand = { t: 'hold'; request: HoldRequest } | { t: 'state' } | { t: 'close' };

function within<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer in ${ms / 1000} s`)), ms)));
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

const agents: SimulatedAgent[] = [];
const pinged = new Set<SimulatedAgent>();
const reply = (m: HolderMessage) => process.send?.(m);

async function hold(request: HoldRequest): Promise<void> {
  let failures = 0;
  let firstError = '';
  const deadline = Date.now() + request.budgetMs;
  await pool(request.count, request.concurrency, async (i) => {
    if (Date.now() > deadline || failures >= 200) return;
    const c = request.credentials[i % request.credentials.length] as HoldRequest['credentials'][number];
    const agent = new SimulatedAgent({ server: request.server, machineId: c.deviceId, os: c.os, token: c.token, localAddress: request.localAddress });
    agent.deviceId = c.deviceId;
    try {
      await within(agent.start(), 20_000);
      agents.push(agent);
      agent.onPing(() => pinged.add(agent));
    } catch (e) {
      failures++;
      firstError ||= (e as Error).message;
      agent.close();
    }
  });
  reply({ t: 'held', held: agents.length, failures, firstError });
}

process.on('message', (command: HolderCommand) => {
  if (command.t === 'hold') void hold(command.request);
  else if (command.t === 'state') reply({ t: 'state', held: agents.length, pinged: pinged.size, open: agents.filter((a) => a.open).length });
  else {
    for (const a of agents) a.close();
    setTimeout(() => process.exit(0), 2000).unref();
  }
});
process.on('disconnect', () => process.exit(0));
