/**
 * Trust the collector's CA by its SHA-256 fingerprint. A first local run of
 * the collector makes its own CA (ISSP 9.17.8 asks for operator certificates
 * otherwise), which no system store knows: the admin pins it once, and the
 * app accepts that collector's certificate only when its chain holds the
 * pinned CA. Other hosts keep Chromium's own verification.
 */
import { createHash } from 'node:crypto';

/** What we read of Electron's Certificate structure. */
export interface CertificateLike {
  data: string;
  issuerCert?: CertificateLike | null;
}

/** What we read of the request given to session.setCertificateVerifyProc. */
export interface VerifyRequestLike {
  hostname: string;
  certificate: CertificateLike;
  errorCode: number;
}

/** The verify proc's answers, as Chromium defines them. */
export const verifyResult = { trust: 0, refuse: -2, useChromium: -3 } as const;

/** net::ERR_CERT_AUTHORITY_INVALID: the only error a pinned CA may overrule (not an expired or misnamed certificate). */
export const ERR_CERT_AUTHORITY_INVALID = -202;

export function pemToDer(pem: string): Buffer | null {
  const m = /-----BEGIN CERTIFICATE-----([\s\S]+?)-----END CERTIFICATE-----/.exec(pem);
  if (!m?.[1]) return null;
  const der = Buffer.from(m[1].replace(/\s+/g, ''), 'base64');
  return der.length > 0 ? der : null;
}

/** SHA-256 of the certificate's DER bytes, lower-case hex: what `openssl x509 -fingerprint -sha256` shows, without colons. */
export function fingerprintOfPem(pem: string): string | null {
  const der = pemToDer(pem);
  return der ? createHash('sha256').update(der).digest('hex') : null;
}

/** The fingerprints of the certificate and of each issuer above it. */
export function chainFingerprints(cert: CertificateLike, maxDepth = 10): string[] {
  const out: string[] = [];
  let current: CertificateLike | null | undefined = cert;
  for (let depth = 0; current && depth < maxDepth; depth++) {
    const fp = fingerprintOfPem(current.data);
    if (fp && !out.includes(fp)) out.push(fp);
    else if (fp) break; // a self-signed root lists itself as its issuer
    current = current.issuerCert;
  }
  return out;
}

export interface Pin {
  /** The collector's host name, from its URL. */
  hostname: string | null;
  fingerprint: string | null;
}

export function decide(request: VerifyRequestLike, pin: Pin): number {
  if (!pin.hostname || !pin.fingerprint) return verifyResult.useChromium;
  if (request.hostname.toLowerCase() !== pin.hostname.toLowerCase()) return verifyResult.useChromium;
  if (request.errorCode !== 0 && request.errorCode !== ERR_CERT_AUTHORITY_INVALID) return verifyResult.refuse;
  return chainFingerprints(request.certificate).includes(pin.fingerprint) ? verifyResult.trust : verifyResult.refuse;
}

/** A proc for session.setCertificateVerifyProc; reads the pin at each call so a new setting applies at once. */
export function makeCertificateVerifyProc(getPin: () => Pin) {
  return (request: VerifyRequestLike, callback: (result: number) => void): void => {
    callback(decide(request, getPin()));
  };
}
