#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';
import { facts as factsSchema, sectionNames, type Facts, type SectionName } from '@vigie/shared';
import pino from 'pino';
import { enrollCommand } from './commands/enroll';
import { runCommand } from './commands/run';
import type { CommandIO } from './commands/io';
import { recognise } from './formats';
import { systemContext } from './probes/context';
import { renderFacts } from './render';
import { isSectionName, scanAll, scanSection } from './scan';
import { AGENT_VERSION } from './version';

/** Exit codes: 0 done (whatever the facts say), 1 runtime failure, 2 usage error or unrecognised input. */
export const EXIT_USAGE = 2;

function probeName(value: string): SectionName {
  if (!isSectionName(value)) throw new InvalidArgumentError(`unknown probe "${value}"; known probes: ${sectionNames.join(', ')}`);
  return value;
}

function readInput(file: string): string {
  return file === '-' ? readFileSync(0, 'utf8') : readFileSync(file, 'utf8');
}

export function buildProgram(): Command {
  const program = new Command('vigie-agent')
    .description('Vigie agent: measures disk encryption, screen lock, installed software and USB storage on this machine, and reports them to a Vigie collector.')
    .version(AGENT_VERSION, '-V, --version', 'print the agent version')
    .showHelpAfterError()
    .exitOverride();

  program
    .command('scan')
    .description('collect the facts of this machine and print them; exits 0 whatever the facts say')
    .option('-p, --probe <name>', `one probe only (${sectionNames.join(', ')})`, probeName)
    .option('--json', 'print JSON that validates against the facts schema')
    .action(async (opts: { probe?: SectionName; json?: boolean }) => {
      const ctx = systemContext();
      const result: Partial<Facts> = opts.probe ? { [opts.probe]: await scanSection(opts.probe, ctx) } : await scanAll(ctx);
      if (!opts.probe) factsSchema.parse(result);
      process.stdout.write(opts.json ? `${JSON.stringify(result, null, 2)}\n` : renderFacts(result));
    });

  program
    .command('parse')
    .description("recognise which tool printed a file, parse it and print the normalised section as JSON (for support staff and tests)")
    .argument('<probe>', `the probe the output belongs to (${sectionNames.join(', ')})`, probeName)
    .argument('<file>', 'a file holding the tool output, or - for standard input')
    .action((probe: SectionName, file: string) => {
      let text: string;
      try {
        text = readInput(file);
      } catch (e) {
        process.stderr.write(`vigie-agent: cannot read ${file}: ${(e as Error).message}\n`);
        process.exitCode = 1;
        return;
      }
      const found = recognise(probe, text);
      if (!found.ok) {
        const known = found.known.map((f) => `  ${f.name.padEnd(28)} ${f.description}`).join('\n');
        process.stderr.write(`vigie-agent: unrecognised ${probe} output in ${file}.\nKnown formats:\n${known || '  (none: this probe reads no tool output)'}\n`);
        process.exitCode = EXIT_USAGE;
        return;
      }
      process.stdout.write(`${JSON.stringify({ format: found.format.name, [probe]: found.section }, null, 2)}\n`);
    });

  program
    .command('enroll')
    .description('enrol this device with a collector, using an enrolment secret; keeps the device token readable by the agent only')
    .requiredOption('--server <url>', 'the collector, e.g. wss://vigie.example.com:8443')
    .requiredOption('--secret <secret>', 'an enrolment secret from `vigie-collector enroll-secret create`')
    .option('--ca-fingerprint <sha256>', "trust the collector's CA with this SHA-256 fingerprint (printed by the collector on first start)")
    .option('--ca-file <pem>', "trust the collector's CA from this PEM file")
    .option('--state <dir>', 'the agent state directory (default: $VIGIE_AGENT_STATE or the OS default)')
    .action(async (opts: { server: string; secret: string; caFingerprint?: string; caFile?: string; state?: string }) => {
      process.exitCode = await enrollCommand({ server: opts.server, secret: opts.secret, caFingerprint: opts.caFingerprint, caFile: opts.caFile, stateDir: opts.state }, commandIO());
    });

  program
    .command('run')
    .description('scan at the interval the collector sets (default 15 min) and deliver reports; keeps them on disk while offline')
    .option('--state <dir>', 'the agent state directory (default: $VIGIE_AGENT_STATE or the OS default)')
    .option('--once', 'scan once, deliver everything pending, exit 0 when acknowledged (1 when not delivered in time)')
    .option('--timeout <seconds>', 'with --once: how long to try to deliver', positiveInt, 60)
    .option('--scan-interval <seconds>', "scan at this interval instead of the collector's (testing and benchmarks)", positiveInt)
    .action(async (opts: { state?: string; once?: boolean; timeout: number; scanInterval?: number }) => {
      process.exitCode = await runCommand({ stateDir: opts.state, once: opts.once, timeoutSeconds: opts.timeout, scanIntervalSeconds: opts.scanInterval }, commandIO());
    });

  return program;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive whole number');
  return n;
}

/** Logs are JSON lines on stderr (pino), so stdout stays for the command's own output. */
function commandIO(): CommandIO {
  return { stdout: process.stdout, stderr: process.stderr, logger: pino({ level: process.env.VIGIE_LOG_LEVEL ?? 'info' }, pino.destination(2)) };
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    const err = e as { code?: string; exitCode?: number; message?: string };
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return 0;
    if (err.code?.startsWith('commander.')) return EXIT_USAGE;
    process.stderr.write(`vigie-agent: ${err.message ?? String(e)}\n`);
    return 1;
  }
}

if (require.main === module) {
  void main(process.argv).then((code) => {
    process.exitCode = code;
  });
}
