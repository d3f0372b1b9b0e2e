#!/usr/bin/env node
// npm run demo:fleet -- --devices 200
// Fills the collector started by `npm start` with simulated devices (realistic facts, mixed
// compliance, spread over two orgs), so a new user sees a real-looking fleet in a minute.
'use strict';
const { spawnSync } = require('node:child_process');
const { existsSync } = require('node:fs');
const { join } = require('node:path');
const { parseArgs } = require('node:util');

const root = join(__dirname, '..');
const { values } = parseArgs({
  options: {
    devices: { type: 'string', default: '200' },
    server: { type: 'string', default: `wss://${process.env.VIGIE_LISTEN ?? '127.0.0.1:8443'}` },
    data: { type: 'string', default: join(process.env.VIGIE_HOME ?? join(root, '.vigie'), 'collector') },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  process.stdout.write('usage: npm run demo:fleet -- [--devices N] [--server wss://HOST:PORT] [--data COLLECTOR_DATA_DIR]\n');
  process.exit(0);
}
const simulator = join(root, 'test', 'dist', 'simulator', 'cli.js');
const collectorCli = join(root, 'collector', 'dist', 'cli.js');
const ca = join(values.data, 'tls', 'ca.pem');
if (!existsSync(collectorCli) || !existsSync(simulator)) {
  spawnSync(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['run', 'build'], { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' });
}
if (!existsSync(ca)) {
  process.stderr.write(`demo:fleet: no collector data in ${values.data}; run \`npm start\` first (or pass --data)\n`);
  process.exit(2);
}
const total = Number(values.devices);
if (!Number.isInteger(total) || total < 1) {
  process.stderr.write('demo:fleet: --devices must be a positive whole number\n');
  process.exit(2);
}
const orgs = [['paris', Math.ceil(total * 0.6)], ['lyon', Math.floor(total * 0.4)]];
let seed = 1;
for (const [org, count] of orgs) {
  if (count === 0) continue;
  const made = spawnSync(process.execPath, [collectorCli, 'enroll-secret', 'create', '--data', values.data, '--org', org, '--expires', '1'], { encoding: 'utf8' });
  if (made.status !== 0) {
    process.stderr.write(`demo:fleet: cannot create an enrolment secret: ${made.stderr}`);
    process.exit(1);
  }
  const secret = made.stdout.trim().split('\n').pop();
  process.stdout.write(`demo:fleet: ${count} devices in org "${org}"\n`);
  const run = spawnSync(process.execPath, [simulator, '--server', values.server, '--secret', secret, '--devices', String(count), '--ca', ca, '--seed', String(seed++)], { stdio: 'inherit' });
  if (run.status !== 0) process.exit(run.status ?? 1);
}
