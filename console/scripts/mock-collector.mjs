// A stand-in for the collector's console API (docs/api.md), for working on the
// renderer without a collector: serves console/dist/renderer at `/` and made-up
// data at /api/v1, plus /api/v1/live (a new non-conformity every 20 s).
// Not a test double for the collector's behaviour; the e2e test uses the real one.
//   node console/scripts/mock-collector.mjs [--port 5180] [--devices 60]
// Sign in as admin / admin (auditor / auditor for read-only, granted two orgs only: no audit log).
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const port = Number(opt('port', 5180));
const deviceCount = Number(opt('devices', 60));
const root = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'renderer');
const now = Date.now();
const DAY = 86_400_000;

let seed = 42;
const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
const pick = (a) => a[Math.floor(rnd() * a.length)];

const rules = [
  { id: 'disk-encryption', title: { en: 'System disk encrypted, with protection on', fr: 'Disque système chiffré, protection active' }, issp: ['9.10.6', '9.17.1', '9.17.2'], severity: 'critical', graceDays: 7 },
  { id: 'screen-lock', title: { en: 'Screen locks with a password within 15 minutes of inactivity', fr: "Verrouillage de l'écran par mot de passe après 15 minutes d'inactivité au plus" }, issp: ['9.11.7'], severity: 'high', graceDays: 3 },
  { id: 'approved-software', title: { en: 'Only approved software is installed', fr: 'Seuls des logiciels approuvés sont installés' }, issp: ['9.2.2'], severity: 'medium', graceDays: 14 },
  { id: 'usb-storage', title: { en: 'Only authorised USB storage is connected', fr: 'Seuls des supports USB autorisés sont branchés' }, issp: ['9.10.3', '9.9.4'], severity: 'high', graceDays: 2 },
  { id: 'agent-reporting', title: { en: 'The device reports at least daily', fr: 'Le poste fait un rapport au moins quotidien' }, issp: ['9.7.1'], severity: 'medium', graceDays: 1 },
];
const evidence = {
  'disk-encryption': ['C: is encrypted (XTS-AES 128) but BitLocker protection is off', '/ (/dev/nvme0n1p3) is not encrypted', 'Macintosh HD is not encrypted: FileVault is off'],
  'screen-lock': ['The screen locks after 30 min of inactivity (at most 15 min allowed)', 'The screen lock does not require a password', 'The screen never locks'],
  'approved-software': ['2 unapproved applications: Dropbox 185.4, AnyDesk 8.0.9', '1 denied application: uTorrent 3.6'],
  'usb-storage': ['An unauthorised USB mass-storage device was connected: SanDisk Ultra (0781:5581) serial 4C530001', 'Kingston DataTraveler (0951:1666) is not on the authorised list'],
  'agent-reporting': ['No report for 3 days (at most 24 h allowed)'],
};
const orgs = ['acme-fr', 'acme-de', 'acme-uk', 'acme-labs'];
const people = ['Marie Dupont', 'Jean Martin', 'Sophie Bernard', 'Lukas Weber', 'Emma Schmidt', 'Oliver Smith', 'Chloé Petit', 'Hugo Moreau', 'Amelia Jones', 'Nina Fischer', null];
const cities = { 'acme-fr': 'PAR', 'acme-de': 'BER', 'acme-uk': 'LON', 'acme-labs': 'LAB' };

