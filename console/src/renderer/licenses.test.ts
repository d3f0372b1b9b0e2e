import type { ImportResult, Reconciliation, Role, User } from './api';
import { dictionaries, type MessageKey } from './i18n';
import {
  buildPreview,
  canChangeSoftwareSettings,
  canEditLicense,
  canManageCatalog,
  canManageLicenses,
  captureGroups,
  daysUntil,
  defaultLicenseOrg,
  emptyLicenseForm,
  emptyRuleForm,
  licenseOrgChoices,
  licenseToForm,
  maxImportBytes,
  missingColumns,
  parseCsv,
  reconciliationKey,
  reconciliationTone,
  reportTotals,
  sortReconciliation,
  toggleFailOn,
  validateLicenseForm,
  validateRuleForm,
} from './licenses';

const header = 'product,type,seats,purchased_at,expires_at,cost,currency,org,reference';

function rec(product: string, status: Reconciliation['status'], overBy = 0, extra: Partial<Reconciliation> = {}): Reconciliation {
  return { product, type: 'per-device', purchased: 10, used: 10 + overBy, available: -overBy, status, overBy, beyondDevices: [], expiringLicenses: [], unusedSeats90d: 0, ...extra };
}

const user = (role: Role, orgs: string[]): User => ({ username: 'u', role, orgs });

describe('roles', () => {
  it('lets admins and license managers edit, auditors only read', () => {
    expect(canManageLicenses('admin')).toBe(true);
    expect(canManageLicenses('license-manager')).toBe(true);
    expect(canManageLicenses('auditor')).toBe(false);
  });

  it('lets only editors granted every org change catalog rules and approvals, as the collector checks', () => {
    expect(canManageCatalog(user('admin', ['*']))).toBe(true);
    expect(canManageCatalog(user('license-manager', ['*']))).toBe(true);
    expect(canManageCatalog(user('license-manager', ['paris', 'lyon']))).toBe(false);
    expect(canManageCatalog(user('admin', ['paris']))).toBe(false);
    expect(canManageCatalog(user('auditor', ['*']))).toBe(false);
  });

  it('lets only an admin granted every org change which statuses fail the software rule', () => {
    expect(canChangeSoftwareSettings(user('admin', ['*']))).toBe(true);
    expect(canChangeSoftwareSettings(user('admin', ['paris']))).toBe(false);
    expect(canChangeSoftwareSettings(user('license-manager', ['*']))).toBe(false);
  });

  it('lets an editor change the licenses of their orgs, and those of all orgs only when granted every org', () => {
    expect(canEditLicense(user('license-manager', ['*']), { org: '*' })).toBe(true);
    expect(canEditLicense(user('license-manager', ['*']), { org: 'paris' })).toBe(true);
    expect(canEditLicense(user('license-manager', ['paris']), { org: 'paris' })).toBe(true);
    expect(canEditLicense(user('license-manager', ['paris']), { org: '*' })).toBe(false);
    expect(canEditLicense(user('admin', ['paris']), { org: 'lyon' })).toBe(false);
    expect(canEditLicense(user('auditor', ['*']), { org: 'paris' })).toBe(false);
  });

  it('starts a new license on all orgs for a user of every org, on their first org for the others, who choose among theirs', () => {
    expect(defaultLicenseOrg(user('admin', ['*']))).toBe('*');
    expect(defaultLicenseOrg(user('license-manager', ['lyon', 'paris']))).toBe('lyon');
    expect(licenseOrgChoices(user('admin', ['*']))).toBeNull();
    expect(licenseOrgChoices(user('license-manager', ['lyon', 'paris']))).toEqual(['lyon', 'paris']);
    expect(emptyLicenseForm('2025-01-15', 'Zoom', 'lyon').org).toBe('lyon');
    expect(emptyLicenseForm('2025-01-15').org).toBe('*');
  });
});

