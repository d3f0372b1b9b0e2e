/**
 * The audit log (admins and auditors granted every org: its entries are not tagged with an org):
 * every sign-in and every change, newest first, paged on the server.
 */
import { useEffect, useMemo, useState } from 'react';
import { canReadAudit } from '../access';
import { useApp, useDebounced, useQuery } from '../context';
import { formatDateTime } from '../format';
import { navigate } from '../navigate';
import { href } from '../route';
import { Card, Empty, PageHeader, Pager, Pill, QueryStatus, Refreshing, Table } from '../components/ui';

const pageSize = 50;

function detailsText(details: unknown): string {
  if (details === null || details === undefined || details === '') return '';
  if (typeof details === 'string') return details;
  try {
    return JSON.stringify(details);
  } catch {
    return String(details);
  }
}

export function Audit({ params }: { params: Record<string, string> }) {
  const { t, user } = useApp();
  return (
    <>
      <PageHeader title={t('audit.title')} subtitle={t('audit.subtitle')} />
      <Card>
        {canReadAudit(user) ? (
          <AuditLog params={params} />
        ) : (
          <div className="notice notice-warn" data-testid="audit-forbidden">
            {t('audit.forbidden')}
          </div>
        )}
      </Card>
    </>
  );
}

/** The log itself: mounted only for a user the collector shows it to, so nothing is asked that it would refuse. */
function AuditLog({ params }: { params: Record<string, string> }) {
  const { api, t, lang } = useApp();
  const query = useMemo(() => ({ actor: params.actor ?? '', action: params.action ?? '', limit: pageSize, offset: Math.max(0, Number(params.offset) || 0) }), [params]);
  const [actor, setActor] = useState(query.actor);
  const [action, setAction] = useState(query.action);
  const dActor = useDebounced(actor);
  const dAction = useDebounced(action);
  useEffect(() => {
    if (dActor !== query.actor || dAction !== query.action) navigate(href('audit', { actor: dActor, action: dAction }), true);
  }, [dActor, dAction]);

  const key = JSON.stringify(query);
  const q = useQuery(() => api.audit(query), [api, key]);

  return (
    <>
      <div className="filters">
        <label className="filter">
          <span>{t('audit.filter.actor')}</span>
          <input value={actor} onChange={(e) => setActor(e.target.value)} data-testid="audit-filter-actor" />
        </label>
        <label className="filter">
          <span>{t('audit.filter.action')}</span>
          <input value={action} onChange={(e) => setAction(e.target.value)} data-testid="audit-filter-action" />
        </label>
        <Refreshing q={q} />
      </div>
      <QueryStatus q={q} />
      {q.data && q.data.items.length === 0 && <Empty testid="audit-empty">{t('audit.empty')}</Empty>}
      {q.data && q.data.items.length > 0 && (
        <>
          <Table size="tall" testid="audit-table" columns={['audit.col.at', 'audit.col.actor', 'audit.col.action', 'audit.col.target', 'audit.col.outcome', 'audit.col.ip', 'audit.col.details']}>
            {q.data.items.map((e) => {
              const ok = /^(ok|success|allowed|granted)$/i.test(e.outcome);
              return (
                <tr key={e.id} data-testid="audit-row" data-action={e.action} data-actor={e.actor}>
                  <td className="nowrap">{formatDateTime(e.at, lang)}</td>
                  <td>{e.actor}</td>
                  <td>
                    <code className="action">{e.action}</code>
                  </td>
                  <td className="mono small">{e.target ?? '—'}</td>
                  <td>
                    <Pill tone={ok ? 'good' : 'bad'}>{e.outcome}</Pill>
                  </td>
                  <td className="mono small">{e.ip ?? '—'}</td>
                  <td className="details mono small" title={detailsText(e.details)}>
                    {detailsText(e.details)}
                  </td>
                </tr>
              );
            })}
          </Table>
          <Pager total={q.data.total} limit={pageSize} offset={query.offset} onChange={(offset) => navigate(href('audit', { actor: query.actor, action: query.action, offset }))} />
        </>
      )}
    </>
  );
}