const devices = [];
const ncs = [];
let ncSeq = 1;
for (let i = 0; i < deviceCount; i++) {
  const org = pick(orgs);
  const os = pick(['windows', 'windows', 'windows', 'macos', 'linux']);
  const id = `dev-${String(i + 1).padStart(4, '0')}`;
  const lastSeen = rnd() < 0.06 ? now - (2 + rnd() * 5) * DAY : now - rnd() * 3_600_000;
  const d = {
    id, hostname: `LT-${cities[org]}-${String(100 + i)}`, os, osVersion: os === 'windows' ? '11 23H2' : os === 'macos' ? '14.5' : 'Ubuntu 24.04',
    org, owner: pick(people), ciatLevel: pick([1, 2, 2, 3, 4]), lastSeenAt: new Date(lastSeen).toISOString(), status: 'compliant', failing: 0,
    model: os === 'macos' ? 'MacBook Pro 14"' : pick(['Latitude 7440', 'ThinkPad T14 Gen 4', 'EliteBook 840 G10']), serial: `SN${Math.floor(rnd() * 1e9)}`,
    user: null, enrolledAt: new Date(now - (30 + rnd() * 300) * DAY).toISOString(), revoked: false,
  };
  d.user = d.owner ? d.owner.toLowerCase().replace(/[^a-z]+/g, '.') : 'it.admin';
  d.findings = rules.map((r) => {
    const fail = r.id === 'agent-reporting' ? now - lastSeen > DAY : rnd() < (r.id === 'approved-software' ? 0.3 : 0.12);
    return { ruleId: r.id, title: r.title, issp: r.issp, severity: r.id === 'approved-software' && d.ciatLevel >= 3 ? 'high' : r.severity, status: fail ? 'fail' : rnd() < 0.03 ? 'unknown' : 'pass', evidence: fail ? pick(evidence[r.id]) : 'Compliant' };
  });
  for (const f of d.findings.filter((x) => x.status === 'fail')) {
    const first = now - rnd() * 20 * DAY;
    const r = rules.find((x) => x.id === f.ruleId);
    ncs.push({ id: ncSeq++, deviceId: id, hostname: d.hostname, owner: d.owner, org, ruleId: f.ruleId, title: r.title, severity: f.severity, evidence: f.evidence, issp: r.issp, firstSeenAt: new Date(first).toISOString(), dueAt: new Date(first + r.graceDays * DAY).toISOString(), resolvedAt: null, status: 'open', exemption: null });
  }
  d.failing = d.findings.filter((x) => x.status === 'fail').length;
  d.status = d.failing ? 'noncompliant' : d.findings.some((x) => x.status === 'unknown') ? 'unknown' : 'compliant';
  devices.push(d);
}
for (let i = 0; i < 6; i++) {
  const first = now - (25 + rnd() * 20) * DAY;
  const d = pick(devices);
  ncs.push({ id: ncSeq++, deviceId: d.id, hostname: d.hostname, owner: d.owner, org: d.org, ruleId: 'screen-lock', title: rules[1].title, severity: 'high', evidence: evidence['screen-lock'][0], issp: ['9.11.7'], firstSeenAt: new Date(first).toISOString(), dueAt: new Date(first + 3 * DAY).toISOString(), resolvedAt: new Date(first + 5 * DAY).toISOString(), status: 'resolved', exemption: null });
}
const audit = [];
const log = (actor, action, target, outcome = 'ok', details = null) => audit.unshift({ id: audit.length + 1, at: new Date().toISOString(), actor, action, target, details, ip: '127.0.0.1', outcome });
log('admin', 'policy.load', 'issp-default@2026.11.1');

const users = { admin: { password: 'admin', role: 'admin', orgs: ['*'] }, auditor: { password: 'auditor', role: 'auditor', orgs: ['acme-fr', 'acme-de'] } };
const sessions = new Map();

function facts(d) {
  const sys = d.findings.find((f) => f.ruleId === 'disk-encryption').status !== 'fail';
  return {
    device: { machineId: d.id, hostname: d.hostname, os: d.os, osVersion: d.osVersion, model: d.model, serial: d.serial, user: d.user },
    encryption: { volumes: [
      { id: d.os === 'windows' ? 'C:' : d.os === 'macos' ? 'Macintosh HD' : '/dev/nvme0n1p3', mountPoint: d.os === 'windows' ? 'C:' : '/', system: true, technology: d.os === 'windows' ? 'bitlocker' : d.os === 'macos' ? 'filevault' : 'luks', status: sys ? 'encrypted' : 'encrypted', percent: 100, protection: sys ? 'on' : 'off', method: d.os === 'windows' ? 'XTS-AES 128' : null },
      ...(d.os === 'windows' ? [{ id: 'D:', mountPoint: 'D:', system: false, technology: 'none', status: 'decrypted', percent: 0, protection: 'off', method: null }] : []),
    ] },
    screenlock: { enabled: true, idleSeconds: d.findings[1].status === 'fail' ? 1800 : 600, graceSeconds: 5, requirePassword: true, source: d.os === 'windows' ? 'policy:InactivityTimeoutSecs' : d.os === 'macos' ? 'com.apple.screensaver' : 'gsettings', user: d.user },
    // Each item with its catalog product and approval, as GET /devices/:id gives them.
    software: { items: [
      { name: 'Microsoft Office 365', version: '16.0.17531', publisher: 'Microsoft', source: 'registry', scope: 'machine', installedAt: null, product: 'Microsoft Office', approval: 'approved' },
      { name: 'Mozilla Firefox', version: '126.0', publisher: 'Mozilla', source: 'registry', scope: 'machine', installedAt: null, product: 'Mozilla Firefox', approval: 'approved' },
      { name: 'Dropbox', version: '185.4', publisher: 'Dropbox, Inc.', source: 'registry', scope: 'user', installedAt: null, product: 'Dropbox', approval: 'unreviewed' },
      { name: 'uTorrent', version: '3.6', publisher: 'BitTorrent Inc.', source: 'registry', scope: 'user', installedAt: null, product: 'uTorrent', approval: 'denied' },
      { name: '7-Zip', version: '23.01', publisher: 'Igor Pavlov', source: 'registry', scope: 'machine', installedAt: null, product: '7-Zip', approval: 'approved' },
    ] },
    usb: { devices: [], events: [] },
  };
}

