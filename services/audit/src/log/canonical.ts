// The canonical JSON encoding every audit hash and signature is computed over
// (docs/audit.md): object keys sorted by UTF-16 code units at every depth, no
// whitespace, strings and numbers as JSON.stringify writes them, members whose value is
// undefined left out, UTF-8 bytes. Anything that is not plain JSON data is refused, so
// two implementations cannot disagree about what was hashed.
export function canonicalJson(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError('canonical JSON refuses NaN and infinities');
      return JSON.stringify(value);
    case 'object': {
      if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v === undefined ? null : v)).join(',')}]`;
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null)
        throw new TypeError(`canonical JSON refuses ${proto?.constructor?.name ?? 'this'} objects`);
      const obj = value as Record<string, unknown>;
      const keys = Object.keys(obj)
        .filter((k) => obj[k] !== undefined)
        .sort();
      return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(',')}}`;
    }
    default:
      throw new TypeError(`canonical JSON refuses a ${typeof value}`);
  }
}

/** The exact bytes that are hashed or signed. */
export function canonicalBytes(value: unknown): Buffer {
  return Buffer.from(canonicalJson(value), 'utf8');
}
