/**
 * Live updates from /api/v1/live: a WebSocket carrying the session token as
 * its sub-protocol (`bearer.<token>`, so it stays out of URLs and logs),
 * reconnecting with capped exponential backoff.
 */
import { apiBase, type LiveMessage } from './api';

export type LiveStatus = 'connecting' | 'connected' | 'offline';

/** ws(s) URL of the live endpoint: the page's origin in a browser, the collector's in the desktop app. */
export function liveUrl(collectorUrl: string | null, location: { protocol: string; host: string }): string {
  if (collectorUrl) {
    const u = new URL(collectorUrl);
    return `wss://${u.host}${u.pathname.replace(/\/+$/, '')}${apiBase}/live`;
  }
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  return `${scheme}://${location.host}${apiBase}/live`;
}

const types = new Set(['device-updated', 'nonconformity-opened', 'nonconformity-resolved', 'summary-changed']);

export function parseLiveMessage(data: unknown): LiveMessage | null {
  if (typeof data !== 'string') return null;
  try {
    const m = JSON.parse(data) as { type?: unknown };
    return m && typeof m === 'object' && typeof m.type === 'string' && types.has(m.type) ? (m as LiveMessage) : null;
  } catch {
    return null;
  }
}

export function backoffMs(attempt: number): number {
  return Math.min(30_000, 1000 * 2 ** Math.min(attempt, 5));
}

export interface LiveConnection {
  close(): void;
}

export function connectLive(
  url: string,
  token: string,
  onMessage: (m: LiveMessage) => void,
  onStatus: (s: LiveStatus) => void,
  WS: typeof WebSocket = WebSocket,
): LiveConnection {
  let ws: WebSocket | null = null;
  let closed = false;
  let attempt = 0;
  let timer: ReturnType<typeof setTimeout> | null = null;

  const open = () => {
    if (closed) return;
    onStatus('connecting');
    try {
      ws = new WS(url, [`bearer.${token}`]);
    } catch {
      schedule();
      return;
    }
    ws.onopen = () => {
      attempt = 0;
      onStatus('connected');
    };
    ws.onmessage = (ev) => {
      const m = parseLiveMessage(ev.data);
      if (m) onMessage(m);
    };
    ws.onclose = () => {
      ws = null;
      if (!closed) schedule();
    };
    ws.onerror = () => ws?.close();
  };
  const schedule = () => {
    onStatus('offline');
    timer = setTimeout(open, backoffMs(attempt++));
  };
  open();
  return {
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
      ws?.close();
    },
  };
}
