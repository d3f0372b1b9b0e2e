/**
 * Licenses (ISSP 9.15.3, 9.15.4): purchases reconciled with the inventory,
 * over-deployments with the devices beyond the count, expiring licenses and
 * unused seats; CSV import of purchases (checked row by row first, never
 * half-imported) and the report as CSV or PDF. Admins and license managers
 * edit, within their orgs: a license for all orgs ('*') only when granted every
 * org; auditors read.
 */
import { useEffect, useMemo, useRef, useState } from 'react';
import { base64ToBytes, licenseTypes, type ApiError, type License, type LicenseDrillDown, type Reconciliation } from '../api';
import { useApp, useNow, useQuery } from '../context';
import { dateInputValue, formatDate, formatNumber } from '../format';
import type { MessageKey } from '../i18n';
import {
  buildPreview,
  canEditLicense,
  canManageLicenses,
  daysUntil,
  defaultLicenseOrg,
  emptyLicenseForm,
  importColumns,
  licenseOrgChoices,
  licenseToForm,
  maxImportBytes,
  missingColumns,
  parseCsv,
  reconciliationKey,
  reconciliationTone,
  reportTotals,
  requiredImportColumns,
  sortReconciliation,
  validateLicenseForm,
  type ImportColumn,
  type ImportPreview,
  type LicenseForm,
} from '../licenses';
import { downloadBytes, downloadText, navigate } from '../navigate';
import { href } from '../route';
import { ConfirmDelete, Dialog } from '../components/Dialog';
import { FormButtons, FormError, useValidatedForm } from '../components/form';
import { Card, EditDeleteCell, Empty, ErrorMessage, Loading, PageHeader, Pill, QueryStatus, Refreshing, Table, TitleReadOnly } from '../components/ui';

const expiryChoices = [30, 60, 90, 180];

const downloadIcon = (
  <svg viewBox="0 0 24 24" width="16" height="16" aria-hidden="true">
    <path fill="currentColor" d="M12 16 7 11l1.4-1.4 2.6 2.6V4h2v8.2l2.6-2.6L17 11l-5 5Zm-7 4v-2h14v2H5Z" />
  </svg>
);

