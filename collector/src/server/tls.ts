import { createHash, generateKeyPairSync, randomBytes, X509Certificate } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import forge from 'node-forge';

export interface TlsMaterial {
  /** The server certificate followed by the CA, so a client pinning the CA finds it in the chain. */
  certPem: string;
  keyPem: string;
  caCertPem: string;
  /** SHA-256 of the CA certificate's DER, lower-case hex without colons: what `vigie-agent enroll --ca-fingerprint` takes. */
  caFingerprint: string;
  generated: boolean;
}

export type TlsResult = { ok: true; tls: TlsMaterial } | { ok: false; message: string };

export function certFingerprint(pem: string): string {
  return createHash('sha256').update(new X509Certificate(pem).raw).digest('hex');
}

function pemBlocks(text: string): string[] {
  return text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
}

/**
 * Uses the operator's certificate and key. The fingerprint printed is the last
 * certificate in the file: the top of the chain they chose to send, which is what
 * an agent pins.
 */
export function loadTls(certFile: string, keyFile: string): TlsResult {
  try {
    const certPem = fs.readFileSync(certFile, 'utf8');
    const keyPem = fs.readFileSync(keyFile, 'utf8');
    const blocks = pemBlocks(certPem);
    const top = blocks[blocks.length - 1];
    if (!top) return { ok: false, message: `${certFile} holds no PEM certificate` };
    return { ok: true, tls: { certPem, keyPem, caCertPem: `${top}\n`, caFingerprint: certFingerprint(top), generated: false } };
  } catch (e) {
    return { ok: false, message: `cannot read the TLS certificate or key: ${(e as Error).message}` };
  }
}

function newKeys(): { forgeKey: forge.pki.rsa.PrivateKey; forgePublic: forge.pki.rsa.PublicKey; pem: string } {
  // Node generates the RSA key natively (forge's pure-JS keygen takes seconds); forge only signs.
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  return {
    forgeKey: forge.pki.privateKeyFromPem(pem),
    forgePublic: forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }).toString()),
    pem,
  };
}

function serial(): string {
  // Positive (leading bit clear) and unique enough that a browser never sees two certificates with one serial.
  return `01${randomBytes(15).toString('hex')}`;
}

function isIp(name: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(name) || name.includes(':');
}

export function makeLocalCa(now: Date, hostnames: string[]): Omit<TlsMaterial, 'generated'> {
  const ca = newKeys();
  const caCert = forge.pki.createCertificate();
  caCert.publicKey = ca.forgePublic;
  caCert.serialNumber = serial();
  caCert.validity.notBefore = new Date(now.getTime() - 3_600_000);
  caCert.validity.notAfter = new Date(now.getTime() + 10 * 365 * 86_400_000);
  const caName = [
    { name: 'commonName', value: `Vigie local CA (${os.hostname()})` },
    { name: 'organizationName', value: 'Vigie' },
  ];
  caCert.setSubject(caName);
  caCert.setIssuer(caName);
  caCert.setExtensions([
    { name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  caCert.sign(ca.forgeKey, forge.md.sha256.create());

  const server = newKeys();
  const cert = forge.pki.createCertificate();
  cert.publicKey = server.forgePublic;
  cert.serialNumber = serial();
  cert.validity.notBefore = new Date(now.getTime() - 3_600_000);
  // 825 days: the longest lifetime Apple platforms accept for a TLS server certificate.
  cert.validity.notAfter = new Date(now.getTime() + 825 * 86_400_000);
  cert.setSubject([{ name: 'commonName', value: hostnames[0] ?? 'localhost' }]);
  cert.setIssuer(caName);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames: hostnames.map((h) => (isIp(h) ? { type: 7, ip: h } : { type: 2, value: h })) },
    { name: 'authorityKeyIdentifier', keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes() },
  ]);
  cert.sign(ca.forgeKey, forge.md.sha256.create());

  const caCertPem = forge.pki.certificateToPem(caCert);
  const serverPem = forge.pki.certificateToPem(cert);
  return { certPem: serverPem + caCertPem, keyPem: server.pem, caCertPem, caFingerprint: certFingerprint(caCertPem) };
}

export function defaultHostnames(): string[] {
  return [...new Set(['localhost', '127.0.0.1', os.hostname()].filter(Boolean))];
}

/**
 * The certificate a collector uses when the operator gives none: a local CA and a
 * server certificate kept in DATA_DIR/tls, made on first start and reused after,
 * so agents that pinned the CA's fingerprint keep trusting the collector.
 */
export function ensureLocalTls(dataDir: string, now: Date, hostnames = defaultHostnames()): TlsResult {
  const dir = path.join(dataDir, 'tls');
  const files = { ca: path.join(dir, 'ca.pem'), cert: path.join(dir, 'server.pem'), key: path.join(dir, 'server-key.pem') };
  try {
    if (fs.existsSync(files.ca) && fs.existsSync(files.cert) && fs.existsSync(files.key)) {
      const caCertPem = fs.readFileSync(files.ca, 'utf8');
      const tls = { certPem: fs.readFileSync(files.cert, 'utf8'), keyPem: fs.readFileSync(files.key, 'utf8'), caCertPem, caFingerprint: certFingerprint(caCertPem), generated: false };
      fs.writeFileSync(path.join(dataDir, 'ca-fingerprint.txt'), `${tls.caFingerprint}\n`);
      return { ok: true, tls };
    }
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const made = makeLocalCa(now, hostnames);
    // The CA's key is not kept: a new server certificate means a new CA, and no key
    // on disk can sign a certificate an agent would trust.
    fs.writeFileSync(files.key, made.keyPem, { mode: 0o600 });
    fs.writeFileSync(files.cert, made.certPem);
    fs.writeFileSync(files.ca, made.caCertPem);
    fs.writeFileSync(path.join(dataDir, 'ca-fingerprint.txt'), `${made.caFingerprint}\n`);
    return { ok: true, tls: { ...made, generated: true } };
  } catch (e) {
    return { ok: false, message: `cannot prepare the TLS certificate in ${dir}: ${(e as Error).message}` };
  }
}
