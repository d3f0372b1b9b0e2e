import { factsHash, listChanges, sampleFacts, type Facts } from '@vigie/shared';
import { canonicalFacts, canonicalJson, canonicalSections, factsFromCanonical, primeStoredFacts, shareUnchangedElements } from './canonical-json';

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

describe('canonical JSON: facts rebuilt sharing what did not change with the previous facts', () => {
  type Item = { installedAt: string | null; name: string; publisher: string | null; scope: string; source: string; version: string | null };
  const awkward = ['a "quoted" name', 'back\\slash\\', 'ends with \\"', '{braces} [brackets], commas', 'é😀\u0001\n\t', '\\\\"', ''];
  const item = (n: number, version = `${n}.0`): Item => ({
    installedAt: n % 3 === 0 ? null : '2026-01-02',
    name: `${awkward[n % awkward.length]} app ${n}`,
    publisher: n % 2 ? `Publisher "${n}" \\ {}` : null,
    scope: 'machine',
    source: 'dpkg',
    version,
  });
  const withItems = (items: Item[]): Facts => ({ ...sampleFacts(), software: { items } }) as unknown as Facts;
  function rebuild(facts: Facts, previous: Facts | null): Facts {
    const { json, hash } = canonicalFacts(facts);
    return factsFromCanonical(json, hash, canonicalSections(facts)!, previous);
  }
  const items = (f: Facts) => (f.software as unknown as { items: Item[] }).items;
  /** The list is the previous one (same objects, same order) without `removed`, with `added` (new objects) put in. */
  function expectRecordedChanges(list: readonly unknown[], previous: readonly unknown[]): void {
    const changes = listChanges(list);
    expect(changes?.previous).toBe(previous);
    const { added, removed } = changes!;
    expect(added.every((x) => !previous.includes(x) && list.includes(x))).toBe(true);
    expect(removed.every((x) => previous.includes(x) && !list.includes(x))).toBe(true);
    expect(list.filter((x) => !added.includes(x))).toEqual(previous.filter((x) => !removed.includes(x)));
    expect(list.filter((x) => !added.includes(x)).every((x, n, kept) => x === previous.filter((y) => !removed.includes(y))[n] && kept.indexOf(x) === n)).toBe(true);
  }

  it('equals a plain parse, takes unchanged sections and unchanged items from the previous facts, and builds the rest', () => {
    const before = rebuild(withItems(Array.from({ length: 40 }, (_, n) => item(n))), null);
    const changed = Array.from({ length: 40 }, (_, n) => item(n));
    changed[7] = item(7, '7.1');
    changed.splice(20, 1);
    changed.push(item(99));
    const next = withItems(changed);
    const rebuilt = rebuild(next, before);
    expect(rebuilt).toEqual(JSON.parse(JSON.stringify(next)));
    expect(rebuilt.encryption).toBe(before.encryption);
    expect(rebuilt.software).not.toBe(before.software);
    const shared = items(rebuilt).filter((x) => items(before).includes(x));
    expect(shared).toHaveLength(38);
    expect(items(rebuilt)[7]).not.toBe(items(before)[7]);
    expect(items(rebuilt).at(-1)).toEqual(item(99));
    // The rebuilt facts canonicalise to the worker's text: the memo entries are right.
    expect(canonicalFacts(rebuilt).hash).toBe(factsHash(next));
    expect(canonicalJson(rebuilt.software)).toBe(JSON.stringify(JSON.parse(JSON.stringify(next.software))));
  });

  it('gives the plain parse for random edits of awkward strings, chained report after report', () => {
    let seed = 11;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    let list = Array.from({ length: 30 }, (_, n) => item(n));
    let previous: Facts | null = null;
    for (let round = 0; round < 40; round++) {
      list = list.map((x, n) => (random(5) === 0 ? item(n + 100 * round, `${round}.${random(9)}`) : x));
      if (random(3) === 0) list = list.slice(0, Math.max(0, list.length - random(4)));
      if (random(3) === 0) list = [...list, item(1000 + round)];
      if (round % 13 === 0) list = [];
      const facts = withItems(list);
      const rebuilt: Facts = rebuild(facts, previous);
      expect(rebuilt).toEqual(JSON.parse(JSON.stringify(facts)));
      expect(canonicalFacts(rebuilt).hash).toBe(factsHash(facts));
      if (previous && items(rebuilt) !== items(previous)) expectRecordedChanges(items(rebuilt), items(previous));
      previous = rebuilt;
    }
  });

  it('finds the unchanged items after an application installed or removed shifts the list', () => {
    const list = Array.from({ length: 10 }, (_, n) => item(n + 1));
    const before = rebuild(withItems(list), null);
    const installed = rebuild(withItems([item(0), ...list]), before);
    expect(items(installed).filter((x) => items(before).includes(x))).toHaveLength(10);
    const removed = rebuild(withItems(list.slice(1)), before);
    expect(items(removed).filter((x) => items(before).includes(x))).toHaveLength(9);
    const both = rebuild(withItems([...list.slice(0, 4), item(50), ...list.slice(5)]), before);
    expect(items(both).filter((x) => items(before).includes(x))).toHaveLength(9);
    // Several together, and an update next to them.
    const many = rebuild(withItems([list[0]!, list[1]!, item(60), item(61), item(62), ...list.slice(2, 6), ...list.slice(8)]), before);
    expect(items(many).filter((x) => items(before).includes(x))).toHaveLength(8);
    const updated = rebuild(withItems([item(1), item(2, '9.9'), ...list.slice(4)]), before);
    expect(items(updated).filter((x) => items(before).includes(x))).toHaveLength(7);
  });

  it('keeps its place after more updates in a row than it looks ahead, and shares nested elements too', () => {
    const list = Array.from({ length: 30 }, (_, n) => item(n));
    const before = rebuild(withItems(list), null);
    // Twelve applications updated together (an OS update): the ones after them are still found.
    const updated = rebuild(withItems(list.map((x, n) => (n >= 5 && n < 17 ? item(n, `${n}.9`) : x))), before);
    expect(items(updated).filter((x) => items(before).includes(x))).toHaveLength(18);
    expect(items(updated).slice(17).every((x, n) => x === items(before)[17 + n])).toBe(true);
    // Elements holding arrays and objects (USB devices with their mount points) are shared whole.
    const stick = (serial: string) => ({ mountPoints: ['/media/a', '/media/b'], product: 'Ultra', productId: '5581', serial, storage: true, vendor: 'SanDisk', vendorId: '0781' });
    const usb = (serials: string[]) => ({ ...sampleFacts(), usb: { devices: serials.map(stick), events: [] } }) as unknown as Facts;
    const first = rebuild(usb(['A', 'B', 'C']), null);
    const second = rebuild(usb(['A', 'X', 'C']), first);
    const devices = (f: Facts) => (f.usb as unknown as { devices: unknown[] }).devices;
    expect(second).toEqual(JSON.parse(JSON.stringify(usb(['A', 'X', 'C']))));
    expect(devices(second)[0]).toBe(devices(first)[0]);
    expect(devices(second)[2]).toBe(devices(first)[2]);
    expect(canonicalFacts(second).hash).toBe(factsHash(usb(['A', 'X', 'C'])));
  });

  it('gives the plain parse for random edits anywhere in two arrays of a section, around a member that changes too, chained', () => {
    let seed = 5;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    type Stick = { mountPoints: string[]; product: string; productId: string; serial: string; storage: boolean; vendor: string; vendorId: string };
    const stick = (n: number): Stick => ({ mountPoints: n % 2 ? [`/media/${awkward[n % awkward.length]}`] : [], product: `${awkward[(n + 3) % awkward.length]} ${n}`, productId: '5581', serial: `S${n}`, storage: n % 3 !== 0, vendor: 'SanDisk', vendorId: '0781' });
    const edit = <T,>(list: T[], make: (n: number) => T, round: number): T[] => {
      const out = [...list];
      for (let e = random(4); e > 0; e--) {
        const at = random(out.length + 1);
        const what = random(3);
        if (what === 0) out.splice(at, 0, make(1000 * round + e));
        else if (what === 1 && out.length > 0) out.splice(Math.min(at, out.length - 1), 1);
        else if (out.length > 0) out[Math.min(at, out.length - 1)] = make(2000 * round + e);
      }
      return out;
    };
    let devices = Array.from({ length: 25 }, (_, n) => stick(n));
    let apps = Array.from({ length: 60 }, (_, n) => item(n));
    let previous: Facts | null = null;
    let sharedTotal = 0;
    for (let round = 1; round <= 60; round++) {
      devices = edit(devices, stick, round);
      apps = edit(apps, (n) => item(n), round);
      const events = random(2) ? [] : [{ action: 'mounted', at: `2026-11-29T0${round % 10}:00:00.000Z`, device: stick(round), user: 'alice' }];
      const facts = { ...sampleFacts(), software: { items: apps }, usb: { devices, events } } as unknown as Facts;
      const rebuilt: Facts = rebuild(facts, previous);
      expect(rebuilt).toEqual(JSON.parse(JSON.stringify(facts)));
      expect(canonicalFacts(rebuilt).hash).toBe(factsHash(facts));
      if (previous) {
        sharedTotal += items(rebuilt).filter((x) => items(previous!).includes(x)).length;
        const usbDevices = (f: Facts) => (f.usb as unknown as { devices: unknown[] }).devices;
        // A section whose text did not change is the previous object, its lists too.
        if (items(rebuilt) !== items(previous)) expectRecordedChanges(items(rebuilt), items(previous));
        if (usbDevices(rebuilt) !== usbDevices(previous)) expectRecordedChanges(usbDevices(rebuilt), usbDevices(previous));
      }
      previous = rebuilt;
    }
    // Most items are shared, round after round (each round edits a few of 60).
    expect(sharedTotal).toBeGreaterThan(59 * 45);
  });

  it('shares the unchanged items of a delta applied on the previous facts, and keeps its content and hash', () => {
    const before = rebuild(withItems([item(1), item(2), item(3)]), null);
    const delta = JSON.parse(JSON.stringify({ software: { items: [item(1), item(4), item(3)] } })) as Facts;
    const facts = { ...before, ...delta } as Facts;
    shareUnchangedElements(facts, before);
    expect(items(facts)[0]).toBe(items(before)[0]);
    expect(items(facts)[1]).toEqual(item(4));
    expect(items(facts)[2]).toBe(items(before)[2]);
    expectRecordedChanges(items(facts), items(before));
    expect(listChanges(items(facts))?.added).toEqual([item(4)]);
    expect(canonicalFacts(facts).hash).toBe(factsHash(withItems([item(1), item(4), item(3)])));
  });

  it('records an empty list without holding the list before it, which would chain every list before alive', () => {
    const before = rebuild(withItems([item(1), item(2)]), null);
    const emptied = rebuild(withItems([]), before);
    expect(listChanges(items(emptied))?.previous).toBe(items(before));
    expect(listChanges(items(emptied))?.removed).toEqual(items(before));
    expect(listChanges(items(emptied))?.removed).not.toBe(items(before));
    // USB devices staying none while the events change, report after report.
    const usb = (n: number) => ({ ...sampleFacts(), usb: { devices: [], events: [{ action: 'mounted', at: `2026-11-29T08:00:0${n}.000Z`, device: { mountPoints: [], product: 'Ultra', productId: '5581', serial: `S${n}`, storage: true, vendor: 'SanDisk', vendorId: '0781' }, user: null }] } }) as unknown as Facts;
    const first = rebuild(usb(1), null);
    const second = rebuild(usb(2), first);
    const devices = (f: Facts) => (f.usb as unknown as { devices: unknown[] }).devices;
    expect(listChanges(devices(second))?.previous).toBe(devices(first));
    expect(listChanges(devices(second))?.removed).not.toBe(devices(first));
  });

  it('compares against previous facts parsed from the store (no memo yet)', () => {
    const stored = JSON.parse(canonicalFacts(withItems([item(1), item(2)])).json) as Facts;
    const rebuilt = rebuild(withItems([item(1), item(3)]), stored);
    expect(items(rebuilt)[0]).toBe(items(stored)[0]);
    expect(items(rebuilt)[1]).toEqual(item(3));
  });
});
