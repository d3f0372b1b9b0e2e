import { objectSpanAt, valueEnd } from './json-scan';

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

describe('valueEnd', () => {
  it('finds the end of each kind of value, and -1 where it does not close', () => {
    const text = '[{"a":"]}\\"","b":[1,{}]},"s\\"",-1.5e3,true,null]';
    const ends: string[] = [];
    for (let at = 1; text[at - 1] !== ']' && at < text.length; ) {
      const end = valueEnd(text, at);
      ends.push(text.slice(at, end));
      at = end + 1;
    }
    expect(ends).toEqual(['{"a":"]}\\"","b":[1,{}]}', '"s\\""', '-1.5e3', 'true', 'null']);
    expect(ends.map((e) => JSON.parse(e) as unknown)).toEqual((JSON.parse(text) as unknown[]));
    expect(valueEnd('{"a":[1}', 0)).toBe(-1);
    expect(valueEnd('"open', 0)).toBe(-1);
    expect(valueEnd(',', 0)).toBe(-1);
  });
});
