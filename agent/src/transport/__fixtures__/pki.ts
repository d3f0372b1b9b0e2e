import { createHash, generateKeyPairSync, X509Certificate } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import forge from 'node-forge';

/** Test PKI: a CA and a server certificate for 127.0.0.1, made with node-forge. */
export interface TestPki {
  caPem: string;
  caKeyPem: string;
  /** SHA-256 of the CA certificate's DER, lower-case hex. */
  caFingerprint: string;
  leafPem: string;
  leafKeyPem: string;
  leafFingerprint: string;
}

function keyPair(modulusLength = 2048): { privateKey: forge.pki.rsa.PrivateKey; publicKey: forge.pki.rsa.PublicKey; pem: string } {
  // Node makes the RSA key (forge's pure-JS generation takes seconds); forge signs the certificates.
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength });
  const pem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  return {
    privateKey: forge.pki.privateKeyFromPem(pem),
    publicKey: forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }).toString()),
    pem,
  };
}

function fingerprint(cert: forge.pki.Certificate): string {
  const der = Buffer.from(forge.asn1.toDer(forge.pki.certificateToAsn1(cert)).getBytes(), 'binary');
  return createHash('sha256').update(der).digest('hex');
}

function validity(cert: forge.pki.Certificate): void {
  cert.validity.notBefore = new Date(Date.now() - 24 * 3600 * 1000);
  cert.validity.notAfter = new Date(Date.now() + 365 * 24 * 3600 * 1000);
}

/**
 * A fresh CA and leaf. Two calls with the same `caName` give CAs with the same
 * subject but different keys: what an impostor would forge.
 */
export function makePki(caName = 'Vigie test CA'): TestPki {
  const ca = keyPair();
  const caCert = forge.pki.createCertificate();
  caCert.publicKey = ca.publicKey;
  caCert.serialNumber = '01';
  validity(caCert);
  const caSubject = [{ name: 'commonName', value: caName }];
  caCert.setSubject(caSubject);
  caCert.setIssuer(caSubject);
  caCert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  caCert.sign(ca.privateKey, forge.md.sha256.create());

  const leaf = keyPair();
  const leafCert = forge.pki.createCertificate();
  leafCert.publicKey = leaf.publicKey;
  leafCert.serialNumber = '02';
  validity(leafCert);
  leafCert.setSubject([{ name: 'commonName', value: 'vigie-collector' }]);
  leafCert.setIssuer(caSubject);
  leafCert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }, { type: 2, value: 'localhost' }] },
  ]);
  leafCert.sign(ca.privateKey, forge.md.sha256.create());

  return {
    caPem: forge.pki.certificateToPem(caCert),
    caKeyPem: ca.pem,
    caFingerprint: fingerprint(caCert),
    leafPem: forge.pki.certificateToPem(leafCert),
    leafKeyPem: leaf.pem,
    leafFingerprint: fingerprint(leafCert),
  };
}

/**
 * makePki() cached on disk for this machine: RSA key generation takes about a
 * second per key on a small CI box, and every suite needs the same kind of PKI.
 * Regenerated when missing, unreadable or close to expiry.
 */
export function cachedPki(name: string): TestPki {
  const file = path.join(os.tmpdir(), `vigie-agent-test-pki-v1-${name}.json`);
  try {
    const cached = JSON.parse(readFileSync(file, 'utf8')) as TestPki;
    if (new Date(new X509Certificate(cached.leafPem).validTo).getTime() > Date.now() + 86_400_000) {
      return cached;
    }
  } catch {
    // missing or damaged: make a new one
  }
  // Same CA subject for every name: an impostor's CA looks like ours.
  const pki = makePki();
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(pki), { mode: 0o600 });
  // Atomic, since parallel Jest workers may race to create the same file.
  renameSync(tmp, file);
  return pki;
}

/** One certificate of a test chain, as made by makeChain(). */
export interface LinkSpec {
  commonName: string;
  /** basicConstraints cA; undefined leaves the extension out (which also means "not a CA"). */
  ca?: boolean;
  /** Extended key usage; undefined leaves the extension out (any use allowed). */
  eku?: 'serverAuth' | 'clientAuth';
  /** DNS names or IPv4 addresses for subjectAltName; undefined leaves the extension out. */
  altNames?: string[];
}

export interface TestChain {
  /** PEMs, leaf first, root last. */
  pems: string[];
  /** SHA-256 of each certificate's DER, lower-case hex, same order as pems. */
  fingerprints: string[];
  leafKeyPem: string;
}

/**
 * An arbitrary chain: specs[0] is the self-signed root, each next one is
 * signed by the one before, the last is the leaf. Whether a link is a CA is
 * whatever its spec says, so broken chains (a leaf signing a leaf) can be made.
 */
export function makeChain(specs: LinkSpec[]): TestChain {
  let issuer: { subject: forge.pki.CertificateField[]; key: forge.pki.rsa.PrivateKey } | undefined;
  const pems: string[] = [];
  const fingerprints: string[] = [];
  let leafKeyPem = '';
  specs.forEach((spec, i) => {
    // 1024 bits: these chains test checks, not key strength, and a suite makes a dozen of them.
    const keys = keyPair(1024);
    const cert = forge.pki.createCertificate();
    cert.publicKey = keys.publicKey;
    cert.serialNumber = (i + 1).toString(16).padStart(2, '0');
    validity(cert);
    const subject = [{ name: 'commonName', value: spec.commonName }];
    cert.setSubject(subject);
    cert.setIssuer(issuer?.subject ?? subject);
    const extensions: object[] = [];
    if (spec.ca !== undefined) extensions.push({ name: 'basicConstraints', cA: spec.ca, critical: true });
    extensions.push(
      spec.ca
        ? { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true }
        : // A non-CA that signs (an intermediate in a broken chain) still claims keyCertSign,
          // so only basicConstraints tells it from a real CA.
          { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, keyCertSign: i < specs.length - 1 },
    );
    if (spec.eku) extensions.push({ name: 'extKeyUsage', [spec.eku]: true });
    if (spec.altNames) {
      extensions.push({
        name: 'subjectAltName',
        altNames: spec.altNames.map((n) => (/^[\d.]+$/.test(n) ? { type: 7, ip: n } : { type: 2, value: n })),
      });
    }
    cert.setExtensions(extensions);
    cert.sign(issuer?.key ?? keys.privateKey, forge.md.sha256.create());
    pems.unshift(forge.pki.certificateToPem(cert));
    fingerprints.unshift(fingerprint(cert));
    issuer = { subject, key: keys.privateKey };
    leafKeyPem = keys.pem;
  });
  return { pems, fingerprints, leafKeyPem };
}