export function Licenses({ params }: { params: Record<string, string> }) {
  const { api, t, lang, user, notify, errorText } = useApp();
  const canEdit = canManageLicenses(user.role);
  const days = expiryChoices.includes(Number(params.days)) ? Number(params.days) : 60;
  const selected = params.product ?? '';
  const report = useQuery(() => api.licenseReport(days), [api, days]);
  const list = useQuery(() => api.licenses(), [api]);
  const [importing, setImporting] = useState(false);
  const [editing, setEditing] = useState<License | 'new' | null>(null);
  const [deleting, setDeleting] = useState<License | null>(null);
  const [exporting, setExporting] = useState<'csv' | 'pdf' | null>(null);

  const items = useMemo(() => sortReconciliation(report.data?.items ?? []), [report.data]);
  const totals = useMemo(() => reportTotals(items), [items]);
  const products = useMemo(() => [...new Set([...items.map((r) => r.product), ...(list.data?.items ?? []).map((l) => l.product)])].sort((a, b) => a.localeCompare(b)), [items, list.data]);

  const go = (patch: Record<string, string | number>) => navigate(href('licenses', { days: days === 60 ? '' : days, product: selected, ...patch }));
  const reloadAll = () => {
    report.reload();
    list.reload();
  };

  const exportReport = async (kind: 'csv' | 'pdf') => {
    setExporting(kind);
    const day = new Date().toISOString().slice(0, 10);
    const file = `vigie-licenses-${day}.${kind}`;
    if (kind === 'csv') {
      const r = await api.licenseReportCsv(days);
      if (r.ok) downloadText(file, r.value);
      else notify('error', errorText(r.error));
      if (r.ok) notify('success', t('licenses.exported', { file }));
    } else {
      const r = await api.licenseReportPdf(days);
      if (r.ok) downloadBytes(file, base64ToBytes(r.value), 'application/pdf');
      else notify('error', errorText(r.error));
      if (r.ok) notify('success', t('licenses.exported', { file }));
    }
    setExporting(null);
  };

  return (
    <>
      <PageHeader
        title={<TitleReadOnly title={t('licenses.title')} readOnly={!canEdit} testid="licenses-readonly" />}
        subtitle={t('licenses.subtitle')}
        actions={
          <>
            <button type="button" className="btn" onClick={() => exportReport('csv')} disabled={exporting !== null} data-testid="licenses-export-csv">
              {downloadIcon}
              {exporting === 'csv' ? t('licenses.exporting') : t('licenses.exportCsv')}
            </button>
            <button type="button" className="btn" onClick={() => exportReport('pdf')} disabled={exporting !== null} data-testid="licenses-export-pdf">
              {downloadIcon}
              {exporting === 'pdf' ? t('licenses.exporting') : t('licenses.exportPdf')}
            </button>
            {canEdit && (
              <>
                <button type="button" className="btn" onClick={() => setImporting(true)} data-testid="licenses-import">
                  <svg viewBox="0 0 24 24" width="16" height="16" aria-hidden="true">
                    <path fill="currentColor" d="M12 4 7 9l1.4 1.4 2.6-2.6V16h2V7.8l2.6 2.6L17 9l-5-5Zm-7 16v-2h14v2H5Z" />
                  </svg>
                  {t('licenses.import')}
                </button>
                <button type="button" className="btn btn-primary" onClick={() => setEditing('new')} data-testid="licenses-add">
                  + {t('licenses.add')}
                </button>
              </>
            )}
          </>
        }
      />

      <div className="stats stats-4" data-testid="licenses-stats">
        <div className="stat" data-testid="licenses-stat-products" data-value={totals.products}>
          <span className="stat-label">{t('licenses.stat.products')}</span>
          <span className="stat-value">{report.data ? formatNumber(totals.products, lang) : '—'}</span>
        </div>
        <div className={`stat ${totals.overDeployed > 0 ? 'stat-bad' : ''}`} data-testid="licenses-stat-over" data-value={totals.overDeployed}>
          <span className="stat-label">{t('licenses.stat.overDeployed')}</span>
          <span className={`stat-value ${totals.overDeployed > 0 ? 'band-poor' : ''}`}>{report.data ? formatNumber(totals.overDeployed, lang) : '—'}</span>
          <span className="stat-sub">{t('licenses.stat.seatsOver', { n: formatNumber(totals.seatsOver, lang) })}</span>
        </div>
        <div className="stat" data-testid="licenses-stat-expiring" data-value={totals.expiring}>
          <span className="stat-label">{t('licenses.stat.expiring')}</span>
          <span className={`stat-value ${totals.expiring > 0 ? 'band-fair' : ''}`}>{report.data ? formatNumber(totals.expiring, lang) : '—'}</span>
          <span className="stat-sub">{t('licenses.stat.expiringWithin', { days })}</span>
        </div>
        <div className="stat" data-testid="licenses-stat-unused" data-value={totals.unusedSeats90d}>
          <span className="stat-label">{t('licenses.stat.unused')}</span>
          <span className="stat-value">{report.data ? formatNumber(totals.unusedSeats90d, lang) : '—'}</span>
          <span className="stat-sub">{t('licenses.stat.unusedHint')}</span>
        </div>
      </div>

      <Card
        title={t('licenses.reconciliation')}
        testid="licenses-report"
        actions={
          <>
            <Refreshing q={report} />
            <label className="filter filter-inline">
              <span>{t('licenses.expiringWithin')}</span>
              <select value={days} onChange={(e) => go({ days: Number(e.target.value) === 60 ? '' : e.target.value })} data-testid="licenses-days">
                {expiryChoices.map((d) => (
                  <option key={d} value={d}>
                    {t('licenses.days', { n: d })}
                  </option>
                ))}
              </select>
            </label>
          </>
        }
      >
        <p className="card-hint">{t('licenses.reconciliationHint')}</p>
        <QueryStatus q={report} />
        {report.data && items.length === 0 && <Empty testid="licenses-report-empty">{t('licenses.reportEmpty')}</Empty>}
        {report.data && items.length > 0 && (
          <Table
            testid="licenses-report-table"
            columns={[
              'licenses.col.product',
              'licenses.col.type',
              'licenses.col.org',
              { label: 'licenses.col.purchased', className: 'num' },
              { label: 'licenses.col.used', className: 'num' },
              { label: 'licenses.col.available', className: 'num' },
              <th className="w-usage" aria-hidden="true" />,
              'licenses.col.status',
              { label: 'licenses.col.unused', className: 'num' },
              <th />,
            ]}
          >
            {items.map((r) => (
              <ReportRow key={reconciliationKey(r)} r={r} active={r.product === selected} onOpen={() => go({ product: r.product })} />
            ))}
          </Table>
        )}
      </Card>

      {selected && <DrillDown product={selected} onClose={() => go({ product: '' })} />}

      <ExpiringCard items={items} days={days} />

      <Card title={t('licenses.list')} testid="licenses-list">
        <QueryStatus q={list} />
        {list.data && list.data.items.length === 0 && <Empty testid="licenses-list-empty">{t('licenses.listEmpty')}</Empty>}
        {list.data && list.data.items.length > 0 && <LicenseTable licenses={list.data.items} canEdit={canEdit} onEdit={setEditing} onDelete={setDeleting} />}
      </Card>

      {importing && (
        <ImportDialog
          onClose={() => setImporting(false)}
          onImported={() => {
            setImporting(false);
            reloadAll();
          }}
        />
      )}
      {editing && (
        <LicenseDialog
          license={editing === 'new' ? null : editing}
          defaultProduct={editing === 'new' ? selected : ''}
          products={products}
          onClose={() => setEditing(null)}
          onSaved={() => {
            setEditing(null);
            notify('success', t('licenses.saved'));
            reloadAll();
          }}
        />
      )}
      {deleting && (
        <ConfirmDelete
          testid="license-delete"
          title={t('licenses.deleteTitle')}
          body={t('licenses.deleteBody', { product: deleting.product, reference: deleting.reference || deleting.id })}
          onCancel={() => setDeleting(null)}
          onConfirm={async () => {
            const r = await api.deleteLicense(deleting.id);
            if (r.ok) {
              setDeleting(null);
              notify('success', t('licenses.deleted'));
              reloadAll();
            }
            return r;
          }}
        />
      )}
    </>
  );
}

