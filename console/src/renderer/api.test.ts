import { apiErrorCodes, base64ToBytes, bridgeTransport, bytesToBase64, createApiClient, fetchTransport, queryString, toApiError, type Transport } from './api';
import type { ApiRequest, ConsoleBridge } from '../common/ipc';

describe('API error mapping', () => {
  it('reads the typed error body of docs/api.md', () => {
    expect(toApiError(400, JSON.stringify({ error: { code: 'bad-request', message: 'reason required', details: [{ path: 'reason' }] } }))).toEqual({
      code: 'bad-request',
      message: 'reason required',
      status: 400,
      details: [{ path: 'reason' }],
    });
  });

  it('falls back to the HTTP status when the body is not a typed error', () => {
    const cases: [number, string][] = [
      [401, 'unauthenticated'],
      [403, 'forbidden'],
      [404, 'not-found'],
      [409, 'conflict'],
      [413, 'too-large'],
      [429, 'rate-limited'],
      [500, 'internal'],
      [502, 'internal'],
    ];
    for (const [status, code] of cases) expect(toApiError(status, '<html>Bad gateway</html>').code).toBe(code);
  });

  it('ignores an error code it does not know', () => {
    expect(toApiError(403, JSON.stringify({ error: { code: 'weird', message: 'x' } })).code).toBe('forbidden');
  });

  it('lists every code of the contract', () => {
    expect(apiErrorCodes).toEqual(expect.arrayContaining(['bad-request', 'unauthenticated', 'forbidden', 'not-found', 'conflict', 'too-large', 'rate-limited', 'internal']));
  });
});