const json = (res, status, body) => {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
};
const fail = (res, status, code, message) => json(res, status, { error: { code, message } });
const visible = (u, org) => u.orgs.includes('*') || u.orgs.includes(org);
const contains = (hay, needle) => (hay ?? '').toLowerCase().includes(needle.toLowerCase());
/** The list fields of a device, as GET /devices and PATCH /devices/:id give them. */
const listItem = ({ id, hostname, os, osVersion, org, owner, ciatLevel, lastSeenAt, status, failing }) => ({ id, hostname, os, osVersion, org, owner, ciatLevel, lastSeenAt, status, failing });

function summary(u) {
  const ds = devices.filter((d) => visible(u, d.org));
  const open = ncs.filter((n) => n.status === 'open' && visible(u, n.org));
  const compliant = ds.filter((d) => d.status === 'compliant').length;
  const bySeverity = { critical: 0, high: 0, medium: 0, low: 0 };
  for (const n of open) bySeverity[n.severity]++;
  return {
    devices: ds.length, compliantDevices: compliant, conformity: ds.length ? compliant / ds.length : 1, bySeverity,
    byRule: rules.map((r) => {
      const fs = ds.map((d) => d.findings.find((f) => f.ruleId === r.id));
      const pass = fs.filter((f) => f.status === 'pass').length, fl = fs.filter((f) => f.status === 'fail').length, unk = fs.length - pass - fl;
      return { ruleId: r.id, title: r.title, issp: r.issp, pass, fail: fl, unknown: unk, conformity: fs.length ? pass / fs.length : 1 };
    }),
    byOrg: orgs.filter((o) => visible(u, o)).map((o) => {
      const od = ds.filter((d) => d.org === o), c = od.filter((d) => d.status === 'compliant').length;
      return { org: o, devices: od.length, compliantDevices: c, conformity: od.length ? c / od.length : 1 };
    }),
    trend: Array.from({ length: 30 }, (_, i) => ({ day: new Date(now - (29 - i) * DAY).toISOString().slice(0, 10), conformity: Math.min(1, 0.48 + i * 0.006 + Math.sin(i / 3) * 0.02), devices: ds.length })),
    silent: ds.filter((d) => now - Date.parse(d.lastSeenAt) > DAY).map((d) => ({ id: d.id, hostname: d.hostname, lastSeenAt: d.lastSeenAt })),
  };
}

const sevRank = { critical: 3, high: 2, medium: 1, low: 0 };
function listNcs(u, p) {
  let items = ncs.filter((n) => visible(u, n.org));
  if (p.get('rule')) items = items.filter((n) => n.ruleId === p.get('rule'));
  if (p.get('severity')) items = items.filter((n) => n.severity === p.get('severity'));
  if (p.get('org')) items = items.filter((n) => n.org === p.get('org'));
  if (p.get('status')) items = items.filter((n) => n.status === p.get('status'));
  if (p.get('owner')) items = items.filter((n) => contains(n.owner, p.get('owner')));
  if (p.get('q')) items = items.filter((n) => [n.hostname, n.owner, n.evidence, n.ruleId].some((f) => contains(f, p.get('q'))));
  const sort = p.get('sort') ?? 'firstSeenAt', dir = p.get('order') === 'asc' ? 1 : -1;
  const key = (n) => (sort === 'severity' ? sevRank[n.severity] : n[sort] ?? '');
  items.sort((a, b) => (key(a) < key(b) ? -dir : key(a) > key(b) ? dir : 0));
  return items;
}

let exemptionSeq = 0;

/** The authorised USB drives (GET/POST/DELETE /usb/authorised), as the collector keeps them. */
const authorisedUsb = [{ id: 1, org: null, vendorId: '0951', productId: '1666', serial: null, note: 'Kingston IronKey, encrypted, issued by the DSI' }];

