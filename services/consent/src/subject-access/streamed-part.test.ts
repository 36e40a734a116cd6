import { JsonListSplitter } from './streamed-part';

/** Feed `text` in pieces of `size` characters; the items and the rest. */
function split(text: string, key: string, size: number) {
  const s = new JsonListSplitter(key);
  const items: string[] = [];
  for (let i = 0; i < text.length; i += size) items.push(...s.push(text.slice(i, i + size)));
  return { items, rest: s.end(), count: s.items };
}

describe('JsonListSplitter', () => {
  const notes = Array.from({ length: 50 }, (_, i) => ({
    id: `n${i}`,
    title: `T ${i} with "quotes", [brackets] and {braces} and \\\\ backslashes \\" é 😀`,
    versions: [
      { v: 1, body: 'a,b]c}' },
      { v: 2, body: '' },
    ],
  }));
  const part = { service: 'records', patient: { id: 'p', tags: ['a', 'b'], notes: ['not the list'] }, notes, generatedAt: 'now' };
  const text = JSON.stringify(part);

  it.each([1, 2, 7, 64, 1000, text.length])('hands on every item whole, in order, and keeps the rest (pieces of %i)', (size) => {
    const { items, rest, count } = split(text, 'notes', size);
    expect(items.map((i) => JSON.parse(i) as unknown)).toEqual(notes);
    expect(count).toBe(50);
    // The list is empty in the rest; a key of the same name deeper down is not the list.
    expect(rest).toEqual({ ...part, notes: [] });
  });

  it('reads pretty-printed text, scalar items and an empty list', () => {
    const pretty = JSON.stringify({ a: 1, notes: [1, 'two', null, { x: [3] }, [4]], b: [] }, null, 2);
    const { items, rest } = split(pretty, 'notes', 5);
    expect(items.map((i) => JSON.parse(i) as unknown)).toEqual([1, 'two', null, { x: [3] }, [4]]);
    expect(rest).toEqual({ a: 1, notes: [], b: [] });
    expect(split('{"notes":[]}', 'notes', 3)).toEqual({ items: [], rest: { notes: [] }, count: 0 });
    expect(split('{"other":[1]}\n', 'notes', 3)).toEqual({ items: [], rest: { other: [1] }, count: 0 });
  });

  it('refuses a part that ends early, is not an object, or goes on after its end', () => {
    expect(() => split(text.slice(0, -1), 'notes', 100)).toThrow('ended early');
    expect(() => split(text.slice(0, text.indexOf('"generatedAt"')), 'notes', 100)).toThrow('ended early');
    expect(() => split('{"a":1}{"b":2}', 'notes', 100)).toThrow('after the end');
    expect(() => split('{"a":1]', 'notes', 100)).toThrow();
  });
});