describe('API client', () => {
  const reply = (status: number, body: unknown): Transport => async () => ({ status, contentType: 'application/json', body: typeof body === 'string' ? body : JSON.stringify(body) });

  it('sends the bearer token and JSON body under /api/v1', async () => {
    const seen: ApiRequest[] = [];
    const api = createApiClient({
      transport: async (req) => {
        seen.push(req);
        return { status: 200, contentType: 'application/json', body: '{"id":"e1"}' };
      },
      getToken: () => 'tok',
    });
    const r = await api.createExemption({ deviceId: 'd1', ruleId: 'disk-encryption', reason: 'r', expiresAt: '2030-01-01T00:00:00Z' });
    expect(r).toEqual({ ok: true, value: { id: 'e1' } });
    expect(seen[0]).toMatchObject({ method: 'POST', path: '/api/v1/exemptions', headers: { authorization: 'Bearer tok', 'content-type': 'application/json' } });
    expect(JSON.parse(seen[0]!.body!)).toEqual({ deviceId: 'd1', ruleId: 'disk-encryption', reason: 'r', expiresAt: '2030-01-01T00:00:00Z' });
  });

  it('builds filter queries without empty values', async () => {
    expect(queryString({ rule: 'usb-storage', severity: '', org: undefined, limit: 50, offset: 0 })).toBe('?rule=usb-storage&limit=50&offset=0');
    const seen: string[] = [];
    const api = createApiClient({ transport: async (req) => (seen.push(req.path), { status: 200, contentType: 'text/csv', body: 'a,b' }), getToken: () => 't' });
    expect(await api.nonconformitiesCsv({ severity: 'critical', limit: 50, offset: 100 })).toEqual({ ok: true, value: 'a,b' });
    expect(seen[0]).toBe('/api/v1/nonconformities.csv?severity=critical');
  });

  it('reports an expired session, but not a failed login, as a session end', async () => {
    const onUnauthenticated = jest.fn();
    const api = createApiClient({ transport: reply(401, { error: { code: 'unauthenticated', message: 'session expired' } }), getToken: () => 't', onUnauthenticated });
    const me = await api.me();
    expect(me).toEqual({ ok: false, error: { code: 'unauthenticated', message: 'session expired', status: 401 } });
    expect(onUnauthenticated).toHaveBeenCalledTimes(1);
    await api.login('alice', 'wrong');
    expect(onUnauthenticated).toHaveBeenCalledTimes(1);
  });

  it('turns an unreachable collector and a non-JSON answer into errors', async () => {
    const down = createApiClient({ transport: async () => ({ code: 'network', message: 'Failed to fetch', status: 0 }), getToken: () => null });
    expect(await down.summary()).toMatchObject({ ok: false, error: { code: 'network' } });
    const html = createApiClient({ transport: reply(200, '<html></html>'), getToken: () => null });
    expect(await html.summary()).toMatchObject({ ok: false, error: { code: 'internal' } });
  });

  it('goes through the desktop bridge when there is one', async () => {
    const bridge = {
      request: jest.fn(async () => ({ ok: false as const, reason: 'network' as const, message: 'certificate refused' })),
    } as unknown as ConsoleBridge;
    const r = await bridgeTransport(bridge)({ method: 'GET', path: '/api/v1/me', headers: {} });
    expect(r).toEqual({ code: 'network', message: 'network: certificate refused', status: 0 });
  });

  it('sends the purchases CSV as text/csv, and changes approvals with PUT', async () => {
    const seen: ApiRequest[] = [];
    const api = createApiClient({ transport: async (req) => (seen.push(req), { status: 200, contentType: 'application/json', body: '{"rows":[],"valid":0,"invalid":0,"imported":0}' }), getToken: () => 't' });
    const csv = 'product,type,seats\nZoom,site,\n';
    expect(await api.importLicenses(csv, true)).toMatchObject({ ok: true, value: { imported: 0 } });
    expect(seen[0]).toMatchObject({ method: 'POST', path: '/api/v1/licenses/import?dryRun=true', body: csv, headers: { 'content-type': 'text/csv', authorization: 'Bearer t' } });
    await api.importLicenses(csv, false);
    expect(seen[1]?.path).toBe('/api/v1/licenses/import?dryRun=false');
    await api.setApproval('Adobe Acrobat Pro', 'denied', 'no budget');
    expect(seen[2]).toMatchObject({ method: 'PUT', path: '/api/v1/software/products/Adobe%20Acrobat%20Pro/approval' });
    expect(JSON.parse(seen[2]!.body!)).toEqual({ status: 'denied', reason: 'no budget' });
  });

  it('lists, adds and removes authorised USB drives', async () => {
    const seen: ApiRequest[] = [];
    const entry = { id: 7, org: null, vendorId: '0781', productId: '5581', serial: null, note: null };
    const api = createApiClient({ transport: async (req) => (seen.push(req), { status: 200, contentType: 'application/json', body: JSON.stringify(entry) }), getToken: () => 't' });
    await api.authorisedUsb();
    await api.authoriseUsb({ org: null, vendorId: '0781', productId: '5581', serial: null, note: null });
    expect(await api.unauthoriseUsb(7)).toEqual({ ok: true, value: entry });
    expect(seen.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /api/v1/usb/authorised', 'POST /api/v1/usb/authorised', 'DELETE /api/v1/usb/authorised/7']);
  });

  it('asks for the PDF report as base64, and the browser transport encodes only a successful binary answer', async () => {
    const seen: ApiRequest[] = [];
    const api = createApiClient({ transport: async (req) => (seen.push(req), { status: 200, contentType: 'application/pdf', body: 'JVBERg==' }), getToken: () => 't' });
    expect(await api.licenseReportPdf(30)).toEqual({ ok: true, value: 'JVBERg==' });
    expect(seen[0]).toMatchObject({ path: '/api/v1/licenses/report.pdf?expiringWithinDays=30', responseType: 'base64', headers: { accept: 'application/pdf' } });

    const bytes = new Uint8Array([0x25, 0x50, 0x44, 0x46, 0x0a, 0xe2, 0xe3, 0xcf, 0xd3, 0x00, 0xff]);
    const pdfFetch = (async () => new Response(bytes, { status: 200, headers: { 'content-type': 'application/pdf' } })) as typeof fetch;
    const ok = await fetchTransport(pdfFetch)({ method: 'GET', path: '/api/v1/licenses/report.pdf', headers: {}, responseType: 'base64' });
    expect(ok).toMatchObject({ status: 200, contentType: 'application/pdf' });
    expect(Array.from(base64ToBytes((ok as { body: string }).body))).toEqual(Array.from(bytes));

    const errFetch = (async () => new Response('{"error":{"code":"forbidden","message":"no"}}', { status: 403 })) as typeof fetch;
    const err = await fetchTransport(errFetch)({ method: 'GET', path: '/api/v1/licenses/report.pdf', headers: {}, responseType: 'base64' });
    expect(err).toMatchObject({ status: 403, body: '{"error":{"code":"forbidden","message":"no"}}' });
  });

  it('base64-encodes large byte arrays without overflowing the call stack', () => {
    const big = new Uint8Array(300_000).map((_, i) => i % 251);
    expect(Array.from(base64ToBytes(bytesToBase64(big)))).toEqual(Array.from(big));
  });
});
