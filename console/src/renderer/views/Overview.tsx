/** Fleet overview: conformity overall, per rule (with ISSP references) and per org; severities; 30-day trend; silent devices. */
import { lazy, Suspense, useEffect, useRef } from 'react';
import type { Severity } from '@vigie/shared';
import { localTitle, type Summary } from '../api';
import { useApp, useNow, useQuery } from '../context';
import { conformityBand, formatAgo, formatNumber, formatPercent } from '../format';

// recharts is most of the bundle: load it only with the overview's chart.
const TrendChart = lazy(() => import('../components/TrendChart'));
import { href } from '../route';
import { Card, ConformityBar, Empty, IsspRefs, Loading, PageHeader, QueryStatus, Table } from '../components/ui';

const severities: Severity[] = ['critical', 'high', 'medium', 'low'];

/** Refetch at most every 2 s however many live events arrive (a fleet of 100,000 devices is chatty). */
export function useLiveReload(reload: () => void, match: (type: string) => boolean, minIntervalMs = 2000) {
  const { subscribeLive } = useApp();
  const last = useRef(0);
  const pending = useRef<ReturnType<typeof setTimeout> | null>(null);
  useEffect(() => {
    const off = subscribeLive((m) => {
      if (!match(m.type)) return;
      const wait = Math.max(0, last.current + minIntervalMs - Date.now());
      if (pending.current) return;
      pending.current = setTimeout(() => {
        pending.current = null;
        last.current = Date.now();
        reload();
      }, wait);
    });
    return () => {
      off();
      if (pending.current) clearTimeout(pending.current);
      pending.current = null;
    };
  }, [subscribeLive, reload, match, minIntervalMs]);
}

const summaryEvents = (type: string) => type !== 'device-updated';

export function Overview() {
  const { api, t, lang } = useApp();
  const q = useQuery(() => api.summary(30), [api]);
  useLiveReload(q.reload, summaryEvents);

  return (
    <>
      <PageHeader
        title={t('overview.title')}
        subtitle={t('overview.subtitle')}
        actions={
          <button type="button" className="btn btn-small" onClick={q.reload} data-testid="overview-refresh">
            {t('common.refresh')}
          </button>
        }
      />
      <QueryStatus q={q} />
      {q.data && (q.data.devices === 0 ? <Empty testid="overview-empty">{t('overview.noDevices')}</Empty> : <OverviewBody s={q.data} lang={lang} />)}
    </>
  );
}

