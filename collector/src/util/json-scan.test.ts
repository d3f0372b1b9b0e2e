import { valueEnd } from './json-scan';

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
