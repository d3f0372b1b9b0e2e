/**
 * Software (ISSP 9.2.2): installed products as the catalog names them, with
 * their approval, device counts and versions; which statuses fail the
 * approved-software rule; and the catalog's normalisation rules. Approvals and
 * rules: admins and license managers; the failing statuses are policy, so
 * admins only; auditors read. They all apply to every org's devices, so the
 * collector takes these changes only from a user granted every org: the others read.
 */
import { useMemo, useState, type FormEvent } from 'react';
import { productStatuses, type CatalogRule, type OsName, type ProductStatus, type SoftwareProduct, type SoftwareQuery, type SoftwareSettings } from '../api';
import { useApp, useQuery } from '../context';
import { formatNumber } from '../format';
import { canChangeSoftwareSettings, canManageCatalog, canManageLicenses, emptyRuleForm, productStatusTone, ruleToForm, toggleFailOn, validateRuleForm, type RuleForm } from '../licenses';
import { navigate } from '../navigate';
import { href } from '../route';
import { ConfirmDelete, Dialog } from '../components/Dialog';
import { FormButtons, FormError, useSubmit, useValidatedForm } from '../components/form';
import { Card, EditDeleteCell, Empty, ErrorMessage, FilterSelect, PageHeader, Pager, Pill, QueryStatus, Refreshing, SearchInput, Table, TitleReadOnly, useDebouncedSearch } from '../components/ui';
import { osLabel } from './Devices';

const pageSize = 50;
const shownVersions = 3;
const osChoices: OsName[] = ['windows', 'macos', 'linux'];

export function Software({ params }: { params: Record<string, string> }) {
  const { t, user } = useApp();
  const canEdit = canManageCatalog(user);
  const tab = params.tab === 'rules' ? 'rules' : 'products';
  return (
    <>
      <PageHeader
        title={<TitleReadOnly title={t('software.title')} readOnly={!canEdit} testid="software-readonly" />}
        subtitle={t('software.subtitle')}
      />
      {/* An editor of some orgs only: say why the changes are not offered. */}
      {!canEdit && canManageLicenses(user.role) && (
        <div className="notice notice-info" data-testid="software-every-org-only">
          {t('software.everyOrgOnly')}
        </div>
      )}
      <div className="tabs" role="tablist">
        <a role="tab" href={href('software')} className={`tab ${tab === 'products' ? 'active' : ''}`} aria-selected={tab === 'products'} data-testid="software-tab-products">
          {t('software.tab.products')}
        </a>
        <a role="tab" href={href('software', { tab: 'rules' })} className={`tab ${tab === 'rules' ? 'active' : ''}`} aria-selected={tab === 'rules'} data-testid="software-tab-rules">
          {t('software.tab.rules')}
        </a>
      </div>
      {tab === 'products' ? <Products params={params} canEdit={canEdit} /> : <Rules canEdit={canEdit} />}
    </>
  );
}

