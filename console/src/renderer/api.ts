/**
 * The one typed client of the collector's console API (docs/api.md). Calls
 * return values, not exceptions: `{ ok: true, value }` or `{ ok: false, error }`
 * with one of the contract's error codes, or `network` when the collector
 * could not be reached. In a browser the calls go to the page's own origin;
 * in the desktop app, through the preload bridge to the pinned collector.
 */
import type { ApprovalStatus, Facts, FindingStatus, Localised, Policy, Severity, SoftwareItem, UsbEvent } from '@vigie/shared';
import type { ApiRequest, ConsoleBridge } from '../common/ipc';

export const apiBase = '/api/v1';

/** The error codes of docs/api.md, plus the client's own `network`. */
export const apiErrorCodes = [
  'bad-request',
  'unauthenticated',
  'forbidden',
  'not-found',
  'conflict',
  'too-large',
  'rate-limited',
  'internal',
  'network',
] as const;
export type ApiErrorCode = (typeof apiErrorCodes)[number];

export interface ApiError {
  code: ApiErrorCode;
  /** The server's message, for logs and details; the UI shows a translated sentence for the code. */
  message: string;
  status: number;
  details?: unknown;
}

export type Result<T> = { ok: true; value: T } | { ok: false; error: ApiError };

const statusToCode: Record<number, ApiErrorCode> = {
  400: 'bad-request',
  401: 'unauthenticated',
  403: 'forbidden',
  404: 'not-found',
  409: 'conflict',
  413: 'too-large',
  429: 'rate-limited',
};

function isErrorCode(v: unknown): v is ApiErrorCode {
  return typeof v === 'string' && (apiErrorCodes as readonly string[]).includes(v);
}

/**
 * Maps a failed response to an ApiError: the body's typed error when there is
 * one, else the HTTP status (a proxy's HTML 502 page is still an error we can name).
 */
export function toApiError(status: number, bodyText: string): ApiError {
  let code: ApiErrorCode = statusToCode[status] ?? 'internal';
  let message = `HTTP ${status}`;
  let details: unknown;
  try {
    const parsed = JSON.parse(bodyText) as { error?: { code?: unknown; message?: unknown; details?: unknown } };
    if (parsed && typeof parsed === 'object' && parsed.error && typeof parsed.error === 'object') {
      if (isErrorCode(parsed.error.code)) code = parsed.error.code;
      if (typeof parsed.error.message === 'string') message = parsed.error.message;
      details = parsed.error.details;
    }
  } catch {
    // not JSON: keep what the status says
  }
  return details === undefined ? { code, message, status } : { code, message, status, details };
}

export function networkError(message: string): ApiError {
  return { code: 'network', message, status: 0 };
}

// ---------- the contract's shapes ----------

export type Role = 'admin' | 'license-manager' | 'auditor';

export interface User {
  username: string;
  role: Role;
  /** Org names, or '*' for every org. */
  orgs: string[];
}

export interface LoginResponse {
  token: string;
  user: User;
  idleTimeoutSeconds: number;
}

export interface RuleSummary {
  ruleId: string;
  title: Localised;
  issp: string[];
  pass: number;
  fail: number;
  unknown: number;
  conformity: number;
}

export interface OrgSummary {
  org: string;
  devices: number;
  compliantDevices: number;
  conformity: number;
}

export interface Summary {
  devices: number;
  compliantDevices: number;
  conformity: number;
  bySeverity: Record<Severity, number>;
  byRule: RuleSummary[];
  byOrg: OrgSummary[];
  trend: { day: string; conformity: number; devices: number }[];
  silent: { id: string; hostname: string; lastSeenAt: string | null }[];
}

export type DeviceStatus = 'compliant' | 'noncompliant' | 'unknown';
export type OsName = 'windows' | 'macos' | 'linux';

export interface DeviceListItem {
  id: string;
  hostname: string;
  os: OsName;
  osVersion: string;
  org: string;
  owner: string | null;
  ciatLevel: number;
  lastSeenAt: string | null;
  status: DeviceStatus;
  /** How many rules fail on this device. */
  failing: number;
}

