// End to end through the gateway, every service its own process as in production: a
// practice signs up, its admin turns on 2FA and logs in with it, writes a patient and a
// note, sees the view in the audit log; another practice cannot see the patient; logout
// ends the session at once.
import { Api, eventually, jwtClaims, strongPassword, totp, uniqueSlug } from './client';
import { type Platform, startPlatform } from './platform';

jest.setTimeout(120_000);

interface Tokens {
  accessToken: string;
  refreshToken: string;
  mfaRequired?: boolean;
  mfaToken?: string;
}

describe('Praxis end to end through the gateway', () => {
  let platform: Platform;
  let api: Api;
  const slug = uniqueSlug('e2e');
  const email = `admin@${slug}.example.test`;
  const password = strongPassword();
  let totpSecret: string;
  let adminToken: string;
  let patientId: string;

  beforeAll(async () => {
    platform = await startPlatform();
    api = new Api(`${platform.url}/api/v1`);
  }, 180_000);

  afterAll(async () => {
    await platform?.stop();
  }, 60_000);

  it('is ready, with every service behind it', async () => {
    const res = await fetch(`${platform.url}/readyz`);
    const body = (await res.json()) as { status: string; checks: Record<string, string> };
    expect(res.status).toBe(200);
    for (const s of platform.services) expect(body.checks[s]).toBe('ok');
    expect(body.checks.redis).toBe('ok');
  });

  it('signs a practice up', async () => {
    const res = await api.post('/tenants', { name: 'End-to-end Surgery', slug, admin: { name: 'Ada Admin', email, password } });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ tenant: { slug, name: 'End-to-end Surgery' }, user: { email, role: 'admin' } });
    expect(res.headers.get('x-request-id')).toBeTruthy();
    const again = await api.post('/tenants', { name: 'Copy', slug, admin: { name: 'Other', email: `x@${slug}.example.test`, password } });
    expect(again.status).toBe(409);
    expect(again.headers.get('content-type')).toContain('application/problem+json');
  });

  it('logs in, turns on TOTP, and then needs the second factor to log in', async () => {
    const first = await api.post<Tokens>('/auth/login', { tenant: slug, email, password });
    expect(first.status).toBe(200);
    expect(jwtClaims(first.body.accessToken).amr).toEqual(['pwd']);
    const token = first.body.accessToken;

    const enrol = await api.post<{ secret: string; otpauthUrl: string }>('/auth/mfa/totp', {}, token);
    expect(enrol.status).toBe(200);
    expect(enrol.body.otpauthUrl).toMatch(/^otpauth:\/\/totp\//);
    totpSecret = enrol.body.secret;
    const activate = await api.post<{ recoveryCodes: string[] }>('/auth/mfa/totp/activate', { code: totp(totpSecret) }, token);
    expect(activate.status).toBe(200);
    expect(activate.body.recoveryCodes).toHaveLength(10);
    expect((await api.get('/auth/me', token)).body).toMatchObject({ email, role: 'admin', tenant: { slug }, mfa: { totp: true } });

    const wrongPassword = await api.post('/auth/login', { tenant: slug, email, password: `${password}x` });
    expect(wrongPassword.status).toBe(401);

    const second = await api.post<Tokens>('/auth/login', { tenant: slug, email, password });
    expect(second.status).toBe(200);
    expect(second.body).toMatchObject({ mfaRequired: true });
    expect(second.body.accessToken).toBeUndefined();
    const wrong = await api.post('/auth/mfa/verify', { mfaToken: second.body.mfaToken, code: totp(totpSecret, -5) });
    expect(wrong.status).toBe(401);

    // The current step's code was spent on activation; the next step's is accepted (±1 step).
    const third = await api.post<Tokens>('/auth/login', { tenant: slug, email, password });
    const verified = await api.post<Tokens>('/auth/mfa/verify', { mfaToken: third.body.mfaToken, code: totp(totpSecret, 1) });
    expect(verified.status).toBe(200);
    expect(jwtClaims(verified.body.accessToken).amr).toEqual(['pwd', 'otp']);
    adminToken = verified.body.accessToken;
  });

  it('creates a patient and a note, and reads them back', async () => {
    const created = await api.post<{ id: string; ref: string }>(
      '/patients',
      { givenName: 'Edith', familyName: 'Endtoend', birthDate: '1950-02-03', email: 'edith@example.test', mobile: '+447700900123' },
      adminToken,
    );
    expect(created.status).toBe(201);
    expect(created.body.ref.length).toBeGreaterThanOrEqual(8);
    patientId = created.body.id;

    const note = await api.post<{ id: string }>(
      `/patients/${patientId}/notes`,
      { title: 'First visit', body: 'Presented with a cough.' },
      adminToken,
    );
    expect(note.status).toBe(201);
    expect(note.body).toMatchObject({ patientId, title: 'First visit', body: 'Presented with a cough.' });

    const patient = await api.get(`/patients/${patientId}`, adminToken);
    expect(patient.status).toBe(200);
    expect(patient.body).toMatchObject({ id: patientId, givenName: 'Edith', familyName: 'Endtoend', birthDate: '1950-02-03' });
    const notes = await api.get<{ items: { id: string }[] }>(`/patients/${patientId}/notes`, adminToken);
    expect(notes.status).toBe(200);
    expect(notes.body.items.map((n) => n.id)).toContain(note.body.id);
    const found = await api.get<{ items: { id: string }[] }>('/patients?familyName=endtoend', adminToken);
    expect(found.body.items.map((p) => p.id)).toContain(patientId);
  });

  it('refuses unknown fields (the services validate behind the gateway)', async () => {
    const res = await api.post('/patients', { givenName: 'A', familyName: 'B', birthDate: '2000-01-01', isAdmin: true }, adminToken);
    expect(res.status).toBe(400);
  });

  it('keeps clinical notes from a receptionist', async () => {
    const receptionistPassword = strongPassword();
    const rEmail = `reception@${slug}.example.test`;
    const user = await api.post(
      '/users',
      { name: 'Rita Reception', email: rEmail, role: 'receptionist', password: receptionistPassword },
      adminToken,
    );
    expect(user.status).toBe(201);
    const login = await api.post<Tokens>('/auth/login', { tenant: slug, email: rEmail, password: receptionistPassword });
    expect(login.status).toBe(200);
    expect((await api.get(`/patients/${patientId}`, login.body.accessToken)).status).toBe(200);
    expect((await api.get(`/patients/${patientId}/notes`, login.body.accessToken)).status).toBe(403);
  });

  it('shows the view of the record in the audit log, and the log verifies', async () => {
    const viewed = await eventually(async () => {
      const res = await api.get<{ items: { type: string; actor: { id: string }; subject?: { patientId?: string } }[] }>(
        `/audit/events?patientId=${encodeURIComponent(patientId)}&type=records.patient.viewed`,
        adminToken,
      );
      return res.status === 200 && res.body.items.length > 0 ? res.body.items : undefined;
    }, 'the patient view in the audit log');
    expect(viewed[0]).toMatchObject({ type: 'records.patient.viewed', subject: { patientId }, actor: { id: jwtClaims(adminToken).sub } });
    const verify = await api.get<{ ok: boolean; entries: number }>('/audit/verify', adminToken);
    expect(verify.status).toBe(200);
    expect(verify.body.ok).toBe(true);
  });

  it('answers 404 to another practice for this practice’s patient', async () => {
    const otherSlug = uniqueSlug('e2e-other');
    const otherPassword = strongPassword();
    const otherEmail = `admin@${otherSlug}.example.test`;
    expect(
      (
        await api.post('/tenants', {
          name: 'Other Practice',
          slug: otherSlug,
          admin: { name: 'Otto Other', email: otherEmail, password: otherPassword },
        })
      ).status,
    ).toBe(201);
    const login = await api.post<Tokens>('/auth/login', { tenant: otherSlug, email: otherEmail, password: otherPassword });
    const other = login.body.accessToken;
    expect((await api.get(`/patients/${patientId}`, other)).status).toBe(404);
    expect((await api.get(`/patients/${patientId}/notes`, other)).status).toBe(404);
    expect((await api.call('PATCH', `/patients/${patientId}`, { token: other, body: { familyName: 'Hijacked' } })).status).toBe(404);
    const list = await api.get<{ items: { id: string }[] }>('/patients?familyName=endtoend', other);
    expect(list.body.items.map((p) => p.id)).not.toContain(patientId);
  });

  it('never exposes service-only endpoints', async () => {
    const res = await api.get(`/internal/patients/${patientId}/export`, adminToken);
    expect(res.status).toBe(404);
    const doc = (await (await fetch(`${platform.url}/openapi.json`)).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/api/v1/tenants', '/api/v1/auth/login', '/api/v1/patients/{id}', '/api/v1/audit/events']),
    );
    expect(Object.keys(doc.paths).filter((p) => p.includes('/internal'))).toEqual([]);
  });

  it('routes every public operation each service declares to that service, with the same security (one source of truth: the services)', async () => {
    type Doc = { paths: Record<string, Record<string, { security?: unknown[]; 'x-internal'?: boolean }>> };
    const gateway = (await (await fetch(`${platform.url}/openapi.json`)).json()) as Doc & { 'x-unavailable-services'?: string[] };
    expect(gateway['x-unavailable-services']).toBeUndefined();
    const missing: string[] = [];
    let checked = 0;
    for (const service of platform.services) {
      const own = (await (await fetch(`${platform.urls[service]}/openapi.json`)).json()) as Doc;
      for (const [path, item] of Object.entries(own.paths)) {
        // Service-to-service routes (`/internal/…`) are never routed: the test above proves it.
        if (!path.startsWith('/api/v1/') || path.startsWith('/api/v1/internal/')) continue;
        for (const [method, op] of Object.entries(item)) {
          if (op['x-internal']) continue;
          checked++;
          const routed = gateway.paths[path]?.[method];
          if (!routed) missing.push(`${service}: ${method.toUpperCase()} ${path} is not routed by the gateway`);
          else if (JSON.stringify(routed.security ?? null) !== JSON.stringify(op.security ?? null))
            missing.push(`${service}: ${method.toUpperCase()} ${path} security differs`);
        }
      }
    }
    expect(checked).toBeGreaterThan(30);
    expect(missing).toEqual([]);
  });

  it('rotates refresh tokens through the gateway, and a reused one ends the session', async () => {
    const cPassword = strongPassword();
    const cEmail = `clinician@${slug}.example.test`;
    expect(
      (await api.post('/users', { name: 'Cleo Clinician', email: cEmail, role: 'clinician', password: cPassword }, adminToken)).status,
    ).toBe(201);
    const first = (await api.post<Tokens>('/auth/login', { tenant: slug, email: cEmail, password: cPassword })).body;
    const second = await api.post<Tokens>('/auth/refresh', { refreshToken: first.refreshToken });
    expect(second.status).toBe(200);
    expect(second.body.refreshToken).not.toBe(first.refreshToken);
    expect((await api.get(`/patients/${patientId}/notes`, second.body.accessToken)).status).toBe(200);
    // The old refresh token again: refused, and the whole session ends.
    expect((await api.post('/auth/refresh', { refreshToken: first.refreshToken })).status).toBe(401);
    expect((await api.get(`/patients/${patientId}/notes`, second.body.accessToken)).status).toBe(401);
  });

  it('ends the session at once on logout', async () => {
    expect((await api.get('/auth/me', adminToken)).status).toBe(200);
    const out = await api.call('POST', '/auth/logout', { token: adminToken });
    expect(out.status).toBe(204);
    const me = await api.get('/auth/me', adminToken);
    expect(me.status).toBe(401);
    expect(me.headers.get('content-type')).toContain('application/problem+json');
    expect((await api.get(`/patients/${patientId}`, adminToken)).status).toBe(401);
  });
});
