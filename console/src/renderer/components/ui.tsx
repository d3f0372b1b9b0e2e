/** Small building blocks shared by the views: badges, states, pager, cards. */
import { Fragment, useEffect, useState, type ReactElement, type ReactNode } from 'react';
import type { Severity } from '@vigie/shared';
import type { ApiError } from '../api';
import { useApp, useDebounced } from '../context';
import { conformityBand, formatNumber, formatPercent } from '../format';
import type { MessageKey } from '../i18n';

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

/** A page's title, marked read-only for those who may look but not change. */
export function TitleReadOnly({ title, readOnly, testid }: { title: ReactNode; readOnly: boolean; testid: string }) {
  const { t } = useApp();
  return (
    <>
      {title}
      {readOnly && (
        <Pill tone="neutral" testid={testid}>
          {t('common.readOnly')}
        </Pill>
      )}
    </>
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

/** A fetch's failure (with retry) and its first load; once data is there, a refresh keeps showing it. */
export function QueryStatus({ q, inline }: { q: { data?: unknown; error?: ApiError; loading: boolean; reload(): void }; inline?: boolean }) {
  return (
    <>
      {q.error && <ErrorMessage error={q.error} onRetry={q.reload} />}
      {!q.data && q.loading && <Loading inline={inline} />}
    </>
  );
}

/** A refresh under way while the previous data stays on screen. */
export function Refreshing({ q }: { q: { data?: unknown; loading: boolean } }) {
  return q.loading && q.data ? <Loading inline /> : null;
}

/** A header cell: a message key, a key with the cell's class, or a cell of its own (sort header, empty action column); false leaves it out. */
export type Column = MessageKey | { label: MessageKey; className: string } | ReactElement | false;

export function Table({ columns, children, size, testid, className, busy }: { columns: readonly Column[]; children: ReactNode; size?: 'short' | 'tall'; testid?: string; className?: string; busy?: boolean }) {
  const { t } = useApp();
  return (
    <div className={size ? `table-wrap ${size}` : 'table-wrap'}>
      <table className={className ? `table ${className}` : 'table'} data-testid={testid} aria-busy={busy}>
        <thead>
          <tr>
            {columns.map((c, i) =>
              c === false ? null : typeof c === 'string' ? (
                <th key={i}>{t(c)}</th>
              ) : 'label' in c ? (
                <th key={i} className={c.className}>
                  {t(c.label)}
                </th>
              ) : (
                <Fragment key={i}>{c}</Fragment>
              ),
            )}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}

/** The search box's own text, handed to `commit` once typing pauses and only when it differs from the search in force. */
export function useDebouncedSearch(current: string, commit: (q: string) => void): [string, (q: string) => void] {
  const [search, setSearch] = useState(current);
  const debounced = useDebounced(search);
  useEffect(() => {
    if (debounced !== current) commit(debounced);
  }, [debounced]);
  return [search, setSearch];
}

export function SearchInput({ label, value, onChange, testid }: { label: string; value: string; onChange(value: string): void; testid: string }) {
  return <input type="search" className="search" placeholder={label} aria-label={label} value={value} onChange={(e) => onChange(e.target.value)} data-testid={testid} />;
}

/** A filter's drop-down, "all" first; `children` adds options after the known ones. */
export function FilterSelect({ label, value, options, onChange, testid, children }: { label: string; value: string; options: readonly { value: string; label: ReactNode }[]; onChange(value: string): void; testid: string; children?: ReactNode }) {
  const { t } = useApp();
  return (
    <label className="filter">
      <span>{label}</span>
      <select value={value} onChange={(e) => onChange(e.target.value)} data-testid={testid}>
        <option value="">{t('common.all')}</option>
        {options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
        {children}
      </select>
    </label>
  );
}

/** Edit and delete buttons at the end of a row (data-testid `${testid}-edit`, `${testid}-delete-open`). */
export function EditDeleteCell({ onEdit, onDelete, testid }: { onEdit(): void; onDelete(): void; testid: string }) {
  const { t } = useApp();
  return (
    <td className="nowrap row-actions">
      <button type="button" className="btn btn-small" onClick={onEdit} data-testid={`${testid}-edit`}>
        {t('common.edit')}
      </button>
      <button type="button" className="btn btn-small btn-ghost-danger" onClick={onDelete} data-testid={`${testid}-delete-open`}>
        {t('common.delete')}
      </button>
    </td>
  );
}
