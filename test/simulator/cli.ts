#!/usr/bin/env node
/**
 * vigie-simulate: fills a running collector with simulated devices.
 *   node test/dist/simulator/cli.js --server wss://127.0.0.1:8443 --secret S --devices 200 [--ca ca.pem]
 */
import { readFileSync } from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';
import { runFleet } from './fleet';

const positive = (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer');
  return n;
};

const program = new Command('vigie-simulate')
  .description('Enrol simulated agents with realistic, mixed-compliance facts into a running Vigie collector.')
  .requiredOption('--server <url>', 'the collector, e.g. wss://127.0.0.1:8443')
  .requiredOption('--secret <secret>', 'an enrolment secret (vigie-collector enroll-secret create --org ORG)')
  .option('--devices <n>', 'how many devices', positive, 200)
  .option('--ca <file>', "the collector's CA certificate (PEM); without it the certificate is not checked")
  .option('--seed <n>', 'seed for the generated fleet', positive, 1)
  .option('--concurrency <n>', 'connections in flight', positive, 16)
  .action(async (opts: { server: string; secret: string; devices: number; ca?: string; seed: number; concurrency: number }) => {
    const started = Date.now();
    const result = await runFleet({
      server: opts.server,
      secret: opts.secret,
      devices: opts.devices,
      seed: opts.seed,
      concurrency: opts.concurrency,
      ...(opts.ca ? { ca: readFileSync(opts.ca, 'utf8') } : {}),
      onProgress: (done, total) => {
        if (done % 50 === 0 || done === total) process.stderr.write(`\r${done}/${total} devices`);
      },
    });
    process.stderr.write('\n');
    console.log(`${result.reported} devices reported in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    if (result.failed.length > 0) {
      console.error(`${result.failed.length} failed, first: ${result.failed.slice(0, 3).join('; ')}`);
      process.exitCode = 1;
    }
  });

program.parseAsync(process.argv).catch((e: Error) => {
  console.error(`vigie-simulate: ${e.message}`);
  process.exitCode = 1;
});
