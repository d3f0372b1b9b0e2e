/**
 * The console's IPC contract: one `as const` map of channel names, and the
 * request and reply types of each. Main, preload and renderer all read this
 * file, so a channel cannot be renamed on one side only.
 */

export const ipcChannels = {
  getConfig: 'vigie:config:get',
  setCollector: 'vigie:config:set-collector',
  forgetCollector: 'vigie:config:forget-collector',
  request: 'vigie:api:request',
  openExternal: 'vigie:shell:open-external',
} as const;

export type IpcChannel = (typeof ipcChannels)[keyof typeof ipcChannels];

/** What the renderer may know of the app's settings. */
export interface ConsoleConfig {
  /** The collector's base URL (https only), or null before the first-run setup. */
  collectorUrl: string | null;
  /** The pinned SHA-256 fingerprint of the collector's CA, as lower-case hex without colons. */
  caFingerprint: string | null;
  appVersion: string;
}

export interface SetCollectorInput {
  url: string;
  /** SHA-256 of the CA certificate, hex with or without colons. Empty: trust the system's CAs. */
  caFingerprint: string;
}

export type SetCollectorResult = { ok: true; config: ConsoleConfig } | { ok: false; reason: 'invalid-url' | 'invalid-fingerprint' };

/** An API call that the main process makes to the collector on the renderer's behalf. */
export interface ApiRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** A path under /api/v1/, with its query string. Never an absolute URL. */
  path: string;
  headers: Record<string, string>;
  body?: string;
  /**
   * 'base64': the response body is binary (a PDF report) and comes back base64-encoded, since
   * IPC and the transport carry strings and decoding bytes as text would corrupt them. Default 'text'.
   */
  responseType?: 'text' | 'base64';
}

export type ApiResponse =
  | { ok: true; status: number; contentType: string; body: string }
  | { ok: false; reason: 'not-configured' | 'network' | 'refused-path'; message: string };

/** Each channel's argument and reply: main's handlers and the preload are typed from this. */
export interface IpcContract {
  [ipcChannels.getConfig]: { args: []; result: ConsoleConfig };
  [ipcChannels.setCollector]: { args: [SetCollectorInput]; result: SetCollectorResult };
  [ipcChannels.forgetCollector]: { args: []; result: ConsoleConfig };
  [ipcChannels.request]: { args: [ApiRequest]; result: ApiResponse };
  [ipcChannels.openExternal]: { args: [string]; result: boolean };
}

type Invoke<C extends IpcChannel> = (...args: IpcContract[C]['args']) => Promise<IpcContract[C]['result']>;

/**
 * The one object the preload exposes as `window.vigie`. In a browser (the
 * collector serving the same renderer at `/`) it is absent and the renderer
 * calls its own origin.
 */
export interface ConsoleBridge {
  readonly kind: 'electron';
  getConfig: Invoke<typeof ipcChannels.getConfig>;
  setCollector: Invoke<typeof ipcChannels.setCollector>;
  forgetCollector: Invoke<typeof ipcChannels.forgetCollector>;
  request: Invoke<typeof ipcChannels.request>;
  openExternal: Invoke<typeof ipcChannels.openExternal>;
}

/** The origin the desktop app serves its renderer from (a privileged custom scheme, not file://). */
export const appScheme = 'app';
export const appHost = 'vigie';
export const appOrigin = `${appScheme}://${appHost}`;
