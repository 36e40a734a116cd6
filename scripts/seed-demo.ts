// Seeds the demo practice through the public API only (run by scripts/up once the
// gateway is ready; safe to rerun). Creates — or, when it exists, logs into — practice
// `demo` with an admin, a clinician and a receptionist, a few patients with notes, turns
// on TOTP for the admin, publishes a privacy-notice version and a few contact preferences
// (when consent runs), and prints the demo credentials. Generated passwords and the
// TOTP secret are kept in .data/secrets/demo.json (never committed) and reused on rerun.
//   node --import tsx scripts/seed-demo.ts   (GATEWAY_URL defaults to http://127.0.0.1:8080;
//   DEMO_SECRETS_FILE to keep the credentials elsewhere)
import { createHmac, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..');
const SECRETS = process.env.DEMO_SECRETS_FILE ?? path.join(ROOT, '.data', 'secrets', 'demo.json');
const BASE = (process.env.GATEWAY_URL ?? 'http://127.0.0.1:8080').replace(/\/$/, '');
const PUBLIC = (process.env.PUBLIC_URL ?? 'http://localhost:8080').replace(/\/$/, '');
const SLUG = 'demo';

type Role = 'admin' | 'clinician' | 'receptionist';
const people: Record<Role, { name: string; email: string }> = {
  admin: { name: 'Dr Amira Shah', email: 'admin@demo.praxis.test' },
  clinician: { name: 'Dr Tom Okafor', email: 'clinician@demo.praxis.test' },
  receptionist: { name: 'Rosa Bell', email: 'reception@demo.praxis.test' },
};
const patients = [
  {
    givenName: 'Margaret',
    familyName: 'Whitfield',
    birthDate: '1948-03-14',
    mobile: '+447911123101',
    note: { title: 'Hypertension review', body: 'BP 142/88 on amlodipine 5 mg. Recheck in 3 months; home readings advised.' },
  },
  {
    givenName: 'Daniel',
    familyName: 'Osei',
    birthDate: '1987-11-02',
    email: 'daniel.osei@example.test',
    note: {
      title: 'Sprained ankle',
      body: 'Inversion injury playing football. Ottawa rules negative. RICE, review if not improving in 2 weeks.',
    },
  },
  {
    givenName: 'Priya',
    familyName: 'Raman',
    birthDate: '1995-06-21',
    mobile: '+447911123103',
    note: { title: 'Asthma check', body: 'Well controlled on low-dose ICS. Inhaler technique reviewed. Flu vaccine offered.' },
  },
  {
    givenName: 'George',
    familyName: 'Lindqvist',
    birthDate: '1962-01-30',
    note: { title: 'New patient registration', body: 'Transferred from another practice. Medication reconciliation completed.' },
  },
];

interface Secrets {
  slug: string;
  passwords: Record<Role, string>;
  totpSecret?: string;
  recoveryCodes?: string[];
  /** The last 30-second step whose code this script spent (a code works once per step). */
  lastTotpStep?: number;
}

function loadSecrets(): Secrets | undefined {
  if (!existsSync(SECRETS)) return undefined;
  return JSON.parse(readFileSync(SECRETS, 'utf8')) as Secrets;
}

function saveSecrets(s: Secrets): void {
  mkdirSync(path.dirname(SECRETS), { recursive: true, mode: 0o700 });
  writeFileSync(SECRETS, JSON.stringify(s, null, 2) + '\n', { mode: 0o600 });
  chmodSync(SECRETS, 0o600);
}

const newPassword = () => `demo-${randomBytes(12).toString('base64url')}`;

async function call<T = Record<string, unknown>>(
  method: string,
  p: string,
  body?: unknown,
  token?: string,
): Promise<{ status: number; body: T }> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${BASE}/api/v1${p}`, {
    method,
    headers,
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
}

function must<T>(res: { status: number; body: T }, what: string, ...ok: number[]): T {
  if (!(ok.length ? ok : [200, 201, 204]).includes(res.status)) {
    const detail =
      (res.body as { detail?: string; title?: string } | undefined)?.detail ?? (res.body as { title?: string } | undefined)?.title ?? '';
    throw new Error(`${what} failed: HTTP ${res.status} ${detail}`);
  }
  return res.body;
}

function base32Decode(input: string): Buffer {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  const out: number[] = [];
  for (const ch of input.toUpperCase().replace(/=+$/, '')) {
    value = (value << 5) | alphabet.indexOf(ch);
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** RFC 6238: the 6-digit code for the current 30-second step (plus an offset in steps). */
function totp(secret: string, stepOffset = 0): string {
  const buf = Buffer.alloc(8);
  buf.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 30_000) + stepOffset));
  const mac = createHmac('sha1', base32Decode(secret)).update(buf).digest();
  const o = mac[mac.length - 1]! & 0x0f;
  const n = ((mac[o]! & 0x7f) << 24) | (mac[o + 1]! << 16) | (mac[o + 2]! << 8) | mac[o + 3]!;
  return String(n % 1_000_000).padStart(6, '0');
}

interface Tokens {
  accessToken?: string;
  mfaRequired?: boolean;
  mfaToken?: string;
}

async function login(role: Role, secrets: Secrets): Promise<string> {
  const res = must(
    await call<Tokens>('POST', '/auth/login', { tenant: SLUG, email: people[role].email, password: secrets.passwords[role] }),
    `login as the demo ${role}`,
    200,
  );
  if (!res.mfaRequired) return res.accessToken!;
  if (!secrets.totpSecret) throw new Error(`the demo ${role} has 2FA but no TOTP secret is stored in ${path.relative(ROOT, SECRETS)}`);
  let verified = await call<Tokens>('POST', '/auth/mfa/verify', { mfaToken: res.mfaToken, code: await unspentCode(secrets) });
  if (verified.status === 401) {
    // Someone (a person signing in) spent that step's code; the next step's is still good.
    const again = must(
      await call<Tokens>('POST', '/auth/login', { tenant: SLUG, email: people[role].email, password: secrets.passwords[role] }),
      `login as the demo ${role}`,
      200,
    );
    verified = await call<Tokens>('POST', '/auth/mfa/verify', { mfaToken: again.mfaToken, code: await unspentCode(secrets) });
  }
  return must(verified, 'the second factor', 200).accessToken!;
}

/**
 * A code of a step this script has not spent yet: the current step's, or the next one's
 * (accepted as ±1 step), or — on a quick third run — after waiting for the next step.
 */
async function unspentCode(secrets: Secrets): Promise<string> {
  let now = Math.floor(Date.now() / 30_000);
  const step = Math.max(now, (secrets.lastTotpStep ?? 0) + 1);
  while (step > now + 1) {
    await new Promise((r) => setTimeout(r, 1_000));
    now = Math.floor(Date.now() / 30_000);
  }
  secrets.lastTotpStep = step;
  saveSecrets(secrets);
  return totp(secrets.totpSecret!, step - now);
}

/**
 * SMS credits, an appointment-reminder template and one text sent from it (seen in the SMS
 * simulator and on the patient's page). Skipped with a warning when messaging is not up.
 */
async function seedMessaging(admin: string, clinician: string): Promise<void> {
  const credits = await call<{ balance: number }>('GET', '/sms-credits', undefined, admin);
  if (credits.status !== 200) {
    console.warn(`messaging is not available (HTTP ${credits.status}); no credits or messages seeded`);
    return;
  }
  if (credits.body.balance < 50) {
    const bought = must(
      await call<{ balance: number }>('POST', '/sms-credits/purchases', { quantity: 200 }, admin),
      'buying SMS credits',
      201,
    );
    console.log(`bought SMS credits: balance ${bought.balance}`);
  }
  const templates = must(
    await call<{ items: { id: string; name: string }[] }>('GET', '/templates?limit=200', undefined, admin),
    'listing templates',
    200,
  );
  let reminder = templates.items.find((x) => x.name === 'Appointment reminder');
  if (!reminder) {
    reminder = must(
      await call<{ id: string; name: string }>(
        'POST',
        '/templates',
        {
          name: 'Appointment reminder',
          channel: 'sms',
          body: 'Reminder from Demo Surgery: your appointment is on {{appointment.date}} at {{appointment.time}}. Ref {{patient.ref}}.',
        },
        admin,
      ),
      'creating a template',
      201,
    );
    console.log('created the SMS template "Appointment reminder"');
  }
  const found = must(
    await call<{ items: { id: string }[] }>('GET', '/patients?familyName=Raman', undefined, clinician),
    'finding the demo patient',
    200,
  );
  const patient = found.items[0];
  if (!patient) return;
  const history = must(
    await call<{ items: unknown[] }>('GET', `/messages?patientId=${patient.id}`, undefined, clinician),
    'reading message history',
    200,
  );
  if (history.items.length) return;
  const sent = await call(
    'POST',
    '/messages',
    {
      patientId: patient.id,
      channel: 'sms',
      templateId: reminder.id,
      variables: { 'appointment.date': '2026-12-14', 'appointment.time': '09:40' },
    },
    clinician,
  );
  if (sent.status === 202) console.log('sent a demo appointment reminder by SMS');
  else console.warn(`the demo reminder was not sent (HTTP ${sent.status})`);
}

async function main(): Promise<void> {
  const stored = loadSecrets();
  const s: Secrets = stored ?? { slug: SLUG, passwords: { admin: newPassword(), clinician: newPassword(), receptionist: newPassword() } };
  const signUp = await call('POST', '/tenants', {
    name: 'Demo Surgery',
    slug: SLUG,
    admin: { ...people.admin, password: s.passwords.admin },
  });
  if (signUp.status === 201) {
    // A fresh practice: any TOTP secret from an older one is meaningless now.
    delete s.totpSecret;
    delete s.recoveryCodes;
    delete s.lastTotpStep;
    saveSecrets(s);
    console.log(`created practice "${SLUG}"`);
  } else if (signUp.status === 409) {
    if (!stored) {
      console.warn(
        `practice "${SLUG}" already exists but its demo credentials are not in ${path.relative(ROOT, SECRETS)}; nothing seeded.`,
      );
      return;
    }
    console.log(`practice "${SLUG}" exists; bringing it up to date`);
  } else {
    must(signUp, 'creating the demo practice');
  }
  const admin = await login('admin', s);

  const users = must(await call<{ items: { email: string }[] }>('GET', '/users?limit=200', undefined, admin), 'listing users', 200);
  for (const role of ['clinician', 'receptionist'] as const) {
    if (users.items.some((u) => u.email.toLowerCase() === people[role].email)) continue;
    must(await call('POST', '/users', { ...people[role], role, password: s.passwords[role] }, admin), `creating the demo ${role}`, 201);
    console.log(`created the demo ${role}`);
  }

  const clinician = await login('clinician', s);
  for (const p of patients) {
    const found = must(
      await call<{ items: { id: string; givenName: string }[] }>(
        'GET',
        `/patients?familyName=${encodeURIComponent(p.familyName)}`,
        undefined,
        clinician,
      ),
      'searching patients',
      200,
    );
    if (found.items.some((x) => x.givenName === p.givenName)) continue;
    const { note, ...demographics } = p;
    const created = must(
      await call<{ id: string; ref: string }>('POST', '/patients', demographics, clinician),
      'creating a demo patient',
      201,
    );
    must(await call('POST', `/patients/${created.id}/notes`, note, clinician), 'writing a demo note', 201);
    console.log(`created demo patient ${created.ref} with a note`);
  }

  await seedConsent(admin, clinician);

  await seedMessaging(admin, clinician);

  const me = must(await call<{ mfa: { totp: boolean } }>('GET', '/auth/me', undefined, admin), 'reading the admin', 200);
  if (!me.mfa.totp) {
    const enrol = must(await call<{ secret: string }>('POST', '/auth/mfa/totp', {}, admin), 'starting TOTP enrolment', 200);
    s.totpSecret = enrol.secret;
    const activated = must(
      await call<{ recoveryCodes: string[] }>('POST', '/auth/mfa/totp/activate', { code: await unspentCode(s) }, admin),
      'activating TOTP',
      200,
    );
    s.recoveryCodes = activated.recoveryCodes;
    saveSecrets(s);
    console.log('turned on TOTP for the demo admin');
  }

  const rows = (Object.keys(people) as Role[]).map((r) => `    ${r.padEnd(13)} ${people[r].email.padEnd(28)} ${s.passwords[r]}`);
  console.log(
    [
      '',
      `Demo practice: ${PUBLIC}/  (practice: ${SLUG})`,
      '  users (role, email, password):',
      ...rows,
      `  admin TOTP secret: ${s.totpSecret}  (add it to an authenticator app; the code right now is ${totp(s.totpSecret!)})`,
      `  stored in ${path.relative(ROOT, SECRETS)} (not committed)`,
      '',
    ].join('\n'),
  );
}

const NOTICE_VERSION = '2026-01';
const NOTICE_TEXT = [
  'Demo Surgery privacy notice (Article 13 UK GDPR).',
  'We hold your name, contact details and clinical record to give you care. Only staff involved in your care can read your notes, and every access is logged.',
  'You may ask for a copy of everything we hold (subject access), ask us to correct it, and in some cases ask us to erase it. You can tell us not to contact you by text or email at any time.',
].join('\n\n');
/** Demo contact preferences: Margaret declined texts, George declined email. */
const demoPreferences: Record<string, { sms?: boolean; email?: boolean }> = { Whitfield: { sms: false }, Lindqvist: { email: false } };

/** A notice version and some preferences; skipped (with a note) when consent is not running. */
async function seedConsent(admin: string, clinician: string): Promise<void> {
  const versions = await call<{ items: { version: string }[] }>('GET', '/privacy-notice-versions', undefined, admin);
  if (versions.status === 503 || versions.status === 404) {
    console.log('consent is not running: no privacy notice or preferences seeded');
    return;
  }
  must(versions, 'listing privacy-notice versions', 200);
  if (!versions.body.items.some((v) => v.version === NOTICE_VERSION)) {
    must(
      await call('POST', '/privacy-notice-versions', { version: NOTICE_VERSION, text: NOTICE_TEXT }, admin),
      'publishing the privacy notice',
      201,
    );
    console.log(`published privacy notice ${NOTICE_VERSION}`);
  }
  for (const [familyName, prefs] of Object.entries(demoPreferences)) {
    const found = must(
      await call<{ items: { id: string }[] }>('GET', `/patients?familyName=${familyName}`, undefined, clinician),
      'searching patients',
      200,
    );
    const id = found.items[0]?.id;
    if (!id) continue;
    // Consent learns new patients from records' events within a moment.
    let current: { status: number; body: { preferences?: { sms: boolean; email: boolean } } } = { status: 0, body: {} };
    for (let i = 0; i < 50 && current.status !== 200; i++) {
      current = await call('GET', `/patients/${id}/consent`, undefined, clinician);
      if (current.status !== 200) await new Promise((r) => setTimeout(r, 200));
    }
    must(current, 'reading a demo patient’s consent', 200);
    const wanted = { ...current.body.preferences, ...prefs };
    if (current.body.preferences?.sms === wanted.sms && current.body.preferences?.email === wanted.email) continue;
    must(await call('PUT', `/patients/${id}/preferences`, prefs, clinician), 'setting demo preferences', 200);
    console.log(
      `set contact preferences of a demo patient (${Object.entries(prefs)
        .map(([k, v]) => `${k}: ${v ? 'allowed' : 'declined'}`)
        .join(', ')})`,
    );
  }
}

main().catch((err: unknown) => {
  console.error(`seed-demo: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