function typeLabel(t: (k: MessageKey) => string, type: Reconciliation['type']): string {
  return type ? t(`licenses.type.${type}`) : '—';
}

function ReportRow({ r, active, onOpen }: { r: Reconciliation; active: boolean; onOpen(): void }) {
  const { t, lang } = useApp();
  const site = r.type === 'site';
  const ratio = r.purchased && r.purchased > 0 ? r.used / r.purchased : r.used > 0 ? 2 : 0;
  const band = ratio > 1 ? 'poor' : ratio > 0.9 ? 'fair' : 'good';
  return (
    <tr
      className={`${r.status === 'over-deployed' ? 'row-over' : ''} ${active ? 'row-active' : ''}`}
      data-testid="licenses-report-row"
      data-product={r.product}
      data-status={r.status}
      data-purchased={r.purchased ?? ''}
      data-used={r.used}
      data-available={r.available ?? ''}
      data-over-by={r.overBy}
    >
      <td>
        <button type="button" className="link strong-link" onClick={onOpen} data-testid="licenses-report-product">
          {r.product}
        </button>
      </td>
      <td className="nowrap">{typeLabel(t, r.type)}</td>
      <td className="nowrap">{!r.org || r.org === '*' ? t('licenses.allOrgs') : r.org}</td>
      <td className="num">{site ? t('licenses.unlimited') : r.purchased === null ? '—' : formatNumber(r.purchased, lang)}</td>
      <td className="num strong">{formatNumber(r.used, lang)}</td>
      <td className={`num ${r.available !== null && r.available < 0 ? 'bad-text' : ''}`}>{site ? '∞' : r.available === null ? '—' : formatNumber(r.available, lang)}</td>
      <td className="w-usage">
        {!site && r.purchased !== null && (
          <div className="conf-track usage" title={`${r.used} / ${r.purchased}`}>
            <div className={`conf-fill band-${band}`} style={{ width: `${Math.min(1, ratio) * 100}%` }} />
          </div>
        )}
      </td>
      <td className="nowrap">
        <Pill tone={reconciliationTone[r.status]} testid="licenses-status">
          {t(`licenses.status.${r.status}`)}
        </Pill>
        {r.overBy > 0 && <div className="bad-text small">{t('licenses.overBy', { n: formatNumber(r.overBy, lang) })}</div>}
      </td>
      <td className="num">{r.unusedSeats90d > 0 ? formatNumber(r.unusedSeats90d, lang) : <span className="muted">0</span>}</td>
      <td className="nowrap">
        <button type="button" className="btn btn-small" onClick={onOpen} data-testid="licenses-drill-open">
          {t('licenses.details')}
        </button>
      </td>
    </tr>
  );
}

