/** Device inventory (ISSP 9.2.1): searchable, sortable, paged on the server. */
import { useMemo } from 'react';
import type { DeviceListItem, DeviceQuery, DeviceStatus } from '../api';
import { useApp, useNow, useQuery } from '../context';
import { formatAgo } from '../format';
import { navigate } from '../navigate';
import { useReference } from '../reference';
import { href } from '../route';
import { Card, Empty, FilterSelect, PageHeader, Pager, Pill, QueryStatus, Refreshing, SearchInput, SortHeader, Table, useDebouncedSearch, type Tone } from '../components/ui';

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
  const update = (patch: Partial<DeviceQuery>, replace = false) => {
    const next = { ...query, offset: 0, ...patch };
    navigate(href('devices', { org: next.org, q: next.q, status: next.status, sort: next.sort === 'hostname' ? '' : next.sort, order: next.order === 'asc' ? '' : next.order, offset: next.offset || '' }), replace);
  };
  const [search, setSearch] = useDebouncedSearch(query.q ?? '', (q) => update({ q }, true));

  const key = JSON.stringify(query);
  const q = useQuery(() => api.devices(query), [api, key]);
  const onSort = (field: Sort, order: 'asc' | 'desc') => update({ sort: field, order });

  return (
    <>
      <PageHeader title={t('devices.title')} subtitle={t('devices.subtitle')} />
      <Card>
        <div className="filters">
          <SearchInput label={t('devices.search')} value={search} onChange={setSearch} testid="devices-search" />
          <FilterSelect label={t('nc.filter.org')} value={query.org ?? ''} options={ref.orgs.map((o) => ({ value: o, label: o }))} onChange={(org) => update({ org })} testid="devices-filter-org" />
          <FilterSelect
            label={t('nc.filter.status')}
            value={query.status ?? ''}
            options={statuses.map((s) => ({ value: s, label: t(`deviceStatus.${s}`) }))}
            onChange={(status) => update({ status: status as DeviceStatus })}
            testid="devices-filter-status"
          />
          <Refreshing q={q} />
        </div>
        <QueryStatus q={q} />
        {q.data && q.data.items.length === 0 && <Empty testid="devices-empty">{t('devices.empty')}</Empty>}
        {q.data && q.data.items.length > 0 && (
          <>
            <Table
              size="tall"
              testid="devices-table"
              columns={[
                <SortHeader label={t('devices.col.hostname')} field="hostname" sort={query.sort} order={query.order ?? 'asc'} onSort={onSort} />,
                'devices.col.os',
                <SortHeader label={t('devices.col.org')} field="org" sort={query.sort} order={query.order ?? 'asc'} onSort={onSort} />,
                <SortHeader label={t('devices.col.owner')} field="owner" sort={query.sort} order={query.order ?? 'asc'} onSort={onSort} />,
                { label: 'devices.col.ciat', className: 'num' },
                <SortHeader label={t('devices.col.lastSeen')} field="lastSeenAt" sort={query.sort} order={query.order ?? 'asc'} onSort={onSort} />,
                'devices.col.status',
                { label: 'devices.col.failing', className: 'num' },
              ]}
            >
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
            </Table>
            <Pager total={q.data.total} limit={pageSize} offset={query.offset ?? 0} onChange={(offset) => update({ offset })} />
          </>
        )}
      </Card>
    </>
  );
}
