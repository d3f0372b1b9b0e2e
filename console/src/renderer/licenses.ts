/**
 * The pure side of the Licenses and Software views (docs/licenses-api.md):
 * who may edit, status tones and order, the purchases-CSV preview, and the
 * license and catalog-rule forms. No React, no fetch: unit-tested alone.
 */
import { allOrgsMark, grantedEveryOrg } from './access';
import type { CatalogRule, CatalogRuleInput, ImportResult, License, LicenseInput, LicenseType, OsName, ProductStatus, Reconciliation, ReconciliationStatus, Role, SoftwareSettings, User } from './api';
import type { Tone } from './components/ui';
import type { MessageKey } from './i18n';

/** Admins and license managers change licenses, approvals and catalog rules; auditors read. */
export function canManageLicenses(role: Role): boolean {
  return role === 'admin' || role === 'license-manager';
}

/**
 * Catalog rules and product approvals apply to every org's devices: the collector lets an
 * admin or license manager change them only when granted every org.
 */
export function canManageCatalog(user: User): boolean {
  return canManageLicenses(user.role) && grantedEveryOrg(user);
}

/** Which statuses fail the approved-software rule is policy: an admin granted every org. */
export function canChangeSoftwareSettings(user: User): boolean {
  return user.role === 'admin' && grantedEveryOrg(user);
}

/** A license of one org: an editor of that org; one for all orgs ('*'): an editor granted every org. */
export function canEditLicense(user: User, license: Pick<License, 'org'>): boolean {
  if (!canManageLicenses(user.role)) return false;
  return grantedEveryOrg(user) || (license.org !== allOrgsMark && user.orgs.includes(license.org));
}

/** A new license's org: all orgs for a user granted every org, else the user's first org. */
export function defaultLicenseOrg(user: User): string {
  return grantedEveryOrg(user) ? allOrgsMark : (user.orgs[0] ?? '');
}

/** The orgs a user may hold licenses for, to choose from; null when any org (or '*') may be typed. */
export function licenseOrgChoices(user: User): string[] | null {
  return grantedEveryOrg(user) ? null : [...user.orgs];
}

export const reconciliationTone: Record<ReconciliationStatus, Tone> = {
  'over-deployed': 'bad',
  expired: 'bad',
  unlicensed: 'warn',
  expiring: 'warn',
  ok: 'good',
};

export const productStatusTone: Record<ProductStatus, Tone> = { approved: 'good', denied: 'bad', unreviewed: 'warn' };

const statusRank: Record<ReconciliationStatus, number> = { 'over-deployed': 0, expired: 1, unlicensed: 2, expiring: 3, ok: 4 };

/** What needs action first: over-deployed (largest overrun first), expired, unlicensed, expiring, then fine. */
export function sortReconciliation(items: readonly Reconciliation[]): Reconciliation[] {
  return [...items].sort((a, b) => statusRank[a.status] - statusRank[b.status] || b.overBy - a.overBy || a.product.localeCompare(b.product) || (a.org ?? '').localeCompare(b.org ?? ''));
}

export interface ReportTotals {
  products: number;
  overDeployed: number;
  /** Installs beyond the purchased count, across products. */
  seatsOver: number;
  expiring: number;
  unusedSeats90d: number;
}

export function reportTotals(items: readonly Reconciliation[]): ReportTotals {
  const t: ReportTotals = { products: items.length, overDeployed: 0, seatsOver: 0, expiring: 0, unusedSeats90d: 0 };
  for (const r of items) {
    if (r.status === 'over-deployed') t.overDeployed++;
    t.seatsOver += Math.max(0, r.overBy);
    t.expiring += r.expiringLicenses.length;
    t.unusedSeats90d += Math.max(0, r.unusedSeats90d);
  }
  return t;
}

/** A stable key for a report line: the collector makes one line per product, org scope and license type. */
export function reconciliationKey(r: Reconciliation): string {
  return [r.product, r.org ?? '', r.type ?? ''].join('\u0000');
}

/** Whole days from `now` until a date (negative once passed); null without a date. */
export function daysUntil(date: string | null | undefined, now: Date): number | null {
  if (!date) return null;
  const t = Date.parse(date.length === 10 ? `${date}T23:59:59` : date);
  if (Number.isNaN(t)) return null;
  return Math.floor((t - now.getTime()) / 86_400_000);
}

// ---------- purchases CSV ----------

/** The header the collector knows, in this order. */
export const importColumns = ['product', 'type', 'seats', 'purchased_at', 'expires_at', 'cost', 'currency', 'org', 'reference'] as const;
export type ImportColumn = (typeof importColumns)[number];
/** The columns a file must have; the others are optional (the collector's defaults apply). */
export const requiredImportColumns: readonly ImportColumn[] = ['product', 'type', 'purchased_at'];
/** The largest file the collector takes (2 MiB). */
export const maxImportBytes = 2 * 1024 * 1024;

