// The one central redaction list. Any log object passes through `redact`, which removes
// identifying data and secrets at any depth: by key name, and by value shape (emails,
// phone numbers, bearer tokens and JWTs inside free text).
const REDACTED = '[redacted]';

/** Keys whose values never reach a log, compared case-insensitively without `_`/`-`. */
export const redactedKeys: ReadonlySet<string> = new Set(
  [
    // people
    'name',
    'givenName',
    'familyName',
    'fullName',
    'firstName',
    'lastName',
    'displayName',
    'birthDate',
    'dob',
    'dateOfBirth',
    'email',
    'emailAddress',
    'phone',
    'mobile',
    'telephone',
    'tel',
    'address',
    'line1',
    'line2',
    'city',
    'postcode',
    'zip',
    // clinical and message content
    'body',
    'note',
    'notes',
    'text',
    'content',
    'html',
    'subject',
    'title',
    // secrets
    'password',
    'newPassword',
    'currentPassword',
    'secret',
    'otpauthUrl',
    'totpSecret',
    'token',
    'accessToken',
    'refreshToken',
    'mfaToken',
    'idToken',
    'authorization',
    'cookie',
    'setCookie',
    'code',
    'codes',
    'recoveryCodes',
    'otp',
    'apiKey',
    'privateKey',
    'key',
    'kek',
    'dataKey',
  ].map(normaliseKey),
);

function normaliseKey(k: string): string {
  return k.replace(/[-_]/g, '').toLowerCase();
}

const valuePatterns: [RegExp, string][] = [
  [/eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g, '[jwt]'],
  [/\bBearer\s+[A-Za-z0-9._~+/=-]+/gi, 'Bearer [redacted]'],
  [/[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g, '[email]'],
  [/\+[1-9]\d{7,14}\b/g, '[phone]'],
  [/\b0\d{9,10}\b/g, '[phone]'],
];

export function scrubString(s: string): string {
  let out = s;
  for (const [re, replacement] of valuePatterns) out = out.replace(re, replacement);
  return out;
}

export function redact(value: unknown, depth = 0): unknown {
  if (depth > 12) return '[depth]';
  if (typeof value === 'string') return scrubString(value);
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Date) return value;
  if (Buffer.isBuffer(value)) return '[buffer]';
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  if (value instanceof Error) {
    return { type: value.name, message: scrubString(value.message), stack: value.stack ? scrubString(value.stack) : undefined };
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    out[k] = redactedKeys.has(normaliseKey(k)) && v !== undefined && v !== null && !isIdLike(k, v) ? REDACTED : redact(v, depth + 1);
  }
  return out;
}

// `subject` is also the envelope's `{ patientId }`: keep objects made only of ids.
function isIdLike(key: string, v: unknown): boolean {
  if (normaliseKey(key) !== 'subject' || typeof v !== 'object' || v === null) return false;
  return Object.keys(v).every((k) => /id$/i.test(k));
}