function Products({ params, canEdit }: { params: Record<string, string>; canEdit: boolean }) {
  const { api, t, lang, notify } = useApp();
  const query: SoftwareQuery = useMemo(
    () => ({
      q: params.q ?? '',
      status: productStatuses.includes(params.status as ProductStatus) ? (params.status as ProductStatus) : '',
      limit: pageSize,
      offset: Math.max(0, Number(params.offset) || 0),
    }),
    [params],
  );
  const update = (patch: Partial<SoftwareQuery>, replace = false) => {
    const next = { ...query, offset: 0, ...patch };
    navigate(href('software', { q: next.q, status: next.status, offset: next.offset || '' }), replace);
  };
  const [search, setSearch] = useDebouncedSearch(query.q ?? '', (q) => update({ q }, true));
  const key = JSON.stringify(query);
  const q = useQuery(() => api.softwareProducts(query), [api, key]);
  const [approving, setApproving] = useState<SoftwareProduct | null>(null);
  const [showing, setShowing] = useState<string | null>(null);
  const filtered = Boolean(query.q || query.status);

  return (
    <>
      <FailOnCard />
      <Card testid="software-products">
        <div className="filters">
          <SearchInput label={t('software.search')} value={search} onChange={setSearch} testid="software-search" />
          <FilterSelect
            label={t('software.filter.status')}
            value={query.status ?? ''}
            options={productStatuses.map((s) => ({ value: s, label: t(`approval.${s}`) }))}
            onChange={(status) => update({ status: status as ProductStatus | '' })}
            testid="software-filter-status"
          />
          <Refreshing q={q} />
        </div>
        <QueryStatus q={q} />
        {q.data && q.data.items.length === 0 && <Empty testid="software-empty">{filtered ? t('software.empty') : t('software.emptyAll')}</Empty>}
        {q.data && q.data.items.length > 0 && (
          <>
            <Table size="tall" testid="software-table" columns={['software.col.product', 'software.col.status', { label: 'software.col.devices', className: 'num' }, { label: 'software.col.users', className: 'num' }, 'software.col.versions', <th />]}>
              {q.data.items.map((p) => (
                <tr key={p.product} data-testid="software-row" data-product={p.product} data-status={p.status} data-devices={p.devices}>
                  <td>
                    <div className="strong">{p.product}</div>
                    {p.publishers.length > 0 && <div className="muted small">{p.publishers.join(', ')}</div>}
                  </td>
                  <td>
                    <Pill tone={productStatusTone[p.status]} testid="software-status">
                      {t(`approval.${p.status}`)}
                    </Pill>
                  </td>
                  <td className="num">{formatNumber(p.devices, lang)}</td>
                  <td className="num">{formatNumber(p.users, lang)}</td>
                  <td>
                    <div className="chips">
                      {p.versions.slice(0, shownVersions).map((v) => (
                        <span key={v.version ?? '\u0000'} className="chip" title={`${v.devices}`}>
                          {v.version === null ? <span className="muted">{t('common.unknown')}</span> : <span className="mono">{v.version}</span>} <span className="muted">×{formatNumber(v.devices, lang)}</span>
                        </span>
                      ))}
                      {p.versions.length > shownVersions && <span className="muted small">{t('software.moreVersions', { n: p.versions.length - shownVersions })}</span>}
                    </div>
                  </td>
                  <td className="nowrap row-actions">
                    <button type="button" className="btn btn-small" onClick={() => setShowing(p.product)} data-testid="software-devices">
                      {t('software.devices')}
                    </button>
                    {canEdit && (
                      <button type="button" className="btn btn-small" onClick={() => setApproving(p)} data-testid="software-approve">
                        {t('software.change')}
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </Table>
            <Pager total={q.data.total} limit={pageSize} offset={query.offset ?? 0} onChange={(offset) => update({ offset })} />
          </>
        )}
      </Card>
      {approving && (
        <ApprovalDialog
          product={approving}
          onClose={() => setApproving(null)}
          onSaved={(status) => {
            setApproving(null);
            notify('success', t('software.approval.saved', { product: approving.product, status: t(`approval.${status}`) }));
            q.reload();
          }}
        />
      )}
      {showing && <ProductDevicesDialog product={showing} onClose={() => setShowing(null)} />}
    </>
  );
}

function FailOnCard() {
  const { api, t, user, notify } = useApp();
  const q = useQuery(() => api.softwareSettings(), [api]);
  const [draft, setDraft] = useState<SoftwareSettings['failOn'] | null>(null);
  const { busy, error, run } = useSubmit();
  const canChange = canChangeSoftwareSettings(user);
  const current = draft ?? q.data?.failOn ?? [];
  const changed = draft !== null && JSON.stringify(draft) !== JSON.stringify(q.data?.failOn ?? []);
  const save = async () => {
    if (!draft) return;
    const r = await run(() => api.setSoftwareSettings({ failOn: draft }));
    if (!r.ok) return;
    setDraft(null);
    notify('success', t('software.policySaved'));
    q.reload();
  };
  return (
    <Card title={t('software.policy')} testid="software-policy" actions={!canChange && <span className="muted small" data-testid="software-policy-readonly">{t('software.policyAdminOnly')}</span>}>
      <p className="card-hint">{t('software.policyHint')}</p>
      <QueryStatus q={q} inline />
      {q.data && (
        <div className="policy-row">
          {(['denied', 'unreviewed'] as const).map((s) => (
            <label key={s} className="check">
              <input type="checkbox" checked={current.includes(s)} disabled={!canChange || busy} onChange={(e) => setDraft(toggleFailOn(current, s, e.target.checked))} data-testid={`software-failon-${s}`} />
              {t(`software.failOn.${s}`)}
            </label>
          ))}
          {canChange && (
            <button type="button" className="btn btn-primary btn-small" disabled={!changed || busy} onClick={save} data-testid="software-failon-save">
              {busy ? t('common.saving') : t('common.save')}
            </button>
          )}
        </div>
      )}
      {error && <ErrorMessage error={error} />}
    </Card>
  );
}

function ApprovalDialog({ product, onClose, onSaved }: { product: SoftwareProduct; onClose(): void; onSaved(status: ProductStatus): void }) {
  const { api, t } = useApp();
  const [status, setStatus] = useState<ProductStatus>(product.status);
  const [reason, setReason] = useState('');
  const { busy, error, run } = useSubmit();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const r = await run(() => api.setApproval(product.product, status, reason.trim() || undefined));
    if (r.ok) onSaved(status);
  };
  return (
    <Dialog title={t('software.approval.title', { product: product.product })} onClose={onClose} testid="approval-dialog">
      <form className="form" onSubmit={submit} noValidate>
        <p className="muted">{t('software.approval.intro')}</p>
        <fieldset className="segmented" data-testid="approval-status">
          <legend>{t('software.approval.status')}</legend>
          {productStatuses.map((s) => (
            <label key={s} className={`segment seg-${productStatusTone[s]} ${status === s ? 'active' : ''}`} data-testid={`approval-${s}`} data-checked={status === s ? 'true' : 'false'}>
              <input type="radio" name="approval" value={s} checked={status === s} onChange={() => setStatus(s)} />
              {t(`approval.${s}`)}
            </label>
          ))}
        </fieldset>
        <label className="field">
          <span>{t('software.approval.reason')}</span>
          <textarea rows={3} maxLength={2000} value={reason} onChange={(e) => setReason(e.target.value)} data-testid="approval-reason" />
          <small className="muted">{t('software.approval.reasonHint')}</small>
        </label>
        {error && <ErrorMessage error={error} />}
        <FormButtons placement="dialog" busy={busy} onCancel={onClose} submitTestid="approval-submit" />
      </form>
    </Dialog>
  );
}

function ProductDevicesDialog({ product, onClose }: { product: string; onClose(): void }) {
  const { api, t } = useApp();
  const q = useQuery(() => api.productDevices(product), [api, product]);
  return (
    <Dialog title={t('software.devicesTitle', { product })} onClose={onClose} testid="software-devices-dialog" wide>
      <QueryStatus q={q} />
      {q.data && q.data.items.length === 0 && <Empty>{t('software.devicesEmpty')}</Empty>}
      {q.data && q.data.items.length > 0 && (
        <Table size="short" columns={['licenses.col.hostname', 'licenses.col.owner', 'licenses.col.org', 'licenses.col.version', 'software.col.rawName']}>
          {q.data.items.map((d) => (
            <tr key={d.deviceId} data-testid="software-device-row">
              <td className="nowrap">
                <a href={href('device', {}, d.deviceId)} className="strong-link" onClick={onClose}>
                  {d.hostname}
                </a>
              </td>
              <td>{d.owner ?? <span className="muted">{t('common.notSet')}</span>}</td>
              <td>{d.org}</td>
              <td className="mono">{d.version ?? <span className="muted">—</span>}</td>
              <td className="muted">{d.rawName}</td>
            </tr>
          ))}
        </Table>
      )}
    </Dialog>
  );
}

function Rules({ canEdit }: { canEdit: boolean }) {
  const { api, t, notify } = useApp();
  const q = useQuery(() => api.catalogRules(), [api]);
  const [editing, setEditing] = useState<CatalogRule | 'new' | null>(null);
  const [deleting, setDeleting] = useState<CatalogRule | null>(null);
  const rules = useMemo(() => [...(q.data?.items ?? [])].sort((a, b) => a.position - b.position), [q.data]);
  return (
    <>
      <Card
        testid="software-rules"
        title={q.data ? <span data-testid="software-catalog-version" data-value={q.data.catalogVersion}>{t('software.rules.version', { n: q.data.catalogVersion })}</span> : t('software.tab.rules')}
        actions={
          canEdit && (
            <button type="button" className="btn btn-primary btn-small" onClick={() => setEditing('new')} data-testid="rule-add">
              + {t('software.rules.add')}
            </button>
          )
        }
      >
        <p className="card-hint">{t('software.rules.hint')}</p>
        <QueryStatus q={q} />
        {q.data && rules.length === 0 && <Empty testid="rules-empty">{t('software.rules.empty')}</Empty>}
        {q.data && rules.length > 0 && (
          <Table
            size="tall"
            testid="rules-table"
            columns={[{ label: 'software.rules.col.position', className: 'num' }, 'software.rules.col.name', 'software.rules.col.publisher', 'software.rules.col.os', 'software.rules.col.product', 'software.rules.col.version', canEdit && <th />]}
          >
            {rules.map((r) => (
              <tr key={r.id} data-testid="rule-row" data-id={r.id} data-product={r.product}>
                <td className="num muted">{r.position}</td>
                <td className="mono">{r.namePattern}</td>
                <td className="mono">{r.publisherPattern ?? <span className="muted">—</span>}</td>
                <td>{r.os ? osLabel[r.os] : <span className="muted">{t('software.rules.anyOs')}</span>}</td>
                <td>
                  {r.ignore ? (
                    <>
                      <Pill tone="neutral">{t('software.rules.ignored')}</Pill> <span className="muted">{r.product}</span>
                    </>
                  ) : (
                    <span className="strong">{r.product}</span>
                  )}
                </td>
                <td className="mono">{r.versionPattern ?? <span className="muted">—</span>}</td>
                {canEdit && <EditDeleteCell onEdit={() => setEditing(r)} onDelete={() => setDeleting(r)} testid="rule" />}
              </tr>
            ))}
          </Table>
        )}
      </Card>
      {editing && (
        <RuleDialog
          rule={editing === 'new' ? null : editing}
          onClose={() => setEditing(null)}
          onSaved={() => {
            setEditing(null);
            notify('success', t('software.rules.saved'));
            q.reload();
          }}
        />
      )}
      {deleting && (
        <ConfirmDelete
          testid="rule-delete"
          title={t('software.rules.deleteTitle')}
          body={t('software.rules.deleteBody', { pattern: deleting.namePattern, product: deleting.product })}
          onCancel={() => setDeleting(null)}
          onConfirm={async () => {
            const r = await api.deleteCatalogRule(deleting.id);
            if (r.ok) {
              setDeleting(null);
              notify('success', t('software.rules.deleted'));
              q.reload();
            }
            return r;
          }}
        />
      )}
    </>
  );
}

function RuleDialog({ rule, onClose, onSaved }: { rule: CatalogRule | null; onClose(): void; onSaved(): void }) {
  const { api, t } = useApp();
  const { form, set, submit, problem, busy, error } = useValidatedForm({
    initial: (): RuleForm => (rule ? ruleToForm(rule) : emptyRuleForm()),
    validate: validateRuleForm,
    save: (value) => (rule ? api.updateCatalogRule(rule.id, value) : api.createCatalogRule(value)),
    onSaved,
    testidPrefix: 'rule-form',
  });
  return (
    <Dialog title={rule ? t('software.rule.editTitle') : t('software.rule.addTitle')} onClose={onClose} testid="rule-dialog">
      <form className="form form-grid" onSubmit={submit} noValidate data-testid="rule-form">
        <label className="field">
          <span>{t('software.rule.name')}</span>
          <input className="mono" value={form.namePattern} onChange={(e) => set({ namePattern: e.target.value })} data-testid="rule-form-name" autoFocus />
          {problem('namePattern')}
        </label>
        <label className="field">
          <span>{t('software.rule.publisher')}</span>
          <input className="mono" value={form.publisherPattern} onChange={(e) => set({ publisherPattern: e.target.value })} data-testid="rule-form-publisher" />
          {problem('publisherPattern')}
        </label>
        <label className="field">
          <span>{t('software.rule.os')}</span>
          <select value={form.os} onChange={(e) => set({ os: e.target.value as OsName | '' })} data-testid="rule-form-os">
            <option value="">{t('software.rules.anyOs')}</option>
            {osChoices.map((o) => (
              <option key={o} value={o}>
                {osLabel[o]}
              </option>
            ))}
          </select>
        </label>
        <label className="field">
          <span>{t('software.rule.product')}</span>
          <input value={form.product} required maxLength={256} onChange={(e) => set({ product: e.target.value })} data-testid="rule-form-product" />
          {problem('product') ?? <small className="muted">{t('software.rule.productHint')}</small>}
        </label>
        <label className="field">
          <span>{t('software.rule.version')}</span>
          <input className="mono" value={form.versionPattern} onChange={(e) => set({ versionPattern: e.target.value })} data-testid="rule-form-version" />
          {problem('versionPattern') ?? <small className="muted">{t('software.rule.versionHint')}</small>}
        </label>
        <label className="field">
          <span>{t('software.rule.position')}</span>
          <input inputMode="numeric" value={form.position} onChange={(e) => set({ position: e.target.value })} data-testid="rule-form-position" />
          {problem('position')}
        </label>
        <label className="check form-full">
          <input type="checkbox" checked={form.ignore} onChange={(e) => set({ ignore: e.target.checked })} data-testid="rule-form-ignore" />
          {t('software.rule.ignore')}
        </label>
        <FormError error={error} />
        <FormButtons placement="form" busy={busy} onCancel={onClose} submitTestid="rule-form-submit" />
      </form>
    </Dialog>
  );
}
