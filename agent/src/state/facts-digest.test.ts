import { readFileSync } from 'node:fs';
import path from 'node:path';
import { changedSections, factsHash, type Facts, type PartialFacts } from '@vigie/shared';
import { parseDpkgQuery } from '../probes/software/parse-dpkg-query';
import { sampleFacts } from '../transport/__fixtures__/facts';
import { changedSectionsByDigest, digestFacts } from './facts-digest';

const fixture = (rel: string) => readFileSync(path.join(__dirname, '..', '..', 'test', 'fixtures', rel), 'utf8');

/** Facts with a real package list: the section that makes up most of a report. */
function realFacts(): Facts {
  return { ...sampleFacts(), software: parseDpkgQuery(fixture('software/linux/dpkg-query-debian12.txt')) };
}

describe('digestFacts', () => {
  it('equals shared factsHash on real facts', () => {
    const facts = realFacts();
    expect('items' in facts.software && facts.software.items.length).toBeGreaterThan(100);
    expect(digestFacts(facts).factsHash).toBe(factsHash(facts));
    expect(digestFacts(sampleFacts(3)).factsHash).toBe(factsHash(sampleFacts(3)));
  });

  it('equals shared factsHash on awkward values: escapes, unicode, key order, numbers, holes', () => {
    const awkward = {
      zeta: { b: 1, a: [1, undefined, null, () => 1, 'x'], A: true, é: 'é', '': 0 },
      alpha: {
        text: 'quote " backslash \\ newline \n tab \t nul \u0000 del \u007f',
        lone: 'high \ud800 low \udc00 pair \ud83d\ude00',
        long: `${'a'.repeat(6000)}"${'b'.repeat(9000)}`,
        nums: [0, -0, 1.5, -2e-7, 1e21, 123456789012345680000, Number.NaN, Number.POSITIVE_INFINITY],
        when: new Date(Date.UTC(2026, 10, 29)),
        skipped: undefined,
        fn: () => 2,
        nested: { '10': 'ten', '9': 'nine', b: { y: [], x: {} } },
        big: BigInt(42),
      },
      omittedSection: undefined,
    } as unknown as PartialFacts;
    expect(digestFacts(awkward).factsHash).toBe(factsHash(awkward));
    expect(digestFacts({} as PartialFacts).factsHash).toBe(factsHash({} as PartialFacts));
  });

  it('changes with any section, and only that section digest changes', () => {
    const a = digestFacts(sampleFacts(0));
    const b = digestFacts(sampleFacts(1));
    expect(b.factsHash).not.toBe(a.factsHash);
    expect(Object.keys(a.sections).filter((k) => a.sections[k] !== b.sections[k])).toEqual(['screenlock']);
  });
});

describe('changedSectionsByDigest', () => {
  it('returns what shared changedSections returns', () => {
    const before = realFacts();
    const same = realFacts();
    const moved = { ...sampleFacts(7), software: before.software };
    const noSoftware = { ...before, software: { unknown: true, reason: 'dpkg-query missing' } } as Facts;
    for (const next of [same, moved, noSoftware]) {
      expect(changedSectionsByDigest(digestFacts(before), digestFacts(next), next)).toEqual(changedSections(before, next));
    }
    expect(Object.keys(changedSectionsByDigest(digestFacts(before), digestFacts(same), same))).toEqual([]);
  });
});
