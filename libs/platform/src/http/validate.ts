// Validation at the edge: zod schemas for params, query and body, refusing unknown
// fields and any `$`-prefixed key (a MongoDB operator) wherever it appears.
import type { ProblemFieldError } from '@praxis/contracts';
import { z } from 'zod';
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
  const result = schema.safeParse(value);
  if (!result.success) throw problems.badRequest(`The ${where} is not valid.`, zodIssuesToErrors(result.error, where));
  return result.data;
}