export interface Device extends DeviceListItem {
  model: string;
  serial: string;
  user: string | null;
  enrolledAt: string;
  revoked: boolean;
}

export interface DeviceFinding {
  ruleId: string;
  status: FindingStatus;
  severity: Severity;
  evidence: string;
  issp: string[];
  title: Localised | string;
}

export interface Exemption {
  /** Present when the collector lets it be revoked (DELETE /exemptions/:id). */
  id?: number;
  reason: string;
  grantedBy: string;
  expiresAt: string;
}

export type NcStatus = 'open' | 'resolved' | 'exempted';

export interface Nonconformity {
  id: number;
  deviceId: string;
  hostname: string;
  owner: string | null;
  org: string;
  ruleId: string;
  title: Localised | string;
  severity: Severity;
  evidence: string;
  issp: string[];
  firstSeenAt: string;
  dueAt: string | null;
  resolvedAt: string | null;
  status: NcStatus;
  exemption: Exemption | null;
}

/** A software item as the collector returns it: the facts, with the catalog's product and verdict when it has them. */
export type SoftwareRow = SoftwareItem & { product?: string; approval?: ApprovalStatus };
/** A USB storage device the USB rule accepts (docs/api.md, /usb/authorised); org null: every org. */
export interface AuthorisedUsb {
  id: number;
  org: string | null;
  vendorId: string;
  productId: string;
  serial: string | null;
  note: string | null;
}
export type AuthorisedUsbInput = Omit<AuthorisedUsb, 'id'>;

/** A USB event the agent sent as it happened, as the collector stored it. */
export interface ReceivedUsbEvent {
  eventId: string;
  receivedAt: string;
  event: UsbEvent;
}

export interface DeviceDetail {
  device: Device;
  facts: Facts | null;
  findings: DeviceFinding[];
  nonconformities: Nonconformity[];
  timeline: { at: string; section: string; summary: string }[];
  usbEvents: ReceivedUsbEvent[];
}

export interface AuditEntry {
  id: number;
  at: string;
  actor: string;
  action: string;
  target: string | null;
  details: unknown;
  ip: string | null;
  outcome: string;
}

export interface Page<T> {
  total: number;
  items: T[];
}

export interface NcQuery {
  rule?: string;
  severity?: Severity | '';
  org?: string;
  status?: NcStatus | '';
  owner?: string;
  q?: string;
  sort?: 'firstSeenAt' | 'dueAt' | 'severity' | 'hostname';
  order?: 'asc' | 'desc';
  limit?: number;
  offset?: number;
}

export interface DeviceQuery {
  org?: string;
  q?: string;
  status?: DeviceStatus | '';
  sort?: 'hostname' | 'lastSeenAt' | 'org' | 'owner';
  order?: 'asc' | 'desc';
  limit?: number;
  offset?: number;
}

export interface AuditQuery {
  actor?: string;
  action?: string;
  limit?: number;
  offset?: number;
}

export interface DevicePatch {
  owner?: string | null;
  ciatLevel?: number;
  org?: string;
}

export interface ExemptionInput {
  deviceId: string;
  ruleId: string;
  reason: string;
  expiresAt: string;
}

// ---------- software catalog, approvals and licenses (docs/licenses-api.md) ----------

export type ProductStatus = ApprovalStatus;
export const productStatuses: readonly ProductStatus[] = ['approved', 'denied', 'unreviewed'];

export interface CatalogRule {
  id: number;
  position: number;
  /** A case-insensitive regular expression on the installed entry's name. */
  namePattern: string;
  publisherPattern: string | null;
  os: OsName | null;
  product: string;
  /** One capture group giving the normalised version; null keeps the raw version. */
  versionPattern: string | null;
  /** OS components and drivers: not products at all. */
  ignore: boolean;
}

export interface CatalogRuleInput {
  namePattern: string;
  publisherPattern?: string | null;
  os?: OsName | null;
  product: string;
  versionPattern?: string | null;
  ignore?: boolean;
  position?: number;
}