function DrillDown({ product, onClose }: { product: string; onClose(): void }) {
  const { api, t, lang } = useApp();
  const q = useQuery(() => api.licenseDrillDown(product), [api, product]);
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    ref.current?.scrollIntoView?.({ block: 'start', behavior: 'smooth' });
  }, [product]);
  const d: LicenseDrillDown | undefined = q.data;
  const beyond = d ? d.devices.filter((x) => x.beyondCount) : [];
  // Beyond-the-count devices first: they are what the license manager acts on.
  const devices = d ? [...d.devices].sort((a, b) => Number(b.beyondCount) - Number(a.beyondCount) || a.hostname.localeCompare(b.hostname)) : [];
  return (
    <div ref={ref} className="drill" data-testid="licenses-drill" data-product={product}>
      <Card
        title={t('licenses.drill.title', { product })}
        actions={
          <button type="button" className="btn btn-small" onClick={onClose} data-testid="licenses-drill-close">
            {t('licenses.drill.close')}
          </button>
        }
      >
        <QueryStatus q={q} />
        {d && (
          <>
            {beyond.length > 0 && (
              <div className="notice notice-error" data-testid="licenses-drill-beyond-note">
                {t('licenses.drill.beyondNote', { n: formatNumber(beyond.length, lang) })}
              </div>
            )}
            <div className="grid-2">
              <div>
                <h3 className="sub-head">{t('licenses.drill.devices', { product })}</h3>
                {devices.length === 0 ? (
                  <Empty>{t('licenses.drill.devicesEmpty')}</Empty>
                ) : (
                  <Table size="short" testid="licenses-drill-devices" columns={['licenses.col.hostname', 'licenses.col.owner', 'licenses.col.org', 'licenses.col.version', 'licenses.col.status']}>
                    {devices.map((x) => (
                      <tr key={x.deviceId} className={x.beyondCount ? 'row-over' : ''} data-testid="licenses-drill-device" data-device={x.deviceId} data-beyond={x.beyondCount ? 'true' : 'false'}>
                        <td className="nowrap">
                          <a href={href('device', {}, x.deviceId)} className="strong-link">
                            {x.hostname}
                          </a>
                        </td>
                        <td>{x.owner ?? <span className="muted">{t('common.notSet')}</span>}</td>
                        <td>{x.org}</td>
                        <td className="mono">{x.version ?? <span className="muted">—</span>}</td>
                        <td>{x.beyondCount ? <Pill tone="bad">{t('licenses.drill.beyond')}</Pill> : <Pill tone="good">{t('licenses.drill.covered')}</Pill>}</td>
                      </tr>
                    ))}
                  </Table>
                )}
              </div>
              <div>
                <h3 className="sub-head">{t('licenses.drill.users')}</h3>
                {d.users.length === 0 ? (
                  <Empty>{t('licenses.drill.usersEmpty')}</Empty>
                ) : (
                  <Table size="short" testid="licenses-drill-users" columns={['licenses.col.user', { label: 'licenses.col.devices', className: 'num' }]}>
                    {d.users.map((u) => (
                      <tr key={u.user} data-testid="licenses-drill-user">
                        <td>{u.user}</td>
                        <td className="num">{formatNumber(Array.isArray(u.devices) ? u.devices.length : u.devices, lang)}</td>
                      </tr>
                    ))}
                  </Table>
                )}
                <h3 className="sub-head">{t('licenses.drill.licenses')}</h3>
                {d.licenses.length === 0 ? (
                  <p className="muted small">{t('licenses.listEmpty')}</p>
                ) : (
                  <ul className="plain-list">
                    {d.licenses.map((l) => (
                      <li key={l.id}>
                        <strong>{l.seats === null ? t('licenses.unlimited') : formatNumber(l.seats, lang)}</strong> · {t(`licenses.type.${l.type}`)} · {l.reference || l.id}
                        <span className="muted"> · {formatDate(l.purchasedAt, lang)}{l.expiresAt ? ` → ${formatDate(l.expiresAt, lang)}` : ''}</span>
                      </li>
                    ))}
                  </ul>
                )}
              </div>
            </div>
          </>
        )}
      </Card>
    </div>
  );
}

