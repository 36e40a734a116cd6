import { isWellFormedText, jsonBodyDefect, jsonTextDefect } from './json-text';

describe('jsonTextDefect', () => {
  it('finds a duplicate key, however it is spelled, at any depth', () => {
    expect(jsonTextDefect('{"a":1,"a":2}')).toMatch(/duplicate key/);
    expect(jsonTextDefect('{"a":1,"\\u0061":2}')).toMatch(/duplicate key/);
    expect(jsonTextDefect('[{"x":{"b":[1,{"c":1,"c":1}]}}]')).toMatch(/duplicate key/);
  });

  it('lets the same key appear in sibling and nested objects, and key-like values', () => {
    expect(jsonTextDefect('[{"k":1},{"k":2}]')).toBeUndefined();
    expect(jsonTextDefect('{"k":{"k":{"k":1}},"j":"k","l":["k","k"]}')).toBeUndefined();
    expect(jsonTextDefect('{"a":"x","b":"x"}')).toBeUndefined();
    expect(jsonTextDefect('{"a":"quote \\" and , and } inside","b":1}')).toBeUndefined();
  });

  it('finds escaped lone surrogates but not pairs', () => {
    expect(jsonTextDefect('{"a":"\\ud800"}')).toMatch(/surrogate/);
    expect(jsonTextDefect('{"a":"\\udfff x"}')).toMatch(/surrogate/);
    expect(jsonTextDefect('{"a":"\\ud83d\\ude00"}')).toBeUndefined();
  });

  it('leaves syntax errors to JSON.parse', () => {
    expect(jsonTextDefect('{"a":')).toBeUndefined();
    expect(jsonTextDefect('{"a":"unterminated')).toBeUndefined();
  });
});

describe('jsonBodyDefect', () => {
  it('refuses bytes that are not UTF-8, and CESU-8 surrogates', () => {
    expect(jsonBodyDefect(Buffer.from([0x22, 0xff, 0x22]))).toMatch(/UTF-8/);
    expect(jsonBodyDefect(Buffer.from([0x22, 0xed, 0xa0, 0x80, 0x22]))).toMatch(/UTF-8/);
    expect(jsonBodyDefect(Buffer.from('{"name":"Zoë 😀"}'))).toBeUndefined();
  });
});

describe('isWellFormedText', () => {
  it('is false for unpaired surrogates only', () => {
    expect(isWellFormedText('a\ud800')).toBe(false);
    expect(isWellFormedText('\udc00a')).toBe(false);
    expect(isWellFormedText('😀')).toBe(true);
  });
});
