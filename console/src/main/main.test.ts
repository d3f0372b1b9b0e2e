/**
 * The Electron main process with electron mocked: the window's security
 * options, the window-open and navigation guards, IPC sender checks, the
 * collector settings and the CA pinning that start() installs.
 */
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

type Listener = (...args: unknown[]) => unknown;

interface MockContents {
  setWindowOpenHandler: jest.Mock;
  on: jest.Mock;
  reload: jest.Mock;
  handlers: Record<string, Listener[]>;
  openHandler?: (d: { url: string }) => { action: string };
}

function mockContents(): MockContents {
  const c: MockContents = {
    handlers: {},
    setWindowOpenHandler: jest.fn((h) => {
      c.openHandler = h;
    }),
    on: jest.fn((event: string, h: Listener) => {
      (c.handlers[event] ??= []).push(h);
      return c;
    }),
    reload: jest.fn(),
  };
  return c;
}

const mockState = {
  windows: [] as { options: Record<string, unknown>; webContents: MockContents; loadURL: jest.Mock }[],
  ipc: new Map<string, Listener>(),
  appEvents: new Map<string, Listener>(),
  userData: '',
  verifyProc: null as null | ((req: unknown, cb: (r: number) => void) => void),
  permissionHandler: null as null | Listener,
  schemes: [] as unknown[],
  protocolHandlers: new Map<string, Listener>(),
};

jest.mock('electron', () => {
  class BrowserWindow {
    options: Record<string, unknown>;
    webContents = mockContents();
    loadURL = jest.fn(async () => undefined);
    constructor(options: Record<string, unknown>) {
      this.options = options;
      mockState.windows.push(this);
    }
    once() {}
    on() {}
    show() {}
  }
  return {
    BrowserWindow,
    app: {
      getVersion: () => '0.1.0',
      getPath: () => mockState.userData,
      requestSingleInstanceLock: () => true,
      whenReady: async () => undefined,
      on: (event: string, h: Listener) => mockState.appEvents.set(event, h),
      quit: jest.fn(),
    },
    ipcMain: { handle: (channel: string, h: Listener) => mockState.ipc.set(channel, h) },
    net: { fetch: jest.fn() },
    protocol: {
      registerSchemesAsPrivileged: (s: unknown[]) => mockState.schemes.push(...s),
      handle: (scheme: string, h: Listener) => mockState.protocolHandlers.set(scheme, h),
    },
    session: {
      defaultSession: {
        setCertificateVerifyProc: (p: typeof mockState.verifyProc) => {
          mockState.verifyProc = p;
        },
        setPermissionRequestHandler: (h: Listener) => {
          mockState.permissionHandler = h;
        },
        setPermissionCheckHandler: jest.fn(),
        closeAllConnections: jest.fn(async () => undefined),
      },
    },
    shell: { openExternal: jest.fn(async () => undefined) },
  };
});

// eslint-disable-next-line @typescript-eslint/no-require-imports
const electron = require('electron') as { shell: { openExternal: jest.Mock } };
import { ConsoleState, createMainWindow, isTrustedSender, parseArgs, registerIpcHandlers, start } from './main';
import { ipcChannels } from '../common/ipc';
import { settingsPath } from './settings';

const fixture = (name: string) => readFileSync(path.join(__dirname, '__fixtures__', name), 'utf8');
const caFp = new X509Certificate(fixture('ca.pem')).fingerprint256;
const caHex = caFp.replace(/:/g, '').toLowerCase();

beforeEach(async () => {
  mockState.windows.length = 0;
  mockState.ipc.clear();
  mockState.appEvents.clear();
  mockState.verifyProc = null;
  mockState.userData = await mkdtemp(path.join(tmpdir(), 'vigie-main-'));
  electron.shell.openExternal.mockClear();
});
afterEach(() => rm(mockState.userData, { recursive: true, force: true }));

describe('the main window', () => {
  it('uses Electron secure defaults and the bundled preload', () => {
    createMainWindow();
    const prefs = mockState.windows[0]?.options.webPreferences as Record<string, unknown>;
    expect(prefs).toMatchObject({
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
    });
    expect(path.isAbsolute(prefs.preload as string)).toBe(true);
    expect(prefs.preload).toMatch(/[\\/]preload[\\/]preload\.cjs$/);
  });

  it('denies every window.open, and sends only https links to the system browser', () => {
    createMainWindow();
    const open = mockState.windows[0]?.webContents.openHandler;
    expect(open?.({ url: 'https://docs.example/help' })).toEqual({ action: 'deny' });
    expect(open?.({ url: 'file:///etc/passwd' })).toEqual({ action: 'deny' });
    expect(open?.({ url: 'app://vigie/index.html' })).toEqual({ action: 'deny' });
    expect(electron.shell.openExternal.mock.calls).toEqual([['https://docs.example/help']]);
  });

  it('prevents navigation away from the app, and allows it within', () => {
    createMainWindow();
    const contents = mockState.windows[0]!.webContents;
    const navigate = (url: string) => {
      const event = { url, preventDefault: jest.fn() };
      for (const h of contents.handlers['will-navigate'] ?? []) h(event, url);
      return event.preventDefault.mock.calls.length > 0;
    };
    expect(navigate('https://evil.example/')).toBe(true);
    expect(navigate('file:///etc/passwd')).toBe(true);
    expect(navigate('app://other/index.html')).toBe(true);
    expect(navigate('app://vigie/index.html#/devices')).toBe(false);
    expect(contents.handlers['will-redirect']).toHaveLength(1);
    const attach = { preventDefault: jest.fn() };
    contents.handlers['will-attach-webview']?.[0]?.(attach);
    expect(attach.preventDefault).toHaveBeenCalled();
  });
});