function ExpiringCard({ items, days }: { items: Reconciliation[]; days: number }) {
  const { t, lang } = useApp();
  const now = useNow();
  const expiring = useMemo(() => {
    const seen = new Map<number, License>();
    for (const r of items) for (const l of r.expiringLicenses) seen.set(l.id, l);
    return [...seen.values()].sort((a, b) => (a.expiresAt ?? '').localeCompare(b.expiresAt ?? ''));
  }, [items]);
  return (
    <Card title={t('licenses.expiringTitle')} testid="licenses-expiring">
      {expiring.length === 0 ? (
        <p className="muted" data-testid="licenses-expiring-empty">
          {t('licenses.expiringEmpty', { days })}
        </p>
      ) : (
        <Table columns={['licenses.col.product', 'licenses.col.reference', { label: 'licenses.col.seats', className: 'num' }, 'licenses.col.expiresAt']}>
          {expiring.map((l) => {
            const left = daysUntil(l.expiresAt, now);
            return (
              <tr key={l.id} data-testid="licenses-expiring-row" data-id={l.id}>
                <td>{l.product}</td>
                <td>{l.reference || '—'}</td>
                <td className="num">{l.seats === null ? t('licenses.unlimited') : formatNumber(l.seats, lang)}</td>
                <td className={`nowrap ${left !== null && left < 0 ? 'due-overdue' : 'due-soon'}`}>
                  {formatDate(l.expiresAt, lang)}
                  {left !== null && <span className="small"> · {left < 0 ? t('licenses.expiredAgo', { n: -left }) : t('licenses.expiresIn', { n: left })}</span>}
                </td>
              </tr>
            );
          })}
        </Table>
      )}
    </Card>
  );
}

function LicenseTable({ licenses, canEdit, onEdit, onDelete }: { licenses: License[]; canEdit: boolean; onEdit(l: License): void; onDelete(l: License): void }) {
  const { t, lang, user } = useApp();
  const now = useNow();
  const sorted = useMemo(() => [...licenses].sort((a, b) => a.product.localeCompare(b.product) || a.purchasedAt.localeCompare(b.purchasedAt)), [licenses]);
  const money = (l: License) => {
    if (l.cost === null) return '—';
    try {
      return new Intl.NumberFormat(lang === 'fr' ? 'fr-FR' : 'en-GB', { style: 'currency', currency: l.currency || 'EUR' }).format(l.cost);
    } catch {
      return `${formatNumber(l.cost, lang)} ${l.currency}`;
    }
  };
  return (
    <Table
      testid="licenses-list-table"
      columns={[
        'licenses.col.product',
        'licenses.col.type',
        { label: 'licenses.col.seats', className: 'num' },
        'licenses.col.purchasedAt',
        'licenses.col.expiresAt',
        { label: 'licenses.col.cost', className: 'num' },
        'licenses.col.org',
        'licenses.col.reference',
        canEdit && <th />,
      ]}
    >
      {sorted.map((l) => {
        const left = daysUntil(l.expiresAt, now);
        return (
          <tr key={l.id} data-testid="licenses-list-row" data-id={l.id} data-product={l.product} data-seats={l.seats ?? ''}>
            <td className="strong">{l.product}</td>
            <td className="nowrap">{t(`licenses.type.${l.type}`)}</td>
            <td className="num">{l.seats === null ? t('licenses.unlimited') : formatNumber(l.seats, lang)}</td>
            <td className="nowrap">{formatDate(l.purchasedAt, lang)}</td>
            <td className={`nowrap ${left !== null && left < 0 ? 'due-overdue' : ''}`}>{l.expiresAt ? formatDate(l.expiresAt, lang) : <span className="muted">{t('common.never')}</span>}</td>
            <td className="num nowrap">{money(l)}</td>
            <td>{l.org === '*' ? t('licenses.allOrgs') : l.org}</td>
            <td className="mono small">{l.reference}</td>
            {/* A license for all orgs is changed only by a user granted every org, as the collector checks. */}
            {canEdit && (canEditLicense(user, l) ? <EditDeleteCell onEdit={() => onEdit(l)} onDelete={() => onDelete(l)} testid="license" /> : <td />)}
          </tr>
        );
      })}
    </Table>
  );
}

