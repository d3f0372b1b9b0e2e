/**
 * Hash routes (#/nonconformities?severity=critical): they work from app://
 * in the desktop app and at the collector's `/` without a server rewrite, and
 * filters live in the URL so back, reload and a shared link keep them.
 */
export type RouteName = 'overview' | 'nonconformities' | 'devices' | 'device' | 'audit' | 'licenses' | 'software' | 'usb';

export interface Route {
  name: RouteName;
  /** The device id for `device`. */
  id?: string;
  params: Record<string, string>;
}

const simple: Record<string, RouteName> = {
  '': 'overview',
  overview: 'overview',
  nonconformities: 'nonconformities',
  devices: 'devices',
  audit: 'audit',
  licenses: 'licenses',
  software: 'software',
  usb: 'usb',
};

export function parseRoute(hash: string): Route {
  const raw = hash.replace(/^#\/?/, '');
  const [pathPart = '', queryPart = ''] = raw.split('?', 2);
  const params: Record<string, string> = {};
  new URLSearchParams(queryPart).forEach((v, k) => {
    if (v !== '') params[k] = v;
  });
  const segments = pathPart.split('/').filter(Boolean);
  if (segments[0] === 'devices' && segments[1]) {
    return { name: 'device', id: decodeURIComponent(segments[1]), params };
  }
  return { name: simple[segments[0] ?? ''] ?? 'overview', params };
}

export function href(name: RouteName, params: Record<string, string | number | undefined | null> = {}, id?: string): string {
  const path = name === 'device' ? `devices/${encodeURIComponent(id ?? '')}` : name;
  const sp = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') sp.set(k, String(v));
  }
  const q = sp.toString();
  return `#/${path}${q ? `?${q}` : ''}`;
}
