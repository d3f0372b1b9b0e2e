/** Small building blocks shared by the views: badges, states, pager, cards. */
import type { ReactNode } from 'react';
import type { Severity } from '@vigie/shared';
import type { ApiError } from '../api';
import { useApp } from '../context';
import { conformityBand, formatNumber, formatPercent } from '../format';

export function SeverityBadge({ severity }: { severity: Severity }) {
  const { t } = useApp();
  return (
    <span className={`badge sev-${severity}`} data-testid="severity-badge" data-severity={severity}>
      <span className="dot" aria-hidden="true" />
      {t(`severity.${severity}`)}
    </span>
  );
}

export type Tone = 'good' | 'bad' | 'warn' | 'neutral' | 'info';

export function Pill({ tone, children, testid }: { tone: Tone; children: ReactNode; testid?: string }) {
  return (
    <span className={`pill tone-${tone}`} data-testid={testid}>
      {children}
    </span>
  );
}

export function Loading({ label, inline }: { label?: string; inline?: boolean }) {
  const { t } = useApp();
  return (
    <div className={inline ? 'loading inline' : 'loading'} role="status" aria-live="polite" data-testid="loading">
      <span className="spinner" aria-hidden="true" />
      {label ?? t('common.loading')}
    </div>
  );
}

export function Empty({ children, testid }: { children: ReactNode; testid?: string }) {
  return (
    <div className="empty" data-testid={testid ?? 'empty'}>
      <svg viewBox="0 0 24 24" width="28" height="28" aria-hidden="true">
        <path fill="currentColor" d="M19 3H5a2 2 0 0 0-2 2v14a2 2 0 0 0 2 2h14a2 2 0 0 0 2-2V5a2 2 0 0 0-2-2Zm0 16H5v-4h3.6a3.5 3.5 0 0 0 6.8 0H19v4Zm0-6h-5v1a2 2 0 0 1-4 0v-1H5V5h14v8Z" />
      </svg>
      <p>{children}</p>
    </div>
  );
}

export function ErrorMessage({ error, onRetry }: { error: ApiError; onRetry?: () => void }) {
  const { t, errorText } = useApp();
  return (
    <div className="error-box" role="alert" data-testid="error" data-code={error.code}>
      <svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true">
        <path fill="currentColor" d="M12 2 1 21h22L12 2Zm1 16h-2v-2h2v2Zm0-4h-2v-4h2v4Z" />
      </svg>
      <span>{errorText(error)}</span>
      {onRetry && (
        <button type="button" className="btn btn-small" onClick={onRetry}>
          {t('common.retry')}
        </button>
      )}
    </div>
  );
}

export function Card({ title, actions, children, className, testid }: { title?: ReactNode; actions?: ReactNode; children: ReactNode; className?: string; testid?: string }) {
  return (
    <section className={`card ${className ?? ''}`} data-testid={testid}>
      {(title || actions) && (
        <header className="card-head">
          {title && <h2>{title}</h2>}
          {actions && <div className="card-actions">{actions}</div>}
        </header>
      )}
      {children}
    </section>
  );
}

export function PageHeader({ title, subtitle, actions }: { title: ReactNode; subtitle?: ReactNode; actions?: ReactNode }) {
  return (
    <div className="page-head">
      <div>
        <h1>{title}</h1>
        {subtitle && <p className="subtitle">{subtitle}</p>}
      </div>
      {actions && <div className="page-actions">{actions}</div>}
    </div>
  );
}

export function ConformityBar({ ratio, testid }: { ratio: number; testid?: string }) {
  const { lang } = useApp();
  const band = conformityBand(ratio);
  return (
    <div className="conf" data-testid={testid}>
      <div className="conf-track" aria-hidden="true">
        <div className={`conf-fill band-${band}`} style={{ width: `${Math.max(0, Math.min(1, ratio)) * 100}%` }} />
      </div>
      <span className={`conf-value band-${band}`}>{formatPercent(ratio, lang)}</span>
    </div>
  );
}

export function Pager({ total, limit, offset, onChange, testid }: { total: number; limit: number; offset: number; onChange(offset: number): void; testid?: string }) {
  const { t, lang } = useApp();
  const from = total === 0 ? 0 : offset + 1;
  const to = Math.min(total, offset + limit);
  return (
    <div className="pager" data-testid={testid ?? 'pager'}>
      <span className="pager-info" data-testid="pager-info">
        {t('common.pageInfo', { from: formatNumber(from, lang), to: formatNumber(to, lang), total: formatNumber(total, lang) })}
      </span>
      <button type="button" className="btn btn-small" disabled={offset <= 0} onClick={() => onChange(Math.max(0, offset - limit))} data-testid="pager-prev">
        {t('common.previous')}
      </button>
      <button type="button" className="btn btn-small" disabled={offset + limit >= total} onClick={() => onChange(offset + limit)} data-testid="pager-next">
        {t('common.next')}
      </button>
    </div>
  );
}

export function SortHeader<K extends string>({
  label,
  field,
  sort,
  order,
  onSort,
}: {
  label: string;
  field: K;
  sort: K | undefined;
  order: 'asc' | 'desc';
  onSort(field: K, order: 'asc' | 'desc'): void;
}) {
  const active = sort === field;
  const next = active && order === 'asc' ? 'desc' : 'asc';
  return (
    <th aria-sort={active ? (order === 'asc' ? 'ascending' : 'descending') : 'none'}>
      <button type="button" className={`sort ${active ? 'active' : ''}`} onClick={() => onSort(field, active ? next : 'asc')} data-testid={`sort-${field}`}>
        {label}
        <span className="sort-arrow" aria-hidden="true">
          {active ? (order === 'asc' ? '▲' : '▼') : '↕'}
        </span>
      </button>
    </th>
  );
}

export function IsspRefs({ refs }: { refs: readonly string[] }) {
  const { lang } = useApp();
  return (
    <span className="issp">
      {refs.map((r) => (
        <span key={r} className="issp-ref" title={lang === 'fr' ? `PSSI ${r}` : `ISSP ${r}`}>
          {r}
        </span>
      ))}
    </span>
  );
}