function LicenseDialog({ license, defaultProduct, products, onClose, onSaved }: { license: License | null; defaultProduct: string; products: string[]; onClose(): void; onSaved(): void }) {
  const { t, api, user } = useApp();
  // A user of some orgs holds licenses for those orgs only: they choose one, starting on the first.
  const orgChoices = licenseOrgChoices(user);
  const { form, set, submit, problem, busy, error } = useValidatedForm({
    initial: (): LicenseForm => (license ? licenseToForm(license) : emptyLicenseForm(dateInputValue(new Date()), defaultProduct, defaultLicenseOrg(user))),
    validate: validateLicenseForm,
    save: (value) => (license ? api.updateLicense(license.id, value) : api.createLicense(value)),
    onSaved,
    testidPrefix: 'license-form',
  });

  return (
    <Dialog title={license ? t('licenses.form.editTitle') : t('licenses.form.addTitle')} onClose={onClose} testid="license-dialog">
      <form className="form form-grid" onSubmit={submit} noValidate data-testid="license-form">
        <label className="field">
          <span>{t('licenses.form.product')}</span>
          <input value={form.product} onChange={(e) => set({ product: e.target.value })} list="license-products" data-testid="license-form-product" autoFocus />
          <datalist id="license-products">
            {products.map((p) => (
              <option key={p} value={p} />
            ))}
          </datalist>
          {problem('product') ?? <small className="muted">{t('licenses.form.productHint')}</small>}
        </label>
        <label className="field">
          <span>{t('licenses.form.type')}</span>
          <select value={form.type} onChange={(e) => set({ type: e.target.value as LicenseForm['type'] })} data-testid="license-form-type">
            {licenseTypes.map((ty) => (
              <option key={ty} value={ty}>
                {t(`licenses.type.${ty}`)}
              </option>
            ))}
          </select>
        </label>
        <label className="field">
          <span>{t('licenses.form.seats')}</span>
          <input inputMode="numeric" value={form.type === 'site' ? '' : form.seats} disabled={form.type === 'site'} placeholder={form.type === 'site' ? t('licenses.unlimited') : ''} onChange={(e) => set({ seats: e.target.value })} data-testid="license-form-seats" />
          {problem('seats')}
        </label>
        <label className="field">
          <span>{t('licenses.form.purchasedAt')}</span>
          <input type="date" value={form.purchasedAt} onChange={(e) => set({ purchasedAt: e.target.value })} data-testid="license-form-purchased" />
          {problem('purchasedAt')}
        </label>
        <label className="field">
          <span>{t('licenses.form.expiresAt')}</span>
          <input type="date" value={form.expiresAt} onChange={(e) => set({ expiresAt: e.target.value })} data-testid="license-form-expires" />
          {problem('expiresAt')}
        </label>
        <label className="field">
          <span>{t('licenses.form.cost')}</span>
          <input inputMode="decimal" value={form.cost} onChange={(e) => set({ cost: e.target.value })} data-testid="license-form-cost" />
          {problem('cost')}
        </label>
        <label className="field">
          <span>{t('licenses.form.currency')}</span>
          <input value={form.currency} maxLength={3} onChange={(e) => set({ currency: e.target.value.toUpperCase() })} data-testid="license-form-currency" />
          {problem('currency')}
        </label>
        <label className="field">
          <span>{t('licenses.form.org')}</span>
          {orgChoices ? (
            <select value={form.org} onChange={(e) => set({ org: e.target.value })} data-testid="license-form-org">
              {(orgChoices.includes(form.org) ? orgChoices : [form.org, ...orgChoices]).map((o) => (
                <option key={o} value={o}>
                  {o === '*' ? t('licenses.allOrgs') : o}
                </option>
              ))}
            </select>
          ) : (
            <input value={form.org} onChange={(e) => set({ org: e.target.value })} data-testid="license-form-org" />
          )}
          <small className="muted">{t(orgChoices ? 'licenses.form.orgLimitedHint' : 'licenses.form.orgHint')}</small>
        </label>
        <label className="field">
          <span>{t('licenses.form.reference')}</span>
          <input value={form.reference} onChange={(e) => set({ reference: e.target.value })} data-testid="license-form-reference" />
        </label>
        <FormError error={error} />
        <FormButtons placement="form" busy={busy} onCancel={onClose} submitTestid="license-form-submit" />
      </form>
    </Dialog>
  );
}