export interface SoftwareProduct {
  product: string;
  status: ProductStatus;
  devices: number;
  users: number;
  /** A null version: installs whose version is not known. */
  versions: { version: string | null; devices: number }[];
  publishers: string[];
}

export interface SoftwareQuery {
  q?: string;
  status?: ProductStatus | '';
  org?: string;
  limit?: number;
  offset?: number;
}

export interface ProductDevice {
  deviceId: string;
  hostname: string;
  owner: string | null;
  org: string;
  version: string | null;
  rawName: string;
}

export interface SoftwareSettings {
  failOn: ('denied' | 'unreviewed')[];
}

export type LicenseType = 'per-device' | 'per-user' | 'site';
export const licenseTypes: readonly LicenseType[] = ['per-device', 'per-user', 'site'];

export interface License {
  id: number;
  product: string;
  type: LicenseType;
  /** null for a site license. */
  seats: number | null;
  purchasedAt: string;
  expiresAt: string | null;
  cost: number | null;
  currency: string;
  /** An org, or '*' for all. */
  org: string;
  reference: string;
}

export type LicenseInput = Omit<License, 'id'>;

export interface ImportRow {
  line: number;
  license?: LicenseInput;
  errors: string[];
}

export interface ImportResult {
  rows: ImportRow[];
  valid: number;
  invalid: number;
  imported: number;
}

export type ReconciliationStatus = 'ok' | 'over-deployed' | 'unlicensed' | 'expiring' | 'expired';
export const reconciliationStatuses: readonly ReconciliationStatus[] = ['over-deployed', 'unlicensed', 'expired', 'expiring', 'ok'];

export interface Reconciliation {
  product: string;
  type: LicenseType | null;
  /** The org scope of this line, when the collector reports per org. */
  org?: string;
  purchased: number | null;
  used: number;
  available: number | null;
  status: ReconciliationStatus;
  overBy: number;
  beyondDevices: { deviceId: string; hostname: string }[];
  expiringLicenses: License[];
  unusedSeats90d: number;
}

export interface LicenseReport {
  items: Reconciliation[];
  generatedAt?: string;
}

export interface LicenseDrillDown {
  product: string;
  licenses: License[];
  devices: { deviceId: string; hostname: string; owner: string | null; org: string; version: string | null; beyondCount: boolean }[];
  /** `devices`: how many, or which (the collector lists the device ids). */
  users: { user: string; devices: number | string[] }[];
}

/** Live messages from /api/v1/live. */
export type LiveMessage =
  | { type: 'device-updated'; deviceId: string }
  | { type: 'nonconformity-opened'; nonconformity: Nonconformity }
  | { type: 'nonconformity-resolved'; id: number }
  | { type: 'summary-changed' };

// ---------- transport ----------

export interface RawResponse {
  status: number;
  contentType: string;
  body: string;
}

/** Sends one request; resolves with the response, or an ApiError when nothing came back. */
export type Transport = (req: ApiRequest) => Promise<RawResponse | ApiError>;

export function fetchTransport(fetchFn: typeof fetch = (...a) => fetch(...a)): Transport {
  return async (req) => {
    try {
      const init: RequestInit = { method: req.method, headers: req.headers, credentials: 'same-origin', cache: 'no-store' };
      if (req.body !== undefined) init.body = req.body;
      const res = await fetchFn(req.path, init);
      // An error answer is a JSON error body even for a binary request: only a 2xx is encoded.
      const body = req.responseType === 'base64' && res.ok ? bytesToBase64(new Uint8Array(await res.arrayBuffer())) : await res.text();
      return { status: res.status, contentType: res.headers.get('content-type') ?? '', body };
    } catch (err) {
      return networkError(err instanceof Error ? err.message : String(err));
    }
  };
}

/** Base64 of bytes, in chunks so a multi-megabyte PDF does not overflow the argument list. */
export function bytesToBase64(bytes: Uint8Array): string {
  let bin = '';
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin);
}

