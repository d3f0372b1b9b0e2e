/** The non-conformities view's filters: read from and written to the URL, and matched against live arrivals. */
import type { Severity } from '@vigie/shared';
import type { NcQuery, NcStatus, Nonconformity } from './api';

export const pageSize = 50;
export const severities: readonly Severity[] = ['critical', 'high', 'medium', 'low'];
export const ncStatuses: readonly NcStatus[] = ['open', 'exempted', 'resolved'];
export const ncSorts = ['firstSeenAt', 'dueAt', 'severity', 'hostname'] as const;
export type NcSort = (typeof ncSorts)[number];

export interface NcFilters {
  rule: string;
  severity: Severity | '';
  org: string;
  /** '' means every status; the view opens on 'open'. */
  status: NcStatus | '';
  owner: string;
  q: string;
  sort: NcSort;
  order: 'asc' | 'desc';
  offset: number;
}

export const defaultNcFilters: NcFilters = { rule: '', severity: '', org: '', status: 'open', owner: '', q: '', sort: 'firstSeenAt', order: 'desc', offset: 0 };

/** `status=all` in the URL stands for "every status", so the default (open) can be told from a choice. */
export function filtersFromParams(p: Record<string, string>): NcFilters {
  const sev = p.severity as Severity;
  const status = p.status as NcStatus;
  const offset = Number(p.offset);
  return {
    rule: p.rule ?? '',
    severity: severities.includes(sev) ? sev : '',
    org: p.org ?? '',
    status: p.status === undefined ? 'open' : ncStatuses.includes(status) ? status : '', // 'all' or unknown: every status
    owner: p.owner ?? '',
    q: p.q ?? '',
    sort: (ncSorts as readonly string[]).includes(p.sort ?? '') ? (p.sort as NcSort) : 'firstSeenAt',
    order: p.order === 'asc' ? 'asc' : 'desc',
    offset: Number.isInteger(offset) && offset > 0 ? offset : 0,
  };
}

export function filtersToParams(f: NcFilters): Record<string, string> {
  const out: Record<string, string> = {};
  if (f.rule) out.rule = f.rule;
  if (f.severity) out.severity = f.severity;
  if (f.org) out.org = f.org;
  out.status = f.status === '' ? 'all' : f.status;
  if (f.owner) out.owner = f.owner;
  if (f.q) out.q = f.q;
  if (f.sort !== 'firstSeenAt') out.sort = f.sort;
  if (f.order !== 'desc') out.order = f.order;
  if (f.offset) out.offset = String(f.offset);
  return out;
}

export function toQuery(f: NcFilters): NcQuery {
  return {
    rule: f.rule,
    severity: f.severity,
    org: f.org,
    status: f.status,
    owner: f.owner,
    q: f.q,
    sort: f.sort,
    order: f.order,
    limit: pageSize,
    offset: f.offset,
  };
}

/** Any part, any case: the server's `LIKE '%…%'`. */
const contains = (hay: string | null | undefined, needle: string) => (hay ?? '').toLowerCase().includes(needle.toLowerCase());

/**
 * Whether a non-conformity that just opened belongs on the page as filtered, as the server filters:
 * `owner` matches any part of the owner, and search any part of the device name, the owner, the
 * evidence or the rule id, any case.
 */
export function matchesFilters(nc: Nonconformity, f: NcFilters): boolean {
  if (f.rule && nc.ruleId !== f.rule) return false;
  if (f.severity && nc.severity !== f.severity) return false;
  if (f.org && nc.org !== f.org) return false;
  if (f.status && nc.status !== f.status) return false;
  if (f.owner && !contains(nc.owner, f.owner)) return false;
  if (f.q && ![nc.hostname, nc.owner, nc.evidence, nc.ruleId].some((field) => contains(field, f.q))) return false;
  return true;
}

/** A live arrival can go straight to the top only on the first page, newest first. */
export function canInsertLive(f: NcFilters): boolean {
  return f.offset === 0 && f.sort === 'firstSeenAt' && f.order === 'desc';
}

export function hasFilters(f: NcFilters): boolean {
  return Boolean(f.rule || f.severity || f.org || f.owner || f.q || f.status !== 'open');
}
