/**
 * Non-conformities: filters (rule, severity, org, status, owner), search,
 * sort and paging all run on the server, so the page stays fast with a very
 * large fleet. New ones arrive live at the top of the first page.
 */
import { useEffect, useMemo, useState } from 'react';
import { localTitle, type Nonconformity } from '../api';
import { useApp, useDebounced, useNow, useQuery } from '../context';
import { dueState, formatDate, formatDuration, formatNumber, parseDate } from '../format';
import type { Lang, MessageKey } from '../i18n';
import {
  canInsertLive,
  filtersFromParams,
  filtersToParams,
  hasFilters,
  matchesFilters,
  ncStatuses,
  pageSize,
  severities,
  toQuery,
  type NcFilters,
  type NcSort,
} from '../nc-filters';
import { downloadText, navigate } from '../navigate';
import { useReference } from '../reference';
import { href } from '../route';
import { useExemptionDialog } from '../components/ExemptionDialog';
import { Card, Empty, FilterSelect, IsspRefs, PageHeader, Pager, Pill, QueryStatus, Refreshing, SearchInput, SeverityBadge, SortHeader, Table, type Tone } from '../components/ui';

const statusTone: Record<Nonconformity['status'], Tone> = { open: 'bad', exempted: 'info', resolved: 'good' };

