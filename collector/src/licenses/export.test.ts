import { reportCsv, reportPdf } from './export';
import type { ReconciliationRow } from './reconcile';
import { pdfText } from './pdf-text';

const row = (product: string, over: Partial<ReconciliationRow> = {}): ReconciliationRow => ({
  product,
  org: '*',
  type: 'per-device',
  purchased: 10,
  used: 12,
  available: 0,
  status: 'over-deployed',
  overBy: 2,
  beyondDevices: [{ deviceId: 'd1', hostname: 'lap-zoe' }],
  expiringLicenses: [],
  unusedSeats90d: 0,
  licenses: [],
  cost: 1200,
  ...over,
});

describe('report exports', () => {
  it('writes the CSV with one line per product and the devices beyond the count', () => {
    const csv = reportCsv([row('Adobe Acrobat Pro'), row('=cmd|calc', { status: 'ok', overBy: 0, beyondDevices: [] })]);
    const lines = csv.trimEnd().split('\r\n');
    expect(lines[0]).toBe('product,org,type,purchased,used,available,status,overBy,unusedSeats90d,expiringLicenses,beyondDevices,cost');
    expect(lines[1]).toBe('Adobe Acrobat Pro,*,per-device,10,12,0,over-deployed,2,0,,lap-zoe,1200');
    // A product name from the endpoints cannot become a spreadsheet formula.
    expect(lines[2]!.startsWith("'=cmd|calc")).toBe(true);
  });

  it('writes a PDF with the title, the org scope and every product, N per page', async () => {
    const rows = Array.from({ length: 30 }, (_, i) => row(`Product ${String(i).padStart(2, '0')}`));
    const pdf = await reportPdf(rows, { now: new Date('2026-03-02T09:00:00Z'), scope: 'acme, beta', rowsPerPage: 25 });
    expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    const text = pdfText(pdf);
    expect(text).toContain('License reconciliation');
    expect(text).toContain('orgs: acme, beta');
    expect(text).toContain('page 2 of 2');
    for (const r of rows) expect(text).toContain(r.product);
    expect(text).toContain('over-deployed (+2)');
    expect((pdf.toString('latin1').match(/\/Type \/Page\b/g) ?? []).length).toBe(2);
  });
});
