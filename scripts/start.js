#!/usr/bin/env node
// npm start: the whole product on this machine, from a fresh clone.
// Builds what is missing, starts a collector on embedded SQLite in .vigie/, creates the first
// admin (printing the generated password once), enrols a local agent and runs it, then opens the
// console: the Electron app when its binary is installed, otherwise the web console's URL.
// A second `npm start` reuses .vigie/ and everything in it.
'use strict';
const { spawn, spawnSync } = require('node:child_process');
const { randomBytes } = require('node:crypto');
const { existsSync, mkdirSync, readFileSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
const home = process.env.VIGIE_HOME ?? join(root, '.vigie');
const collectorData = join(home, 'collector');
const agentState = join(home, 'agent');
const stateFile = join(home, 'start.json');
const listen = process.env.VIGIE_LISTEN ?? '127.0.0.1:8443';
const collectorCli = join(root, 'collector', 'dist', 'cli.js');
const agentCli = join(root, 'agent', 'dist', 'cli.js');
const rendererIndex = join(root, 'console', 'dist', 'renderer', 'index.html');
const children = [];

function say(line) {
  process.stdout.write(`vigie: ${line}\n`);
}

function fail(line) {
  process.stderr.write(`vigie: ${line}\n`);
  stopAll();
  process.exit(1);
}

function run(label, command, args, input) {
  const result = spawnSync(command, args, { cwd: root, encoding: 'utf8', input, stdio: [input === undefined ? 'inherit' : 'pipe', 'pipe', 'pipe'] });
  if (result.status !== 0) fail(`${label} failed (exit ${result.status}):\n${result.stderr || result.stdout}`);
  return result.stdout;
}

function npm(args) {
  const result = spawnSync(process.platform === 'win32' ? 'npm.cmd' : 'npm', args, { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' });
  if (result.status !== 0) fail(`npm ${args.join(' ')} failed`);
}

function loadState() {
  return existsSync(stateFile) ? JSON.parse(readFileSync(stateFile, 'utf8')) : {};
}

function saveState(state) {
  writeFileSync(stateFile, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
}

function stopAll() {
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
}

/** Starts the collector and resolves with its URL and CA fingerprint from its "listening" line. */
function startCollector() {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [collectorCli, 'serve', '--data', collectorData, '--listen', listen, '--log-level', 'warn'], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(child);
    let buffer = '';
    child.stdout.on('data', (chunk) => {
      buffer += chunk.toString();
      const match = /listening on (https:\/\/\S+) \(CA sha256 ([0-9a-f:]+)\)/i.exec(buffer);
      if (match) {
        resolve({ url: match[1], fingerprint: match[2] });
        buffer = '';
      }
    });
    child.on('exit', (code) => reject(new Error(`the collector exited (${code}); is ${listen} already in use? Set VIGIE_LISTEN=HOST:PORT to use another.`)));
  });
}

async function main() {
  mkdirSync(home, { recursive: true, mode: 0o700 });
  if (!existsSync(collectorCli) || !existsSync(agentCli) || process.env.VIGIE_REBUILD) {
    say('building (tsc -b)…');
    npm(['run', 'build']);
  }
  if (!existsSync(rendererIndex)) {
    say('building the console UI (vite)…');
    npm(['run', 'build:console']);
  }
  const state = loadState();
  const collector = await startCollector().catch((e) => fail(e.message));
  say(`collector on ${collector.url} (data in ${collectorData}; CA SHA-256 ${collector.fingerprint})`);

  if (!state.admin) {
    const password = randomBytes(12).toString('base64url');
    run('creating the first admin', process.execPath, [collectorCli, 'user', 'add', '--data', collectorData, '--username', 'admin', '--role', 'admin', '--org', '*', '--password-stdin'], `${password}\n`);
    state.admin = 'admin';
    saveState(state);
    say('first admin created. Write this down, it is shown only once:');
    say(`    username: admin    password: ${password}`);
  }

  if (!existsSync(join(agentState, 'enrolment.json'))) {
    const out = run('creating an enrolment secret', process.execPath, [collectorCli, 'enroll-secret', 'create', '--data', collectorData, '--org', 'local', '--expires', '1']);
    const secret = out.trim().split('\n').pop();
    const server = collector.url.replace(/^https:/, 'wss:');
    run('enrolling the local agent', process.execPath, [agentCli, 'enroll', '--server', server, '--secret', secret, '--ca-fingerprint', collector.fingerprint, '--state', agentState]);
    say('local agent enrolled');
  }
  const agent = spawn(process.execPath, [agentCli, 'run', '--state', agentState], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  children.push(agent);
  say('local agent running');

  const electronBinary = findElectron();
  if (electronBinary && !process.env.VIGIE_NO_ELECTRON) {
    say('opening the console (Electron)…');
    const app = spawn(electronBinary, [join(root, 'console')], {
      cwd: root,
      stdio: 'inherit',
      env: { ...process.env, VIGIE_COLLECTOR_URL: collector.url, VIGIE_CA_FINGERPRINT: collector.fingerprint },
    });
    children.push(app);
    app.on('exit', () => {
      stopAll();
      process.exit(0);
    });
  } else {
    say(`web console: ${collector.url}/  (the certificate is from the local CA above; Electron is not installed, see README)`);
    say('press Ctrl-C to stop');
  }
}

/** The Electron binary, when `npm run electron:download` has fetched it; null otherwise. */
function findElectron() {
  try {
    const pathFile = join(root, 'node_modules', 'electron', 'path.txt');
    if (!existsSync(pathFile)) return null;
    const binary = join(root, 'node_modules', 'electron', 'dist', readFileSync(pathFile, 'utf8').trim());
    return existsSync(binary) ? binary : null;
  } catch {
    return null;
  }
}

process.on('SIGINT', () => {
  stopAll();
  process.exit(0);
});
process.on('SIGTERM', () => {
  stopAll();
  process.exit(0);
});

main().catch((e) => fail(e.stack || String(e)));
