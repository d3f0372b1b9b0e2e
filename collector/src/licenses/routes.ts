import { z } from 'zod';
import { approvalStatus } from '@vigie/shared';
import { canSeeOrg, type AuthUser } from '../auth/service';
import { publishEvaluation } from '../ingest/agent-session';
import type { ApiDeps, Ctx, Handler } from '../server/api/routes';
import { ApiError, readTextBody, validate } from '../server/api/http';
import type { Role } from '../store/datastore';
import { previewImport } from './csv-import';
import { reportCsv, reportPdf } from './export';
import { ruleErrors } from './normalise';
import { licenseTypes, personOf, type LicenseInput } from './reconcile';
import type { LicenseService, ReevaluationSummary } from './service';

/** The API of docs/licenses-api.md. Catalog, approvals and licenses change with admin or license-manager; every role reads. */

type RouteFn = (method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, roles: readonly Role[] | 'all', handler: Handler, action?: string) => void;
type BodyFn = <T extends z.ZodTypeAny>(ctx: Ctx, schema: T) => Promise<z.infer<T>>;

const EDITORS: readonly Role[] = ['admin', 'license-manager'];
const IMPORT_LIMIT = 2 * 1024 * 1024;

function ok<T>(value: T | ApiError): T {
  if (value instanceof ApiError) throw value;
  return value;
}

const nonEmpty = <T extends z.ZodTypeAny>(s: T) => z.preprocess((v) => (v === '' ? undefined : v), s.optional());
const pattern = z.string().min(1).max(1000);
const ruleOs = z.enum(['windows', 'macos', 'linux']).nullable();
const ruleCreate = z
  .object({
    namePattern: pattern,
    publisherPattern: pattern.nullable().optional(),
    os: ruleOs.optional(),
    product: z.string().trim().min(1).max(256),
    versionPattern: pattern.nullable().optional(),
    ignore: z.boolean().optional(),
    position: z.number().int().min(0).max(1_000_000_000).optional(),
  })
  .strict();
const rulePatch = ruleCreate.partial().refine((v) => Object.keys(v).length > 0, 'give at least one field');
const productsQuery = z.object({
  q: nonEmpty(z.string().max(256)),
  status: nonEmpty(approvalStatus),
  org: nonEmpty(z.string().max(256)),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  offset: z.coerce.number().int().min(0).default(0),
});
const approvalBody = z.object({ status: approvalStatus, reason: z.string().trim().max(2000).optional() }).strict();
const settingsBody = z.object({ failOn: z.array(z.enum(['denied', 'unreviewed'])).max(2) }).strict();
const day = z.string().refine((s) => /^\d{4}-\d{2}-\d{2}$/.test(s) && new Date(`${s}T00:00:00Z`).toISOString().slice(0, 10) === s, 'a date YYYY-MM-DD');
const licenseFields = {
  product: z.string().trim().min(1).max(256),
  type: z.enum(licenseTypes as [string, ...string[]]),
  seats: z.number().int().min(0).max(10_000_000).nullable(),
  purchasedAt: day,
  expiresAt: day.nullable(),
  cost: z.number().min(0).max(1e12).nullable(),
  currency: z.string().regex(/^[A-Z]{3}$/, 'a 3-letter ISO code'),
  org: z.string().min(1).max(256),
  reference: z.string().max(256),
};
function licenseShape(v: Partial<LicenseInput>, ctx: z.RefinementCtx): void {
  if (v.type === 'site' && v.seats !== null && v.seats !== undefined) ctx.addIssue({ code: 'custom', path: ['seats'], message: 'a site license has no seat count (null)' });
  if (v.type !== undefined && v.type !== 'site' && (v.seats === null || v.seats === undefined)) ctx.addIssue({ code: 'custom', path: ['seats'], message: 'a per-device or per-user license needs seats' });
  if (v.expiresAt && v.purchasedAt && v.expiresAt < v.purchasedAt) ctx.addIssue({ code: 'custom', path: ['expiresAt'], message: 'the expiry is before the purchase' });
}
const licenseCreate = z
  .object({ ...licenseFields, expiresAt: licenseFields.expiresAt.default(null), cost: licenseFields.cost.default(null), currency: licenseFields.currency.default('EUR'), org: licenseFields.org.default('*'), reference: licenseFields.reference.default(''), seats: licenseFields.seats.default(null) })
  .strict()
  .superRefine((v, ctx) => licenseShape(v as Partial<LicenseInput>, ctx));
