/**
 * The Electron main process: one window on the built renderer (app://vigie/),
 * hardened as in security.ts; typed IPC handlers for the few things the page
 * cannot do itself (settings, API calls to the pinned collector, opening an
 * https link in the system browser).
 */
import { app, BrowserWindow, ipcMain, net, protocol, session, shell, type IpcMainInvokeEvent } from 'electron';
import * as path from 'node:path';
import {

  appOrigin,
  appScheme,
  ipcChannels,
  type ConsoleConfig,
  type IpcContract,
  type IpcChannel,
  type SetCollectorInput,
  type SetCollectorResult,
} from '../common/ipc';
import { forwardApiRequest } from './api-proxy';
import { makeAppProtocolHandler } from './app-protocol';
import { makeCertificateVerifyProc } from './pinning';
import { contentSecurityPolicy, hardenWebContents, isAppUrl, isSafeExternalUrl, secureWebPreferences } from './security';
import { loadSettings, normaliseCollectorUrl, normaliseFingerprint, saveSettings, type Settings } from './settings';

/** dist/main/main.js → dist/preload/preload.cjs (bundled: a sandboxed preload cannot require local files). */
export const preloadPath = path.join(__dirname, '..', 'preload', 'preload.cjs');
export const rendererDir = path.join(__dirname, '..', 'renderer');
export const startUrl = `${appOrigin}/index.html`;

/** The app's state: settings read at start, changed through IPC. */
export class ConsoleState {
  constructor(
    public settings: Settings,
    private readonly userDataDir: string,
  ) {}

  config(): ConsoleConfig {
    return { collectorUrl: this.settings.collectorUrl, caFingerprint: this.settings.caFingerprint, appVersion: app.getVersion() };
  }

  pin() {
    return {
      hostname: this.settings.collectorUrl ? new URL(this.settings.collectorUrl).hostname : null,
      fingerprint: this.settings.caFingerprint,
    };
  }

  async setCollector(input: SetCollectorInput): Promise<SetCollectorResult> {
    const url = typeof input?.url === 'string' ? normaliseCollectorUrl(input.url) : null;
    if (!url) return { ok: false, reason: 'invalid-url' };
    const fp = normaliseFingerprint(typeof input.caFingerprint === 'string' ? input.caFingerprint : '');
    if (fp === null) return { ok: false, reason: 'invalid-fingerprint' };
    this.settings = { collectorUrl: url, caFingerprint: fp || null };
    await saveSettings(this.userDataDir, this.settings);
    return { ok: true, config: this.config() };
  }

  async forget(): Promise<ConsoleConfig> {
    this.settings = { collectorUrl: null, caFingerprint: null };
    await saveSettings(this.userDataDir, this.settings);
    return this.config();
  }
}

/** `--collector-url=https://…` and `--ca-fingerprint=…` set the collector (as `npm start` does). */
export function parseArgs(argv: readonly string[]): Partial<SetCollectorInput> {
  const out: Partial<SetCollectorInput> = {};
  for (const arg of argv) {
    const m = /^--(collector-url|ca-fingerprint)=(.*)$/.exec(arg);
    if (m?.[1] === 'collector-url') out.url = m[2] ?? '';
    if (m?.[1] === 'ca-fingerprint') out.caFingerprint = m[2] ?? '';
  }
  return out;
}

export function createMainWindow(): BrowserWindow {
  const win = new BrowserWindow({
    width: 1360,
    height: 860,
    minWidth: 1024,
    minHeight: 640,
    show: false,
    title: 'Vigie',
    backgroundColor: '#f5f7fa',
    autoHideMenuBar: true,
    webPreferences: secureWebPreferences(preloadPath),
  });
  hardenWebContents(win.webContents, (url) => void shell.openExternal(url));
  win.once('ready-to-show', () => win.show());
  return win;
}

/** Only the app's own page may call the main process. */
export function isTrustedSender(event: Pick<IpcMainInvokeEvent, 'senderFrame'>): boolean {
  const url = event.senderFrame?.url;
  return typeof url === 'string' && isAppUrl(url);
}

type Handler<C extends IpcChannel> = (...args: IpcContract[C]['args']) => Promise<IpcContract[C]['result']> | IpcContract[C]['result'];

export function registerIpcHandlers(state: ConsoleState, onCollectorChanged: () => void): void {
  const handle = <C extends IpcChannel>(channel: C, handler: Handler<C>) => {
    ipcMain.handle(channel, (event, ...args: unknown[]) => {
      if (!isTrustedSender(event)) throw new Error(`refused IPC from ${event.senderFrame?.url ?? 'unknown frame'}`);
      return handler(...(args as IpcContract[C]['args']));
    });
  };
  handle(ipcChannels.getConfig, () => state.config());
  handle(ipcChannels.setCollector, async (input) => {
    const result = await state.setCollector(input);
    if (result.ok) onCollectorChanged();
    return result;
  });
  handle(ipcChannels.forgetCollector, async () => {
    const config = await state.forget();
    onCollectorChanged();
    return config;
  });
  handle(ipcChannels.request, (req) => forwardApiRequest((url, init) => net.fetch(url, init), state.settings.collectorUrl, req));
  handle(ipcChannels.openExternal, async (url) => {
    if (typeof url !== 'string' || !isSafeExternalUrl(url)) return false;
    await shell.openExternal(url);
    return true;
  });
}

/** Must run before app 'ready': app:// behaves like https (standard, secure, fetch). */
export function registerAppScheme(): void {
  protocol.registerSchemesAsPrivileged([
    { scheme: appScheme, privileges: { standard: true, secure: true, supportFetchAPI: true, corsEnabled: false } },
  ]);
}

export async function start(argv: readonly string[] = process.argv): Promise<void> {
  if (!app.requestSingleInstanceLock()) {
    app.quit();
    return;
  }
  registerAppScheme();
  app.on('web-contents-created', (_event, contents) => hardenWebContents(contents, (url) => void shell.openExternal(url)));
  await app.whenReady();

  const state = new ConsoleState(await loadSettings(app.getPath('userData')), app.getPath('userData'));
  const fromArgs = parseArgs(argv);
  if (fromArgs.url) await state.setCollector({ url: fromArgs.url, caFingerprint: fromArgs.caFingerprint ?? '' });

  const ses = session.defaultSession;
  const applyPin = () => ses.setCertificateVerifyProc(makeCertificateVerifyProc(() => state.pin()));
  applyPin();
  ses.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  ses.setPermissionCheckHandler(() => false);
  protocol.handle(appScheme, makeAppProtocolHandler(rendererDir, () => contentSecurityPolicy(state.settings.collectorUrl)));

  let win: BrowserWindow | null = null;
  const open = () => {
    win = createMainWindow();
    win.on('closed', () => (win = null));
    void win.loadURL(startUrl);
  };
  registerIpcHandlers(state, () => {
    // The verify proc's answers are cached: setting it again clears them, and
    // reloading applies the new CSP (connect-src names the collector).
    applyPin();
    void ses.closeAllConnections();
    win?.webContents.reload();
  });
  app.on('second-instance', () => {
    if (win) {
      if (win.isMinimized()) win.restore();
      win.focus();
    }
  });
  app.on('window-all-closed', () => app.quit());
  app.on('activate', () => {
    if (!win) open();
  });
  open();
}



