import { parse } from 'csv-parse/sync';
import { licenseTypes, type LicenseInput, type LicenseType } from './reconcile';

/**
 * Purchases from a CSV file (what a reseller or the accounting export gives):
 *   product,type,seats,purchased_at,expires_at,cost,currency,org,reference
 * Every row is checked before anything is written; the caller imports only when no row is invalid.
 */

export const IMPORT_HEADER = ['product', 'type', 'seats', 'purchased_at', 'expires_at', 'cost', 'currency', 'org', 'reference'] as const;
const REQUIRED = ['product', 'type', 'purchased_at'] as const;
export const MAX_IMPORT_ROWS = 10_000;

export interface ImportRow {
  /** The line in the file where the record starts (the header is line 1). */
  line: number;
  license?: LicenseInput;
  errors: string[];
}

export interface ImportPreview {
  rows: ImportRow[];
  valid: number;
  invalid: number;
  /** Problems with the file itself (no header, not CSV); when present, rows is empty. */
  fileErrors: string[];
}

function isDate(s: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(s)) return false;
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
}

/** Parses and validates; `canUseOrg` says whether the importing user may hold licenses for that org. */
export function previewImport(text: string, canUseOrg: (org: string) => boolean): ImportPreview {
  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parse(text, { bom: true, skip_empty_lines: true, trim: true, relax_column_count: true, info: true }) as unknown as { record: string[]; info: { lines: number } }[];
  } catch (e) {
    return { rows: [], valid: 0, invalid: 0, fileErrors: [`the file is not valid CSV: ${(e as Error).message}`] };
  }
  const head = records[0];
  if (!head) return { rows: [], valid: 0, invalid: 0, fileErrors: ['the file is empty'] };
  const header = head.record.map((h) => h.toLowerCase());
  const missing = REQUIRED.filter((c) => !header.includes(c));
  const unknown = header.filter((h) => !(IMPORT_HEADER as readonly string[]).includes(h));
  if (missing.length || unknown.length) {
    return {
      rows: [],
      valid: 0,
      invalid: 0,
      fileErrors: [
        ...(missing.length ? [`missing column(s): ${missing.join(', ')}`] : []),
        ...(unknown.length ? [`unknown column(s): ${unknown.join(', ')} (expected ${IMPORT_HEADER.join(',')})`] : []),
      ],
    };
  }
  if (records.length - 1 > MAX_IMPORT_ROWS) return { rows: [], valid: 0, invalid: 0, fileErrors: [`more than ${MAX_IMPORT_ROWS} rows; split the file`] };
  const rows: ImportRow[] = [];
  for (const { record, info } of records.slice(1)) {
    // info.lines is the line the record ends on; a quoted multi-line field starts earlier.
    const line = info.lines - record.reduce((n, field) => n + (field.match(/\n/g)?.length ?? 0), 0);
    const errors: string[] = [];
    if (record.length !== header.length) errors.push(`expected ${header.length} fields, found ${record.length}`);
    const get = (c: string) => record[header.indexOf(c)] ?? '';
    const product = get('product');
    const type = get('type').toLowerCase();
    const seatsText = get('seats');
    const purchasedAt = get('purchased_at');
    const expiresAt = get('expires_at');
    const costText = get('cost').replace(/\s/g, '').replace(',', '.');
    const currency = (get('currency') || 'EUR').toUpperCase();
    const org = get('org') || '*';
    const reference = get('reference');
    if (!product) errors.push('product is empty');
    else if (product.length > 256) errors.push('product is longer than 256 characters');
    if (!(licenseTypes as readonly string[]).includes(type)) errors.push(`type must be one of ${licenseTypes.join(', ')}, got "${get('type')}"`);
    let seats: number | null = null;
    if (type === 'site') {
      if (seatsText !== '') errors.push('seats must be empty for a site license');
    } else if (!/^\d{1,7}$/.test(seatsText)) errors.push(`seats must be a whole number, got "${seatsText}"`);
    else seats = Number(seatsText);
    if (!isDate(purchasedAt)) errors.push(`purchased_at must be a date YYYY-MM-DD, got "${purchasedAt}"`);
    if (expiresAt !== '' && !isDate(expiresAt)) errors.push(`expires_at must be a date YYYY-MM-DD or empty, got "${expiresAt}"`);
    else if (expiresAt !== '' && isDate(purchasedAt) && expiresAt < purchasedAt) errors.push('expires_at is before purchased_at');
    let cost: number | null = null;
    if (costText !== '') {
      if (!/^\d{1,12}(\.\d{1,4})?$/.test(costText)) errors.push(`cost must be a number, got "${get('cost')}"`);
      else cost = Number(costText);
    }
    if (!/^[A-Z]{3}$/.test(currency)) errors.push(`currency must be a 3-letter ISO code, got "${get('currency')}"`);
    if (org.length > 256) errors.push('org is longer than 256 characters');
    else if (!canUseOrg(org)) errors.push(org === '*' ? 'only a user of every org may import licenses for all orgs (*)' : `you cannot manage licenses of org ${org}`);
    if (reference.length > 256) errors.push('reference is longer than 256 characters');
    rows.push(
      errors.length
        ? { line, errors }
        : { line, errors, license: { product, type: type as LicenseType, seats, purchasedAt, expiresAt: expiresAt || null, cost, currency, org, reference } },
    );
  }
  const invalid = rows.filter((r) => r.errors.length > 0).length;
  return { rows, valid: rows.length - invalid, invalid, fileErrors: [] };
}