function OverviewBody({ s, lang }: { s: Summary; lang: 'en' | 'fr' }) {
  const { t } = useApp();
  const now = useNow();
  const openNc = severities.reduce((n, sev) => n + (s.bySeverity[sev] ?? 0), 0);
  const band = conformityBand(s.conformity);
  const trend = s.trend.map((p) => ({ ...p, pct: Math.round(p.conformity * 1000) / 10 }));

  return (
    <div className="overview" data-testid="overview">
      <div className="stats">
        <div className="stat stat-hero">
          <div className="stat-label">{t('overview.conformity')}</div>
          <div className={`stat-value band-${band}`} data-testid="overview-conformity" data-value={s.conformity}>
            {formatPercent(s.conformity, lang)}
          </div>
          <ConformityBar ratio={s.conformity} />
          <div className="stat-sub" data-testid="overview-compliant">
            {t('overview.compliantOf', { compliant: formatNumber(s.compliantDevices, lang), total: formatNumber(s.devices, lang) })}
          </div>
        </div>
        <a className="stat" href={href('devices')}>
          <div className="stat-label">{t('overview.devices')}</div>
          <div className="stat-value" data-testid="overview-devices" data-value={s.devices}>
            {formatNumber(s.devices, lang)}
          </div>
        </a>
        <a className="stat" href={href('nonconformities', { status: 'open' })}>
          <div className="stat-label">{t('overview.openNc')}</div>
          <div className="stat-value" data-testid="overview-open-nc" data-value={openNc}>
            {formatNumber(openNc, lang)}
          </div>
        </a>
        <div className="stat">
          <div className="stat-label">{t('overview.silentCount')}</div>
          <div className={`stat-value ${s.silent.length ? 'band-fair' : ''}`} data-testid="overview-silent-count" data-value={s.silent.length}>
            {formatNumber(s.silent.length, lang)}
          </div>
        </div>
      </div>

      <Card title={t('overview.bySeverity')}>
        <div className="sev-grid">
          {severities.map((sev) => (
            <a key={sev} className={`sev-tile sev-${sev}`} href={href('nonconformities', { severity: sev, status: 'open' })} data-testid={`overview-sev-${sev}`} data-value={s.bySeverity[sev] ?? 0}>
              <span className="sev-count">{formatNumber(s.bySeverity[sev] ?? 0, lang)}</span>
              <span className="sev-name">{t(`severity.${sev}`)}</span>
            </a>
          ))}
        </div>
      </Card>

      <div className="grid-2">
        <Card title={t('overview.trend')} className="chart-card" testid="overview-trend">
          {trend.length < 2 ? (
            <Empty>{t('overview.noTrend')}</Empty>
          ) : (
            <Suspense fallback={<Loading />}>
              <TrendChart data={trend} lang={lang} label={t('overview.conformity')} />
            </Suspense>
          )}
        </Card>
        <Card title={t('overview.silent')} testid="overview-silent">
          <p className="card-hint">{t('overview.silentHint')}</p>
          {s.silent.length === 0 ? (
            <Empty>{t('overview.noSilent')}</Empty>
          ) : (
            <Table size="short" columns={['overview.col.device', 'overview.col.lastSeen']}>
              {s.silent.map((d) => (
                <tr key={d.id} data-testid="overview-silent-row">
                  <td>
                    <a href={href('device', {}, d.id)}>{d.hostname}</a>
                  </td>
                  <td className="warn-text">{formatAgo(d.lastSeenAt, now, lang)}</td>
                </tr>
              ))}
            </Table>
          )}
        </Card>
      </div>

      <Card title={t('overview.byRule')} testid="overview-rules">
        {s.byRule.length === 0 ? (
          <Empty>{t('overview.noRules')}</Empty>
        ) : (
          <Table
            columns={[
              'overview.col.rule',
              'overview.col.issp',
              { label: 'overview.col.pass', className: 'num' },
              { label: 'overview.col.fail', className: 'num' },
              { label: 'overview.col.unknown', className: 'num' },
              { label: 'overview.col.conformity', className: 'w-conf' },
            ]}
          >
            {s.byRule.map((r) => (
              <tr key={r.ruleId} data-testid="overview-rule-row" data-rule={r.ruleId}>
                <td>
                  <a href={href('nonconformities', { rule: r.ruleId, status: 'open' })} className="strong-link">
                    {localTitle(r.title, lang, r.ruleId)}
                  </a>
                  <div className="muted small mono">{r.ruleId}</div>
                </td>
                <td>
                  <IsspRefs refs={r.issp} />
                </td>
                <td className="num">{formatNumber(r.pass, lang)}</td>
                <td className={`num ${r.fail ? 'bad-text' : ''}`}>{formatNumber(r.fail, lang)}</td>
                <td className="num muted">{formatNumber(r.unknown, lang)}</td>
                <td>
                  <ConformityBar ratio={r.conformity} />
                </td>
              </tr>
            ))}
          </Table>
        )}
      </Card>

      <Card title={t('overview.byOrg')} testid="overview-orgs">
        {s.byOrg.length === 0 ? (
          <Empty>{t('overview.noOrgs')}</Empty>
        ) : (
          <Table columns={['overview.col.org', { label: 'overview.col.devices', className: 'num' }, { label: 'overview.col.compliant', className: 'num' }, { label: 'overview.col.conformity', className: 'w-conf' }]}>
            {s.byOrg.map((o) => (
              <tr key={o.org} data-testid="overview-org-row" data-org={o.org}>
                <td>
                  <a href={href('nonconformities', { org: o.org, status: 'open' })} className="strong-link">
                    {o.org}
                  </a>
                </td>
                <td className="num">{formatNumber(o.devices, lang)}</td>
                <td className="num">{formatNumber(o.compliantDevices, lang)}</td>
                <td>
                  <ConformityBar ratio={o.conformity} />
                </td>
              </tr>
            ))}
          </Table>
        )}
      </Card>
    </div>
  );
}
