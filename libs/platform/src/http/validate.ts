// Validation at the edge: zod schemas for params, query and body, refusing unknown
// fields and any `$`-prefixed key (a MongoDB operator) wherever it appears.
import type { ProblemFieldError } from '@praxis/contracts';
import { z } from 'zod';
import { isWellFormedText } from './json-text';
import { problems } from './problem';

export function findOperatorKeys(value: unknown, path: (string | number)[] = [], out: string[] = [], depth = 0): string[] {
  if (depth > 32 || value === null || typeof value !== 'object') return out;
  if (Array.isArray(value)) {
    value.forEach((v, i) => findOperatorKeys(v, [...path, i], out, depth + 1));
    return out;
  }
  for (const [k, v] of Object.entries(value)) {
    if (k.startsWith('$') || k.includes('\u0000')) out.push([...path, k].join('.'));
    findOperatorKeys(v, [...path, k], out, depth + 1);
  }
  return out;
}

/** Paths of strings (keys included) holding a lone surrogate: they cannot be stored as UTF-8. */
export function findIllFormedText(value: unknown, path: (string | number)[] = [], out: string[] = [], depth = 0): string[] {
  if (typeof value === 'string') {
    if (!isWellFormedText(value)) out.push(path.join('.'));
    return out;
  }
  if (depth > 32 || value === null || typeof value !== 'object') return out;
  if (Array.isArray(value)) {
    value.forEach((v, i) => findIllFormedText(v, [...path, i], out, depth + 1));
    return out;
  }
  for (const [k, v] of Object.entries(value)) {
    if (!isWellFormedText(k)) out.push([...path, '?'].join('.'));
    findIllFormedText(v, [...path, k], out, depth + 1);
  }
  return out;
}

/**
 * Characters refused in human text (names, titles): C0/C1 controls, format characters
 * (bidi overrides and isolates U+202A–202E, U+2066–2069, marks U+200E/200F/061C,
 * zero-width U+200B–200D, U+2060, U+FEFF, soft hyphen), line/paragraph separators,
 * private-use code points and unpaired surrogates.
 */
const notHumanText = /[\p{Cc}\p{Cf}\p{Co}\p{Cs}\u2028\u2029]/u;
/** In multi-line text (a note's body) newlines and tabs are fine; the rest is refused as above. */
const notMultilineText = /(?![\t\n\r])\p{Cc}|[\p{Cf}\p{Co}\p{Cs}\u2028\u2029]/u;

export function isHumanText(s: string, opts: { multiline?: boolean } = {}): boolean {
  return !(opts.multiline ? notMultilineText : notHumanText).test(s) && isWellFormedText(s);
}

/**
 * A human-text field (a person's or a practice's name, a title): trimmed, min..max
 * characters, and no control, format (bidi, zero-width) or private-use characters.
 */
export function humanText(opts: { min?: number; max: number; multiline?: boolean }) {
  // One-line text is trimmed; multi-line text (a note) is kept exactly as written.
  return (opts.multiline ? z.string() : z.string().trim())
    .min(opts.min ?? 1)
    .max(opts.max)
    .refine(
      (s) => isHumanText(s, opts),
      opts.multiline
        ? 'control, bidi-override and zero-width characters are not allowed'
        : 'control, bidi-override, zero-width and line-break characters are not allowed',
    );
}

/**
 * A string of min..max characters counted as JSON Schema counts them (code points, so an
 * emoji is one), documented as minLength/maxLength.
 */
export function codePointString(min: number, max: number) {
  return z
    .string()
    .max(max * 2)
    .refine((s) => {
      const n = [...s].length;
      return n >= min && n <= max;
    }, `between ${min} and ${max} characters`)
    .meta({ minLength: min, maxLength: max });
}

/** A PATCH body: at least one field (documented as minProperties: 1). */
export function atLeastOneField<S extends z.ZodObject>(schema: S): S {
  return schema.refine((o) => Object.keys(o as object).length > 0, 'send at least one field').meta({ minProperties: 1 }) as unknown as S;
}

export function zodIssuesToErrors(error: z.ZodError, prefix: string): ProblemFieldError[] {
  return error.issues.map((issue) => {
    let message = issue.message;
    if (issue.code === 'unrecognized_keys') message = `unknown field(s): ${issue.keys.join(', ')}`;
    return { path: [prefix, ...issue.path.map(String)].filter(Boolean).join('.'), message };
  });
}

export function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown, where: 'params' | 'query' | 'body'): z.infer<S> {
  const operators = findOperatorKeys(value);
  if (operators.length) {
    throw problems.badRequest(
      'Field names may not start with `$`.',
      operators.map((p) => ({ path: `${where}.${p}`, message: 'operator keys are not allowed' })),
    );
  }
  const illFormed = findIllFormedText(value);
  if (illFormed.length) {
    throw problems.badRequest(
      'Text must be valid Unicode.',
      illFormed.map((p) => ({ path: [where, p].filter(Boolean).join('.'), message: 'holds a lone surrogate' })),
    );
  }
  const result = schema.safeParse(value);
  if (!result.success) throw problems.badRequest(`The ${where} is not valid.`, zodIssuesToErrors(result.error, where));
  return result.data;
}
