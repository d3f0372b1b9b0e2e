/** Device inventory (ISSP 9.2.1): searchable, sortable, paged on the server. */
import { useEffect, useMemo, useState } from 'react';
import type { DeviceListItem, DeviceQuery, DeviceStatus } from '../api';
import { useApp, useDebounced, useNow, useQuery } from '../context';
import { formatAgo } from '../format';
import { navigate } from '../navigate';
import { useReference } from '../reference';
import { href } from '../route';
import { Card, Empty, ErrorMessage, Loading, PageHeader, Pager, Pill, SortHeader, type Tone } from '../components/ui';

const pageSize = 50;
const statuses: DeviceStatus[] = ['compliant', 'noncompliant', 'unknown'];
type Sort = NonNullable<DeviceQuery['sort']>;
const sorts: Sort[] = ['hostname', 'lastSeenAt', 'org', 'owner'];
const tone: Record<DeviceStatus, Tone> = { compliant: 'good', noncompliant: 'bad', unknown: 'neutral' };
export const osLabel: Record<DeviceListItem['os'], string> = { windows: 'Windows', macos: 'macOS', linux: 'Linux' };

export function Devices({ params }: { params: Record<string, string> }) {
  const { api, t, lang, user } = useApp();
  const ref = useReference(api, user);
  const now = useNow();
  const query: DeviceQuery = useMemo(
    () => ({
      org: params.org ?? '',
      q: params.q ?? '',
      status: statuses.includes(params.status as DeviceStatus) ? (params.status as DeviceStatus) : '',
      sort: sorts.includes(params.sort as Sort) ? (params.sort as Sort) : 'hostname',
      order: params.order === 'desc' ? 'desc' : 'asc',
      limit: pageSize,
      offset: Math.max(0, Number(params.offset) || 0),
    }),
    [params],
  );
  const [search, setSearch] = useState(query.q ?? '');
  const debounced = useDebounced(search);
  const update = (patch: Partial<DeviceQuery>, replace = false) => {
    const next = { ...query, offset: 0, ...patch };
    navigate(href('devices', { org: next.org, q: next.q, status: next.status, sort: next.sort === 'hostname' ? '' : next.sort, order: next.order === 'asc' ? '' : next.order, offset: next.offset || '' }), replace);
  };
  useEffect(() => {
    if (debounced !== (query.q ?? '')) update({ q: debounced }, true);
  }, [debounced]);

  const key = JSON.stringify(query);
  const q = useQuery(() => api.devices(query), [api, key]);
  const onSort = (field: Sort, order: 'asc' | 'desc') => update({ sort: field, order });

  return (
    <>
      <PageHeader title={t('devices.title')} subtitle={t('devices.subtitle')} />
      <Card>
        <div className="filters">
          <input type="search" className="search" placeholder={t('devices.search')} aria-label={t('devices.search')} value={search} onChange={(e) => setSearch(e.target.value)} data-testid="devices-search" />
          <label className="filter">
            <span>{t('nc.filter.org')}</span>
            <select value={query.org} onChange={(e) => update({ org: e.target.value })} data-testid="devices-filter-org">
              <option value="">{t('common.all')}</option>
              {ref.orgs.map((o) => (
                <option key={o} value={o}>
                  {o}
                </option>
              ))}
            </select>
          </label>
          <label className="filter">
            <span>{t('nc.filter.status')}</span>
            <select value={query.status} onChange={(e) => update({ status: e.target.value as DeviceStatus })} data-testid="devices-filter-status">
              <option value="">{t('common.all')}</option>
              {statuses.map((s) => (
                <option key={s} value={s}>
                  {t(`deviceStatus.${s}`)}
                </option>
              ))}
            </select>
          </label>
          {q.loading && q.data && <Loading inline />}
        </div>
        {q.error && <ErrorMessage error={q.error} onRetry={q.reload} />}
        {!q.data && q.loading && <Loading />}
        {q.data && q.data.items.length === 0 && <Empty testid="devices-empty">{t('devices.empty')}</Empty>}
        {q.data && q.data.items.length > 0 && (
          <>
            <div className="table-wrap tall">
              <table className="table" data-testid="devices-table">
                <thead>
                  <tr>
                    <SortHeader label={t('devices.col.hostname')} field="hostname" sort={query.sort} order={query.order ?? 'asc'} onSort={onSort} />
                    <th>{t('devices.col.os')}</th>
                    <SortHeader label={t('devices.col.org')} field="org" sort={query.sort} order={query.order ?? 'asc'} onSort={onSort} />
                    <SortHeader label={t('devices.col.owner')} field="owner" sort={query.sort} order={query.order ?? 'asc'} onSort={onSort} />
                    <th className="num">{t('devices.col.ciat')}</th>
                    <SortHeader label={t('devices.col.lastSeen')} field="lastSeenAt" sort={query.sort} order={query.order ?? 'asc'} onSort={onSort} />
                    <th>{t('devices.col.status')}</th>
                    <th className="num">{t('devices.col.failing')}</th>
                  </tr>
                </thead>
                <tbody>
                  {q.data.items.map((d) => (
                    <tr key={d.id} data-testid="device-row" data-id={d.id}>
                      <td>
                        <a className="strong-link" href={href('device', {}, d.id)}>
                          {d.hostname}
                        </a>
                      </td>
                      <td>
                        {osLabel[d.os] ?? d.os} <span className="muted small">{d.osVersion}</span>
                      </td>
                      <td>{d.org}</td>
                      <td>{d.owner ?? <span className="muted">{t('common.notSet')}</span>}</td>
                      <td className="num">
                        <span className={`ciat ciat-${d.ciatLevel}`}>{d.ciatLevel}</span>
                      </td>
                      <td className="nowrap">{formatAgo(d.lastSeenAt, now, lang)}</td>
                      <td>
                        <Pill tone={tone[d.status]}>{t(`deviceStatus.${d.status}`)}</Pill>
                      </td>
                      <td className={`num ${d.failing ? 'bad-text' : ''}`}>{d.failing}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <Pager total={q.data.total} limit={pageSize} offset={query.offset ?? 0} onChange={(offset) => update({ offset })} />
          </>
        )}
      </Card>
    </>
  );
}