type ImportState =
  | { phase: 'idle' }
  | { phase: 'checking'; file: string }
  | { phase: 'local-problem'; file: string; message: MessageKey; params?: Record<string, string> }
  | { phase: 'preview'; file: string; text: string; preview: ImportPreview; rejected?: number }
  | { phase: 'importing'; file: string; text: string; preview: ImportPreview }
  | { phase: 'failed'; file: string; error: ApiError };

function ImportDialog({ onClose, onImported }: { onClose(): void; onImported(): void }) {
  const { t, api, lang, notify } = useApp();
  const [state, setState] = useState<ImportState>({ phase: 'idle' });
  const seq = useRef(0);

  const choose = async (file: File | undefined) => {
    if (!file) return;
    const mine = ++seq.current;
    if (file.size > maxImportBytes) return setState({ phase: 'local-problem', file: file.name, message: 'licenses.import.tooLarge' });
    setState({ phase: 'checking', file: file.name });
    const text = await file.text();
    const records = parseCsv(text);
    const missing = missingColumns(records[0]?.cells ?? []);
    if (mine !== seq.current) return;
    if (missing.length > 0) return setState({ phase: 'local-problem', file: file.name, message: 'licenses.import.missingColumns', params: { columns: missing.join(', ') } });
    if (records.length < 2) return setState({ phase: 'local-problem', file: file.name, message: 'licenses.import.empty' });
    const r = await api.importLicenses(text, true);
    if (mine !== seq.current) return;
    if (!r.ok) return setState({ phase: 'failed', file: file.name, error: r.error });
    setState({ phase: 'preview', file: file.name, text, preview: buildPreview(text, r.value) });
  };

  const runImport = async () => {
    if (state.phase !== 'preview' || !state.preview.canImport) return;
    const { file, text, preview } = state;
    setState({ phase: 'importing', file, text, preview });
    const r = await api.importLicenses(text, false);
    if (!r.ok) return setState({ phase: 'failed', file, error: r.error });
    if (r.value.invalid > 0 || r.value.imported === 0) {
      // The collector found a problem the dry run did not (the catalog or licenses changed meanwhile): it imported nothing.
      return setState({ phase: 'preview', file, text, preview: buildPreview(text, r.value), rejected: r.value.invalid });
    }
    notify('success', t('licenses.import.done', { n: formatNumber(r.value.imported, lang) }));
    onImported();
  };

  const preview = state.phase === 'preview' || state.phase === 'importing' ? state.preview : null;
  const canImport = state.phase === 'preview' && state.preview.canImport;

  return (
    <Dialog
      title={t('licenses.import.title')}
      onClose={onClose}
      testid="licenses-import-dialog"
      wide
      footer={
        <>
          <button type="button" className="btn" onClick={onClose}>
            {t('common.cancel')}
          </button>
          <button type="button" className="btn btn-primary" disabled={!canImport} onClick={runImport} data-testid="licenses-import-submit">
            {state.phase === 'importing' ? t('licenses.import.importing') : t('licenses.import.submit', { n: preview ? formatNumber(preview.valid, lang) : 0 })}
          </button>
        </>
      }
    >
      <p className="muted">{t('licenses.import.intro')}</p>
      <code className="csv-header">{importColumns.join(',')}</code>
      <p className="muted small">{t('licenses.import.columnsHint', { columns: requiredImportColumns.join(', ') })}</p>
      <label className="field">
        <span>{t('licenses.import.file')}</span>
        <input type="file" accept=".csv,text/csv" onChange={(e) => void choose(e.target.files?.[0])} data-testid="licenses-import-file" />
      </label>
      {state.phase === 'checking' && <Loading label={t('licenses.import.checking', { file: state.file })} />}
      {state.phase === 'local-problem' && (
        <div className="notice notice-error" role="alert" data-testid="licenses-import-problem">
          {t(state.message, state.params)}
        </div>
      )}
      {state.phase === 'failed' && <ErrorMessage error={state.error} />}
      {preview && (
        <>
          <div className={`notice ${preview.canImport ? 'notice-info' : 'notice-error'}`} role={preview.canImport ? undefined : 'alert'} data-testid="licenses-import-summary" data-valid={preview.valid} data-invalid={preview.invalid}>
            <strong>{t('licenses.import.summary', { file: state.phase === 'preview' || state.phase === 'importing' ? state.file : '', valid: formatNumber(preview.valid, lang), invalid: formatNumber(preview.invalid, lang) })}</strong>{' '}
            {state.phase === 'preview' && state.rejected !== undefined ? t('licenses.import.rejected', { invalid: state.rejected }) : preview.canImport ? t('licenses.import.allValid') : t('licenses.import.fixFirst')}
          </div>
          <PreviewTable preview={preview} />
        </>
      )}
    </Dialog>
  );
}

