import { X509Certificate } from 'node:crypto';
import tls from 'node:tls';
import { makeChain, type TestChain } from './__fixtures__/pki';
import { normalizeFingerprint, tlsClientOptions, TrustError, verifyPinnedChain } from './tls';

describe('normalizeFingerprint', () => {
  const hex = 'ab'.repeat(32);
  it('accepts the usual spellings', () => {
    expect(normalizeFingerprint(hex.toUpperCase())).toBe(hex);
    expect(normalizeFingerprint(`SHA256:${'AB:'.repeat(31)}AB`)).toBe(hex);
    expect(normalizeFingerprint(` sha256=${hex} `)).toBe(hex);
  });
  it('refuses anything that is not 32 bytes of hex', () => {
    expect(() => normalizeFingerprint('abcd')).toThrow(TrustError);
    expect(() => normalizeFingerprint('zz'.repeat(32))).toThrow(/not a SHA-256 fingerprint/);
  });
});

/** What tls.getPeerCertificate(true) gives for this chain: leaf first, each linked to its issuer, the root to itself. */
function peerOf(chain: TestChain): tls.DetailedPeerCertificate {
  const certs = chain.pems.map((pem) => new X509Certificate(pem).toLegacyObject() as tls.DetailedPeerCertificate);
  certs.forEach((cert, i) => {
    cert.issuerCertificate = certs[i + 1] ?? cert;
  });
  return certs[0] as tls.DetailedPeerCertificate;
}

const fp = (chain: TestChain, i: number): string => chain.fingerprints[i] as string;

describe('verifyPinnedChain', () => {
  const now = new Date();
  // Root first, leaf last; fingerprints and PEMs come back leaf first.
  let direct: TestChain; // root CA -> leaf for collector.example / 127.0.0.1
  let viaIntermediate: TestChain; // root CA -> intermediate CA -> leaf
  let nonCaIntermediate: TestChain; // root CA -> leaf-ish intermediate (cA false) -> leaf
  let noBasicConstraints: TestChain; // root CA -> intermediate without basicConstraints -> leaf
  let clientOnly: TestChain; // root CA -> leaf with EKU clientAuth only
  let noEku: TestChain; // root CA -> leaf without an EKU extension

  beforeAll(() => {
    const root = { commonName: 'Corp Root', ca: true };
    const leaf = { commonName: 'collector.example', ca: false, eku: 'serverAuth' as const, altNames: ['collector.example', '127.0.0.1'] };
    direct = makeChain([root, leaf]);
    viaIntermediate = makeChain([root, { commonName: 'Corp Issuing CA', ca: true }, leaf]);
    nonCaIntermediate = makeChain([root, { commonName: 'some-host.corp', ca: false, eku: 'serverAuth' }, leaf]);
    noBasicConstraints = makeChain([root, { commonName: 'old-style', eku: 'serverAuth' }, leaf]);
    clientOnly = makeChain([root, { ...leaf, eku: 'clientAuth' }]);
    noEku = makeChain([root, { commonName: 'collector.example', ca: false, altNames: ['collector.example'] }]);
  });

  it('accepts a leaf for the right name under the pinned CA', () => {
    expect(verifyPinnedChain(peerOf(direct), fp(direct, 1), now, 'collector.example')).toEqual({ ok: true });
    expect(verifyPinnedChain(peerOf(direct), fp(direct, 1), now, '127.0.0.1')).toEqual({ ok: true });
    expect(verifyPinnedChain(peerOf(noEku), fp(noEku, 1), now, 'collector.example')).toEqual({ ok: true });
  });

  it('accepts a chain through CA intermediates, pinned at the root or the intermediate', () => {
    const peer = peerOf(viaIntermediate);
    expect(verifyPinnedChain(peer, fp(viaIntermediate, 2), now, 'collector.example')).toEqual({ ok: true });
    expect(verifyPinnedChain(peer, fp(viaIntermediate, 1), now, 'collector.example')).toEqual({ ok: true });
  });

  it('refuses a certificate for another name under the pinned CA', () => {
    const result = verifyPinnedChain(peerOf(direct), fp(direct, 1), now, 'agents.other.example');
    expect(result).toEqual({ ok: false, reason: expect.stringMatching(/not for "agents\.other\.example"/) });
    expect(verifyPinnedChain(peerOf(direct), fp(direct, 1), now, '127.0.0.2').ok).toBe(false);
  });

  it('refuses a chain where a non-CA signed the leaf', () => {
    for (const chain of [nonCaIntermediate, noBasicConstraints]) {
      const result = verifyPinnedChain(peerOf(chain), fp(chain, 2), now, 'collector.example');
      expect(result).toEqual({ ok: false, reason: expect.stringMatching(/is not a CA/) });
    }
  });

  it('refuses a leaf whose extended key usage excludes serverAuth', () => {
    const result = verifyPinnedChain(peerOf(clientOnly), fp(clientOnly, 1), now, 'collector.example');
    expect(result).toEqual({ ok: false, reason: expect.stringMatching(/not meant for TLS servers/) });
  });

  it('accepts a pinned leaf whatever its names and usages: that pin is explicit trust', () => {
    expect(verifyPinnedChain(peerOf(direct), fp(direct, 0), now, 'anything.example')).toEqual({ ok: true });
    expect(verifyPinnedChain(peerOf(clientOnly), fp(clientOnly, 0), now, 'anything.example')).toEqual({ ok: true });
  });

  it('still refuses a chain that does not reach the pin', () => {
    expect(verifyPinnedChain(peerOf(direct), fp(viaIntermediate, 2), now, 'collector.example').ok).toBe(false);
  });
});

