import { forwardApiRequest, isAllowedApiPath } from './api-proxy';
import { resolveAppFile } from './app-protocol';
import { contentSecurityPolicy } from './security';

describe('API proxy', () => {
  it('forwards only /api/v1/ paths', () => {
    expect(isAllowedApiPath('/api/v1/summary?days=30')).toBe(true);
    expect(isAllowedApiPath('/api/v1/../agent')).toBe(false);
    expect(isAllowedApiPath('//evil.example/api/v1/x')).toBe(false);
    expect(isAllowedApiPath('https://evil.example/api/v1/x')).toBe(false);
    expect(isAllowedApiPath('/agent')).toBe(false);
  });

  it('sends the call to the configured collector with a short list of headers, and never follows redirects', async () => {
    const fetchFn = jest.fn(async () => new Response('{"ok":1}', { status: 200, headers: { 'content-type': 'application/json' } }));
    const r = await forwardApiRequest(fetchFn, 'https://collector.example', {
      method: 'GET',
      path: '/api/v1/me',
      headers: { authorization: 'Bearer t', cookie: 'x=1', host: 'evil' },
    });
    expect(r).toEqual({ ok: true, status: 200, contentType: 'application/json', body: '{"ok":1}' });
    const [url, init] = fetchFn.mock.calls[0] as unknown as [string, RequestInit];
    expect(url).toBe('https://collector.example/api/v1/me');
    expect(init.headers).toEqual({ authorization: 'Bearer t' });
    expect(init.redirect).toBe('error');
  });

  it('forwards PUT, and returns a binary body base64-encoded when asked', async () => {
    const pdf = Buffer.from([0x25, 0x50, 0x44, 0x46, 0xff, 0x00, 0xe2]);
    const fetchFn = jest.fn(async () => new Response(pdf, { status: 200, headers: { 'content-type': 'application/pdf' } }));
    const r = await forwardApiRequest(fetchFn, 'https://c.example', { method: 'GET', path: '/api/v1/licenses/report.pdf', headers: {}, responseType: 'base64' });
    expect(r).toEqual({ ok: true, status: 200, contentType: 'application/pdf', body: pdf.toString('base64') });
    const put = await forwardApiRequest(jest.fn(async () => new Response('{}', { status: 200 })), 'https://c.example', { method: 'PUT', path: '/api/v1/software/settings', headers: {}, body: '{}' });
    expect(put).toMatchObject({ ok: true, status: 200 });
  });

  it('reports a missing collector, a refused path and a network failure as values', async () => {
    const fetchFn = jest.fn(async () => {
      throw new Error('ECONNREFUSED');
    });
    expect(await forwardApiRequest(fetchFn, null, { method: 'GET', path: '/api/v1/me', headers: {} })).toMatchObject({ ok: false, reason: 'not-configured' });
    expect(await forwardApiRequest(fetchFn, 'https://c.example', { method: 'GET', path: '/agent', headers: {} })).toMatchObject({ ok: false, reason: 'refused-path' });
    expect(await forwardApiRequest(fetchFn, 'https://c.example', { method: 'GET', path: '/api/v1/me', headers: {} })).toEqual({ ok: false, reason: 'network', message: 'ECONNREFUSED' });
  });
});

describe('app:// protocol and CSP', () => {
  it('serves files from the renderer folder only', () => {
    expect(resolveAppFile('/r', 'app://vigie/')).toBe('/r/index.html');
    expect(resolveAppFile('/r', 'app://vigie/assets/a.js')).toBe('/r/assets/a.js');
    expect(resolveAppFile('/r', 'app://vigie/..%2f..%2fetc/passwd')).toBeNull();
  });

  it('allows scripts and styles from the app only, and the live socket to the collector only', () => {
    const csp = contentSecurityPolicy('https://collector.example:8443');
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
    expect(csp).toContain("connect-src 'self' wss://collector.example:8443");
    expect(contentSecurityPolicy(null)).toContain("connect-src 'self';");
  });
});
