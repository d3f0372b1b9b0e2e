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

/** id-kp-serverAuth (RFC 5280 4.2.1.12). */
const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';

/** The leaf's extended key usages, or undefined when it has no such extension (any use allowed). */
function extendedKeyUsage(cert: X509Certificate): readonly string[] | undefined {
  // Node 20 calls it keyUsage; later releases add extKeyUsage and deprecate the old name.
  const withNew = cert as X509Certificate & { extKeyUsage?: string[] };
  return withNew.extKeyUsage ?? (cert.keyUsage as string[] | undefined);
}

/**
 * Checks the server's chain against a pinned fingerprint. With verification
 * off, the certificates a server sends are just claims: anyone can send a copy
 * of the real CA certificate. So the leaf must either be the pinned certificate
 * itself (the TLS handshake proved the server holds its key), or chain up to the
 * pinned CA by signatures checked here, each certificate valid at `now`.
 *
 * A pinned leaf is explicit trust in that one key, so nothing else is asked of
 * it. A pinned CA may be a corporate or public root that signs certificates for
 * many names and many purposes, so then the leaf must name `host`, allow
 * serverAuth when it restricts its usages, and every issuer up to the pin must
 * be a CA: otherwise any certificate from that CA, or made by the holder of
 * any leaf key under it, would pass for the collector.
 */
export function verifyPinnedChain(
  peer: tls.DetailedPeerCertificate,
  pin: string,
  now: Date,
  host: string,
): PinResult {
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
  if (index === 0) return { ok: true };
  for (let i = 1; i <= index; i++) {
    const issuer = x509[i] as X509Certificate;
    if (!issuer.ca) {
      return {
        ok: false,
        reason: `the certificate "${issuer.subject}" in the collector's chain signed another one but is not a CA (basicConstraints)`,
      };
    }
  }
  const leaf = x509[0] as X509Certificate;
  const usages = extendedKeyUsage(leaf);
  if (usages !== undefined && !usages.includes(SERVER_AUTH)) {
    return {
      ok: false,
      reason: `the collector's certificate "${leaf.subject}" is not meant for TLS servers (extended key usage: ${usages.join(', ') || 'none'})`,
    };
  }
  const mismatch = tls.checkServerIdentity(host, peer);
  if (mismatch) {
    return { ok: false, reason: `the collector's certificate is not for "${host}": ${mismatch.message}` };
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
        // The name the certificate must carry, as Node's own check picks it: SNI name, else the host.
        const expected = options.servername || host;
        const result = verifyPinnedChain(socket.getPeerCertificate(true), pin, now(), expected);
        if (!result.ok) socket.destroy(new TrustError(result.reason));
      });
      return socket;
    };
    return { createConnection: connect, minVersion: 'TLSv1.2' };
  }
  if (trust.caPem) return { ca: trust.caPem, rejectUnauthorized: true, minVersion: 'TLSv1.2' };
  return { rejectUnauthorized: true, minVersion: 'TLSv1.2' };
}