describe('reconciliation', () => {
  it('puts what needs action first: largest over-deployment, then expired, unlicensed, expiring, fine', () => {
    const sorted = sortReconciliation([rec('Zoom', 'ok'), rec('Slack', 'expiring'), rec('Acrobat', 'over-deployed', 2), rec('WinRAR', 'unlicensed'), rec('IDEA', 'over-deployed', 5), rec('Office', 'expired')]);
    expect(sorted.map((r) => r.product)).toEqual(['IDEA', 'Acrobat', 'Office', 'WinRAR', 'Slack', 'Zoom']);
  });

  it('totals over-deployments, installs beyond the count, expiring licenses and unused seats', () => {
    const lic = { id: 1, product: 'Slack', type: 'per-user' as const, seats: 5, purchasedAt: '2025-01-01', expiresAt: '2026-12-01', cost: null, currency: 'EUR', org: '*', reference: 'PO-1' };
    const totals = reportTotals([rec('A', 'over-deployed', 3), rec('B', 'over-deployed', 1), rec('C', 'expiring', 0, { expiringLicenses: [lic], unusedSeats90d: 4 }), rec('D', 'ok', 0, { unusedSeats90d: 2 })]);
    expect(totals).toEqual({ products: 4, overDeployed: 2, seatsOver: 4, expiring: 1, unusedSeats90d: 6 });
  });

  it('keys a line by product, org and license type: the collector makes one line for each', () => {
    const keys = [rec('Office', 'ok'), rec('Office', 'ok', 0, { type: 'per-user' }), rec('Office', 'ok', 0, { org: 'paris' }), rec('Office', 'ok', 0, { org: 'paris', type: 'per-user' }), rec('Office', 'unlicensed', 0, { type: null })].map(reconciliationKey);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('has a tone and a label in both languages for every status', () => {
    for (const s of Object.keys(reconciliationTone) as Reconciliation['status'][]) {
      const key = `licenses.status.${s}` as MessageKey;
      expect([s, dictionaries.en[key]?.length > 0, dictionaries.fr[key]?.length > 0]).toEqual([s, true, true]);
    }
    expect(reconciliationTone['over-deployed']).toBe('bad');
    expect(reconciliationTone.ok).toBe('good');
  });

  it('counts days until an expiry date, negative once passed', () => {
    const now = new Date('2026-11-29T10:00:00');
    expect(daysUntil('2026-12-09', now)).toBe(10);
    expect(daysUntil('2026-11-29', now)).toBe(0);
    expect(daysUntil('2026-11-20', now)).toBe(-9);
    expect(daysUntil(null, now)).toBeNull();
    expect(daysUntil('soon', now)).toBeNull();
  });
});

describe('purchases CSV preview', () => {
  it('parses quoted fields, escaped quotes, CRLF, a BOM and blank lines, with each record’s starting line', () => {
    const text = `\ufeff${header}\r\n"Adobe Acrobat Pro",per-device,10,2025-01-15,,"1 200,50",EUR,*,"PO ""42"""\r\n\r\n"Multi\nline",site,,2025-02-01,,,,paris,x\n`;
    const records = parseCsv(text);
    expect(records.map((r) => r.line)).toEqual([1, 2, 4]);
    expect(records[0]?.cells[0]).toBe('product');
    expect(records[1]?.cells).toEqual(['Adobe Acrobat Pro', 'per-device', '10', '2025-01-15', '', '1 200,50', 'EUR', '*', 'PO "42"']);
    expect(records[2]?.cells[0]).toBe('Multi\nline');
  });

  it('names the missing required columns (product, type, purchased_at) and accepts a file without the optional ones', () => {
    expect(missingColumns(header.split(','))).toEqual([]);
    expect(missingColumns(['Product', ' TYPE ', 'purchased_at'])).toEqual([]);
    expect(missingColumns(['product', 'seats', 'org'])).toEqual(['type', 'purchased_at']);
    expect(missingColumns([])).toEqual(['product', 'type', 'purchased_at']);
  });

  it('takes files up to the collector’s 2 MiB', () => {
    expect(maxImportBytes).toBe(2 * 1024 * 1024);
    expect(dictionaries.en['licenses.import.tooLarge']).toContain('2 MiB');
    expect(dictionaries.fr['licenses.import.tooLarge']).toContain('2 Mio');
  });

  it('joins the collector’s verdict with the file’s cells and refuses to import while any row is invalid', () => {
    const text = `${header}\nAdobe Acrobat Pro,per-device,10,2025-01-15,2027-01-15,4200,EUR,*,PO-1\nSlack,per-seat,ten,2025-13-01,,,EUR,*,PO-2\n`;
    const result: ImportResult = {
      rows: [
        { line: 2, license: { product: 'Adobe Acrobat Pro', type: 'per-device', seats: 10, purchasedAt: '2025-01-15', expiresAt: '2027-01-15', cost: 4200, currency: 'EUR', org: '*', reference: 'PO-1' }, errors: [] },
        { line: 3, errors: ['type must be per-device, per-user or site', 'seats must be a positive integer'] },
      ],
      valid: 1,
      invalid: 1,
      imported: 0,
    };
    const p = buildPreview(text, result);
    expect(p).toMatchObject({ valid: 1, invalid: 1, canImport: false });
    expect(p.rows[1]).toMatchObject({ line: 3, cells: { product: 'Slack', type: 'per-seat', seats: 'ten', purchased_at: '2025-13-01' }, errors: result.rows[1]!.errors });
    expect(p.rows[1]?.license).toBeUndefined();

    const fixed = buildPreview(text, { rows: [result.rows[0]!, { line: 3, license: { ...result.rows[0]!.license!, product: 'Slack' }, errors: [] }], valid: 2, invalid: 0, imported: 0 });
    expect(fixed).toMatchObject({ valid: 2, invalid: 0, canImport: true });
  });

  it('does not offer to import an empty file, or one the collector counts invalid rows in', () => {
    expect(buildPreview(`${header}\n`, { rows: [], valid: 0, invalid: 0, imported: 0 }).canImport).toBe(false);
    expect(buildPreview(`${header}\nx`, { rows: [{ line: 2, errors: [] }], valid: 0, invalid: 1, imported: 0 }).canImport).toBe(false);
  });
});

describe('license form', () => {
  it('turns a valid form into the contract’s license', () => {
    const f = { ...emptyLicenseForm('2025-01-15', 'Adobe Acrobat Pro'), seats: '25', expiresAt: '2027-01-14', cost: '4 200'.replace(' ', ''), reference: ' PO-1 ' };
    expect(validateLicenseForm(f)).toEqual({ ok: true, value: { product: 'Adobe Acrobat Pro', type: 'per-device', seats: 25, purchasedAt: '2025-01-15', expiresAt: '2027-01-14', cost: 4200, currency: 'EUR', org: '*', reference: 'PO-1' } });
  });

  it('accepts zero seats, as the collector does, and refuses more than it takes', () => {
    expect(validateLicenseForm({ ...emptyLicenseForm('2025-01-15', 'Zoom'), seats: '0' })).toMatchObject({ ok: true, value: { seats: 0 } });
    expect(validateLicenseForm({ ...emptyLicenseForm('2025-01-15', 'Zoom'), seats: '10000000' })).toMatchObject({ ok: true, value: { seats: 10_000_000 } });
    expect(validateLicenseForm({ ...emptyLicenseForm('2025-01-15', 'Zoom'), seats: '10000001' })).toMatchObject({ ok: false, errors: { seats: 'licenses.form.seatsInvalid' } });
    expect(validateLicenseForm({ ...emptyLicenseForm('2025-01-15', 'Zoom'), seats: '' })).toMatchObject({ ok: false, errors: { seats: 'licenses.form.seatsInvalid' } });
  });

  it('gives a site license no seat count', () => {
    const r = validateLicenseForm({ ...emptyLicenseForm('2025-01-15', 'Zoom'), type: 'site', seats: 'whatever' });
    expect(r.ok && r.value.seats).toBeNull();
  });

  it('names each bad field', () => {
    const r = validateLicenseForm({ ...emptyLicenseForm('2025-01-15'), seats: '-1', expiresAt: '2024-01-01', cost: '-3', currency: 'euro' });
    expect(r).toEqual({ ok: false, errors: { product: 'licenses.form.productRequired', seats: 'licenses.form.seatsInvalid', expiresAt: 'licenses.form.expiryBeforePurchase', cost: 'licenses.form.costInvalid', currency: 'licenses.form.currencyInvalid' } });
    expect(validateLicenseForm({ ...emptyLicenseForm('15/01/2025', 'X'), seats: '2.5' })).toMatchObject({ ok: false, errors: { seats: 'licenses.form.seatsInvalid', purchasedAt: 'licenses.form.dateInvalid' } });
  });

  it('round-trips a license through the form', () => {
    const l = { id: 1, product: 'Slack', type: 'per-user' as const, seats: 40, purchasedAt: '2025-03-01', expiresAt: '2026-03-01T00:00:00.000Z', cost: 3120.5, currency: 'EUR', org: 'paris', reference: 'C-77' };
    const r = validateLicenseForm(licenseToForm(l));
    expect(r).toEqual({ ok: true, value: { product: 'Slack', type: 'per-user', seats: 40, purchasedAt: '2025-03-01', expiresAt: '2026-03-01', cost: 3120.5, currency: 'EUR', org: 'paris', reference: 'C-77' } });
  });
});

describe('catalog rule form', () => {
  it('counts capture groups and spots bad regular expressions', () => {
    expect(captureGroups('^Adobe Acrobat (\\d+)')).toBe(1);
    expect(captureGroups('^(?:Adobe) (Acrobat) (\\d+)')).toBe(2);
    expect(captureGroups('Acrobat')).toBe(0);
    expect(captureGroups('Acrobat (')).toBeNull();
  });

  it('accepts a rule and rejects a version pattern without exactly one group', () => {
    const ok = validateRuleForm({ ...emptyRuleForm(), namePattern: '^Adobe Acrobat \\(64-bit\\)$', publisherPattern: '^Adobe', os: 'windows', product: 'Adobe Acrobat Pro', versionPattern: '^(\\d+)\\.', position: '3' });
    expect(ok).toEqual({ ok: true, value: { namePattern: '^Adobe Acrobat \\(64-bit\\)$', publisherPattern: '^Adobe', os: 'windows', product: 'Adobe Acrobat Pro', versionPattern: '^(\\d+)\\.', ignore: false, position: 3 } });
    expect(validateRuleForm({ ...emptyRuleForm(), namePattern: 'x[', product: '', versionPattern: '\\d+' })).toEqual({
      ok: false,
      errors: { namePattern: 'software.rule.patternInvalid', product: 'software.rule.productRequired', versionPattern: 'software.rule.versionGroup' },
    });
  });

  it('wants a product on an ignore rule too: the collector refuses an empty one, and the rule names what it ignores', () => {
    expect(validateRuleForm({ ...emptyRuleForm(), namePattern: '^Intel\\(R\\) .* Driver', ignore: true })).toEqual({ ok: false, errors: { product: 'software.rule.productRequired' } });
    expect(validateRuleForm({ ...emptyRuleForm(), namePattern: '^Intel\\(R\\) .* Driver', ignore: true, product: '  ' })).toEqual({ ok: false, errors: { product: 'software.rule.productRequired' } });
    expect(validateRuleForm({ ...emptyRuleForm(), namePattern: '^Intel\\(R\\) .* Driver', ignore: true, product: ' Drivers ' })).toMatchObject({ ok: true, value: { ignore: true, product: 'Drivers' } });
  });
});

describe('failOn', () => {
  it('adds and removes statuses in a stable order', () => {
    expect(toggleFailOn(['unreviewed'], 'denied', true)).toEqual(['denied', 'unreviewed']);
    expect(toggleFailOn(['denied', 'unreviewed'], 'unreviewed', false)).toEqual(['denied']);
    expect(toggleFailOn([], 'denied', false)).toEqual([]);
  });
});
