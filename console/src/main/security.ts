/**
 * The window's security settings, in one place so a test can read them:
 * Electron's secure defaults (contextIsolation, sandbox, no Node in the page),
 * a strict CSP, no window.open and no navigation away from the app.
 */
import type { WebContents, WebPreferences } from 'electron';
import { appHost, appScheme } from '../common/ipc';

export function secureWebPreferences(preloadPath: string): WebPreferences {
  return {
    preload: preloadPath,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    webviewTag: false,
    navigateOnDragDrop: false,
    spellcheck: false,
    safeDialogs: true,
  };
}

/**
 * The renderer loads nothing but its own files; it talks to the collector
 * through the main process, except for the live WebSocket, which goes
 * straight to the collector (so connect-src names that origin only).
 */
export function contentSecurityPolicy(collectorUrl: string | null): string {
  const connect = ["'self'"];
  if (collectorUrl) {
    const u = new URL(collectorUrl);
    connect.push(`wss://${u.host}`);
  }
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    `connect-src ${connect.join(' ')}`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
    "frame-src 'none'",
    "object-src 'none'",
    "worker-src 'none'",
  ].join('; ');
}

/**
 * True for the app's own pages, e.g. app://vigie/index.html. Compares scheme
 * and host: Node's URL gives a custom scheme the origin "null".
 */
export function isAppUrl(url: string): boolean {
  try {
    const u = new URL(url);
    return u.protocol === `${appScheme}:` && u.host === appHost && !u.username && !u.password;
  } catch {
    return false;
  }
}

/** Only https links may leave the app, and only to the system browser. */
export function isSafeExternalUrl(url: string): boolean {
  try {
    const u = new URL(url);
    return u.protocol === 'https:' && !u.username && !u.password;
  } catch {
    return false;
  }
}

type Contents = Pick<WebContents, 'setWindowOpenHandler' | 'on'>;

/** Denies every new window and every navigation away from the app; https links open in the system browser. */
export function hardenWebContents(contents: Contents, openExternal: (url: string) => void): void {
  contents.setWindowOpenHandler(({ url }) => {
    if (isSafeExternalUrl(url)) openExternal(url);
    return { action: 'deny' };
  });
  const stayInApp = (event: { preventDefault(): void; url?: string }, url?: string) => {
    const target = event.url ?? url ?? '';
    if (!isAppUrl(target)) event.preventDefault();
  };
  contents.on('will-navigate', stayInApp);
  contents.on('will-frame-navigate', stayInApp);
  contents.on('will-redirect', stayInApp);
  contents.on('will-attach-webview', (event) => event.preventDefault());
}