describe('IPC', () => {
  const fromApp = { senderFrame: { url: 'app://vigie/index.html' } };
  const fromElsewhere = { senderFrame: { url: 'https://evil.example/' } };

  it('answers only the app’s own page', async () => {
    expect(isTrustedSender(fromApp as never)).toBe(true);
    expect(isTrustedSender(fromElsewhere as never)).toBe(false);
    expect(isTrustedSender({ senderFrame: null } as never)).toBe(false);
    const state = new ConsoleState({ collectorUrl: null, caFingerprint: null }, mockState.userData);
    registerIpcHandlers(state, jest.fn());
    const get = mockState.ipc.get(ipcChannels.getConfig)!;
    expect(() => get(fromElsewhere)).toThrow(/refused IPC/);
    expect(await get(fromApp)).toEqual({ collectorUrl: null, caFingerprint: null, appVersion: '0.1.0' });
  });

  it('registers a handler for every channel of the map', () => {
    registerIpcHandlers(new ConsoleState({ collectorUrl: null, caFingerprint: null }, mockState.userData), jest.fn());
    expect([...mockState.ipc.keys()].sort()).toEqual(Object.values(ipcChannels).sort());
  });

  it('validates and persists the collector, then tells the window', async () => {
    const changed = jest.fn();
    registerIpcHandlers(new ConsoleState({ collectorUrl: null, caFingerprint: null }, mockState.userData), changed);
    const set = mockState.ipc.get(ipcChannels.setCollector)!;
    expect(await set(fromApp, { url: 'http://plain.example', caFingerprint: '' })).toEqual({ ok: false, reason: 'invalid-url' });
    expect(await set(fromApp, { url: 'https://collector.example', caFingerprint: 'xyz' })).toEqual({ ok: false, reason: 'invalid-fingerprint' });
    expect(changed).not.toHaveBeenCalled();
    const ok = await set(fromApp, { url: 'https://collector.example:8443/', caFingerprint: caFp });
    expect(ok).toEqual({ ok: true, config: { collectorUrl: 'https://collector.example:8443', caFingerprint: caHex, appVersion: '0.1.0' } });
    expect(changed).toHaveBeenCalledTimes(1);
    expect(JSON.parse(await readFile(settingsPath(mockState.userData), 'utf8'))).toEqual({ collectorUrl: 'https://collector.example:8443', caFingerprint: caHex });
  });

  it('opens only https links externally', async () => {
    registerIpcHandlers(new ConsoleState({ collectorUrl: null, caFingerprint: null }, mockState.userData), jest.fn());
    const open = mockState.ipc.get(ipcChannels.openExternal)!;
    expect(await open(fromApp, 'file:///etc/passwd')).toBe(false);
    expect(await open(fromApp, 'https://example.org/')).toBe(true);
    expect(electron.shell.openExternal.mock.calls).toEqual([['https://example.org/']]);
  });
});

describe('start()', () => {
  it('reads --collector-url and --ca-fingerprint', () => {
    expect(parseArgs(['electron', '.', '--collector-url=https://c.example', `--ca-fingerprint=${caFp}`])).toEqual({ url: 'https://c.example', caFingerprint: caFp });
  });

  it('pins the collector’s CA: its chain is trusted, another CA is refused; permissions are denied', async () => {
    await start(['electron', '.', '--collector-url=https://collector.example:8443', `--ca-fingerprint=${caFp}`]);
    expect(mockState.schemes).toEqual([expect.objectContaining({ scheme: 'app', privileges: expect.objectContaining({ standard: true, secure: true }) })]);
    expect(mockState.protocolHandlers.has('app')).toBe(true);
    expect(mockState.windows[0]?.loadURL).toHaveBeenCalledWith('app://vigie/index.html');

    const root = { data: fixture('ca.pem') };
    const verify = (issuer: { data: string }, hostname = 'collector.example') => {
      const cb = jest.fn();
      mockState.verifyProc!({ hostname, certificate: { data: fixture('leaf.pem'), issuerCert: issuer }, errorCode: -202 }, cb);
      return cb.mock.calls[0]?.[0];
    };
    expect(verify(root)).toBe(0);
    expect(verify({ data: fixture('other-ca.pem') })).toBe(-2);
    expect(verify(root, 'elsewhere.example')).toBe(-3);

    const permission = jest.fn();
    mockState.permissionHandler!({}, 'media', permission);
    expect(permission).toHaveBeenCalledWith(false);

    // Remembered for the next run.
    expect(JSON.parse(await readFile(settingsPath(mockState.userData), 'utf8'))).toEqual({ collectorUrl: 'https://collector.example:8443', caFingerprint: caHex });
  });
});
