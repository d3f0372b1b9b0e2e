import { objectSpanAt } from './json-scan';

describe('objectSpanAt', () => {
  it("finds an object's end and its members' value spans, past strings holding brackets, quotes and escapes", () => {
    const inner = { a: 'x}y{"', 'b"\\': [1, { c: '\\"]' }], d: null, e: {} };
    const text = `{"before":1,"facts":${JSON.stringify(inner)},"after":[2]}`;
    const start = text.indexOf('{', 1);
    const span = objectSpanAt(text, start);
    expect(span).not.toBeNull();
    expect(text.slice(start, span!.end)).toBe(JSON.stringify(inner));
    const members = span!.members.map(([key, from, to]) => [key, JSON.parse(text.slice(from, to)) as unknown]);
    expect(members).toEqual(Object.entries(inner));
  });

  it('reads an empty object, and gives null where no object opens or where it never closes', () => {
    expect(objectSpanAt('{}', 0)).toEqual({ end: 2, members: [] });
    expect(objectSpanAt('[1]', 0)).toBeNull();
    expect(objectSpanAt('{"a":[1,2}', 0)).toBeNull();
    expect(objectSpanAt('{"a":"unterminated}', 0)).toBeNull();
    expect(objectSpanAt('{"a\\u":1}', 0)).toBeNull();
  });
});
