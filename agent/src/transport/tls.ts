import { X509Certificate } from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';

/** How the agent decides the collector is the collector. */
export interface TrustOptions {
  /** SHA-256 of the collector's CA certificate (or of its own certificate), hex, colons optional. */
  caFingerprint?: string;
  /** A CA certificate in PEM, verified the usual way (chain and host name). */
  caPem?: string;
}

/** The collector could not be trusted: not retried silently, the operator must look. */
export class TrustError extends Error {
  override name = 'TrustError';
}

/** Accepts `AB:CD:…`, `abcd…` or `sha256:…`; returns 64 lower-case hex digits. */
export function normalizeFingerprint(value: string): string {
  const hex = value.trim().replace(/^sha-?256[:=]?/i, '').replace(/[:\s-]/g, '').toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(hex)) {
    throw new TrustError(`not a SHA-256 fingerprint: "${value}" (expected 64 hex digits, colons allowed)`);
  }
  return hex;
}

function chainOf(peer: tls.DetailedPeerCertificate): tls.DetailedPeerCertificate[] {
  const chain: tls.DetailedPeerCertificate[] = [];
  let cert: tls.DetailedPeerCertificate | undefined = peer;
  // Node links a self-signed root to itself; the length guard stops any other loop.
  while (cert && cert.raw && chain.length < 16 && !chain.includes(cert)) {
    chain.push(cert);
    cert = cert.issuerCertificate;
  }
  return chain;
}

export type PinResult = { ok: true } | { ok: false; reason: string };

/**
 * Checks the server's chain against a pinned fingerprint. With verification
 * off, the certificates a server sends are just claims: anyone can send a copy
 * of the real CA certificate. So the leaf must either be the pinned certificate
 * itself (the TLS handshake proved the server holds its key), or chain up to the
 * pinned CA by signatures checked here, each certificate valid at `now`. Host
 * names are not checked: the pinned CA is the collector's own private CA.
 */
export function verifyPinnedChain(peer: tls.DetailedPeerCertificate, pin: string, now: Date): PinResult {
  const chain = chainOf(peer);
  if (chain.length === 0) return { ok: false, reason: 'the collector presented no certificate' };
  const x509 = chain.map((c) => new X509Certificate(c.raw));
  const index = x509.findIndex((c) => normalizeFingerprint(c.fingerprint256) === pin);
  if (index < 0) {
    const seen = x509.map((c) => normalizeFingerprint(c.fingerprint256)).join(', ');
    return {
      ok: false,
      reason:
        `the collector's certificate does not match the pinned fingerprint ${pin} (presented chain: ${seen}). ` +
        'Either this is not your collector, or its CA changed: check the fingerprint it printed, and that it sends its CA certificate in its chain.',
    };
  }
  for (let i = 0; i <= index; i++) {
    const cert = x509[i] as X509Certificate;
    if (now < new Date(cert.validFrom) || now > new Date(cert.validTo)) {
      return { ok: false, reason: `the collector's certificate "${cert.subject}" is not valid now (${cert.validFrom} to ${cert.validTo})` };
    }
    if (i === index) break;
    const issuer = x509[i + 1] as X509Certificate;
    if (!cert.checkIssued(issuer) || !cert.verify(issuer.publicKey)) {
      return { ok: false, reason: `the collector's certificate "${cert.subject}" is not signed by "${issuer.subject}"` };
    }
  }
  return { ok: true };
}

/**
 * TLS options for the WebSocket client: TLS 1.2 or later always; with a pin,
 * our own socket factory that verifies the chain as soon as the handshake ends,
 * before the HTTP upgrade response is read (nothing secret is sent before it:
 * the token travels in the first WebSocket message).
 */
export function tlsClientOptions(trust: TrustOptions, now: () => Date = () => new Date()): Record<string, unknown> {
  if (trust.caFingerprint) {
    const pin = normalizeFingerprint(trust.caFingerprint);
    const connect = (options: tls.ConnectionOptions & { path?: string; host?: string }): tls.TLSSocket => {
      const host = options.host ?? 'localhost';
      const socket = tls.connect({
        ...options,
        // ws passes its URL path, which tls.connect would take for a Unix socket path.
        path: undefined,
        servername: options.servername ?? (net.isIP(host) ? '' : host),
        minVersion: 'TLSv1.2',
        // Chain trust is checked by the pin below instead of the system store.
        rejectUnauthorized: false,
      } as tls.ConnectionOptions);
      socket.once('secureConnect', () => {
        const result = verifyPinnedChain(socket.getPeerCertificate(true), pin, now());
        if (!result.ok) socket.destroy(new TrustError(result.reason));
      });
      return socket;
    };
    return { createConnection: connect, minVersion: 'TLSv1.2' };
  }
  if (trust.caPem) return { ca: trust.caPem, rejectUnauthorized: true, minVersion: 'TLSv1.2' };
  return { rejectUnauthorized: true, minVersion: 'TLSv1.2' };
}
