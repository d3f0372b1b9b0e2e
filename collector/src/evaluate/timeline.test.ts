import { recordListChanges, type Facts } from '@vigie/shared';
import { sampleFacts } from '../testing/fixtures';
import { timelineChanges } from './timeline';

const app = (name: string, version: string | null) => ({ name, version, publisher: null, source: 'registry' as const, scope: 'machine' as const, installedAt: null });
const withApps = (...items: ReturnType<typeof app>[]): Facts => sampleFacts({ software: { items } });

describe('timeline', () => {
  it('describes installs, removals and updates by name and version, report after report', () => {
    const first = withApps(app('Zoom', '6.0'), app('VLC', '3.0'));
    expect(timelineChanges(null, first)).toEqual([{ section: 'agent', summary: 'First report received' }]);
    const second = withApps(app('Zoom', '6.1'), app('VLC', '3.0'), app('7-Zip', null));
    expect(timelineChanges(first, second)).toEqual([{ section: 'software', summary: '2 installed (7-Zip, Zoom 6.1); 1 removed (Zoom 6.0)' }]);
    // The second report's list is now the previous one (its labels are remembered): the same answer as from scratch.
    const third = withApps(app('Zoom', '6.1'));
    expect(timelineChanges(second, third)).toEqual([{ section: 'software', summary: '2 removed (7-Zip, VLC 3.0)' }]);
    expect(timelineChanges(withApps(app('Zoom', '6.1'), app('VLC', '3.0'), app('7-Zip', null)), third)).toEqual(timelineChanges(second, third));
    expect(timelineChanges(third, third)).toEqual([]);
  });

  it("describes a list built from the previous one from its changes as it describes the whole lists", () => {
    let seed = 9;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    // Few names and versions, and a name that is another's label: the same label often stays in the list through another item.
    const make = () => app(['Zoom', 'VLC', '7-Zip', 'Zoom 6.1', 'Git'][random(5)]!, random(3) ? `6.${random(3)}` : null);
    let previous = withApps(...Array.from({ length: 8 }, make));
    let described = 0;
    for (let round = 0; round < 300; round++) {
      const list = (previous.software as { items: ReturnType<typeof app>[] }).items;
      const removed = list.filter(() => random(4) === 0);
      const added = Array.from({ length: random(3) }, make);
      const items = [...list.filter((x) => !removed.includes(x)), ...added];
      recordListChanges(items, list, added, removed);
      const next = { ...previous, software: { items } };
      const copies = (f: Facts) => ({ ...f, software: { items: (f.software as { items: object[] }).items.map((x) => ({ ...x })) } }) as Facts;
      const changes = timelineChanges(previous, next);
      expect(changes).toEqual(timelineChanges(copies(previous), copies(next)));
      described += changes.length;
      previous = next;
    }
    expect(described).toBeGreaterThan(100);
  });
});