export function Nonconformities({ params }: { params: Record<string, string> }) {
  const { api, t, lang, user, subscribeLive, errorText, notify } = useApp();
  const filters = useMemo(() => filtersFromParams(params), [params]);
  const ref = useReference(api, user);
  const now = useNow();
  const [search, setSearch] = useState(filters.q);
  const [owner, setOwner] = useState(filters.owner);
  const debouncedSearch = useDebounced(search);
  const debouncedOwner = useDebounced(owner);
  const [fresh, setFresh] = useState<Nonconformity[]>([]);
  const [missed, setMissed] = useState(0);
  const [exporting, setExporting] = useState(false);

  const update = (patch: Partial<NcFilters>, replace = false) => {
    const next = { ...filters, offset: 0, ...patch };
    navigate(href('nonconformities', filtersToParams(next)), replace);
  };

  useEffect(() => {
    if (debouncedSearch !== filters.q || debouncedOwner !== filters.owner) update({ q: debouncedSearch, owner: debouncedOwner }, true);
  }, [debouncedSearch, debouncedOwner]);

  const query = toQuery(filters);
  const key = JSON.stringify(query);
  const q = useQuery(() => api.nonconformities(query), [api, key]);
  const exemption = useExemptionDialog(q.reload);

  useEffect(() => {
    setFresh([]);
    setMissed(0);
  }, [key, q.data]);

  useEffect(
    () =>
      subscribeLive((m) => {
        if (m.type === 'nonconformity-opened') {
          const nc = m.nonconformity;
          if (!nc || !matchesFilters(nc, filters)) return;
          if (canInsertLive(filters)) setFresh((f) => (f.some((x) => x.id === nc.id) ? f : [nc, ...f]));
          else setMissed((n) => n + 1);
        } else if (m.type === 'nonconformity-resolved') {
          setFresh((f) => f.filter((x) => x.id !== m.id));
        }
      }),
    [subscribeLive, filters],
  );

  const items = useMemo(() => {
    const base = q.data?.items ?? [];
    const seen = new Set(base.map((x) => x.id));
    return [...fresh.filter((x) => !seen.has(x.id)), ...base];
  }, [q.data, fresh]);
  const total = (q.data?.total ?? 0) + fresh.filter((x) => !(q.data?.items ?? []).some((y) => y.id === x.id)).length;
  const freshIds = new Set(fresh.map((x) => x.id));

  const exportCsv = async () => {
    setExporting(true);
    const r = await api.nonconformitiesCsv(query);
    setExporting(false);
    if (r.ok) downloadText(`vigie-nonconformities-${new Date().toISOString().slice(0, 10)}.csv`, r.value);
    else notify('error', errorText(r.error));
  };

  const onSort = (field: NcSort, order: 'asc' | 'desc') => update({ sort: field, order });
  const ruleTitle = (nc: Nonconformity) => localTitle(nc.title, lang, ref.rules.find((r) => r.id === nc.ruleId)?.title[lang] ?? nc.ruleId);

  return (
    <>
      <PageHeader
        title={t('nc.title')}
        subtitle={t('nc.subtitle')}
        actions={
          <button type="button" className="btn" onClick={exportCsv} disabled={exporting} data-testid="nc-export">
            <svg viewBox="0 0 24 24" width="16" height="16" aria-hidden="true">
              <path fill="currentColor" d="M12 16 7 11l1.4-1.4 2.6 2.6V4h2v8.2l2.6-2.6L17 11l-5 5Zm-7 4v-2h14v2H5Z" />
            </svg>
            {exporting ? t('nc.exporting') : t('nc.export')}
          </button>
        }
      />
      <Card>
        <div className="filters" data-testid="nc-filters">
          <SearchInput label={t('nc.search')} value={search} onChange={setSearch} testid="nc-search" />
          <FilterSelect label={t('nc.filter.rule')} value={filters.rule} options={ref.rules.map((r) => ({ value: r.id, label: r.title[lang] ?? r.id }))} onChange={(rule) => update({ rule })} testid="nc-filter-rule">
            {filters.rule && !ref.rules.some((r) => r.id === filters.rule) && <option value={filters.rule}>{filters.rule}</option>}
          </FilterSelect>
          <FilterSelect
            label={t('nc.filter.severity')}
            value={filters.severity}
            options={severities.map((s) => ({ value: s, label: t(`severity.${s}`) }))}
            onChange={(severity) => update({ severity: severity as NcFilters['severity'] })}
            testid="nc-filter-severity"
          />
          <FilterSelect label={t('nc.filter.org')} value={filters.org} options={ref.orgs.map((o) => ({ value: o, label: o }))} onChange={(org) => update({ org })} testid="nc-filter-org">
            {filters.org && !ref.orgs.includes(filters.org) && <option value={filters.org}>{filters.org}</option>}
          </FilterSelect>
          <FilterSelect
            label={t('nc.filter.status')}
            value={filters.status}
            options={ncStatuses.map((s) => ({ value: s, label: t(`ncStatus.${s}`) }))}
            onChange={(status) => update({ status: status as NcFilters['status'] })}
            testid="nc-filter-status"
          />
          <label className="filter">
            <span>{t('nc.filter.owner')}</span>
            <input value={owner} onChange={(e) => setOwner(e.target.value)} data-testid="nc-filter-owner" className="owner-input" />
          </label>
          {hasFilters(filters) && (
            <button
              type="button"
              className="link"
              onClick={() => {
                setSearch('');
                setOwner('');
                navigate(href('nonconformities'));
              }}
              data-testid="nc-clear"
            >
              {t('nc.filter.clear')}
            </button>
          )}
          <Refreshing q={q} />
        </div>
        {missed > 0 && (
          <div className="notice notice-info live-banner" data-testid="nc-live-banner">
            {t('nc.newLive', { count: missed })}
            <button type="button" className="btn btn-small" onClick={() => update({ offset: 0, sort: 'firstSeenAt', order: 'desc' })}>
              {t('nc.showNew')}
            </button>
          </div>
        )}
        <QueryStatus q={q} />
        {q.data && items.length === 0 && <Empty testid="nc-empty">{hasFilters(filters) ? t('nc.empty') : t('nc.emptyAll')}</Empty>}
        {q.data && items.length > 0 && (
          <>
            <Table
              size="tall"
              testid="nc-table"
              busy={q.loading}
              columns={[
                <SortHeader label={t('nc.col.device')} field="hostname" sort={filters.sort} order={filters.order} onSort={onSort} />,
                'nc.col.rule',
                <SortHeader label={t('nc.col.severity')} field="severity" sort={filters.sort} order={filters.order} onSort={onSort} />,
                'nc.col.evidence',
                <SortHeader label={t('nc.col.open')} field="firstSeenAt" sort={filters.sort} order={filters.order} onSort={onSort} />,
                <SortHeader label={t('nc.col.due')} field="dueAt" sort={filters.sort} order={filters.order} onSort={onSort} />,
                'nc.col.status',
                user.role === 'admin' && <th aria-label={t('nc.exempt')} />,
              ]}
            >
              {items.map((nc) => (
                <NcRow key={nc.id} nc={nc} now={now} lang={lang} isNew={freshIds.has(nc.id)} title={ruleTitle(nc)} canExempt={user.role === 'admin'} onExempt={() => exemption.open({ deviceId: nc.deviceId, ruleId: nc.ruleId, hostname: nc.hostname, ruleTitle: ruleTitle(nc) })} />
              ))}
            </Table>
            <Pager total={total} limit={pageSize} offset={filters.offset} onChange={(offset) => update({ offset })} />
          </>
        )}
      </Card>
      {exemption.dialog}
      <span hidden data-testid="nc-total" data-value={total}>
        {formatNumber(total, lang)}
      </span>
    </>
  );
}

