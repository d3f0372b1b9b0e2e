import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { isUnknown, severity as severitySchema, type ApprovalStatus, type Facts, type Policy, type Rule, type SoftwareItem } from '@vigie/shared';
import type { AuthService, AuthUser } from '../../auth/service';
import { canSeeOrg } from '../../auth/service';
import type { PolicyEvaluator } from '../../evaluate/evaluator';
import type { LicenseService } from '../../licenses/service';
import { registerLicenseRoutes } from '../../licenses/routes';
import { publishEvaluation } from '../../ingest/agent-session';
import type { AuditEntry, Datastore, DeviceRecord, NonconformityQuery, NonconformityRecord, Role } from '../../store/datastore';
import { toCsv } from '../../util/csv';
import type { LiveHub } from '../live';
import { ApiError, clientIp, readJsonBody, sendError, sendJson, validate } from './http';

export interface ApiDeps {
  store: Datastore;
  auth: AuthService;
  evaluator: PolicyEvaluator;
  /** The software catalog, approvals and licenses (docs/licenses-api.md); null when the store has no support. */
  licenses?: LicenseService | null;
  live: LiveHub;
  now: () => Date;
  bodyLimit: number;
  audit: (entry: Omit<AuditEntry, 'at'>) => void;
  onError: (err: unknown) => void;
}

export interface Ctx {
  req: IncomingMessage;
  res: ServerResponse;
  params: Record<string, string>;
  query: Record<string, string>;
  user: AuthUser;
  ip: string | null;
  /** What the audit line records of a mutating call; the handler fills it in. */
  details: Record<string, unknown> | null;
}

export type Handler = (ctx: Ctx) => Promise<unknown>;

interface Route {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  pattern: RegExp;
  keys: string[];
  roles: readonly Role[] | 'all';
  /** Mutating calls are audited whatever their outcome. */
  action?: string;
  handler: Handler;
}

const ALL_ROLES: readonly Role[] = ['admin', 'license-manager', 'auditor'];

// ---- Schemas: every query and body is validated before a handler sees it ----

const limit = z.coerce.number().int().min(1).max(500).default(50);
const offset = z.coerce.number().int().min(0).max(10_000_000).default(0);
const order = z.enum(['asc', 'desc']).optional();
const text = z.string().min(1).max(256);
// An empty query parameter (`?org=`) means "no filter", as HTML forms send it.
const nonEmpty = <T extends z.ZodTypeAny>(s: T) => z.preprocess((v) => (v === '' ? undefined : v), s.optional());

const loginBody = z.object({ username: z.string().min(1).max(128), password: z.string().min(1).max(1024) }).strict();
const summaryQuery = z.object({ days: z.coerce.number().int().min(1).max(366).default(30) });
const devicesQuery = z.object({
  org: nonEmpty(text),
  q: nonEmpty(text),
  status: nonEmpty(z.enum(['compliant', 'noncompliant', 'unknown'])),
  sort: nonEmpty(z.enum(['hostname', 'lastSeenAt', 'org', 'owner'])),
  order: nonEmpty(order),
  limit,
  offset,
});
const devicePatch = z
  .object({ owner: z.string().max(256).nullable().optional(), ciatLevel: z.number().int().min(0).max(4).optional(), org: z.string().min(1).max(256).optional() })
  .strict()
  .refine((v) => Object.keys(v).length > 0, 'give at least one of owner, ciatLevel, org');
const ncQuery = z.object({
  rule: nonEmpty(text),
  severity: nonEmpty(severitySchema),
  org: nonEmpty(text),
  status: nonEmpty(z.enum(['open', 'resolved', 'exempted'])),
  owner: nonEmpty(text),
  q: nonEmpty(text),
  sort: nonEmpty(z.enum(['firstSeenAt', 'dueAt', 'severity', 'hostname'])),
  order: nonEmpty(order),
  limit,
  offset,
});
const findingsQuery = z.object({
  rule: nonEmpty(text),
  severity: nonEmpty(severitySchema),
  org: nonEmpty(text),
  status: nonEmpty(z.enum(['pass', 'fail', 'unknown'])),
  q: nonEmpty(text),
  limit,
  offset,
});
const exemptionBody = z
  .object({
    deviceId: z.string().min(1).max(256),
    ruleId: z.string().min(1).max(128),
    reason: z.string().trim().min(1, 'a reason is required').max(2000),
    expiresAt: z.iso.datetime({ offset: true }),
  })
  .strict();
