/**
 * The desktop renderer's API calls go through here: the main process sends
 * them to the configured collector with Chromium's network stack (net.fetch),
 * so the pinned-CA check applies, and the page needs no CORS from the
 * collector. Only /api/v1/ paths are forwarded, with a short list of headers.
 */
import type { ApiRequest, ApiResponse } from '../common/ipc';

const forwardedHeaders = new Set(['authorization', 'content-type', 'accept', 'accept-language']);
const methods = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']);
export const apiTimeoutMs = 30_000;

export function isAllowedApiPath(p: string): boolean {
  if (typeof p !== 'string' || !p.startsWith('/api/v1/')) return false;
  const pathname = p.split('?')[0] ?? '';
  return !pathname.includes('..') && !pathname.includes('//') && !pathname.includes('\\') && !/[\s\0]/.test(p);
}

export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

export async function forwardApiRequest(fetchFn: FetchLike, collectorUrl: string | null, req: ApiRequest): Promise<ApiResponse> {
  if (!collectorUrl) return { ok: false, reason: 'not-configured', message: 'No collector is configured.' };
  if (!req || !methods.has(req.method) || !isAllowedApiPath(req.path)) {
    return { ok: false, reason: 'refused-path', message: 'Only /api/v1/ calls are forwarded.' };
  }
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers ?? {})) {
    if (forwardedHeaders.has(k.toLowerCase()) && typeof v === 'string') headers[k.toLowerCase()] = v;
  }
  try {
    const res = await fetchFn(collectorUrl + req.path, {
      method: req.method,
      headers,
      body: req.body,
      redirect: 'error',
      signal: AbortSignal.timeout(apiTimeoutMs),
    });
    const body = req.responseType === 'base64' ? Buffer.from(await res.arrayBuffer()).toString('base64') : await res.text();
    return { ok: true, status: res.status, contentType: res.headers.get('content-type') ?? '', body };
  } catch (err) {
    return { ok: false, reason: 'network', message: err instanceof Error ? err.message : String(err) };
  }
}