async function api(req, res, url, body) {
  const path = url.pathname.slice('/api/v1'.length);
  if (req.method === 'POST' && path === '/login') {
    const { username, password } = JSON.parse(body || '{}');
    const u = users[username];
    if (!u || u.password !== password) { log(username ?? '?', 'login', null, 'denied'); return fail(res, 401, 'unauthenticated', 'bad username or password'); }
    const token = Math.random().toString(36).slice(2) + Math.random().toString(36).slice(2);
    sessions.set(token, { username, role: u.role, orgs: u.orgs });
    log(username, 'login', null);
    return json(res, 200, { token, user: { username, role: u.role, orgs: u.orgs }, idleTimeoutSeconds: Number(opt('idle', 900)) });
  }
  const token = (req.headers.authorization ?? '').replace(/^Bearer /, '');
  const u = sessions.get(token);
  if (!u) return fail(res, 401, 'unauthenticated', 'no session or session expired');
  if (path === '/logout') { sessions.delete(token); return json(res, 200, {}); }
  if (path === '/me') return json(res, 200, u);
  if (path === '/summary') return json(res, 200, summary(u));
  if (path === '/policy') return json(res, 200, { id: 'issp-default', version: '2026.11.1', title: { en: 'ISSP', fr: 'PSSI' }, rules });
  const p = url.searchParams, limit = Number(p.get('limit') ?? 50), offset = Number(p.get('offset') ?? 0);
  if (path === '/nonconformities') { const items = listNcs(u, p); return json(res, 200, { total: items.length, items: items.slice(offset, offset + limit) }); }
  if (path === '/nonconformities.csv') {
    res.writeHead(200, { 'content-type': 'text/csv' });
    return res.end(['id,hostname,rule,severity,status', ...listNcs(u, p).map((n) => [n.id, n.hostname, n.ruleId, n.severity, n.status].join(','))].join('\n'));
  }
  if (path === '/devices') {
    let items = devices.filter((d) => visible(u, d.org));
    if (p.get('q')) items = items.filter((d) => `${d.hostname} ${d.owner ?? ''}`.toLowerCase().includes(p.get('q').toLowerCase()));
    if (p.get('org')) items = items.filter((d) => d.org === p.get('org'));
    if (p.get('status')) items = items.filter((d) => d.status === p.get('status'));
    return json(res, 200, { total: items.length, items: items.slice(offset, offset + limit).map(listItem) });
  }
  const m = /^\/devices\/([^/]+)$/.exec(path);
  if (m) {
    const d = devices.find((x) => x.id === decodeURIComponent(m[1]));
    if (!d || !visible(u, d.org)) return fail(res, 404, 'not-found', 'no such device');
    if (req.method === 'PATCH') {
      if (u.role !== 'admin') return fail(res, 403, 'forbidden', 'admins only');
      Object.assign(d, JSON.parse(body));
      log(u.username, 'device.update', d.id, 'ok', JSON.parse(body));
      return json(res, 200, { device: listItem(d) });
    }
    const { findings, ...device } = d;
    // As the collector stored them: each event the agent sent, with its id and when it arrived.
    const usbEvents = d.findings[3].status === 'fail'
      ? [{ eventId: `${d.id}-usb-1`, receivedAt: new Date(now - 2 * DAY + 1000).toISOString(), event: { at: new Date(now - 2 * DAY).toISOString(), action: 'connected', device: { vendorId: '0781', productId: '5581', vendor: 'SanDisk', product: 'Ultra', serial: '4C530001', storage: true, mountPoints: ['E:'] }, user: d.user } }]
      : [];
    return json(res, 200, { device, facts: facts(d), findings, nonconformities: ncs.filter((n) => n.deviceId === d.id), usbEvents,
      timeline: [{ at: new Date(now - 3 * DAY).toISOString(), section: 'software', summary: 'Dropbox 185.4 installed' }, { at: new Date(now - 9 * DAY).toISOString(), section: 'encryption', summary: 'BitLocker protection suspended on C:' }, { at: d.enrolledAt, section: 'device', summary: 'Enrolled' }] });
  }
  if (path === '/exemptions' && req.method === 'POST') {
    if (u.role !== 'admin') return fail(res, 403, 'forbidden', 'admins only');
    const b = JSON.parse(body);
    if (!b.reason) return json(res, 400, { error: { code: 'bad-request', message: 'reason is required', details: [] } });
    const n = ncs.find((x) => x.deviceId === b.deviceId && x.ruleId === b.ruleId && x.status === 'open');
    const ex = { id: ++exemptionSeq, reason: b.reason, grantedBy: u.username, expiresAt: b.expiresAt };
    if (n) Object.assign(n, { status: 'exempted', exemption: ex });
    log(u.username, 'exemption.grant', `${b.deviceId}/${b.ruleId}`, 'ok', { reason: b.reason, expiresAt: b.expiresAt });
    return json(res, 200, ex);
  }
  if (path === '/usb/authorised' && req.method === 'GET') {
    return json(res, 200, { items: authorisedUsb.filter((a) => a.org === null || u.orgs.includes('*') || u.orgs.includes(a.org)) });
  }
  if (path === '/usb/authorised' && req.method === 'POST') {
    if (u.role !== 'admin') return fail(res, 403, 'forbidden', 'admins only');
    const b = JSON.parse(body || '{}');
    if (!/^[0-9a-f]{4}$/.test(b.vendorId ?? '') || !/^[0-9a-f]{4}$/.test(b.productId ?? '')) return fail(res, 400, 'bad-request', 'vendorId and productId are 4 hex digits');
    const entry = { id: authorisedUsb.reduce((m, a) => Math.max(m, a.id), 0) + 1, org: b.org ?? null, vendorId: b.vendorId, productId: b.productId, serial: b.serial ?? null, note: b.note ?? null };
    authorisedUsb.push(entry);
    log(u.username, 'usb.authorise', `${entry.vendorId}:${entry.productId}`, 'ok', entry);
    return json(res, 201, entry);
  }
  if (path.startsWith('/usb/authorised/') && req.method === 'DELETE') {
    if (u.role !== 'admin') return fail(res, 403, 'forbidden', 'admins only');
    const i = authorisedUsb.findIndex((a) => String(a.id) === path.split('/').pop());
    if (i < 0) return fail(res, 404, 'not-found', 'no such entry');
    const [entry] = authorisedUsb.splice(i, 1);
    log(u.username, 'usb.unauthorise', `${entry.vendorId}:${entry.productId}`, 'ok', entry);
    return json(res, 200, entry);
  }
  if (path === '/audit') {
    if (u.role === 'license-manager') return fail(res, 403, 'forbidden', 'admins and auditors only');
    if (!u.orgs.includes('*')) return fail(res, 403, 'forbidden', 'the audit log covers every org; it needs a user granted every org (*)');
    let items = audit;
    if (p.get('actor')) items = items.filter((a) => a.actor.includes(p.get('actor')));
    if (p.get('action')) items = items.filter((a) => a.action.includes(p.get('action')));
    return json(res, 200, { total: items.length, items: items.slice(offset, offset + limit) });
  }
  return fail(res, 404, 'not-found', `no route ${path}`);
}

