import PDFDocument from 'pdfkit';
import { toCsv } from '../util/csv';
import type { ReconciliationRow } from './reconcile';

/** The reconciliation report as a spreadsheet (one line per product, org and license type). */
export function reportCsv(rows: readonly ReconciliationRow[]): string {
  const header = ['product', 'org', 'type', 'purchased', 'used', 'available', 'status', 'overBy', 'unusedSeats90d', 'expiringLicenses', 'beyondDevices', 'cost'];
  return toCsv([
    header,
    ...rows.map((r) => [
      r.product,
      r.org,
      r.type,
      r.purchased,
      r.used,
      r.available,
      r.status,
      r.overBy,
      r.unusedSeats90d,
      r.expiringLicenses.map((l) => `${l.reference || `#${l.id}`} ${l.expiresAt}`).join('; '),
      r.beyondDevices.map((d) => d.hostname).join(' '),
      r.cost,
    ]),
  ]);
}

export interface PdfOptions {
  now: Date;
  /** The orgs the report covers, as the reader should see it ("all orgs", "acme, beta"). */
  scope: string;
  rowsPerPage?: number;
  /** Uncompressed content streams (tests read the text back). */
  compress?: boolean;
}

const COLUMNS: { title: string; width: number; align: 'left' | 'right'; value: (r: ReconciliationRow) => string }[] = [
  { title: 'Product', width: 250, align: 'left', value: (r) => r.product },
  { title: 'Org', width: 80, align: 'left', value: (r) => (r.org === '*' ? 'all' : r.org) },
  { title: 'Type', width: 70, align: 'left', value: (r) => r.type },
  { title: 'Purchased', width: 70, align: 'right', value: (r) => (r.purchased === null ? 'site' : String(r.purchased)) },
  { title: 'Used', width: 55, align: 'right', value: (r) => String(r.used) },
  { title: 'Available', width: 65, align: 'right', value: (r) => (r.available === null ? '-' : String(r.available)) },
  { title: 'Status', width: 150, align: 'left', value: (r) => (r.status === 'over-deployed' ? `over-deployed (+${r.overBy})` : r.status) },
];

/** A one-page-per-N-products PDF: title, date, org scope, then the table, with the header on every page. */
export function reportPdf(rows: readonly ReconciliationRow[], options: PdfOptions): Promise<Buffer> {
  const perPage = options.rowsPerPage ?? 25;
  const doc = new PDFDocument({
    size: 'A4',
    layout: 'landscape',
    margin: 40,
    compress: options.compress ?? true,
    info: { Title: 'License reconciliation', Creator: 'Vigie', CreationDate: options.now },
  });
  const chunks: Buffer[] = [];
  doc.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });
  const pages = Math.max(1, Math.ceil(rows.length / perPage));
  const over = rows.filter((r) => r.status === 'over-deployed').length;
  for (let page = 0; page < pages; page++) {
    if (page > 0) doc.addPage();
    const left = doc.page.margins.left;
    doc.font('Helvetica-Bold').fontSize(16).text('License reconciliation', left, 40);
    doc
      .font('Helvetica')
      .fontSize(9)
      .fillColor('#444444')
      .text(`${options.now.toISOString().slice(0, 16).replace('T', ' ')} UTC  ·  orgs: ${options.scope}  ·  ${rows.length} product line(s), ${over} over-deployed (ISSP 9.15.4)  ·  page ${page + 1} of ${pages}`, left, 62);
    let y = 86;
    let x = left;
    doc.font('Helvetica-Bold').fontSize(9).fillColor('#000000');
    for (const c of COLUMNS) {
      doc.text(c.title, x + 3, y, { width: c.width - 6, align: c.align, lineBreak: false });
      x += c.width;
    }
    y += 14;
    doc.moveTo(left, y - 2).lineTo(x, y - 2).lineWidth(0.8).strokeColor('#000000').stroke();
    doc.font('Helvetica').fontSize(9);
    for (const r of rows.slice(page * perPage, (page + 1) * perPage)) {
      x = left;
      if (r.status === 'over-deployed' || r.status === 'unlicensed') doc.fillColor('#b00020');
      else if (r.status === 'expiring' || r.status === 'expired') doc.fillColor('#8a5a00');
      else doc.fillColor('#000000');
      for (const c of COLUMNS) {
        doc.text(c.value(r), x + 3, y, { width: c.width - 6, align: c.align, lineBreak: false, ellipsis: true });
        x += c.width;
      }
      y += 16;
      doc.moveTo(left, y - 3).lineTo(x, y - 3).lineWidth(0.3).strokeColor('#cccccc').stroke();
    }
    if (rows.length === 0) doc.fillColor('#000000').text('No licenses recorded.', left, y);
  }
  doc.end();
  return done;
}
