#!/usr/bin/env node
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { previewImport } from './licenses/csv-import';
import { LicenseService } from './licenses/service';
import { startCollector, type RunningCollector } from './server';
import { roles, type Datastore, type Role } from './store/datastore';
import { openStore } from './store/open';
import { hashPassword, randomToken, sha256Hex } from './util/crypto';

export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  readStdin(): Promise<string>;
  env: NodeJS.ProcessEnv;
  cwd: string;
  now(): Date;
  /** Resolves when the operator asks the server to stop (SIGTERM, SIGINT). */
  waitForShutdown(): Promise<string>;
  /** Tests get the running server here. */
  onServing?(running: RunningCollector): void;
}

/** A usage error: exit code 2. */
class UsageError extends Error {}
/** A runtime failure with a message for the operator: exit code 1. */
class CliFailure extends Error {}

export function processIo(): CliIo {
  return {
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    readStdin: async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks).toString('utf8');
    },
    env: process.env,
    cwd: process.cwd(),
    now: () => new Date(),
    waitForShutdown: () =>
      new Promise((resolve) => {
        process.once('SIGTERM', () => resolve('SIGTERM'));
        process.once('SIGINT', () => resolve('SIGINT'));
      }),
  };
}

function defaultDataDir(io: CliIo): string {
  return io.env.VIGIE_DATA ? path.resolve(io.cwd, io.env.VIGIE_DATA) : path.resolve(io.cwd, '.vigie', 'collector');
}

const DATA_HELP = 'data directory: database, local CA, ca-fingerprint.txt (default: $VIGIE_DATA, else ./.vigie/collector)';
const DB_HELP = 'database URL: sqlite:PATH (default: DATA/vigie.db); PostgreSQL is not supported yet';

function parseListen(value: string, flag = '--listen'): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(value);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new UsageError(`${flag} must be HOST:PORT (e.g. 0.0.0.0:8443 or [::]:8443), got "${value}"`);
  return { host: (m[1] ?? m[2])!, port };
}

function positiveInt(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`${name} must be a positive whole number, got "${value}"`);
  return n;
}

function nonNegativeInt(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 64) throw new UsageError(`${name} must be a whole number from 0 to 64, got "${value}"`);
  return n;
}

function withStore<T>(io: CliIo, opts: { data?: string; db?: string }, fn: (store: Datastore) => Promise<T>): Promise<T> {
  const dataDir = opts.data ? path.resolve(io.cwd, opts.data) : defaultDataDir(io);
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const opened = openStore(opts.db, dataDir, io.now());
  if (!opened.ok) throw new CliFailure(opened.message);
  return fn(opened.store).finally(() => opened.store.close());
}

function cliActor(): string {
  try {
    return `cli:${os.userInfo().username}`;
  } catch {
    return 'cli';
  }
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n') + '\n';
}

