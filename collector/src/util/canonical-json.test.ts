import { factsHash, sampleFacts, type Facts } from '@vigie/shared';
import { canonicalFacts, canonicalJson, canonicalSections, factsFromCanonical, primeStoredFacts } from './canonical-json';

/** The same data with every object's keys in reverse order. */
function reversed<T>(value: T): T {
  if (Array.isArray(value)) return value.map(reversed) as T;
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).reverse().map(([k, v]) => [k, reversed(v)])) as T;
  return value;
}

const facts = (): Facts => sampleFacts();

describe('canonicalFacts', () => {
  it('gives the same hash as shared factsHash, whatever the key order', () => {
    const f = facts();
    expect(canonicalFacts(f).hash).toBe(factsHash(f));
    expect(canonicalFacts(reversed(f)).hash).toBe(factsHash(f));
  });

  it('gives the same hash as factsHash for awkward strings, numbers and undefined members', () => {
    const f = facts() as unknown as Record<string, unknown>;
    f.device = { ...(f.device as object), hostname: 'é"\\\n\u0001\ud800 😀', extra: undefined, n: -0, big: 1e21, list: [undefined, 1.5, null] };
    const c = canonicalFacts(f as unknown as Facts);
    expect(c.hash).toBe(factsHash(f as unknown as Facts));
    expect(JSON.parse(c.json)).toEqual(JSON.parse(JSON.stringify(f)));
  });

  it('falls back to factsHash for data that is not plain JSON', () => {
    const f = facts() as unknown as Record<string, unknown>;
    f.device = { ...(f.device as object), at: new Date('2026-01-01T00:00:00Z'), byIndex: { 10: 'a', 9: 'b' } };
    expect(canonicalFacts(f as unknown as Facts).hash).toBe(factsHash(f as unknown as Facts));
    expect(canonicalJson(f.device)).toBeNull();
  });

  it('reuses the previous report canonical text only for sections with the same content', () => {
    const previous = facts();
    canonicalFacts(previous);
    const next = facts();
    const software = next.software as { items: { name: string; version: string | null }[] };
    software.items[0]!.version = '999.1';
    const c = canonicalFacts(next, previous);
    expect(c.hash).toBe(factsHash(next));
    expect(c.hash).not.toBe(factsHash(previous));
    expect(canonicalJson(next.encryption)).toBe(canonicalJson(previous.encryption));
    expect(canonicalJson(next.software)).not.toBe(canonicalJson(previous.software));
  });
});

describe('primeStoredFacts', () => {
  it('accepts facts parsed from canonical text with its hash, and refuses a wrong hash', () => {
    const { json, hash } = canonicalFacts(facts());
    const parsed = JSON.parse(json) as Facts;
    expect(primeStoredFacts(parsed, hash)).toBe(true);
    expect(canonicalJson(parsed.software)).toBe(JSON.stringify(parsed.software));
    expect(primeStoredFacts(JSON.parse(json) as Facts, '0'.repeat(64))).toBe(false);
  });

  it('refuses facts stored in another key order, which then canonicalise the slow way', () => {
    const f = reversed(facts());
    const stored = JSON.parse(JSON.stringify(f)) as Facts;
    expect(primeStoredFacts(stored, factsHash(f))).toBe(false);
    expect(canonicalFacts(stored).hash).toBe(factsHash(f));
  });
});

describe('canonical JSON: facts rebuilt from their text, section by section', () => {
  it('gives the same facts, text and hash, without hashing again', () => {
    const facts = sampleFacts();
    const { json, hash } = canonicalFacts(facts);
    const sections = canonicalSections(facts)!;
    for (const [key, start, end] of sections) expect(JSON.parse(json.slice(start, end))).toEqual(JSON.parse(JSON.stringify((facts as Record<string, unknown>)[key])));
    const rebuilt = factsFromCanonical(json, hash, sections);
    expect(rebuilt).toEqual(JSON.parse(JSON.stringify(facts)));
    expect(canonicalFacts(rebuilt)).toEqual({ json, hash });
    expect(hash).toBe(factsHash(facts));
  });
});
