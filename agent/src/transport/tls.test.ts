import { normalizeFingerprint, TrustError } from './tls';

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