function buildProgram(io: CliIo): Command {
  const program = new Command('vigie-collector')
    .description('Vigie collector: enrols agents, stores their facts, evaluates the ISSP policy and serves the console.')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .exitOverride();
  const common = (cmd: Command) =>
    cmd
      .option('--data <dir>', DATA_HELP)
      .option('--db <url>', DB_HELP)
      .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
      .exitOverride();

  common(
    program
      .command('serve')
      .description('Run the collector: agents on wss://HOST:PORT/agent, the console API on /api/v1, the UI on /.')
      .option('--listen <host:port>', 'address to listen on; the default listens on every interface', '0.0.0.0:8443')
      .option('--agent-listen <host:port>', 'also serve agents, and only agents, on this address from listener processes that hold their connections: for fleets above one process\'s open-files limit (e.g. 0.0.0.0:8444)')
      .option('--agent-processes <n>', 'listener processes for --agent-listen (default: 2)')
      .option('--tls-cert <file>', 'PEM certificate (chain); without it a local CA and certificate are made in DATA/tls')
      .option('--tls-key <file>', 'PEM private key for --tls-cert')
      .option('--max-frame-bytes <n>', 'largest agent frame accepted (default: 4194304)')
      .option('--rate-limit <n>', 'frames per second per agent connection, bursts of twice that (default: 20)')
      .option('--parse-workers <n>', 'threads that parse and validate big agent frames off the main thread (default: one per core, at most 4); 0 parses on the main thread')
      .option('--hello-timeout <seconds>', 'close agent connections that have not authenticated by then (default: 10)')
      .option('--session-idle <minutes>', 'console session idle timeout (default: 15, ISSP 9.11.7)')
      .option('--policy <file>', 'policy file (default: the ISSP pack shipped with Vigie)')
      .option('--ui <dir>', 'console UI build to serve at / (default: console/dist/renderer when built)')
      .addOption(new Option('--log-level <level>', 'log level').choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info')),
  ).action(async (opts: Record<string, string | undefined>) => {
    const listen = parseListen(opts.listen!);
    const agentListen = opts.agentListen ? parseListen(opts.agentListen, '--agent-listen') : null;
    const agentProcesses = positiveInt('--agent-processes', opts.agentProcesses);
    if (agentProcesses !== undefined && !agentListen) throw new UsageError('--agent-processes goes with --agent-listen');
    if (Boolean(opts.tlsCert) !== Boolean(opts.tlsKey)) throw new UsageError('--tls-cert and --tls-key go together');
    const dataDir = opts.data ? path.resolve(io.cwd, opts.data) : defaultDataDir(io);
    const helloTimeout = positiveInt('--hello-timeout', opts.helloTimeout);
    const sessionIdle = positiveInt('--session-idle', opts.sessionIdle);
    const maxFrameBytes = positiveInt('--max-frame-bytes', opts.maxFrameBytes);
    const rateLimit = positiveInt('--rate-limit', opts.rateLimit);
    const parseWorkers = opts.parseWorkers !== undefined ? nonNegativeInt('--parse-workers', opts.parseWorkers) : undefined;
    let running: RunningCollector;
    try {
      running = await startCollector({
        dataDir,
        host: listen.host,
        port: listen.port,
        ...(opts.tlsCert && opts.tlsKey ? { tls: { certFile: path.resolve(io.cwd, opts.tlsCert), keyFile: path.resolve(io.cwd, opts.tlsKey) } } : {}),
        ...(opts.db ? { dbUrl: opts.db } : {}),
        ...(opts.policy ? { policyFile: path.resolve(io.cwd, opts.policy) } : {}),
        ...(opts.ui ? { uiDir: path.resolve(io.cwd, opts.ui) } : {}),
        maxFrameBytes,
        rateLimit,
        ...(parseWorkers !== undefined ? { parseWorkers } : {}),
        ...(helloTimeout ? { helloTimeoutMs: helloTimeout * 1000 } : {}),
        ...(sessionIdle ? { auth: { sessionIdleSeconds: sessionIdle * 60 } } : {}),
        logLevel: opts.logLevel,
        ...(agentListen ? { agentListeners: { processes: agentProcesses ?? 2, host: agentListen.host, port: agentListen.port } } : {}),
      });
    } catch (e) {
      throw new CliFailure((e as Error).message);
    }
    // The agents' line first: scripts wait for the listening line, and then have both.
    if (running.agentPort !== null && agentListen) {
      const agentHost = agentListen.host.includes(':') ? `[${agentListen.host}]` : agentListen.host;
      io.stdout(`agents also on wss://${agentHost}:${running.agentPort}/agent (${running.agentListenerPids().length} listener processes)\n`);
    }
    io.stdout(`vigie-collector listening on https://${listen.host.includes(':') ? `[${listen.host}]` : listen.host}:${running.port} (CA sha256 ${running.caFingerprint})\n`);
    io.onServing?.(running);
    const signal = await io.waitForShutdown();
    io.stderr(`${signal}: shutting down\n`);
    await running.close();
  });

  const secret = program.command('enroll-secret').description('Manage enrolment secrets.').configureOutput({ writeOut: io.stdout, writeErr: io.stderr }).exitOverride();
  common(
    secret
      .command('create')
      .description('Create an enrolment secret for an org. The secret is printed alone on the last line.')
      .requiredOption('--org <org>', 'the org the enrolled devices belong to')
      .option('--expires <days>', 'days until the secret expires, at most 3650', '7'),
  ).action(async (opts: { org: string; expires: string; data?: string; db?: string }) => {
    const days = Number(opts.expires);
    if (!Number.isInteger(days) || days < 1 || days > 3650) throw new UsageError(`--expires must be a whole number of days between 1 and 3650, got "${opts.expires}"`);
    if (!/^[^\s*][^\n]{0,255}$/.test(opts.org)) throw new UsageError('--org must be a name of 1 to 256 characters, without a leading space or *');
    const value = randomToken();
    const now = io.now();
    const expiresAt = new Date(now.getTime() + days * 86_400_000);
    await withStore(io, opts, async (store) => {
      const created = await store.createEnrollSecret({ secretHash: sha256Hex(value), org: opts.org, expiresAt, createdBy: cliActor(), now });
      await store.appendAudit({ at: now, actor: cliActor(), action: 'enroll-secret.create', target: opts.org, details: { id: created.id, expiresAt: created.expiresAt }, ip: null, outcome: 'success' });
    });
    io.stdout(`Enrolment secret for org "${opts.org}", valid until ${expiresAt.toISOString()}. It is shown once; only its hash is kept.\n${value}\n`);
  });

  const device = program.command('device').description('Manage enrolled devices.').configureOutput({ writeOut: io.stdout, writeErr: io.stderr }).exitOverride();
  common(
    device
      .command('revoke')
      .description("Revoke a device's token: its agent is refused, and cannot enrol again, until `device restore ID`.")
      .argument('<id>', 'device id'),
  ).action(
    async (id: string, opts: { data?: string; db?: string }) => {
      await withStore(io, opts, async (store) => {
        const existing = await store.getDevice(id);
        if (!existing) throw new CliFailure(`no device with id ${id}`);
        await store.revokeDevice(id, io.now());
        await store.appendAudit({ at: io.now(), actor: cliActor(), action: 'device.revoke', target: id, details: { hostname: existing.hostname, org: existing.org }, ip: null, outcome: 'success' });
      });
      io.stdout(`revoked device ${id}\n`);
    },
  );
  common(
    device
      .command('restore')
      .description("Lift a revocation. The revoked token stays refused: the device must enrol again with its own org's secret (vigie-agent enroll).")
      .argument('<id>', 'device id'),
  ).action(async (id: string, opts: { data?: string; db?: string }) => {
    const org = await withStore(io, opts, async (store) => {
      const existing = await store.getDevice(id);
      if (!existing) throw new CliFailure(`no device with id ${id}`);
      if (!existing.revoked) throw new CliFailure(`device ${id} is not revoked`);
      await store.restoreDevice(id, io.now());
      await store.appendAudit({ at: io.now(), actor: cliActor(), action: 'device.restore', target: id, details: { hostname: existing.hostname, org: existing.org }, ip: null, outcome: 'success' });
      return existing.org;
    });
    io.stdout(`restored device ${id}; enrol it again with an enrolment secret of org ${org}\n`);
  });

  const user = program.command('user').description('Manage console users.').configureOutput({ writeOut: io.stdout, writeErr: io.stderr }).exitOverride();
  common(
    user
      .command('add')
      .description('Add a console user; the password is read from standard input.')
      .requiredOption('--username <name>', 'login name')
      .addOption(new Option('--role <role>', 'role').choices([...roles]).makeOptionMandatory())
      .option('--org <org>', 'an org the user may see (at least one is required); repeat for several; * for all', (v: string, acc: string[]) => [...acc, v], [] as string[])
      .requiredOption('--password-stdin', 'read the password from standard input (required: never on the command line)'),
  ).action(async (opts: { username: string; role: Role; org: string[]; data?: string; db?: string }) => {
    if (!/^[A-Za-z0-9._@-]{1,128}$/.test(opts.username)) throw new UsageError('--username may hold letters, digits and . _ @ - (1 to 128)');
    if (opts.org.length === 0) throw new UsageError('give at least one --org (or --org "*" for every org)');
    const password = (await io.readStdin()).replace(/\r?\n$/, '');
    if (password.length < 12) throw new UsageError('the password must be at least 12 characters');
    const passwordHash = await hashPassword(password);
    await withStore(io, opts, async (store) => {
      const result = await store.createUser({ username: opts.username, passwordHash, role: opts.role, orgs: opts.org, now: io.now() });
      if (result === 'exists') throw new CliFailure(`user ${opts.username} already exists`);
      await store.appendAudit({ at: io.now(), actor: cliActor(), action: 'user.add', target: opts.username, details: { role: opts.role, orgs: opts.org }, ip: null, outcome: 'success' });
    });
    io.stdout(`added ${opts.role} ${opts.username} (orgs: ${opts.org.join(', ')})\n`);
  });

  common(program.command('devices').description('List enrolled devices, revoked ones included (reads the store directly).').option('--json', 'JSON output')).action(
    async (opts: { json?: boolean; data?: string; db?: string }) => {
      await withStore(io, opts, async (store) => {
        const items = [];
        for (let offset = 0; ; offset += 500) {
          const page = await store.listDevices({ scope: null, limit: 500, offset, includeRevoked: true });
          items.push(...page.items);
          if (page.items.length < 500) break;
        }
        if (opts.json) {
          io.stdout(`${JSON.stringify(items.map(({ factsHash: _h, ...d }) => d), null, 2)}\n`);
          return;
        }
        io.stdout(table([['ID', 'HOSTNAME', 'ORG', 'OS', 'STATUS', 'FAILING', 'LAST SEEN', 'REVOKED'], ...items.map((d) => [d.id, d.hostname, d.org, d.os, d.status, String(d.failing), d.lastSeenAt ?? 'never', d.revoked ? 'yes' : ''])]));
      });
    },
  );

  common(
    program
      .command('findings')
      .description('List the latest finding per device and rule, revoked devices left out (reads the store directly).')
      .option('--json', 'JSON output')
      .addOption(new Option('--status <status>', 'only this status').choices(['pass', 'fail', 'unknown'])),
  ).action(async (opts: { json?: boolean; status?: 'pass' | 'fail' | 'unknown'; data?: string; db?: string }) => {
    await withStore(io, opts, async (store) => {
      const items = [];
      for (let offset = 0; ; offset += 500) {
        const page = await store.listFindings({ scope: null, limit: 500, offset, ...(opts.status ? { status: opts.status } : {}) });
        items.push(...page.items);
        if (page.items.length < 500) break;
      }
      if (opts.json) {
        io.stdout(`${JSON.stringify(items, null, 2)}\n`);
        return;
      }
      io.stdout(table([['DEVICE', 'HOSTNAME', 'RULE', 'STATUS', 'SEVERITY', 'EVIDENCE'], ...items.map((f) => [f.deviceId, f.hostname, f.ruleId, f.status, f.severity, f.evidence])]));
    });
  });

  const licensesFor = (store: Datastore): LicenseService => {
    const service = LicenseService.open(store, null, io.now());
    if (!service) throw new CliFailure('the licenses module needs the SQLite store');
    return service;
  };

  const licensesCmd = program.command('licenses').description('Software licenses: purchases and reconciliation (docs/licenses-api.md).').configureOutput({ writeOut: io.stdout, writeErr: io.stderr }).exitOverride();
  common(
    licensesCmd
      .command('import')
      .description('Import purchases from a CSV file with a header row: product, type and purchased_at are required, seats, expires_at, cost, currency, org and reference optional; at most 10,000 rows. With any bad row nothing is imported, and each bad row is printed with its line.')
      .argument('<file>', 'CSV file')
      .option('--dry-run', 'check every row and print how many are valid; nothing is imported'),
  ).action(async (file: string, opts: { dryRun?: boolean; data?: string; db?: string }) => {
    let text: string;
    try {
      text = fs.readFileSync(path.resolve(io.cwd, file), 'utf8');
    } catch (e) {
      throw new CliFailure(`cannot read ${file}: ${(e as Error).message}`);
    }
    const preview = previewImport(text, () => true);
    if (preview.fileErrors.length) throw new CliFailure(`${file}: ${preview.fileErrors.join('; ')}`);
    for (const row of preview.rows) if (row.errors.length) io.stderr(`${file}:${row.line}: ${row.errors.join('; ')}\n`);
    if (preview.invalid > 0) throw new CliFailure(`${preview.invalid} invalid row(s) of ${preview.rows.length}: nothing imported`);
    if (opts.dryRun) {
      io.stdout(`${preview.valid} valid row(s); dry run: nothing imported\n`);
      return;
    }
    await withStore(io, opts, async (store) => {
      const imported = licensesFor(store).store.createLicenses(preview.rows.map((r) => r.license!), io.now());
      await store.appendAudit({ at: io.now(), actor: cliActor(), action: 'license.import', target: path.basename(file), details: { imported: imported.length }, ip: null, outcome: 'success' });
    });
    io.stdout(`imported ${preview.valid} license(s)\n`);
  });
  common(
    licensesCmd
      .command('report')
      .description('Reconcile purchases against the inventory: purchased, used, available and status per product, license org and type.')
      .option('--json', 'JSON output')
      .option('--expiring-within <days>', 'report licenses expiring within this many days (default: 60)'),
  ).action(async (opts: { json?: boolean; expiringWithin?: string; data?: string; db?: string }) => {
    const days = positiveInt('--expiring-within', opts.expiringWithin) ?? 60;
    await withStore(io, opts, async (store) => {
      const rows = licensesFor(store).report(null, io.now(), days);
      if (opts.json) {
        io.stdout(`${JSON.stringify(rows, null, 2)}\n`);
        return;
      }
      io.stdout(
        table([
          ['PRODUCT', 'ORG', 'TYPE', 'PURCHASED', 'USED', 'AVAILABLE', 'STATUS', 'BEYOND THE COUNT'],
          ...rows.map((r) => [r.product, r.org, r.type, r.purchased === null ? 'site' : String(r.purchased), String(r.used), r.available === null ? '-' : String(r.available), r.overBy ? `${r.status} (+${r.overBy})` : r.status, r.beyondDevices.map((d) => d.hostname).join(' ')]),
        ]),
      );
    });
  });

  const software = program.command('software').description('The normalised software inventory.').configureOutput({ writeOut: io.stdout, writeErr: io.stderr }).exitOverride();
  common(software.command('products').description('Products installed across the fleet, with their approval status.').option('--json', 'JSON output')).action(
    async (opts: { json?: boolean; data?: string; db?: string }) => {
      await withStore(io, opts, async (store) => {
        const service = licensesFor(store);
        const items = [];
        for (let offset = 0; ; offset += 500) {
          const page = service.store.products({ scope: null, limit: 500, offset });
          items.push(...page.items);
          if (page.items.length < 500) break;
        }
        if (opts.json) {
          io.stdout(`${JSON.stringify(items, null, 2)}\n`);
          return;
        }
        io.stdout(table([['PRODUCT', 'STATUS', 'DEVICES', 'USERS', 'VERSIONS'], ...items.map((p) => [p.product, p.status, String(p.devices), String(p.users), p.versions.map((v) => v.version ?? '?').slice(0, 5).join(' ')])]));
      });
    },
  );

  return program;
}

/** Runs the CLI; resolves to the exit code: 0 ok, 1 runtime failure, 2 usage error. */
export async function runCli(argv: string[], io: CliIo = processIo()): Promise<number> {
  const program = buildProgram(io);
  if (argv.length === 0) {
    io.stderr(program.helpInformation());
    return 2;
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version') return 0;
      // commander already printed its message.
      return e.code === 'commander.help' ? 0 : 2;
    }
    if (e instanceof UsageError) {
      io.stderr(`vigie-collector: ${e.message}\n`);
      return 2;
    }
    if (e instanceof CliFailure) {
      io.stderr(`vigie-collector: ${e.message}\n`);
      return 1;
    }
    io.stderr(`vigie-collector: ${(e as Error).stack ?? String(e)}\n`);
    return 1;
  }
}

if (require.main === module) {
  void runCli(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
