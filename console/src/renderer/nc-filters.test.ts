import type { Nonconformity } from './api';
import { canInsertLive, defaultNcFilters, filtersFromParams, filtersToParams, matchesFilters, toQuery } from './nc-filters';
import { href, parseRoute } from './route';

const nc: Nonconformity = {
  id: 1,
  deviceId: 'd1',
  hostname: 'LT-PARIS-042',
  owner: 'Marie Dupont',
  org: 'acme-fr',
  ruleId: 'disk-encryption',
  title: { en: 'Disk', fr: 'Disque' },
  severity: 'critical',
  evidence: 'C: is not encrypted',
  issp: ['9.10.6'],
  firstSeenAt: '2026-05-01T00:00:00Z',
  dueAt: '2026-05-08T00:00:00Z',
  resolvedAt: null,
  status: 'open',
  exemption: null,
};

describe('non-conformity filters', () => {
  it('open on open non-conformities, newest first', () => {
    expect(filtersFromParams({})).toEqual(defaultNcFilters);
    expect(toQuery(defaultNcFilters)).toMatchObject({ status: 'open', sort: 'firstSeenAt', order: 'desc', limit: 50, offset: 0 });
  });

  it('round-trip through the URL, including "every status"', () => {
    const f = { ...defaultNcFilters, rule: 'usb-storage', severity: 'high' as const, status: '' as const, q: 'paris', sort: 'dueAt' as const, order: 'asc' as const, offset: 100 };
    const route = parseRoute(href('nonconformities', filtersToParams(f)));
    expect(route.name).toBe('nonconformities');
    expect(filtersFromParams(route.params)).toEqual(f);
  });

  it('ignore values that are not in the contract', () => {
    expect(filtersFromParams({ severity: 'urgent', sort: 'random', offset: '-5', status: 'weird' })).toMatchObject({ severity: '', sort: 'firstSeenAt', offset: 0, status: '' });
  });

  it('match a live arrival the way the server filters', () => {
    expect(matchesFilters(nc, defaultNcFilters)).toBe(true);
    expect(matchesFilters(nc, { ...defaultNcFilters, q: 'paris' })).toBe(true);
    expect(matchesFilters(nc, { ...defaultNcFilters, q: 'dupont' })).toBe(true);
    expect(matchesFilters(nc, { ...defaultNcFilters, q: 'lyon' })).toBe(false);
    expect(matchesFilters(nc, { ...defaultNcFilters, severity: 'low' })).toBe(false);
    expect(matchesFilters(nc, { ...defaultNcFilters, org: 'acme-de' })).toBe(false);
    expect(matchesFilters(nc, { ...defaultNcFilters, status: 'resolved' })).toBe(false);
    expect(matchesFilters(nc, { ...defaultNcFilters, owner: 'marie' })).toBe(true);
  });

  it('search, as the server’s q, any part of the device name, owner, evidence or rule id, any case', () => {
    expect(matchesFilters(nc, { ...defaultNcFilters, q: 'NOT ENCRYPTED' })).toBe(true);
    expect(matchesFilters(nc, { ...defaultNcFilters, q: 'disk-enc' })).toBe(true);
    expect(matchesFilters(nc, { ...defaultNcFilters, q: 'lt-paris' })).toBe(true);
    expect(matchesFilters(nc, { ...defaultNcFilters, q: 'screen-lock' })).toBe(false);
    expect(matchesFilters({ ...nc, owner: null }, { ...defaultNcFilters, q: 'dupont' })).toBe(false);
  });

  it('match the owner filter on any part of the owner, any case, as the server does', () => {
    expect(matchesFilters(nc, { ...defaultNcFilters, owner: 'DUPONT' })).toBe(true);
    expect(matchesFilters(nc, { ...defaultNcFilters, owner: 'ie dup' })).toBe(true);
    expect(matchesFilters(nc, { ...defaultNcFilters, owner: 'martin' })).toBe(false);
    expect(matchesFilters({ ...nc, owner: null }, { ...defaultNcFilters, owner: 'marie' })).toBe(false);
  });

  it('insert live arrivals only on the first page sorted newest first', () => {
    expect(canInsertLive(defaultNcFilters)).toBe(true);
    expect(canInsertLive({ ...defaultNcFilters, offset: 50 })).toBe(false);
    expect(canInsertLive({ ...defaultNcFilters, sort: 'severity' })).toBe(false);
  });
});

describe('routes', () => {
  it('parse the hash', () => {
    expect(parseRoute('')).toEqual({ name: 'overview', params: {} });
    expect(parseRoute('#/devices/abc%2F1?x=1')).toEqual({ name: 'device', id: 'abc/1', params: { x: '1' } });
    expect(parseRoute('#/audit?actor=alice')).toEqual({ name: 'audit', params: { actor: 'alice' } });
    expect(parseRoute('#/nowhere')).toEqual({ name: 'overview', params: {} });
    expect(parseRoute('#/usb')).toEqual({ name: 'usb', params: {} });
    expect(href('usb')).toBe('#/usb');
    expect(href('device', {}, 'abc/1')).toBe('#/devices/abc%2F1');
  });
});
