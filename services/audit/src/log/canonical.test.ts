import { canonicalJson } from './canonical';

describe('canonical JSON', () => {
  it('sorts keys at every depth and writes no whitespace', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: true, y: null }], c: 'x' } })).toBe('{"a":{"c":"x","d":[3,{"y":null,"z":true}]},"b":1}');
  });

  it('gives the same text whatever order the keys were written in', () => {
    expect(canonicalJson({ x: 1, y: { p: 'q', o: 2 } })).toBe(canonicalJson({ y: { o: 2, p: 'q' }, x: 1 }));
  });

  it('leaves out undefined members and escapes strings like JSON', () => {
    expect(canonicalJson({ a: undefined, b: 'é"\n' })).toBe('{"b":"é\\"\\n"}');
  });

  it('sorts by UTF-16 code units', () => {
    expect(canonicalJson({ b: 1, B: 2, a: 3, é: 4 })).toBe('{"B":2,"a":3,"b":1,"é":4}');
  });

  it('refuses what is not plain JSON data', () => {
    expect(() => canonicalJson({ n: NaN })).toThrow();
    expect(() => canonicalJson({ d: new Date() })).toThrow();
    expect(() => canonicalJson({ f: () => 1 })).toThrow();
  });
});
