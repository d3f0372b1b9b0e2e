import { SimulatedAgent } from './agent';
import { simulatedDevice, simulatedFacts } from './facts';

export interface FleetOptions {
  server: string;
  secret: string;
  devices: number;
  ca?: string;
  seed?: number;
  softwareCount?: number;
  /** How many enrolments and reports are in flight at once. */
  concurrency?: number;
  onProgress?: (done: number, total: number) => void;
}

/** Runs `worker` over 0..count-1 with at most `concurrency` in flight. */
export async function pool(count: number, concurrency: number, worker: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const runners = Array.from({ length: Math.min(concurrency, count) }, async () => {
    while (next < count) {
      const i = next++;
      await worker(i);
    }
  });
  await Promise.all(runners);
}

/**
 * Enrols `devices` simulated agents and sends each one full report, so the
 * collector holds a realistic fleet with mixed compliance.
 */
export async function runFleet(options: FleetOptions): Promise<{ enrolled: number; reported: number; failed: string[] }> {
  const failed: string[] = [];
  let reported = 0;
  let done = 0;
  await pool(options.devices, options.concurrency ?? 16, async (i) => {
    const device = simulatedDevice(i, options.seed ?? 1);
    const facts = simulatedFacts(device, { seed: options.seed ?? 1, ...(options.softwareCount ? { softwareCount: options.softwareCount } : {}) });
    if (!('machineId' in facts.device)) return;
    const agent = new SimulatedAgent({ server: options.server, machineId: device.machineId, os: facts.device.os, ...(options.ca ? { ca: options.ca } : {}) });
    try {
      await agent.enroll(options.secret, facts.device);
      await agent.start();
      const ack = await agent.report(facts, { full: true });
      if (ack.type === 'ack') reported++;
      else failed.push(`${device.machineId}: ${ack.type === 'error' ? ack.code : ack.type}`);
    } catch (e) {
      failed.push(`${device.machineId}: ${(e as Error).message}`);
    } finally {
      agent.close();
      options.onProgress?.(++done, options.devices);
    }
  });
  return { enrolled: options.devices - failed.length, reported, failed };
}
