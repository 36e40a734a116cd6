// The one error shape of the public API (RFC 9457 application/problem+json).
import { z } from 'zod';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export const problemTypes = {
  validation: 'urn:praxis:problem:validation',
  unauthenticated: 'urn:praxis:problem:unauthenticated',
  forbidden: 'urn:praxis:problem:forbidden',
  notFound: 'urn:praxis:problem:not-found',
  conflict: 'urn:praxis:problem:conflict',
  refused: 'urn:praxis:problem:refused',
  optedOut: 'urn:praxis:problem:opted-out',
  paymentRequired: 'urn:praxis:problem:payment-required',
  locked: 'urn:praxis:problem:locked',
  rateLimited: 'urn:praxis:problem:rate-limited',
  payloadTooLarge: 'urn:praxis:problem:payload-too-large',
  unsupportedMediaType: 'urn:praxis:problem:unsupported-media-type',
  methodNotAllowed: 'urn:praxis:problem:method-not-allowed',
  headersTooLarge: 'urn:praxis:problem:headers-too-large',
  unavailable: 'urn:praxis:problem:unavailable',
  timeout: 'urn:praxis:problem:timeout',
  gone: 'urn:praxis:problem:gone',
  internal: 'urn:praxis:problem:internal',
} as const;

export type ProblemType = (typeof problemTypes)[keyof typeof problemTypes];

export const problemFieldErrorSchema = z.object({ path: z.string(), message: z.string() });

export const problemSchema = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int().min(400).max(599),
  detail: z.string().optional(),
  instance: z.string().optional(),
  errorId: z.string().optional(),
  errors: z.array(problemFieldErrorSchema).optional(),
});

export type Problem = z.infer<typeof problemSchema>;
export type ProblemFieldError = z.infer<typeof problemFieldErrorSchema>;