describe('tlsClientOptions with a pin', () => {
  type Connect = (options: tls.ConnectionOptions & { host?: string }) => tls.TLSSocket;

  /** Serves `chain` on 127.0.0.1 and connects with the pinned socket factory; resolves once trusted, rejects otherwise. */
  async function handshake(chain: TestChain, pin: string): Promise<void> {
    const server = tls.createServer({ key: chain.leafKeyPem, cert: chain.pems.join('') });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    try {
      const connect = tlsClientOptions({ caFingerprint: pin }).createConnection as Connect;
      await new Promise<void>((resolve, reject) => {
        const socket = connect({ host: '127.0.0.1', port });
        const timer = setTimeout(() => reject(new Error('handshake timed out')), 5_000);
        socket.once('error', (err) => {
          clearTimeout(timer);
          reject(err);
        });
        // The pin check runs in an earlier secureConnect listener; a refused socket is destroyed by then.
        socket.once('secureConnect', () =>
          setImmediate(() => {
            clearTimeout(timer);
            if (!socket.destroyed) {
              socket.destroy();
              resolve();
            }
          }),
        );
      });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  }

  let good: TestChain;
  let otherName: TestChain;
  beforeAll(() => {
    good = makeChain([{ commonName: 'Corp Root', ca: true }, { commonName: 'c', ca: false, eku: 'serverAuth', altNames: ['127.0.0.1'] }]);
    otherName = makeChain([{ commonName: 'Corp Root', ca: true }, { commonName: 'c', ca: false, eku: 'serverAuth', altNames: ['mail.corp.example'] }]);
  });

  it('checks the connected host name against the leaf when the pin is a CA', async () => {
    await expect(handshake(good, fp(good, 1))).resolves.toBeUndefined();
    await expect(handshake(otherName, fp(otherName, 1))).rejects.toThrow(TrustError);
    await expect(handshake(otherName, fp(otherName, 1))).rejects.toThrow(/not for "127\.0\.0\.1"/);
  });

  it('accepts a pinned leaf for another name', async () => {
    await expect(handshake(otherName, fp(otherName, 0))).resolves.toBeUndefined();
  });
});
