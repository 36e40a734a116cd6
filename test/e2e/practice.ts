// A fresh practice through the public API, for the whole-API suites (authorization
// matrix, OpenAPI fuzz run): an admin, a clinician and a receptionist logged in, and one
// of each resource a path can name (patient, note, template, a spare user, a support grant).
import { Api, strongPassword, uniqueSlug } from './client';

export const STAFF = ['admin', 'clinician', 'receptionist'] as const;
export type Staff = (typeof STAFF)[number];

export interface Practice {
  slug: string;
  tenantId: string;
  tokens: Record<Staff, string>;
  /** Ids of this practice's resources by the path parameter that names them. */
  ids: { patient: string; note: string; template: string; user: string; grant: string };
}

async function must<T>(what: string, p: Promise<{ status: number; body: T }>, status: number): Promise<T> {
  const r = await p;
  if (r.status !== status) throw new Error(`${what}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

export async function freshPractice(api: Api, name = 'Matrix Practice'): Promise<Practice> {
  const slug = uniqueSlug('px');
  const adminPw = strongPassword();
  const adminEmail = `admin-${slug}@example.test`;
  const signUp = await must<{ tenant: { id: string } }>(
    'sign-up',
    api.post('/api/v1/tenants', { name, slug, admin: { name: 'Ada Admin', email: adminEmail, password: adminPw } }),
    201,
  );
  const login = async (email: string, password: string) =>
    (await must<{ accessToken: string }>('login', api.post('/api/v1/auth/login', { tenant: slug, email, password }), 200)).accessToken;
  const admin = await login(adminEmail, adminPw);
  const user = async (role: Staff | 'receptionist') => {
    const email = `${role}-${uniqueSlug('u')}@example.test`;
    const password = strongPassword();
    const created = await must<{ id: string }>(
      'add user',
      api.call('POST', '/api/v1/users', { token: admin, body: { name: `Some ${role}`, email, role, password } }),
      201,
    );
    return { id: created.id, email, password };
  };
  const clinician = await user('clinician');
  const receptionist = await user('receptionist');
  const spare = await user('receptionist');
  const tokens = {
    admin,
    clinician: await login(clinician.email, clinician.password),
    receptionist: await login(receptionist.email, receptionist.password),
  };
  const patient = await must<{ id: string }>(
    'patient',
    api.call('POST', '/api/v1/patients', { token: admin, body: { givenName: 'Grace', familyName: 'Hopper', birthDate: '1976-12-09' } }),
    201,
  );
  const note = await must<{ id: string }>(
    'note',
    api.call('POST', `/api/v1/patients/${patient.id}/notes`, { token: admin, body: { title: 'First visit', body: 'Well.' } }),
    201,
  );
  const template = await must<{ id: string }>(
    'template',
    api.call('POST', '/api/v1/templates', {
      token: admin,
      body: { name: 'Reminder', channel: 'sms', body: 'See you soon, {{patient.ref}}' },
    }),
    201,
  );
  const grant = await must<{ id: string }>(
    'grant',
    api.call('POST', '/api/v1/support/grants', { token: admin, body: { scope: 'settings', reason: 'Matrix check', durationMinutes: 60 } }),
    201,
  );
  return {
    slug,
    tenantId: signUp.tenant.id,
    tokens,
    ids: { patient: patient.id, note: note.id, template: template.id, user: spare.id, grant: grant.id },
  };
}

/** Fill an OpenAPI path (`/api/v1/patients/{id}/notes/{noteId}`) with this practice's ids. */
export function fillPath(path: string, ids: Practice['ids']): string {
  return path.replace(/\{([A-Za-z0-9_]+)\}/g, (_m, name: string) => {
    if (name === 'noteId') return ids.note;
    if (path.startsWith('/api/v1/patients/')) return ids.patient;
    if (path.startsWith('/api/v1/templates/')) return ids.template;
    if (path.startsWith('/api/v1/users/')) return ids.user;
    if (path.startsWith('/api/v1/support/grants/')) return ids.grant;
    return 'no-such-id-0000';
  });
}