const licensePatch = z
  .object(licenseFields)
  .partial()
  .strict()
  .refine((v) => Object.keys(v).length > 0, 'give at least one field');
const reportQuery = z.object({ expiringWithinDays: z.coerce.number().int().min(0).max(3650).default(60) });
const importQuery = z.object({ dryRun: z.enum(['true', 'false']).default('true') });

/** Devices named per line in the JSON report; the drill-down and the CSV name them all. */
export const REPORT_BEYOND_DEVICES = 100;

/**
 * A report line with at most `max` of its devices beyond the count, and how many there are in
 * all: an over-deployment across a large fleet names hundreds of thousands of devices, which
 * made the Licenses view's report tens of megabytes.
 */
export function limitBeyond<T extends { beyondDevices: readonly unknown[] }>(line: T, max = REPORT_BEYOND_DEVICES): T & { beyondTotal: number } {
  const beyondTotal = line.beyondDevices.length;
  return beyondTotal > max ? { ...line, beyondDevices: line.beyondDevices.slice(0, max), beyondTotal } : { ...line, beyondTotal };
}

function scopeLabel(user: AuthUser): string {
  return user.scope === null ? 'all orgs' : user.scope.join(', ');
}

export function registerLicenseRoutes(input: { route: RouteFn; body: BodyFn; deps: ApiDeps; licenses: LicenseService }): void {
  const { route, body, deps, licenses } = input;
  const store = licenses.store;

  const published = (summary: ReevaluationSummary) => {
    for (const r of summary.results) publishEvaluation(deps.live, r);
    for (const org of new Set(summary.results.map((r) => r.device.org))) deps.live.publish({ type: 'summary-changed' }, org);
    return { devices: summary.devices };
  };

  const ruleId = (ctx: Ctx): number => {
    const id = Number(ctx.params.id);
    if (!Number.isInteger(id) || !store.getRule(id)) throw new ApiError('not-found', `no catalog rule ${ctx.params.id}`);
    return id;
  };

  const checkRegexes = (rule: Record<string, unknown>) => {
    const errors = ruleErrors(rule);
    if (errors.length) throw new ApiError('bad-request', `a pattern is not accepted: ${errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`, errors);
  };

  // Catalog rules, approvals and settings apply to every org's devices: a user limited to some
  // orgs would change the others' findings, so these changes need all-org scope.
  const requireAllOrgs = (user: AuthUser, what: string) => {
    if (user.scope !== null) throw new ApiError('forbidden', `${what} apply to every org: only a user of all orgs (*) may change them`);
  };

  // ---- Catalog ----

  route('GET', '/catalog/rules', 'all', async () => ({ catalogVersion: store.catalogVersion(), items: store.listRules() }));

  route('POST', '/catalog/rules', EDITORS, async (ctx) => {
    requireAllOrgs(ctx.user, 'catalog rules');
    const b = await body(ctx, ruleCreate);
    checkRegexes(b);
    const rule = licenses.createRule({ namePattern: b.namePattern, publisherPattern: b.publisherPattern ?? null, os: b.os ?? null, product: b.product, versionPattern: b.versionPattern ?? null, ignore: b.ignore ?? false, ...(b.position !== undefined ? { position: b.position } : {}) });
    const changed = await licenses.rulesChanged(deps.now());
    ctx.details = { rule, catalogVersion: changed.catalogVersion, reapplied: { changedEntries: changed.reapplied.changedEntries, devices: changed.reapplied.devices } };
    ctx.res.statusCode = 201;
    published(changed.reevaluated);
    return rule;
  }, 'catalog.rule.create');

  route('PATCH', '/catalog/rules/:id', EDITORS, async (ctx) => {
    requireAllOrgs(ctx.user, 'catalog rules');
    const id = ruleId(ctx);
    const patch = await body(ctx, rulePatch);
    checkRegexes(patch);
    const before = store.getRule(id);
    const rule = store.updateRule(id, { ...patch, ...(patch.publisherPattern === undefined ? {} : { publisherPattern: patch.publisherPattern ?? null }) } as Parameters<typeof store.updateRule>[1]);
    const changed = await licenses.rulesChanged(deps.now());
    ctx.details = { before, patch, catalogVersion: changed.catalogVersion };
    published(changed.reevaluated);
    return rule;
  }, 'catalog.rule.update');

  route('DELETE', '/catalog/rules/:id', EDITORS, async (ctx) => {
    requireAllOrgs(ctx.user, 'catalog rules');
    const id = ruleId(ctx);
    const before = store.getRule(id);
    store.deleteRule(id);
    const changed = await licenses.rulesChanged(deps.now());
    ctx.details = { before, catalogVersion: changed.catalogVersion };
    published(changed.reevaluated);
    return { ok: true, catalogVersion: changed.catalogVersion };
  }, 'catalog.rule.delete');

  // ---- Products and approvals ----

  route('GET', '/software/products', 'all', async ({ user, query }) => {
    const q = ok(validate(productsQuery, query));
    return store.products({ scope: user.scope, ...q });
  });

  route('PUT', '/software/products/:product/approval', EDITORS, async (ctx) => {
    requireAllOrgs(ctx.user, 'product approvals');
    const b = await body(ctx, approvalBody);
    const product = ctx.params.product!;
    if (product.length > 256) throw new ApiError('bad-request', 'the product name is longer than 256 characters');
    const before = store.approvalOf(product);
    const summary = await licenses.setApproval(product, b.status, b.reason ?? null, ctx.user.username, deps.now());
    ctx.details = { product, before, status: b.status, reason: b.reason ?? null, reevaluatedDevices: summary.devices };
    return { product, status: b.status, reason: b.reason ?? null, reevaluated: published(summary) };
  }, 'software.approval');

  route('GET', '/software/products/:product/devices', 'all', async ({ user, params }) => ({
    items: store.productDevices(params.product!, user.scope).map((d) => ({ deviceId: d.deviceId, hostname: d.hostname, owner: d.owner, org: d.org, version: d.version, rawName: d.rawName })),
  }));

  route('GET', '/software/settings', 'all', async () => ({ failOn: store.failOn() ?? licenses.defaultFailOn() }));

  route('PUT', '/software/settings', ['admin'], async (ctx) => {
    requireAllOrgs(ctx.user, 'software settings');
    const b = await body(ctx, settingsBody);
    const before = store.failOn() ?? licenses.defaultFailOn();
    const summary = await licenses.setFailOn([...new Set(b.failOn)], deps.now());
    ctx.details = { before, failOn: b.failOn, reevaluatedDevices: summary.devices };
    return { failOn: [...new Set(b.failOn)], reevaluated: published(summary) };
  }, 'software.settings');

  // ---- Licenses ----

  const licenseInScope = (user: AuthUser, idText: string) => {
    const id = Number(idText);
    const license = Number.isInteger(id) ? store.getLicense(id) : null;
    // '*' licenses are visible to everyone; editing them needs every org.
    if (!license || (license.org !== '*' && !canSeeOrg(user, license.org))) throw new ApiError('not-found', `no license ${idText}`);
    return license;
  };
  const mayHold = (user: AuthUser, org: string) => canSeeOrg(user, org);

  route('GET', '/licenses', 'all', async ({ user }) => ({ items: store.listLicenses().filter((l) => l.org === '*' || canSeeOrg(user, l.org)) }));

  route('POST', '/licenses', EDITORS, async (ctx) => {
    const b = (await body(ctx, licenseCreate)) as LicenseInput;
    if (!mayHold(ctx.user, b.org)) throw new ApiError('forbidden', b.org === '*' ? 'only a user of every org may add a license for all orgs (*)' : `you cannot manage licenses of org ${b.org}`);
    const license = store.createLicense(b, deps.now());
    ctx.details = { license };
    ctx.res.statusCode = 201;
    return license;
  }, 'license.create');

  route('POST', '/licenses/import', EDITORS, async (ctx) => {
    const q = ok(validate(importQuery, ctx.query));
    const text = ok(await readTextBody(ctx.req, IMPORT_LIMIT, 'the file'));
    const preview = previewImport(text, (org) => mayHold(ctx.user, org));
    if (preview.fileErrors.length) throw new ApiError('bad-request', 'the file cannot be imported', preview.fileErrors.map((message) => ({ path: 'file', message })));
    let imported = 0;
    if (q.dryRun === 'false' && preview.invalid === 0) imported = store.createLicenses(preview.rows.map((r) => r.license!), deps.now()).length;
    ctx.details = { dryRun: q.dryRun === 'true', valid: preview.valid, invalid: preview.invalid, imported };
    return { rows: preview.rows, valid: preview.valid, invalid: preview.invalid, imported };
  }, 'license.import');

  const report = (user: AuthUser, query: Record<string, string>) => licenses.report(user.scope, deps.now(), ok(validate(reportQuery, query)).expiringWithinDays);

  route('GET', '/licenses/report', 'all', async ({ user, query }) => {
    const now = deps.now();
    // report() refreshes the findings first; they are then cut to the viewer's orgs like its rows.
    const items = report(user, query).map((line) => limitBeyond(line));
    return { generatedAt: now.toISOString(), items, overDeployments: licenses.overDeploymentsFor(user.scope).map((o) => limitBeyond(o)) };
  });

  route('GET', '/licenses/report.csv', 'all', async ({ user, query, res }) => {
    const csv = reportCsv(report(user, query));
    res.writeHead(200, {
      'content-type': 'text/csv; charset=utf-8',
      'content-disposition': `attachment; filename="licenses-${deps.now().toISOString().slice(0, 10)}.csv"`,
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
    });
    res.end(csv);
    return undefined;
  });

  route('GET', '/licenses/report.pdf', 'all', async ({ user, query, res }) => {
    const pdf = await reportPdf(report(user, query), { now: deps.now(), scope: scopeLabel(user) });
    res.writeHead(200, {
      'content-type': 'application/pdf',
      'content-length': pdf.length,
      'content-disposition': `attachment; filename="licenses-${deps.now().toISOString().slice(0, 10)}.pdf"`,
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
    });
    res.end(pdf);
    return undefined;
  });

  route('GET', '/licenses/report/:product', 'all', async ({ user, params, query }) => {
    const product = params.product!;
    const rows = report(user, query).filter((r) => r.product === product);
    const beyond = new Set(rows.flatMap((r) => r.beyondDevices.map((d) => d.deviceId)));
    const devices = store.productDevices(product, user.scope);
    const users = new Map<string, string[]>();
    for (const d of devices) {
      const person = personOf({ deviceId: d.deviceId, user: d.owner ?? d.user, hostname: d.hostname, org: d.org, firstSeenAt: d.firstSeenAt, lastSeenAt: d.lastSeenAt });
      users.set(person, [...(users.get(person) ?? []), d.deviceId]);
    }
    return {
      product,
      licenses: store.listLicenses().filter((l) => l.product === product && (l.org === '*' || canSeeOrg(user, l.org))),
      reconciliation: rows,
      devices: devices.map((d) => ({ deviceId: d.deviceId, hostname: d.hostname, owner: d.owner, org: d.org, version: d.version, firstSeenAt: d.firstSeenAt, beyondCount: beyond.has(d.deviceId) })),
      users: [...users].map(([person, ids]) => ({ user: person, devices: ids })).sort((a, b) => a.user.localeCompare(b.user)),
    };
  });

  route('PATCH', '/licenses/:id', EDITORS, async (ctx) => {
    const before = licenseInScope(ctx.user, ctx.params.id!);
    const patch = (await body(ctx, licensePatch)) as Partial<LicenseInput>;
    const next = { ...before, ...patch };
    const issues: { path: string; message: string }[] = [];
    licenseShape(next, { addIssue: (i: { path?: (string | number)[]; message?: string }) => issues.push({ path: (i.path ?? []).join('.'), message: i.message ?? '' }) } as unknown as z.RefinementCtx);
    if (issues.length) throw new ApiError('bad-request', 'the request is not valid', issues);
    if (!mayHold(ctx.user, before.org) || !mayHold(ctx.user, next.org)) throw new ApiError('forbidden', `you cannot manage licenses of org ${next.org === before.org ? next.org : `${before.org} or ${next.org}`}`);
    const license = store.updateLicense(before.id, patch, deps.now());
    ctx.details = { before, patch };
    return license;
  }, 'license.update');

  route('DELETE', '/licenses/:id', EDITORS, async (ctx) => {
    const before = licenseInScope(ctx.user, ctx.params.id!);
    if (!mayHold(ctx.user, before.org)) throw new ApiError('forbidden', `you cannot manage licenses of org ${before.org}`);
    store.deleteLicense(before.id);
    ctx.details = { before };
    return { ok: true };
  }, 'license.delete');
}
