import { parsePlist } from './plist';

const wrap = (body: string) =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">\n<plist version="1.0">\n${body}\n</plist>\n`;

describe('parsePlist', () => {
  it('reads nested dicts and arrays with every scalar type', () => {
    const result = parsePlist(
      wrap(`<dict>
	<key>Name</key><string>Macintosh HD - Data</string>
	<key>Size</key><integer>994662584320</integer>
	<key>Ratio</key><real>0.25</real>
	<key>FileVault</key><true/>
	<key>Locked</key><false/>
	<key>Roles</key><array><string>Data</string></array>
	<key>Empty</key><array/>
	<key>Nested</key><dict><key>Inner</key><integer>-3</integer></dict>
	<key>When</key><date>2024-01-02T03:04:05Z</date>
	<key>Blob</key><data>
	  AAEC
	  Aw==
	</data>
</dict>`),
    );
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.value).toEqual({
      Name: 'Macintosh HD - Data',
      Size: 994662584320,
      Ratio: 0.25,
      FileVault: true,
      Locked: false,
      Roles: ['Data'],
      Empty: [],
      Nested: { Inner: -3 },
      When: new Date('2024-01-02T03:04:05Z'),
      Blob: 'AAECAw==',
    });
  });

  it('decodes entities and skips comments', () => {
    const result = parsePlist(wrap('<!-- a comment --><array><string>Backups of Michael&#8217;s &amp; &lt;Jo&gt; &#x41;</string><string/></array>'));
    expect(result).toEqual({ ok: true, value: ['Backups of Michael’s & <Jo> A', ''] });
  });

  it.each([
    ['an empty document', ''],
    ['plain text', 'FileVault is On.'],
    ['JSON', '{"Containers": []}'],
    ['a dict value without its key', wrap('<dict><string>x</string></dict>')],
    ['an unterminated string', wrap('<dict><key>a</key><string>x</dict>')],
    ['a bad integer', wrap('<integer>12a</integer>')],
    ['an unknown element', wrap('<foo/>')],
    ['an unknown entity', wrap('<string>&nbsp;</string>')],
    ['content after the root', `${wrap('<true/>')}<plist><true/></plist>`],
    ['an unterminated comment', '<plist><!-- never closed'],
    ['a missing </plist>', '<plist version="1.0"><dict></dict>'],
  ])('returns an error, never throws, for %s', (_name, xml) => {
    const result = parsePlist(xml);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.length).toBeGreaterThan(0);
  });
});
