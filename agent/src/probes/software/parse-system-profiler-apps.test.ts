import fs from 'node:fs';
import path from 'node:path';
import { softwareSection as softwareSchema } from '@vigie/shared';
import { parseSystemProfilerApps } from './parse-system-profiler-apps';

const fixture = () =>
  fs.readFileSync(path.join(__dirname, '../../../test/fixtures/software/darwin/system-profiler-apps.json'), 'utf8');

describe('parseSystemProfilerApps', () => {
  it('reads real apps: Apple, Mac App Store, Developer ID, unsigned, without version', () => {
    const section = parseSystemProfilerApps(fixture());
    expect(section).toEqual({
      items: [
        { name: 'App Store', version: '3.0', publisher: 'Apple Inc.', source: 'app', scope: 'machine', installedAt: '2026-06-25T02:29:03.000Z' },
        { name: 'Pages', version: '12.0', publisher: null, source: 'app', scope: 'machine', installedAt: '2022-10-08T21:33:16.000Z' },
        { name: 'Spotify', version: '1.2.0.1165.gabf054ab', publisher: 'Spotify', source: 'app', scope: 'machine', installedAt: '2022-12-05T16:17:16.000Z' },
        { name: 'Automator Application Stub', version: '1.3', publisher: null, source: 'app', scope: 'machine', installedAt: '2026-06-25T02:29:03.000Z' },
        { name: 'liquiddetectiond', version: null, publisher: 'Apple Inc.', source: 'app', scope: 'machine', installedAt: '2026-06-25T02:29:03.000Z' },
      ],
    });
    expect(softwareSchema.safeParse(section).success).toBe(true);
  });

  it('marks apps in a home folder as the user’s', () => {
    const text = JSON.stringify({ SPApplicationsDataType: [{ _name: 'Tool', path: '/Users/marie/Applications/Tool.app' }] });
    expect(parseSystemProfilerApps(text)).toMatchObject({ items: [{ name: 'Tool', scope: 'user' }] });
  });

  it('returns unknown for truncated JSON or another data type', () => {
    expect(parseSystemProfilerApps('{"SPApplicationsDataType": [{"_name": "App')).toMatchObject({ unknown: true });
    expect(parseSystemProfilerApps('{"SPUSBDataType": []}')).toEqual({
      unknown: true,
      reason: 'system_profiler JSON has no SPApplicationsDataType array',
    });
  });
});
