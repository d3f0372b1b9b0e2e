import { X509Certificate } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ensureLocalTls, loadTls } from './tls';

describe('local CA', () => {
  it('makes a CA and a server certificate once, then reuses them', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-tls-'));
    try {
      const first = ensureLocalTls(dir, new Date(), ['localhost', '127.0.0.1', 'collector.example']);
      expect(first.ok).toBe(true);
      if (!first.ok) return;
      expect(first.tls.generated).toBe(true);
      expect(first.tls.caFingerprint).toMatch(/^[0-9a-f]{64}$/);
      expect(fs.readFileSync(path.join(dir, 'ca-fingerprint.txt'), 'utf8')).toBe(`${first.tls.caFingerprint}\n`);
      const ca = new X509Certificate(first.tls.caCertPem);
      const server = new X509Certificate(first.tls.certPem);
      expect(ca.ca).toBe(true);
      expect(server.checkIssued(ca)).toBe(true);
      expect(server.verify(ca.publicKey)).toBe(true);
      expect(server.subjectAltName).toBe('DNS:localhost, IP Address:127.0.0.1, DNS:collector.example');
      expect(ca.fingerprint256.replace(/:/g, '').toLowerCase()).toBe(first.tls.caFingerprint);
      if (process.platform !== 'win32') expect(fs.statSync(path.join(dir, 'tls', 'server-key.pem')).mode & 0o077).toBe(0);

      const again = ensureLocalTls(dir, new Date());
      expect(again.ok && again.tls).toMatchObject({ generated: false, caFingerprint: first.tls.caFingerprint });

      const given = loadTls(path.join(dir, 'tls', 'server.pem'), path.join(dir, 'tls', 'server-key.pem'));
      expect(given.ok && given.tls.caFingerprint).toBe(first.tls.caFingerprint);
      expect(loadTls(path.join(dir, 'nope.pem'), path.join(dir, 'nope.pem')).ok).toBe(false);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