export function base64ToBytes(b64: string): Uint8Array<ArrayBuffer> {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

export function bridgeTransport(bridge: ConsoleBridge): Transport {
  return async (req) => {
    try {
      const res = await bridge.request(req);
      if (res.ok) return { status: res.status, contentType: res.contentType, body: res.body };
      return networkError(`${res.reason}: ${res.message}`);
    } catch (err) {
      return networkError(err instanceof Error ? err.message : String(err));
    }
  };
}

/** Drops empty filters so URLs stay short and the server sees only what was chosen. */
export function queryString(params: object): string {
  const sp = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null || v === '') continue;
    sp.set(k, String(v));
  }
  const s = sp.toString();
  return s ? `?${s}` : '';
}

/** A request body sent as is (the CSV import), not as JSON. */
export class RawBody {
  constructor(
    readonly text: string,
    readonly contentType: string,
  ) {}
}

export interface ApiClientOptions {
  transport: Transport;
  getToken: () => string | null;
  /** Called when a call other than login comes back 401: the session has expired. */
  onUnauthenticated?: (error: ApiError) => void;
}

export function createApiClient(opts: ApiClientOptions) {
  /**
   * `parse`: 'json' (the default), 'text' (a CSV export) or 'base64' (a binary export, base64-encoded
   * by the transport). `body` is sent as JSON unless it is a `RawBody` (the CSV import).
   */
  async function call<T>(method: ApiRequest['method'], path: string, body?: unknown, parse: 'json' | 'text' | 'base64' = 'json', accept?: string): Promise<Result<T>> {
    const headers: Record<string, string> = { accept: accept ?? (parse === 'json' ? 'application/json' : 'text/csv') };
    const token = opts.getToken();
    if (token) headers.authorization = `Bearer ${token}`;
    const req: ApiRequest = { method, path: apiBase + path, headers };
    if (parse === 'base64') req.responseType = 'base64';
    if (body instanceof RawBody) {
      headers['content-type'] = body.contentType;
      req.body = body.text;
    } else if (body !== undefined) {
      headers['content-type'] = 'application/json';
      req.body = JSON.stringify(body);
    }
    const res = await opts.transport(req);
    if ('code' in res) return { ok: false, error: res };
    if (res.status < 200 || res.status >= 300) {
      const error = toApiError(res.status, res.body);
      if (error.code === 'unauthenticated' && path !== '/login') opts.onUnauthenticated?.(error);
      return { ok: false, error };
    }
    if (parse !== 'json') return { ok: true, value: res.body as T };
    if (res.status === 204 || res.body === '') return { ok: true, value: undefined as T };
    try {
      return { ok: true, value: JSON.parse(res.body) as T };
    } catch {
      return { ok: false, error: { code: 'internal', message: 'The collector sent a response that is not JSON.', status: res.status } };
    }
  }

  return {
    login: (username: string, password: string) => call<LoginResponse>('POST', '/login', { username, password }),
    logout: () => call<void>('POST', '/logout'),
    me: () => call<User>('GET', '/me'),
    summary: (days = 30) => call<Summary>('GET', `/summary${queryString({ days })}`),
    policy: () => call<Policy>('GET', '/policy'),
    devices: (q: DeviceQuery) => call<Page<DeviceListItem>>('GET', `/devices${queryString(q)}`),
    device: (id: string) => call<DeviceDetail>('GET', `/devices/${encodeURIComponent(id)}`),
    /** The collector answers with the device's list fields. */
    patchDevice: (id: string, patch: DevicePatch) => call<{ device: DeviceListItem }>('PATCH', `/devices/${encodeURIComponent(id)}`, patch),
    nonconformities: (q: NcQuery) => call<Page<Nonconformity>>('GET', `/nonconformities${queryString(q)}`),
    nonconformitiesCsv: (q: NcQuery) => {
      const { limit: _limit, offset: _offset, ...filters } = q;
      return call<string>('GET', `/nonconformities.csv${queryString(filters)}`, undefined, 'text');
    },
    createExemption: (input: ExemptionInput) => call<Exemption>('POST', '/exemptions', input),
    authorisedUsb: () => call<{ items: AuthorisedUsb[] }>('GET', '/usb/authorised'),
    authoriseUsb: (input: AuthorisedUsbInput) => call<AuthorisedUsb>('POST', '/usb/authorised', input),
    /** Removes an authorisation; the collector answers with the entry removed. */
    unauthoriseUsb: (id: number) => call<AuthorisedUsb>('DELETE', `/usb/authorised/${encodeURIComponent(String(id))}`),
    revokeExemption: (id: number) => call<unknown>('DELETE', `/exemptions/${encodeURIComponent(String(id))}`),
    audit: (q: AuditQuery) => call<Page<AuditEntry>>('GET', `/audit${queryString(q)}`),

    catalogRules: () => call<{ catalogVersion: number; items: CatalogRule[] }>('GET', '/catalog/rules'),
    createCatalogRule: (input: CatalogRuleInput) => call<CatalogRule>('POST', '/catalog/rules', input),
    updateCatalogRule: (id: number, patch: Partial<CatalogRuleInput>) => call<CatalogRule>('PATCH', `/catalog/rules/${encodeURIComponent(String(id))}`, patch),
    deleteCatalogRule: (id: number) => call<unknown>('DELETE', `/catalog/rules/${encodeURIComponent(String(id))}`),
    softwareProducts: (q: SoftwareQuery) => call<Page<SoftwareProduct>>('GET', `/software/products${queryString(q)}`),
    setApproval: (product: string, status: ProductStatus, reason?: string) =>
      call<unknown>('PUT', `/software/products/${encodeURIComponent(product)}/approval`, reason ? { status, reason } : { status }),
    productDevices: (product: string) => call<{ items: ProductDevice[] }>('GET', `/software/products/${encodeURIComponent(product)}/devices`),
    softwareSettings: () => call<SoftwareSettings>('GET', '/software/settings'),
    setSoftwareSettings: (s: SoftwareSettings) => call<SoftwareSettings>('PUT', '/software/settings', s),

    licenses: () => call<{ items: License[] }>('GET', '/licenses'),
    createLicense: (input: LicenseInput) => call<License>('POST', '/licenses', input),
    updateLicense: (id: number, patch: Partial<LicenseInput>) => call<License>('PATCH', `/licenses/${encodeURIComponent(String(id))}`, patch),
    deleteLicense: (id: number) => call<unknown>('DELETE', `/licenses/${encodeURIComponent(String(id))}`),
    /** The purchases CSV, checked only (dryRun) or imported; with any invalid row the collector imports nothing. */
    importLicenses: (csv: string, dryRun: boolean) => call<ImportResult>('POST', `/licenses/import${queryString({ dryRun })}`, new RawBody(csv, 'text/csv')),
    licenseReport: (expiringWithinDays = 60) => call<LicenseReport>('GET', `/licenses/report${queryString({ expiringWithinDays })}`),
    licenseReportCsv: (expiringWithinDays = 60) => call<string>('GET', `/licenses/report.csv${queryString({ expiringWithinDays })}`, undefined, 'text'),
    /** The PDF, base64-encoded (see ApiRequest.responseType). */
    licenseReportPdf: (expiringWithinDays = 60) => call<string>('GET', `/licenses/report.pdf${queryString({ expiringWithinDays })}`, undefined, 'base64', 'application/pdf'),
    licenseDrillDown: (product: string) => call<LicenseDrillDown>('GET', `/licenses/report/${encodeURIComponent(product)}`),
  };
}

export type ApiClient = ReturnType<typeof createApiClient>;

/** A rule's title in the user's language, whatever shape the server gave. */
export function localTitle(title: Localised | string | undefined, lang: 'en' | 'fr', fallback = ''): string {
  if (!title) return fallback;
  return typeof title === 'string' ? title : title[lang] || title.en || fallback;
}