const hex4 = z.string().regex(/^[0-9a-fA-F]{4}$/, 'four hexadecimal digits, as USB ids are written').transform((v) => v.toLowerCase());
const authorisedUsbBody = z
  .object({
    /** null: every org (an admin of every org only). */
    org: z.string().min(1).max(256).nullable(),
    vendorId: hex4,
    productId: hex4,
    /** null or absent: any unit of that model. */
    serial: z.string().min(1).max(256).nullable().optional(),
    note: z.string().trim().max(2000).nullable().optional(),
  })
  .strict();
const auditQuery = z.object({ actor: nonEmpty(text), action: nonEmpty(text), limit, offset });

function ruleInfo(policy: Policy, ruleId: string): { title: Rule['title'] | null; issp: string[] } {
  const rule = policy.rules.find((r) => r.id === ruleId);
  return { title: rule?.title ?? null, issp: rule?.issp ?? [] };
}

function deviceListItem(d: DeviceRecord) {
  return { id: d.id, hostname: d.hostname, os: d.os, osVersion: d.osVersion, org: d.org, owner: d.owner, ciatLevel: d.ciatLevel, lastSeenAt: d.lastSeenAt, status: d.status, failing: d.failing };
}

function ncItem(policy: Policy, n: NonconformityRecord) {
  const { exemption, ...rest } = n;
  return { ...rest, title: ruleInfo(policy, n.ruleId).title, exemption: exemption ? { id: exemption.id, reason: exemption.reason, grantedBy: exemption.grantedBy, expiresAt: exemption.expiresAt } : null };
}

function fromQuery(search: URLSearchParams): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of search) out[k] = v;
  return out;
}

export function check<T>(value: T | ApiError): T {
  if (value instanceof ApiError) throw value;
  return value;
}