const types = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml' };
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
const server = createServer(async (req, res) => {
  const url = new URL(req.url, `http://${req.headers.host}`);
  if (url.pathname.startsWith('/api/v1/')) {
    let body = '';
    for await (const chunk of req) body += chunk;
    return api(req, res, url, body);
  }
  const file = normalize(join(root, url.pathname === '/' ? 'index.html' : url.pathname));
  if (!file.startsWith(root)) return fail(res, 404, 'not-found', 'no');
  try {
    const data = await readFile(file);
    res.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream', 'content-security-policy': csp });
    res.end(data);
  } catch {
    fail(res, 404, 'not-found', 'no such file');
  }
});

// Live: the ws package comes with the collector's dependencies.
try {
  const { WebSocketServer } = createRequire(import.meta.url)('ws');
  const wss = new WebSocketServer({ noServer: true, handleProtocols: (protocols) => [...protocols].find((p) => p.startsWith('bearer.')) ?? false });
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url, 'http://x');
    const proto = String(req.headers['sec-websocket-protocol'] ?? '').split(',').map((s) => s.trim()).find((s) => s.startsWith('bearer.'));
    if (url.pathname !== '/api/v1/live' || !proto || !sessions.has(proto.slice(7))) return socket.destroy();
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws));
  });
  setInterval(() => {
    const d = pick(devices);
    const r = rules[3];
    const n = { id: ncSeq++, deviceId: d.id, hostname: d.hostname, owner: d.owner, org: d.org, ruleId: r.id, title: r.title, severity: r.severity, evidence: pick(evidence[r.id]), issp: r.issp, firstSeenAt: new Date().toISOString(), dueAt: new Date(Date.now() + r.graceDays * DAY).toISOString(), resolvedAt: null, status: 'open', exemption: null };
    ncs.push(n);
    for (const c of wss.clients) { c.send(JSON.stringify({ type: 'nonconformity-opened', nonconformity: n })); c.send(JSON.stringify({ type: 'summary-changed' })); }
  }, Number(opt('live-every', 20)) * 1000);
} catch {
  console.log('(ws not installed: no live updates)');
}

server.listen(port, '127.0.0.1', () => console.log(`mock collector on http://127.0.0.1:${port}/ (admin/admin)`));
