import type { Facts } from '@vigie/shared';
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
});
