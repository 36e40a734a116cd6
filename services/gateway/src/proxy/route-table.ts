// Which service answers which public path, which paths need no token at the edge, and a
// coarse route class for logs and metrics (static words kept, ids and tokens replaced).
// Paths are matched case-insensitively, as the services' express routers match them.

export type UpstreamName = 'auth' | 'records' | 'consent' | 'messaging' | 'audit';
export const upstreamNames: readonly UpstreamName[] = ['auth', 'records', 'consent', 'messaging', 'audit'];

export type RouteDecision =
  | { kind: 'proxy'; upstream: UpstreamName; isPublic: boolean; authClass: boolean; routeClass: string }
  | { kind: 'not-found' }
  | { kind: 'bad-path' };

const byFirstSegment: Record<string, UpstreamName> = {
  tenants: 'auth',
  auth: 'auth',
  users: 'auth',
  support: 'auth',
  patients: 'records',
  templates: 'records',
  'subject-access-requests': 'consent',
  'erasure-requests': 'consent',
  'privacy-notice-versions': 'consent',
  'privacy-notices': 'consent',
  messages: 'messaging',
  'direct-messages': 'messaging',
  dm: 'messaging',
  'sms-credits': 'messaging',
  'message-batches': 'messaging',
  webhooks: 'messaging',
  audit: 'audit',
};

/** Sub-resources of a patient that the consent service owns. */
const consentPatientResources = new Set(['privacy-notices', 'consent', 'preferences', 'consent-codes']);

/** Words that may appear literally in a route class; anything else becomes `:id`. */
const staticWords = new Set([
  ...Object.keys(byFirstSegment),
  ...consentPatientResources,
  'notes',
  'render',
  'export',
  'verify',
  'events',
  'public-key',
  'login',
  'logout',
  'refresh',
  'me',
  'mfa',
  'totp',
  'activate',
  'current',
  'restore',
  'grants',
  'sessions',
  'purchases',
  'unlock',
  'versions',
  'documents',
  'amendments',
  'password',
  'others',
  'reset',
  'disable',
  'support',
  'cancel',
  'sms',
  'twilio',
  'vonage',
  'ack',
]);

/**
 * Split and decode a path below /api/v1. Refuses dot segments, empty segments, encoded
 * slashes and control characters, so what the gateway routes is what the service sees.
 */
export function pathSegments(rest: string): string[] | undefined {
  if (rest === '' || rest === '/') return [];
  if (!rest.startsWith('/')) return undefined;
  const raw = rest.slice(1).replace(/\/$/, '').split('/');
  const out: string[] = [];
  for (const r of raw) {
    let s: string;
    try {
      s = decodeURIComponent(r);
    } catch {
      return undefined;
    }
    // eslint-disable-next-line no-control-regex
    if (s === '' || s === '.' || s === '..' || /[/\\\u0000-\u001f\u007f]/.test(s)) return undefined;
    out.push(s);
  }
  return out;
}

function isPublicRoute(method: string, seg: string[]): boolean {
  const m = method === 'HEAD' ? 'GET' : method;
  const [a, b, c] = seg;
  if (m === 'POST' && seg.length === 1 && a === 'tenants') return true;
  if (m === 'POST' && a === 'auth' && seg.length === 2 && (b === 'login' || b === 'refresh')) return true;
  if (m === 'POST' && a === 'auth' && seg.length === 3 && b === 'mfa' && c === 'verify') return true;
  // TOTP enrolment during login (a practice that requires 2FA) carries an MFA token, not a bearer token.
  if (m === 'POST' && a === 'auth' && b === 'mfa' && c === 'totp' && (seg.length === 3 || (seg.length === 4 && seg[3] === 'activate')))
    return true;
  if (m === 'POST' && a === 'support' && seg.length === 2 && b === 'login') return true;
  if (m === 'GET' && a === 'dm' && seg.length === 2) return true;
  if (m === 'POST' && a === 'dm' && seg.length === 3 && c === 'unlock') return true;
  if (m === 'GET' && a === 'audit' && seg.length === 2 && b === 'public-key') return true;
  // SMS providers' delivery receipts: no token, but signed in the provider's own way (messaging checks).
  if (m === 'POST' && a === 'webhooks' && seg.length === 3 && b === 'sms') return true;
  // The privacy-notice page behind an emailed link: the token in the path is the credential.
  if ((m === 'GET' || m === 'POST') && a === 'privacy-notices' && seg.length === 3 && b === 'ack') return true;
  return false;
}

/** Decide where a request below /api/v1 goes. `rest` is the raw path after `/api/v1`, without the query. */
export function decideRoute(method: string, rest: string): RouteDecision {
  const segments = pathSegments(rest);
  if (!segments) return { kind: 'bad-path' };
  const seg = segments.map((s) => s.toLowerCase());
  const first = seg[0];
  // Service-to-service endpoints are never reachable from outside.
  if (!first || first === 'internal') return { kind: 'not-found' };
  let upstream = byFirstSegment[first];
  if (!upstream) return { kind: 'not-found' };
  if (first === 'patients' && seg.length >= 3 && consentPatientResources.has(seg[2]!)) upstream = 'consent';
  const isPublic = isPublicRoute(method, seg);
  const authClass = isPublic && (first === 'auth' || first === 'tenants' || first === 'support');
  const routeClass = '/' + seg.map((s) => (staticWords.has(s) ? s : ':id')).join('/');
  return { kind: 'proxy', upstream, isPublic, authClass, routeClass };
}
