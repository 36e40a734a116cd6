// The one error type. Throw a ProblemError anywhere below a route; the error middleware
// turns it into application/problem+json.
import { type ProblemFieldError, problemTypes } from '@praxis/contracts';

export class ProblemError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    readonly title: string,
    readonly detail?: string,
    readonly errors?: ProblemFieldError[],
    readonly headers: Record<string, string> = {},
  ) {
    super(detail ?? title);
    this.name = 'ProblemError';
  }
}

export const problems = {
  badRequest: (detail?: string, errors?: ProblemFieldError[]) =>
    new ProblemError(400, problemTypes.validation, 'Invalid request', detail, errors),
  unauthenticated: (detail = 'A valid access token is required.') =>
    new ProblemError(401, problemTypes.unauthenticated, 'Unauthenticated', detail, undefined, { 'WWW-Authenticate': 'Bearer' }),
  forbidden: (detail = 'You are not allowed to do this.') => new ProblemError(403, problemTypes.forbidden, 'Forbidden', detail),
  notFound: (detail = 'Not found.') => new ProblemError(404, problemTypes.notFound, 'Not found', detail),
  conflict: (detail: string) => new ProblemError(409, problemTypes.conflict, 'Conflict', detail),
  paymentRequired: (detail: string) => new ProblemError(402, problemTypes.paymentRequired, 'Payment required', detail),
  unprocessable: (detail: string, type: string = problemTypes.refused) => new ProblemError(422, type, 'Refused', detail),
  locked: (retryAfterSeconds: number, detail = 'Temporarily locked.') =>
    new ProblemError(423, problemTypes.locked, 'Locked', detail, undefined, {
      'Retry-After': String(Math.max(1, Math.ceil(retryAfterSeconds))),
    }),
  tooManyRequests: (retryAfterSeconds: number, detail = 'Too many requests.') =>
    new ProblemError(429, problemTypes.rateLimited, 'Too many requests', detail, undefined, {
      'Retry-After': String(Math.max(1, Math.ceil(retryAfterSeconds))),
    }),
  payloadTooLarge: () =>
    new ProblemError(413, problemTypes.payloadTooLarge, 'Payload too large', 'The request body is larger than allowed.'),
  unsupportedMediaType: (detail = 'This content encoding or type is not accepted.') =>
    new ProblemError(415, problemTypes.unsupportedMediaType, 'Unsupported media type', detail),
  methodNotAllowed: (allow: readonly string[]) =>
    new ProblemError(405, problemTypes.methodNotAllowed, 'Method not allowed', 'This method is not supported.', undefined, {
      Allow: allow.join(', '),
    }),
  unavailable: (detail = 'A dependency is unavailable.') => new ProblemError(503, problemTypes.unavailable, 'Service unavailable', detail),
  timeout: (detail = 'A dependency did not answer in time.') => new ProblemError(504, problemTypes.timeout, 'Gateway timeout', detail),
  gone: (detail = 'This is no longer available.') => new ProblemError(410, problemTypes.gone, 'Gone', detail),
};
