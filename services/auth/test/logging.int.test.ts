// What reaches the log: request lines with route patterns, never emails, names,
// passwords, codes or tokens.
import { capturingLogger } from '@praxis/testing';
import request from 'supertest';
import { API, type Harness, bearer, login, signUpPractice, startAuth } from './harness';

let h: Harness;
let lines: () => string[];

beforeAll(async () => {
  const captured = capturingLogger('auth');
  lines = captured.lines;
  h = await startAuth({}, captured.logger);
});
afterAll(async () => {
  await h.close();
});

it('logs no identifying data or secrets', async () => {
  const p = await signUpPractice(h.app, 'Logging Practice');
  const t = await login(h.app, p.slug, p.admin.email, p.admin.password);
  await request(h.app).post(`${API}/auth/login`).send({ tenant: p.slug, email: p.admin.email, password: 'wrong password again' });
  await request(h.app).post(`${API}/auth/refresh`).send({ refreshToken: t.refreshToken });
  await request(h.app).get(`${API}/auth/me`).set(bearer(t.accessToken));
  await request(h.app)
    .post(`${API}/auth/mfa/verify`)
    .send({ mfaToken: 'mfa_' + 'y'.repeat(43), code: '123456' });
  const log = lines().join('\n');
  expect(log).toContain('"route":"/api/v1/auth/login"');
  for (const secret of [
    p.admin.email,
    p.admin.password,
    'wrong password again',
    'Ada Admin',
    'Logging Practice',
    t.accessToken,
    t.refreshToken,
    t.refreshToken.split('.')[1]!,
  ]) {
    expect(log).not.toContain(secret);
  }
});