export function createApi(deps: ApiDeps) {
  const { store, auth, evaluator, live } = deps;
  const policy = evaluator.policy;
  const routes: Route[] = [];
  const route = (method: Route['method'], path: string, roles: Route['roles'], handler: Handler, action?: string) => {
    const keys: string[] = [];
    const pattern = new RegExp(`^${path.replace(/:(\w+)/g, (_m, k: string) => (keys.push(k), '([^/]+)'))}$`);
    routes.push({ method, pattern, keys, roles, handler, ...(action ? { action } : {}) });
  };

  async function deviceInScope(user: AuthUser, id: string): Promise<DeviceRecord> {
    const device = await store.getDevice(id);
    // A device outside the user's orgs is "not found": its existence is not theirs to know.
    if (!device || !canSeeOrg(user, device.org)) throw new ApiError('not-found', `no device ${id}`);
    return device;
  }

  async function body<T extends z.ZodTypeAny>(ctx: Ctx, schema: T): Promise<z.infer<T>> {
    return check(validate(schema, check(await readJsonBody(ctx.req, deps.bodyLimit))));
  }

  route('POST', '/logout', 'all', async (ctx) => {
    await auth.logout(ctx.user);
    return { ok: true };
  }, 'logout');

  route('GET', '/me', 'all', async ({ user }) => ({ username: user.username, role: user.role, orgs: user.orgs }));

  route('GET', '/summary', 'all', async ({ user, query }) => {
    const q = check(validate(summaryQuery, query));
    const now = deps.now();
    const hours = evaluator.checkinRules().map((r) => r.maxSilentHours);
    const silentCutoff = hours.length ? new Date(now.getTime() - Math.min(...hours) * 3_600_000) : null;
    const s = await store.summary({ scope: user.scope, now, days: q.days, silentCutoff });
    const ratio = (a: number, b: number) => (b === 0 ? 0 : a / b);
    const counts = new Map(s.byRule.map((r) => [r.ruleId, r]));
    return {
      devices: s.devices,
      compliantDevices: s.compliantDevices,
      conformity: ratio(s.compliantDevices, s.devices),
      bySeverity: s.bySeverity,
      byRule: policy.rules.map((rule) => {
        const c = counts.get(rule.id) ?? { pass: 0, fail: 0, unknown: 0 };
        return { ruleId: rule.id, title: rule.title, issp: rule.issp, pass: c.pass, fail: c.fail, unknown: c.unknown, conformity: ratio(c.pass, c.pass + c.fail + c.unknown) };
      }),
      byOrg: s.byOrg.map((o) => ({ ...o, conformity: ratio(o.compliantDevices, o.devices) })),
      trend: s.trend.map((t) => ({ day: t.day, conformity: ratio(t.compliantDevices, t.devices), devices: t.devices })),
      silent: s.silent,
    };
  });

  route('GET', '/devices', 'all', async ({ user, query }) => {
    const q = check(validate(devicesQuery, query));
    const page = await store.listDevices({ scope: user.scope, ...q });
    return { total: page.total, items: page.items.map(deviceListItem) };
  });

  /** The facts with each software item's product and catalog verdict, as the approved-software rule sees them. */
  function withApprovals(facts: Facts): Facts | (Omit<Facts, 'software'> & { software: { items: (SoftwareItem & { product: string; approval: ApprovalStatus })[] } }) {
    const catalog = deps.licenses?.catalog();
    if (!catalog || isUnknown(facts.software)) return facts;
    return {
      ...facts,
      software: {
        items: facts.software.items.map((item) => {
          const verdict = catalog.classify(item);
          return { ...item, product: verdict.product, approval: verdict.status };
        }),
      },
    };
  }

  route('GET', '/devices/:id', 'all', async ({ user, params }) => {
    const device = await deviceInScope(user, params.id!);
    const now = deps.now();
    const [facts, findings, ncs, timeline, usbEvents] = await Promise.all([
      store.getFacts(device.id),
      store.listFindings({ scope: user.scope, deviceId: device.id, limit: 500, offset: 0 }),
      store.listNonconformities({ scope: user.scope, deviceId: device.id, limit: 200, offset: 0 }, now),
      store.getTimeline(device.id, 200),
      store.listUsbEvents(device.id, 200),
    ]);
    return {
      device: { ...deviceListItem(device), model: device.model, serial: device.serial, user: device.user, enrolledAt: device.enrolledAt, revoked: device.revoked },
      facts: facts ? withApprovals(facts.facts) : null,
      findings: findings.items.map((f) => ({ ruleId: f.ruleId, status: f.status, severity: f.severity, evidence: f.evidence, issp: f.issp, title: ruleInfo(policy, f.ruleId).title, updatedAt: f.updatedAt })),
      nonconformities: ncs.items.map((n) => ncItem(policy, n)),
      timeline,
      usbEvents,
    };
  });

  route('PATCH', '/devices/:id', ['admin'], async (ctx) => {
    const device = await deviceInScope(ctx.user, ctx.params.id!);
    const patch = await body(ctx, devicePatch);
    if (patch.org !== undefined && !canSeeOrg(ctx.user, patch.org)) throw new ApiError('forbidden', `you cannot move a device into org ${patch.org}`);
    ctx.details = { patch, before: { owner: device.owner, ciatLevel: device.ciatLevel, org: device.org } };
    const updated = (await store.updateDevice(device.id, patch, deps.now()))!;
    if (patch.ciatLevel !== undefined && patch.ciatLevel !== device.ciatLevel) {
      // The CIAT level decides which rules apply and how severe they are.
      const result = await evaluator.reevaluate(updated, deps.now());
      if (result) publishEvaluation(live, result);
    }
    live.publish({ type: 'device-updated', deviceId: device.id }, device.org);
    if (patch.org !== undefined && patch.org !== device.org) {
      live.publish({ type: 'device-updated', deviceId: device.id }, patch.org);
      live.publish({ type: 'summary-changed' }, device.org);
      live.publish({ type: 'summary-changed' }, patch.org);
    }
    return { device: deviceListItem((await store.getDevice(device.id))!) };
  }, 'device.update');

  const ncFilter = (user: AuthUser, query: Record<string, string>): Omit<NonconformityQuery, 'limit' | 'offset'> & { limit: number; offset: number } => {
    const q = check(validate(ncQuery, query));
    return { scope: user.scope, ...q };
  };

  route('GET', '/nonconformities', 'all', async ({ user, query }) => {
    const page = await store.listNonconformities(ncFilter(user, query), deps.now());
    return { total: page.total, items: page.items.map((n) => ncItem(policy, n)) };
  });

  route('GET', '/nonconformities.csv', 'all', async ({ user, query, res }) => {
    const filter = ncFilter(user, { ...query, limit: '500', offset: '0' });
    const now = deps.now();
    const header = ['id', 'deviceId', 'hostname', 'owner', 'org', 'ruleId', 'title', 'severity', 'status', 'evidence', 'issp', 'firstSeenAt', 'dueAt', 'resolvedAt', 'exemptionReason', 'exemptionGrantedBy', 'exemptionExpiresAt'];
    res.writeHead(200, {
      'content-type': 'text/csv; charset=utf-8',
      'content-disposition': `attachment; filename="nonconformities-${now.toISOString().slice(0, 10)}.csv"`,
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
    });
    res.write(toCsv([header]));
    // Pages of 500 rows, written as they come, so a large export never sits whole in memory.
    for (let offset = 0; ; offset += 500) {
      const page = await store.listNonconformities({ ...filter, offset }, now);
      const rows = page.items.map((n) => [
        n.id, n.deviceId, n.hostname, n.owner, n.org, n.ruleId, ruleInfo(policy, n.ruleId).title?.en ?? '', n.severity, n.status, n.evidence, n.issp.join(' '),
        n.firstSeenAt, n.dueAt, n.resolvedAt, n.exemption?.reason, n.exemption?.grantedBy, n.exemption?.expiresAt,
      ]);
      if (rows.length) res.write(toCsv(rows));
      if (page.items.length < 500) break;
    }
    res.end();
    return undefined;
  });

  route('GET', '/findings', 'all', async ({ user, query }) => {
    const q = check(validate(findingsQuery, query));
    const page = await store.listFindings({ scope: user.scope, ...q });
    return { total: page.total, items: page.items.map((f) => ({ ...f, title: ruleInfo(policy, f.ruleId).title })) };
  });

  route('POST', '/exemptions', ['admin'], async (ctx) => {
    const b = await body(ctx, exemptionBody);
    const device = await deviceInScope(ctx.user, b.deviceId);
    if (!policy.rules.some((r) => r.id === b.ruleId)) throw new ApiError('bad-request', `no rule ${b.ruleId} in the policy`);
    const now = deps.now();
    const expiresAt = new Date(b.expiresAt);
    if (expiresAt <= now) throw new ApiError('bad-request', 'the expiry must be in the future');
    const exemption = await store.createExemption({ deviceId: device.id, ruleId: b.ruleId, reason: b.reason, grantedBy: ctx.user.username, expiresAt, now });
    ctx.details = { id: exemption.id, deviceId: device.id, ruleId: b.ruleId, reason: b.reason, expiresAt: exemption.expiresAt };
    live.publish({ type: 'device-updated', deviceId: device.id }, device.org);
    live.publish({ type: 'summary-changed' }, device.org);
    live.deviceStatusChanged(device.id);
    ctx.res.statusCode = 201;
    return exemption;
  }, 'exemption.create');

  route('DELETE', '/exemptions/:id', ['admin'], async (ctx) => {
    const id = Number(ctx.params.id);
    const existing = Number.isInteger(id) ? await store.getExemption(id) : null;
    if (!existing) throw new ApiError('not-found', `no exemption ${ctx.params.id}`);
    const device = await deviceInScope(ctx.user, existing.deviceId);
    if (existing.revokedAt !== null) throw new ApiError('conflict', 'this exemption was already revoked');
    const revoked = await store.revokeExemption(id, ctx.user.username, deps.now());
    ctx.details = { deviceId: existing.deviceId, ruleId: existing.ruleId };
    live.publish({ type: 'device-updated', deviceId: device.id }, device.org);
    live.publish({ type: 'summary-changed' }, device.org);
    live.deviceStatusChanged(device.id);
    return revoked;
  }, 'exemption.revoke');

  // The USB storage devices the ISSP's owner authorised (9.10.3): the USB rule does not fail on them.
  route('GET', '/usb/authorised', 'all', async ({ user }) => ({ items: await store.listAuthorisedUsbEntries(user.scope) }));

  route('POST', '/usb/authorised', ['admin'], async (ctx) => {
    const b = await body(ctx, authorisedUsbBody);
    if (b.org === null ? ctx.user.scope !== null : !canSeeOrg(ctx.user, b.org)) {
      throw new ApiError('forbidden', b.org === null ? 'authorising a device in every org needs a user granted every org (*)' : `org ${b.org} is not yours`);
    }
    const entry = await store.addAuthorisedUsb({ org: b.org, vendorId: b.vendorId, productId: b.productId, serial: b.serial ?? null, note: b.note ?? null });
    ctx.details = { ...entry };
    // The findings this drive caused clear now, not at each device's next report.
    for (const result of await evaluator.reevaluateUsbFailures(b.org, deps.now())) publishEvaluation(live, result);
    ctx.res.statusCode = 201;
    return entry;
  }, 'usb.authorise');

  route('DELETE', '/usb/authorised/:id', ['admin'], async (ctx) => {
    const id = Number(ctx.params.id);
    const existing = Number.isInteger(id) ? await store.getAuthorisedUsb(id) : null;
    // Another org's entry is "not found"; an every-org entry is removed by an admin of every org only.
    if (!existing || (existing.org !== null && !canSeeOrg(ctx.user, existing.org))) throw new ApiError('not-found', `no authorised USB device ${ctx.params.id}`);
    if (existing.org === null && ctx.user.scope !== null) throw new ApiError('forbidden', 'this authorisation covers every org; removing it needs a user granted every org (*)');
    await store.removeAuthorisedUsb(id);
    ctx.details = { ...existing };
    return existing;
  }, 'usb.unauthorise');

  route('GET', '/audit', ['admin', 'auditor'], async ({ query, user }) => {
    // Audit entries are not tagged with an org (logins, enrolments, other orgs' changes), so only an all-org user may read them.
    if (user.scope !== null) throw new ApiError('forbidden', 'the audit log covers every org; it needs a user granted every org (*)');
    const q = check(validate(auditQuery, query));
    return store.listAudit(q);
  });

  route('GET', '/policy', 'all', async () => policy);

  if (deps.licenses) registerLicenseRoutes({ route, body, deps, licenses: deps.licenses });

  async function login(req: IncomingMessage, res: ServerResponse, ip: string | null): Promise<void> {
    const raw = await readJsonBody(req, deps.bodyLimit);
    const parsed = raw instanceof ApiError ? raw : validate(loginBody, raw);
    if (parsed instanceof ApiError) {
      deps.audit({ actor: 'anonymous', action: 'login', target: null, details: { code: parsed.code }, ip, outcome: 'failure' });
      return sendError(res, parsed);
    }
    const result = await auth.login(parsed.username, parsed.password, ip);
    if (!result.ok) return sendError(res, new ApiError(result.code, result.message));
    sendJson(res, 200, {
      token: result.token,
      user: { username: result.user.username, role: result.user.role, orgs: result.user.orgs },
      idleTimeoutSeconds: auth.options.sessionIdleSeconds,
    });
  }

  /** Handles a request under /api/v1; `path` is the part after it. */
  return async function handle(req: IncomingMessage, res: ServerResponse, path: string, search: URLSearchParams): Promise<void> {
    const ip = clientIp(req);
    const method = req.method ?? 'GET';
    try {
      if (path === '/login' && method === 'POST') return await login(req, res, ip);
      let match: { route: Route; m: RegExpExecArray } | null = null;
      for (const r of routes) {
        const m = r.method === method ? r.pattern.exec(path) : null;
        if (m) {
          match = { route: r, m };
          break;
        }
      }
      if (!match) return sendError(res, new ApiError('not-found', `no route ${method} /api/v1${path}`));
      const { route: r, m } = match;
      const header = req.headers.authorization ?? '';
      const token = /^Bearer\s+(\S+)$/i.exec(header)?.[1];
      const user = token ? await auth.authenticate(token) : null;
      if (!user) {
        if (r.action) deps.audit({ actor: 'anonymous', action: r.action, target: path, details: { code: 'unauthenticated' }, ip, outcome: 'denied' });
        return sendError(res, new ApiError('unauthenticated', token ? 'the session has expired or is not known; log in again' : 'log in first'));
      }
      const params: Record<string, string> = {};
      try {
        r.keys.forEach((k, i) => (params[k] = decodeURIComponent(m[i + 1]!)));
      } catch {
        // A URIError: a client error, not a server fault.
        return sendError(res, new ApiError('bad-request', 'a path parameter has a malformed percent-encoding'));
      }
      const ctx: Ctx = { req, res, params, query: fromQuery(search), user, ip, details: null };
      const target = params.id ?? null;
      if (r.roles !== 'all' && !r.roles.includes(user.role)) {
        if (r.action) deps.audit({ actor: user.username, action: r.action, target, details: { code: 'forbidden' }, ip, outcome: 'denied' });
        return sendError(res, new ApiError('forbidden', `this needs the role ${r.roles.join(' or ')}`));
      }
      try {
        const result = await r.handler(ctx);
        if (r.action) deps.audit({ actor: user.username, action: r.action, target, details: ctx.details, ip, outcome: 'success' });
        if (!res.headersSent) sendJson(res, res.statusCode === 201 ? 201 : 200, result);
      } catch (e) {
        if (r.action) {
          const code = e instanceof ApiError ? e.code : 'internal';
          deps.audit({ actor: user.username, action: r.action, target, details: { ...ctx.details, code }, ip, outcome: code === 'forbidden' ? 'denied' : 'failure' });
        }
        throw e;
      }
    } catch (e) {
      if (e instanceof ApiError) return sendError(res, e);
      deps.onError(e);
      if (!res.headersSent) sendError(res, new ApiError('internal', 'internal error'));
      else res.destroy();
    }
  };
}

export { ALL_ROLES };