function NcRow({ nc, now, lang, isNew, title, canExempt, onExempt }: { nc: Nonconformity; now: Date; lang: Lang; isNew: boolean; title: string; canExempt: boolean; onExempt(): void }) {
  const { t } = useApp();
  const first = parseDate(nc.firstSeenAt);
  const end = nc.status === 'resolved' ? (parseDate(nc.resolvedAt) ?? now) : now;
  const openFor = first ? formatDuration(end.getTime() - first.getTime(), lang) : '—';
  const due = nc.status === 'open' ? dueState(nc.dueAt, now) : 'none';
  const dueDate = parseDate(nc.dueAt);
  let dueNote = '';
  if (due === 'overdue' && dueDate) dueNote = t('nc.overdue', { duration: formatDuration(now.getTime() - dueDate.getTime(), lang) });
  else if ((due === 'soon' || due === 'ok') && dueDate) dueNote = t('nc.dueIn', { duration: formatDuration(dueDate.getTime() - now.getTime(), lang) });
  const statusKey: MessageKey = `ncStatus.${nc.status}`;

  return (
    <tr className={`${due === 'overdue' ? 'row-overdue' : ''} ${isNew ? 'row-new' : ''}`} data-testid="nc-row" data-id={nc.id} data-device={nc.deviceId} data-rule={nc.ruleId} data-status={nc.status} data-overdue={due === 'overdue' ? 'true' : 'false'} data-live={isNew ? 'true' : undefined}>
      <td className="nowrap">
        <a href={href('device', {}, nc.deviceId)} className="strong-link" data-testid="nc-device-link">
          {nc.hostname}
        </a>
        <div className="muted small">
          {nc.owner ?? t('common.notSet')} · {nc.org}
        </div>
        {isNew && (
          <Pill tone="info" testid="nc-new">
            {t('nc.live')}
          </Pill>
        )}
      </td>
      <td className="rule-cell">
        <div>{title}</div>
        <IsspRefs refs={nc.issp} />
      </td>
      <td>
        <SeverityBadge severity={nc.severity} />
      </td>
      <td className="evidence" title={nc.evidence}>
        <div className="clamp-2">{nc.evidence}</div>
      </td>
      <td className="nowrap">{openFor}</td>
      <td className={`nowrap due-${due}`} data-testid="nc-due">
        <div>{formatDate(nc.dueAt, lang)}</div>
        {dueNote && <div className="small">{dueNote}</div>}
      </td>
      <td>
        <Pill tone={statusTone[nc.status]}>{t(statusKey)}</Pill>
        {nc.exemption && <div className="muted small">{t('nc.exemptedUntil', { date: formatDate(nc.exemption.expiresAt, lang) })}</div>}
        {nc.status === 'resolved' && nc.resolvedAt && <div className="muted small">{t('nc.resolvedAt', { date: formatDate(nc.resolvedAt, lang) })}</div>}
      </td>
      {canExempt && (
        <td>
          {nc.status === 'open' && (
            <button type="button" className="btn btn-small" onClick={onExempt} data-testid="nc-exempt">
              {t('nc.exempt')}
            </button>
          )}
        </td>
      )}
    </tr>
  );
}