const previewColumns: ImportColumn[] = ['type', 'seats', 'purchased_at', 'expires_at', 'cost', 'org', 'reference'];
const previewLabels: Record<ImportColumn, MessageKey> = {
  product: 'licenses.col.product',
  type: 'licenses.col.type',
  seats: 'licenses.col.seats',
  purchased_at: 'licenses.col.purchasedAt',
  expires_at: 'licenses.col.expiresAt',
  cost: 'licenses.col.cost',
  currency: 'licenses.form.currency',
  org: 'licenses.col.org',
  reference: 'licenses.col.reference',
};

function PreviewTable({ preview }: { preview: ImportPreview }) {
  const { t } = useApp();
  // Invalid rows first: with a long file they are what the user came to see.
  const rows = [...preview.rows].sort((a, b) => Number(b.errors.length > 0) - Number(a.errors.length > 0) || a.line - b.line);
  return (
    <div className="table-wrap short">
      <table className="table preview-table" data-testid="licenses-import-preview">
        <thead>
          <tr>
            <th className="num">{t('licenses.col.line')}</th>
            <th>{t('licenses.col.product')}</th>
            <th>{t('licenses.col.errors')}</th>
            {previewColumns.map((c) => (
              <th key={c}>{t(previewLabels[c])}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.line} className={r.errors.length > 0 ? 'row-invalid' : ''} data-testid="licenses-import-row" data-line={r.line} data-valid={r.errors.length === 0 ? 'true' : 'false'}>
              <td className="num muted">{r.line}</td>
              <td className="strong">{r.cells.product ?? ''}</td>
              <td className="errors-cell">
                {r.errors.length === 0 ? (
                  <Pill tone="good">{t('licenses.import.valid')}</Pill>
                ) : (
                  <ul className="row-errors" data-testid="licenses-import-errors">
                    {r.errors.map((e, i) => (
                      <li key={i}>{e}</li>
                    ))}
                  </ul>
                )}
              </td>
              {previewColumns.map((c) => (
                <td key={c}>{r.cells[c] ?? ''}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