export interface CsvRecord {
  /** The file line the record starts on (the header is line 1), as the collector counts them. */
  line: number;
  cells: string[];
}

/** RFC 4180: quoted fields with "" escapes and line breaks, CRLF or LF, an optional UTF-8 BOM. Blank lines are skipped. */
export function parseCsv(text: string): CsvRecord[] {
  const src = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const out: CsvRecord[] = [];
  let line = 1;
  let start = 1;
  let cells: string[] = [];
  let cell = '';
  let quoted = false;
  let touched = false;
  const endRecord = () => {
    if (touched || cells.length > 0 || cell !== '') out.push({ line: start, cells: [...cells, cell] });
    cells = [];
    cell = '';
    touched = false;
  };
  for (let i = 0; i < src.length; i++) {
    const c = src[i] as string;
    if (quoted) {
      if (c === '"') {
        if (src[i + 1] === '"') {
          cell += '"';
          i++;
        } else quoted = false;
      } else {
        if (c === '\n') line++;
        cell += c;
      }
    } else if (c === '"') {
      quoted = true;
      touched = true;
    } else if (c === ',') {
      cells.push(cell);
      cell = '';
      touched = true;
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && src[i + 1] === '\n') i++;
      endRecord();
      line++;
      start = line;
    } else {
      cell += c;
    }
  }
  endRecord();
  return out;
}

/** The required columns missing from a header (case and spaces ignored); optional ones may be left out. */
export function missingColumns(header: readonly string[]): ImportColumn[] {
  const have = new Set(header.map((h) => h.trim().toLowerCase()));
  return requiredImportColumns.filter((c) => !have.has(c));
}

export interface PreviewRow {
  line: number;
  /** The file's own values, by column: what the user wrote, shown even when the row is invalid. */
  cells: Partial<Record<ImportColumn, string>>;
  license?: LicenseInput;
  errors: string[];
}

export interface ImportPreview {
  rows: PreviewRow[];
  valid: number;
  invalid: number;
  /** Import is offered only for a file the collector found entirely valid: it never imports half a file. */
  canImport: boolean;
}

/** Joins the collector's dry-run verdict with the file's cells, row by row (by line number). */
export function buildPreview(csvText: string, result: ImportResult): ImportPreview {
  const records = parseCsv(csvText);
  const header = (records[0]?.cells ?? []).map((h) => h.trim().toLowerCase());
  const byLine = new Map(records.slice(1).map((r) => [r.line, r]));
  const rows: PreviewRow[] = result.rows.map((r) => {
    const rec = byLine.get(r.line);
    const cells: Partial<Record<ImportColumn, string>> = {};
    if (rec) {
      for (const col of importColumns) {
        const i = header.indexOf(col);
        if (i >= 0 && rec.cells[i] !== undefined) cells[col] = rec.cells[i];
      }
    }
    return r.license ? { line: r.line, cells, license: r.license, errors: r.errors } : { line: r.line, cells, errors: r.errors };
  });
  const invalid = rows.filter((r) => r.errors.length > 0).length;
  return { rows, valid: rows.length - invalid, invalid, canImport: rows.length > 0 && invalid === 0 && result.invalid === 0 };
}

// ---------- license form ----------

export interface LicenseForm {
  product: string;
  type: LicenseType;
  seats: string;
  purchasedAt: string;
  expiresAt: string;
  cost: string;
  currency: string;
  org: string;
  reference: string;
}

export type LicenseField = keyof LicenseForm;

/** `org`: see defaultLicenseOrg; '*' (all orgs) unless given. */
export function emptyLicenseForm(today: string, product = '', org = allOrgsMark): LicenseForm {
  return { product, type: 'per-device', seats: '', purchasedAt: today, expiresAt: '', cost: '', currency: 'EUR', org, reference: '' };
}

export function licenseToForm(l: License): LicenseForm {
  return {
    product: l.product,
    type: l.type,
    seats: l.seats === null ? '' : String(l.seats),
    purchasedAt: l.purchasedAt.slice(0, 10),
    expiresAt: l.expiresAt ? l.expiresAt.slice(0, 10) : '',
    cost: l.cost === null ? '' : String(l.cost),
    currency: l.currency || 'EUR',
    org: l.org || '*',
    reference: l.reference,
  };
}

const isoDate = /^\d{4}-\d{2}-\d{2}$/;
/** The collector's bounds: 0 seats is a license bought for none (yet), which it accepts. */
export const maxSeats = 10_000_000;

export type FormResult<T, F extends string> = { ok: true; value: T } | { ok: false; errors: Partial<Record<F, MessageKey>> };

