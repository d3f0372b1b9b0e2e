import { previewImport } from './csv-import';

const header = 'product,type,seats,purchased_at,expires_at,cost,currency,org,reference';

describe('license CSV import preview', () => {
  it('reads valid rows, with defaults for currency and org', () => {
    const csv = `\ufeff${header}\r\nMicrosoft 365 Apps,per-user,120,2025-09-01,2026-08-31,"15 840,00",eur,acme,PO-2025-118\r\nAdobe Acrobat Pro,per-device,10,2025-01-15,,2390.5,,,\r\n`;
    const p = previewImport(csv, () => true);
    expect(p).toMatchObject({ valid: 2, invalid: 0, fileErrors: [] });
    expect(p.rows[0]).toEqual({ line: 2, errors: [], license: { product: 'Microsoft 365 Apps', type: 'per-user', seats: 120, purchasedAt: '2025-09-01', expiresAt: '2026-08-31', cost: 15840, currency: 'EUR', org: 'acme', reference: 'PO-2025-118' } });
    expect(p.rows[1]!.license).toMatchObject({ expiresAt: null, currency: 'EUR', org: '*', cost: 2390.5 });
  });

  it('reports each bad row with its line number and every problem', () => {
    const csv = [
      header,
      'Zoom Workplace,site,,2025-01-01,,,,,',
      ',per-seat,abc,2025-02-30,2024-01-01,-5,euro,beta,',
      '"JetBrains IntelliJ IDEA Ultimate",per-device,5,2025-03-01,2025-02-01,,,acme,',
      '',
      'Slack,per-user,10,2025-03-01',
    ].join('\n');
    const p = previewImport(csv, (org) => org !== 'beta');
    expect(p.valid).toBe(1);
    expect(p.invalid).toBe(3);
    expect(p.rows.map((r) => r.line)).toEqual([2, 3, 4, 6]);
    expect(p.rows[1]!.errors).toEqual([
      'product is empty',
      'type must be one of per-device, per-user, site, got "per-seat"',
      'seats must be a whole number, got "abc"',
      'purchased_at must be a date YYYY-MM-DD, got "2025-02-30"',
      'cost must be a number, got "-5"',
      'currency must be a 3-letter ISO code, got "euro"',
      'you cannot manage licenses of org beta',
    ]);
    expect(p.rows[2]!.errors).toEqual(['expires_at is before purchased_at']);
    expect(p.rows[3]!.errors).toEqual(['expected 9 fields, found 4']);
  });

  it('refuses a file without the expected header', () => {
    expect(previewImport('name,count\nfoo,1\n', () => true).fileErrors).toEqual([
      'missing column(s): product, type, purchased_at',
      'unknown column(s): name, count (expected product,type,seats,purchased_at,expires_at,cost,currency,org,reference)',
    ]);
    expect(previewImport('', () => true).fileErrors).toEqual(['the file is empty']);
    expect(previewImport(`${header}\n"unclosed,per-device`, () => true).fileErrors[0]).toMatch(/not valid CSV/);
  });
});
