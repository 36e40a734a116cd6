// The route table: which service owns a path, what is public, what is never routed.
import { decideRoute, pathSegments } from './route-table';

const upstreamOf = (method: string, path: string) => {
  const d = decideRoute(method, path);
  return d.kind === 'proxy' ? d.upstream : d.kind;
};

describe('route table', () => {
  it('sends each path family to the service that owns it', () => {
    expect(upstreamOf('POST', '/tenants')).toBe('auth');
    expect(upstreamOf('GET', '/users')).toBe('auth');
    expect(upstreamOf('POST', '/support/grants')).toBe('auth');
    expect(upstreamOf('GET', '/patients')).toBe('records');
    expect(upstreamOf('GET', '/patients/p1/notes/n1')).toBe('records');
    expect(upstreamOf('POST', '/templates/t1/render')).toBe('records');
    expect(upstreamOf('GET', '/patients/p1/consent')).toBe('consent');
    expect(upstreamOf('PUT', '/patients/p1/preferences')).toBe('consent');
    expect(upstreamOf('POST', '/patients/p1/privacy-notices')).toBe('consent');
    expect(upstreamOf('POST', '/patients/p1/consent-codes')).toBe('consent');
    expect(upstreamOf('POST', '/subject-access-requests')).toBe('consent');
    expect(upstreamOf('GET', '/erasure-requests/e1')).toBe('consent');
    expect(upstreamOf('POST', '/privacy-notice-versions')).toBe('consent');
    expect(upstreamOf('GET', '/privacy-notices/ack/tok')).toBe('consent');
    expect(upstreamOf('POST', '/messages')).toBe('messaging');
    expect(upstreamOf('POST', '/direct-messages')).toBe('messaging');
    expect(upstreamOf('GET', '/dm/tok')).toBe('messaging');
    expect(upstreamOf('GET', '/sms-credits')).toBe('messaging');
    expect(upstreamOf('POST', '/message-batches')).toBe('messaging');
    expect(upstreamOf('POST', '/webhooks/sms/twilio')).toBe('messaging');
    expect(upstreamOf('GET', '/audit/events')).toBe('audit');
    expect(upstreamOf('GET', '/Patients/P1/Consent')).toBe('consent');
  });

  it('never routes service-only endpoints or unknown families', () => {
    expect(upstreamOf('GET', '/internal/patients/p1/export')).toBe('not-found');
    expect(upstreamOf('POST', '/Internal/x')).toBe('not-found');
    expect(upstreamOf('GET', '/')).toBe('not-found');
    expect(upstreamOf('GET', '/admin')).toBe('not-found');
  });

  it('refuses paths that could mean something else to the service', () => {
    for (const p of [
      '/patients/../internal',
      '/patients/./x',
      '//patients',
      '/patients/a%2Fb',
      '/patients/%00',
      '/patients/%zz',
      'patients',
    ]) {
      expect(decideRoute('GET', p).kind).toBe('bad-path');
    }
    expect(pathSegments('/patients/a%20b/')).toEqual(['patients', 'a b']);
  });

  it('knows exactly which routes need no token at the edge', () => {
    const isPublic = (m: string, p: string) => {
      const d = decideRoute(m, p);
      return d.kind === 'proxy' && d.isPublic;
    };
    for (const [m, p] of [
      ['POST', '/tenants'],
      ['POST', '/auth/login'],
      ['POST', '/auth/mfa/verify'],
      ['POST', '/auth/refresh'],
      ['GET', '/dm/abc'],
      ['HEAD', '/dm/abc'],
      ['POST', '/dm/abc/unlock'],
      ['GET', '/audit/public-key'],
      ['POST', '/auth/mfa/totp'],
      ['POST', '/auth/mfa/totp/activate'],
      ['POST', '/support/login'],
      ['GET', '/privacy-notices/ack/tok'],
      ['POST', '/privacy-notices/ack/tok'],
    ]) {
      expect([m, p, isPublic(m!, p!)]).toEqual([m, p, true]);
    }
    for (const [m, p] of [
      ['GET', '/tenants'],
      ['PATCH', '/tenants/current'],
      ['POST', '/auth/logout'],
      ['GET', '/auth/me'],
      ['GET', '/dm/abc/unlock'],
      ['POST', '/dm/abc'],
      ['GET', '/audit/events'],
      ['POST', '/patients'],
      ['POST', '/support/sessions'],
      ['POST', '/auth/login/x'],
      ['GET', '/privacy-notice-versions'],
      ['POST', '/privacy-notices/ack'],
      ['PUT', '/privacy-notices/ack/tok'],
      ['GET', '/privacy-notices/ack/tok/x'],
    ]) {
      expect([m, p, isPublic(m!, p!)]).toEqual([m, p, false]);
    }
  });

  it('names a route class without ids or tokens', () => {
    const cls = (p: string) => {
      const d = decideRoute('GET', p);
      return d.kind === 'proxy' ? d.routeClass : undefined;
    };
    expect(cls('/patients/pat_123/notes/note_9')).toBe('/patients/:id/notes/:id');
    expect(cls('/dm/secret-token-value')).toBe('/dm/:id');
    expect(cls('/audit/public-key')).toBe('/audit/public-key');
    expect(cls('/privacy-notices/ack/secret-token-value')).toBe('/privacy-notices/ack/:id');
  });
});
