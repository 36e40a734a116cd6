// What JSON.parse lets through and we refuse: bytes that are not UTF-8 (they would be
// stored as U+FFFD), strings holding a lone surrogate (escaped as \uD800…), and an object
// with the same key twice (JSON.parse keeps the last one silently, so two readers of one
// body can disagree about what it says).

const fatalUtf8 = new TextDecoder('utf-8', { fatal: true });
const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** True when the string holds no unpaired UTF-16 surrogate. */
export function isWellFormedText(s: string): boolean {
  return !loneSurrogate.test(s);
}

/** Why a JSON body is refused, or undefined when it is acceptable (syntax is left to JSON.parse). */
export function jsonBodyDefect(buf: Buffer): string | undefined {
  let text: string;
  try {
    text = fatalUtf8.decode(buf);
  } catch {
    return 'The body is not valid UTF-8.';
  }
  return jsonTextDefect(text);
}

/** Duplicate keys and lone surrogates in a JSON text; undefined when there are none. */
export function jsonTextDefect(text: string): string | undefined {
  // One Set of keys per open object, null per open array.
  const stack: (Set<string> | null)[] = [];
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      let j = i + 1;
      let escaped = false;
      while (j < text.length) {
        const d = text.charCodeAt(j);
        if (d === 0x5c) {
          escaped = true;
          j += 2;
        } else if (d === 0x22) break;
        else j++;
      }
      if (j >= text.length) return undefined; // unterminated: JSON.parse says so
      let value = text.slice(i + 1, j);
      if (escaped) {
        try {
          value = JSON.parse(text.slice(i, j + 1)) as string;
        } catch {
          return undefined;
        }
      }
      if (!isWellFormedText(value)) return 'The body holds a lone surrogate (\\uD800–\\uDFFF without its pair).';
      const top = stack[stack.length - 1];
      if (top && expectKey) {
        if (top.has(value)) return 'The body has an object with a duplicate key.';
        top.add(value);
        expectKey = false;
      }
      i = j;
      continue;
    }
    if (c === 0x7b) {
      stack.push(new Set());
      expectKey = true;
    } else if (c === 0x5b) {
      stack.push(null);
      expectKey = false;
    } else if (c === 0x7d || c === 0x5d) {
      stack.pop();
      expectKey = false;
    } else if (c === 0x2c) {
      expectKey = stack[stack.length - 1] instanceof Set;
    } else if (c === 0x3a) {
      expectKey = false;
    }
  }
  return undefined;
}