/** Checks the form before it goes to the collector, which checks it again. */
export function validateLicenseForm(f: LicenseForm): FormResult<LicenseInput, LicenseField> {
  const errors: Partial<Record<LicenseField, MessageKey>> = {};
  const product = f.product.trim();
  if (!product) errors.product = 'licenses.form.productRequired';
  let seats: number | null = null;
  if (f.type !== 'site') {
    const n = Number(f.seats.trim());
    if (!/^\d+$/.test(f.seats.trim()) || !Number.isSafeInteger(n) || n > maxSeats) errors.seats = 'licenses.form.seatsInvalid';
    else seats = n;
  }
  if (!isoDate.test(f.purchasedAt) || Number.isNaN(Date.parse(f.purchasedAt))) errors.purchasedAt = 'licenses.form.dateInvalid';
  let expiresAt: string | null = null;
  if (f.expiresAt) {
    if (!isoDate.test(f.expiresAt) || Number.isNaN(Date.parse(f.expiresAt))) errors.expiresAt = 'licenses.form.dateInvalid';
    else if (isoDate.test(f.purchasedAt) && f.expiresAt < f.purchasedAt) errors.expiresAt = 'licenses.form.expiryBeforePurchase';
    else expiresAt = f.expiresAt;
  }
  let cost: number | null = null;
  if (f.cost.trim()) {
    const c = Number(f.cost.trim().replace(',', '.'));
    if (!Number.isFinite(c) || c < 0) errors.cost = 'licenses.form.costInvalid';
    else cost = c;
  }
  const currency = (f.currency.trim() || 'EUR').toUpperCase();
  if (!/^[A-Z]{3}$/.test(currency)) errors.currency = 'licenses.form.currencyInvalid';
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  return { ok: true, value: { product, type: f.type, seats, purchasedAt: f.purchasedAt, expiresAt, cost, currency, org: f.org.trim() || '*', reference: f.reference.trim() } };
}

// ---------- catalog rules ----------

export interface RuleForm {
  namePattern: string;
  publisherPattern: string;
  os: OsName | '';
  product: string;
  versionPattern: string;
  ignore: boolean;
  position: string;
}

export type RuleField = keyof RuleForm;

export function emptyRuleForm(): RuleForm {
  return { namePattern: '', publisherPattern: '', os: '', product: '', versionPattern: '', ignore: false, position: '' };
}

export function ruleToForm(r: CatalogRule): RuleForm {
  return { namePattern: r.namePattern, publisherPattern: r.publisherPattern ?? '', os: r.os ?? '', product: r.product, versionPattern: r.versionPattern ?? '', ignore: r.ignore, position: String(r.position) };
}

/** How many capture groups a pattern has, or null if it is not a valid regular expression. */
export function captureGroups(pattern: string): number | null {
  try {
    // Matching the empty alternative always succeeds; the match array has one slot per group.
    const m = new RegExp(`${pattern}|`, 'i').exec('');
    return m ? m.length - 1 : 0;
  } catch {
    return null;
  }
}

export function validateRuleForm(f: RuleForm): FormResult<CatalogRuleInput, RuleField> {
  const errors: Partial<Record<RuleField, MessageKey>> = {};
  if (!f.namePattern.trim()) errors.namePattern = 'software.rule.patternRequired';
  else if (captureGroups(f.namePattern.trim()) === null) errors.namePattern = 'software.rule.patternInvalid';
  if (f.publisherPattern.trim() && captureGroups(f.publisherPattern.trim()) === null) errors.publisherPattern = 'software.rule.patternInvalid';
  if (f.versionPattern.trim()) {
    const g = captureGroups(f.versionPattern.trim());
    if (g === null) errors.versionPattern = 'software.rule.patternInvalid';
    else if (g !== 1) errors.versionPattern = 'software.rule.versionGroup';
  }
  // The collector wants a product on every rule: an ignore rule names what it ignores ("Runtimes").
  if (!f.product.trim()) errors.product = 'software.rule.productRequired';
  let position: number | undefined;
  if (f.position.trim()) {
    const n = Number(f.position.trim());
    if (!Number.isSafeInteger(n) || n < 0) errors.position = 'software.rule.positionInvalid';
    else position = n;
  }
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  const value: CatalogRuleInput = {
    namePattern: f.namePattern.trim(),
    publisherPattern: f.publisherPattern.trim() || null,
    os: f.os || null,
    product: f.product.trim(),
    versionPattern: f.versionPattern.trim() || null,
    ignore: f.ignore,
  };
  if (position !== undefined) value.position = position;
  return { ok: true, value };
}

// ---------- software settings ----------

const failOrder: SoftwareSettings['failOn'] = ['denied', 'unreviewed'];

/** Adds or removes a status from failOn, in a stable order (the request body and the audit entry stay comparable). */
export function toggleFailOn(failOn: SoftwareSettings['failOn'], status: 'denied' | 'unreviewed', on: boolean): SoftwareSettings['failOn'] {
  const set = new Set(failOn);
  if (on) set.add(status);
  else set.delete(status);
  return failOrder.filter((s) => set.has(s));
}
