import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { chainFingerprints, decide, ERR_CERT_AUTHORITY_INVALID, fingerprintOfPem, makeCertificateVerifyProc, verifyResult } from './pinning';

const pem = (name: string) => readFileSync(path.join(__dirname, '__fixtures__', name), 'utf8');
const ca = pem('ca.pem');
const leaf = pem('leaf.pem');
const otherCa = pem('other-ca.pem');
const hex = (fp: string) => fp.replace(/:/g, '').toLowerCase();
const caFp = hex(new X509Certificate(ca).fingerprint256);
const otherFp = hex(new X509Certificate(otherCa).fingerprint256);

// Electron gives the chain as certificate → issuerCert; a self-signed root is its own issuer.
const rootCert = { data: ca } as { data: string; issuerCert?: unknown };
rootCert.issuerCert = rootCert;
const chain = { data: leaf, issuerCert: rootCert as { data: string } };
const pin = { hostname: 'collector.example', fingerprint: caFp };

describe('certificate pinning', () => {
  it('computes the same SHA-256 fingerprint as openssl / X509Certificate', () => {
    expect(fingerprintOfPem(ca)).toBe(caFp);
    expect(fingerprintOfPem('not a certificate')).toBeNull();
  });

  it('lists the fingerprints up the chain and stops at a self-signed root', () => {
    expect(chainFingerprints(chain)).toEqual([hex(new X509Certificate(leaf).fingerprint256), caFp]);
  });

  it('trusts the collector when its chain holds the pinned CA, even though no system store knows it', () => {
    expect(decide({ hostname: 'collector.example', certificate: chain, errorCode: ERR_CERT_AUTHORITY_INVALID }, pin)).toBe(verifyResult.trust);
    expect(decide({ hostname: 'COLLECTOR.example', certificate: chain, errorCode: 0 }, pin)).toBe(verifyResult.trust);
  });

  it('refuses the collector host when the chain does not hold the pinned CA', () => {
    const forged = { data: leaf, issuerCert: { data: otherCa } };
    expect(decide({ hostname: 'collector.example', certificate: forged, errorCode: ERR_CERT_AUTHORITY_INVALID }, pin)).toBe(verifyResult.refuse);
    expect(decide({ hostname: 'collector.example', certificate: chain, errorCode: 0 }, { ...pin, fingerprint: otherFp })).toBe(verifyResult.refuse);
  });

  it('does not let the pin excuse an expired or misnamed certificate', () => {
    expect(decide({ hostname: 'collector.example', certificate: chain, errorCode: -201 }, pin)).toBe(verifyResult.refuse);
    expect(decide({ hostname: 'collector.example', certificate: chain, errorCode: -200 }, pin)).toBe(verifyResult.refuse);
  });

  it('leaves other hosts, and an unpinned collector, to Chromium', () => {
    expect(decide({ hostname: 'example.org', certificate: chain, errorCode: 0 }, pin)).toBe(verifyResult.useChromium);
    expect(decide({ hostname: 'collector.example', certificate: chain, errorCode: -202 }, { ...pin, fingerprint: null })).toBe(verifyResult.useChromium);
  });

  it('reads the pin at each call, so a new setting applies at once', () => {
    let current = { ...pin, fingerprint: otherFp };
    const proc = makeCertificateVerifyProc(() => current);
    const cb = jest.fn();
    proc({ hostname: 'collector.example', certificate: chain, errorCode: -202 }, cb);
    current = pin;
    proc({ hostname: 'collector.example', certificate: chain, errorCode: -202 }, cb);
    expect(cb.mock.calls).toEqual([[verifyResult.refuse], [verifyResult.trust]]);
  });
});
