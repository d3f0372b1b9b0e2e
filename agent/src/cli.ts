#!/usr/bin/env node
// First: V8 settings that must apply before the rest of the agent loads.
import './v8-flags';
import { readFileSync } from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';
import { sectionNames, type Facts, type SectionName } from '@vigie/shared';
import type { CommandIO } from './commands/io';
import { AGENT_VERSION } from './version';

// Each command loads its own modules inside its action (`await import`): the
// agent's footprint is mostly module loading, and a scan has no use for pino
// or ws, nor `--version` for the probes (issue 3, Benchmark). esbuild keeps
// these imports lazy in the shipped bundle (installers/build-agent.mjs).
// @vigie/shared stays a static, named import: a dynamic import of its barrel
// would keep every export (the policy engine and yaml included) in the bundle.

/** Exit codes: 0 done (whatever the facts say), 1 runtime failure, 2 usage error or unrecognised input. */
export const EXIT_USAGE = 2;

function probeName(value: string): SectionName {
  if (!(sectionNames as readonly string[]).includes(value)) throw new InvalidArgumentError(`unknown probe "${value}"; known probes: ${sectionNames.join(', ')}`);
  return value as SectionName;
}

function readInput(file: string): string {
  return file === '-' ? readFileSync(0, 'utf8') : readFileSync(file, 'utf8');
}

/** Where `run` serves the tray and `tray` looks for it (agent/src/tray/paths.ts). */
const TRAY_SOCKET_DEFAULT =
  '(default: $VIGIE_TRAY_SOCKET, else /run/vigie-agent/tray-<uid>.sock on Linux, /var/run/vigie-agent/tray-<uid>.sock on macOS, \\\\.\\pipe\\vigie-agent-<user> on Windows)';

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
      const [{ systemContext }, { renderFacts }, { scanAll, scanSection }] = await Promise.all([
        import('./probes/context.js'),
        import('./render.js'),
        import('./scan.js'),
      ]);
      const ctx = systemContext();
      // No second validation of the whole: scanSection already checked each
      // section against its schema (an invalid one becomes unknown), and a
      // second pass over ~1000 software items cost 2 MB of peak RSS.
      const result: Partial<Facts> = opts.probe ? { [opts.probe]: await scanSection(opts.probe, ctx) } : await scanAll(ctx);
      process.stdout.write(opts.json ? `${JSON.stringify(result, null, 2)}\n` : renderFacts(result));
    });

  program
    .command('parse')
    .description("recognise which tool printed a file, parse it and print the normalised section as JSON (for support staff and tests)")
    .argument('<probe>', `the probe the output belongs to (${sectionNames.join(', ')})`, probeName)
    .argument('<file>', 'a file holding the tool output, or - for standard input')
    .action(async (probe: SectionName, file: string) => {
      let text: string;
      try {
        text = readInput(file);
      } catch (e) {
        process.stderr.write(`vigie-agent: cannot read ${file}: ${(e as Error).message}\n`);
        process.exitCode = 1;
        return;
      }
      const { recognise } = await import('./formats.js');
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
      const { enrollCommand } = await import('./commands/enroll.js');
      process.exitCode = await enrollCommand(
        { server: opts.server, secret: opts.secret, caFingerprint: opts.caFingerprint, caFile: opts.caFile, stateDir: opts.state },
        await commandIO(),
      );
    });

  program
    .command('run')
    .description('scan at the interval the collector sets (default 15 min) and deliver reports; keeps them on disk while offline')
    .option('--state <dir>', 'the agent state directory (default: $VIGIE_AGENT_STATE or the OS default)')
    .option('--once', 'scan once, deliver everything pending, exit 0 when acknowledged (1 when not delivered in time, 2 when not enrolled, 3 when the collector refuses this device)')
    .option('--timeout <seconds>', 'with --once: how long to try to deliver', positiveInt, 60)
    .option('--scan-interval <seconds>', "scan at this interval instead of the collector's (testing and benchmarks)", positiveInt)
    .option('--tray-socket <path>', `serve the employee's tray on this socket ${TRAY_SOCKET_DEFAULT}`)
    .option('--tray-user <name>', 'as root: make the tray socket for this user (default: the user at the graphical session on Linux, the owner of /dev/console on macOS)')
    .action(async (opts: { state?: string; once?: boolean; timeout: number; scanInterval?: number; traySocket?: string; trayUser?: string }) => {
      const { runCommand } = await import('./commands/run.js');
      process.exitCode = await runCommand(
        { stateDir: opts.state, once: opts.once, timeoutSeconds: opts.timeout, scanIntervalSeconds: opts.scanInterval, traySocket: opts.traySocket, trayUser: opts.trayUser },
        await commandIO(),
      );
    });

  program
    .command('tray')
    .description("the employee's tray icon: this device's compliance, what to fix and by when (run in the user's session, never as root)")
    .option('--socket <path>', `the agent daemon's tray socket ${TRAY_SOCKET_DEFAULT}`)
    .option('--lang <lang>', 'en or fr (default: from the locale)', trayLang)
    .action(async (opts: { socket?: string; lang?: 'en' | 'fr' }) => {
      const { trayCommand } = await import('./tray/index.js');
      process.exitCode = await trayCommand({ socketPath: opts.socket, lang: opts.lang });
    });

  return program;
}

function trayLang(value: string): 'en' | 'fr' {
  if (value !== 'en' && value !== 'fr') throw new InvalidArgumentError('expected en or fr');
  return value;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive whole number');
  return n;
}

/** Logs are JSON lines on stderr (pino), so stdout stays for the command's own output. */
async function commandIO(): Promise<CommandIO> {
  const { default: pino } = await import('pino');
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
