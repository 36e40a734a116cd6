// Messaging in the web client, in a real browser (Debian's Chromium, driven by playwright-core)
// against the whole platform: an admin buys SMS credits on the Messages page and sends a
// batch from a template, watching its progress to the end; sends one text from the patient's
// page and sees it in the history; then a patient opens a direct message from the link that
// arrived in Mailpit, is refused with a wrong code and reads the body with the code that the
// SMS simulator received. Screenshots go to .data/reports/web-messages-*.png.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { webSuite } from './browser';
import { Api, eventually, strongPassword, uniqueSlug } from './client';
import { ROOT } from './platform';

jest.setTimeout(300_000);

// Messaging's third parties as scripts/infra runs them (the platform gives them to messaging).
const MAILPIT_API = process.env.TEST_MAILPIT_API_URL ?? 'http://127.0.0.1:8025';
const SIMULATORS = ['http://127.0.0.1:4010', 'http://127.0.0.1:4011'];

/** A UK mobile number libphonenumber's full metadata accepts, unique to this run. */
const ukMobile = () => `+447400${String(randomBytes(4).readUInt32BE(0) % 1_000_000).padStart(6, '0')}`;

async function must<T>(what: string, p: Promise<{ status: number; body: T }>, status: number): Promise<T> {
  const r = await p;
  if (r.status !== status) throw new Error(`${what}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

/** Texts the simulators received for one number (each provider's record, as the tests read it). */
async function textsTo(mobile: string): Promise<{ body: string; provider: string }[]> {
  const out: { body: string; provider: string }[] = [];
  for (const sim of SIMULATORS) {
    const res = await fetch(`${sim}/_sim/messages`, { signal: AbortSignal.timeout(10_000) });
    const data = (await res.json()) as { provider: string; items: { to: string; body: string }[] };
    for (const m of data.items)
      if (m.to.replace(/^\+/, '') === mobile.replace(/^\+/, '')) out.push({ body: m.body, provider: data.provider });
  }
  return out;
}

async function mailTo(address: string): Promise<{ ID: string }[]> {
  const res = await fetch(`${MAILPIT_API}/api/v1/search?query=${encodeURIComponent(`to:"${address}"`)}`, {
    signal: AbortSignal.timeout(10_000),
  });
  return ((await res.json()) as { messages: { ID: string }[] }).messages;
}

describe('web client: messages and direct messages', () => {
  const web = webSuite({ width: 1200, height: 900 }, 360_000);
  const api = () => new Api(web.platform.url);

  it('buys credits, runs a batch to the end, sends from the patient page, and a patient unlocks a direct message', async () => {
    const { page, platform } = web;
    // A practice with two patients who can be texted and an SMS template, through the API.
    const slug = uniqueSlug('msg');
    const email = `admin@${slug}.example.test`;
    const password = strongPassword();
    await must(
      'sign-up',
      api().post('/api/v1/tenants', { name: 'Harbour Surgery', slug, admin: { name: 'Dr Mo Admin', email, password } }),
      201,
    );
    const token = (await must<{ accessToken: string }>('login', api().post('/api/v1/auth/login', { tenant: slug, email, password }), 200))
      .accessToken;
    const people = [
      { givenName: 'Ruth', familyName: 'Ellis', mobile: ukMobile(), email: `ruth-${slug}@example.test` },
      { givenName: 'Sam', familyName: 'Cole', mobile: ukMobile() },
    ];
    const ids: string[] = [];
    for (const p of people)
      ids.push(
        (
          await must<{ id: string }>(
            'patient',
            api().call('POST', '/api/v1/patients', { token, body: { ...p, birthDate: '1970-01-01' } }),
            201,
          )
        ).id,
      );
    await must(
      'template',
      api().call('POST', '/api/v1/templates', {
        token,
        body: { name: 'Reminder', channel: 'sms', body: 'Harbour Surgery: see you on {{appointment.date}}. Ref {{patient.ref}}.' },
      }),
      201,
    );

    // The admin logs in through the web client and opens the Messages page.
    await page.goto(`${platform.url}/#/login`);
    await web.logIn(slug, email, password);
    await page.getByRole('heading', { name: 'Patients' }).waitFor();
    await page.getByRole('link', { name: 'Messages' }).click();
    await page.getByRole('heading', { name: 'Messages', exact: true }).waitFor();
    await page.locator('#credit-balance').getByText('0', { exact: true }).waitFor();

    await page.getByLabel('Credits to buy').fill('25');
    await page.getByRole('button', { name: 'Buy credits' }).click();
    await page.locator('#credit-balance').getByText('25', { exact: true }).waitFor();
    expect((await api().get<{ balance: number }>('/api/v1/sms-credits', token)).body.balance).toBe(25);

    await page.locator('#batch-form').getByLabel('Template').selectOption({ label: 'Reminder (sms)' });
    await page.locator('#batch-form').getByLabel('Appointment date').fill('2026-12-14');
    await page.getByRole('button', { name: 'Start batch' }).click();
    const t0 = Date.now();
    await page.locator('#batch-progress').getByText('Batch completed: 2 of 2 done — 2 sent').waitFor({ timeout: 120_000 });
    const batchMs = Date.now() - t0;
    expect(await page.locator('#batch-progress progress').getAttribute('value')).toBe('2');
    expect(await page.locator('#batch-progress').innerText()).not.toContain('null');
    // Two texts of one part each: the balance on the page follows the ledger.
    await page.locator('#credit-balance').getByText('23', { exact: true }).waitFor({ timeout: 30_000 });
    await web.screenshot(page, 'web-messages-batch');
    for (const p of people) {
      const texts = await eventually(
        async () => ((await textsTo(p.mobile)).length ? textsTo(p.mobile) : undefined),
        `batch text to ${p.givenName}`,
      );
      expect(texts).toHaveLength(1);
      expect(texts[0]!.body).toContain('see you on 2026-12-14');
    }

    // One text from the patient's page; it shows in the history with its status.
    await page.goto(`${platform.url}/#/patients/${ids[0]}`);
    const card = page.locator('#messages');
    await card.getByRole('heading', { name: 'Messages' }).waitFor();
    await card.locator('#message-history tbody tr').first().waitFor();
    expect(await card.locator('#message-history tbody tr').count()).toBe(1); // the batch's text
    await card.getByLabel('Template').selectOption({ label: 'Reminder (sms)' });
    await card.getByLabel('Appointment date').fill('2026-12-21');
    await card.getByRole('button', { name: 'Send message' }).click();
    await page.getByText('Message queued (sms).').waitFor();
    await eventually(
      async () => ((await textsTo(people[0]!.mobile)).some((t) => t.body.includes('2026-12-21')) ? true : undefined),
      'the text sent from the patient page at a simulator',
    );
    // The history is read when the page opens: reload until the new text shows as sent or delivered.
    await eventually(async () => {
      await page.reload();
      await card.locator('#message-history tbody tr').first().waitFor();
      const rows = await card.locator('#message-history tbody tr').allInnerTexts();
      return rows.length === 2 && rows.every((r) => /sent|delivered/i.test(r)) ? rows : undefined;
    }, 'two texts sent in the history');
    await web.screenshot(page, 'web-messages-patient');

    // A direct message: the link arrives by email, the code by SMS.
    const dm = await must<{ id: string }>(
      'direct message',
      api().call('POST', '/api/v1/direct-messages', {
        token,
        body: { patientId: ids[0], subject: 'Your blood test results', body: 'All results are within the normal range.' },
      }),
      201,
    );
    const address = people[0]!.email!;
    const mails = await eventually(async () => ((await mailTo(address)).length ? mailTo(address) : undefined), 'the direct-message email');
    const mail = (await (await fetch(`${MAILPIT_API}/api/v1/message/${mails[0]!.ID}`)).json()) as { HTML: string; Text: string };
    const link = /#\/dm\/([A-Za-z0-9_-]+)/.exec(`${mail.HTML} ${mail.Text}`)?.[1];
    expect(link).toBeDefined();
    const code = await eventually(async () => {
      const t = (await textsTo(people[0]!.mobile)).find((x) => /\b\d{6}\b/.test(x.body) && !x.body.includes('see you on'));
      return t ? /\b(\d{6})\b/.exec(t.body)![1] : undefined;
    }, 'the access code at a simulator');

    const patient = await web.openPage({ width: 900, height: 700 });
    await patient.goto(`${platform.url}/#/dm/${link}`);
    await patient.getByRole('heading', { name: 'Secure message' }).waitFor();
    await patient.getByText('Harbour Surgery').waitFor();
    await patient.getByText('Your blood test results').waitFor();
    expect(await patient.locator('#dm-body').innerText()).toBe('');
    expect(await patient.content()).not.toContain('within the normal range');
    const wrong = code === '000000' ? '111111' : '000000';
    await patient.getByLabel('Access code (texted to you)').fill(wrong);
    await patient.getByRole('button', { name: 'Open message' }).click();
    await patient.getByText('Wrong code (4 tries left).').waitFor();
    expect(await patient.locator('#dm-body').innerText()).toBe('');
    await patient.getByLabel('Access code (texted to you)').fill(code);
    await patient.getByRole('button', { name: 'Open message' }).click();
    await patient.locator('#dm-body').getByText('All results are within the normal range.').waitFor();
    // The patient's page carries no staff session, and staff's session is untouched.
    expect(await patient.evaluate(() => sessionStorage.getItem('praxis.session'))).toBeNull();
    await web.screenshot(patient, 'web-messages-dm');
    await patient.close();

    // A receptionist's view of the patient page: no notes and no data-rights card, and nothing
    // printed where a part was left out (the page once showed a stray "null" there).
    const desk = { email: `reception@${slug}.example.test`, password: strongPassword() };
    await must(
      'receptionist',
      api().call('POST', '/api/v1/users', {
        token,
        body: { name: 'Rae Desk', email: desk.email, role: 'receptionist', password: desk.password },
      }),
      201,
    );
    const front = await web.openPage({ width: 1200, height: 900 });
    await front.goto(`${platform.url}/#/login`);
    await front.getByLabel('Practice').fill(slug);
    await front.getByLabel('Email').fill(desk.email);
    await front.getByLabel('Password').fill(desk.password);
    await front.getByRole('button', { name: 'Log in' }).click();
    await front.getByRole('heading', { name: 'Patients' }).waitFor();
    await front.goto(`${platform.url}/#/patients/${ids[0]}`);
    await front.locator('#messages').getByRole('heading', { name: 'Messages' }).waitFor();
    await front.getByText('Clinical notes are not available to receptionists.').waitFor();
    expect(await front.locator('#app').innerText()).not.toMatch(/^\s*(null|undefined|false)\s*$/m);
    await web.screenshot(front, 'web-messages-patient-receptionist');
    await front.close();

    const log = readFileSync(path.join(platform.logDir, `${platform.run}-messaging.log`), 'utf8');
    expect(log).not.toContain('within the normal range');
    console.log(JSON.stringify({ batchMs, dm: dm.id, texts: (await textsTo(people[0]!.mobile)).map((t) => t.provider) }));
    expect(web.cspViolations()).toEqual([]);
  });

  it('practice-notice command emails every active admin of every practice once, and a rerun sends nothing more', async () => {
    const { platform } = web;
    const practices = [];
    for (const name of ['Quay Practice', 'Hill Practice']) {
      const slug = uniqueSlug('ntc');
      const admin = { name: 'Admin One', email: `admin1@${slug}.example.test`, password: strongPassword() };
      await must('sign-up', api().post('/api/v1/tenants', { name, slug, admin }), 201);
      const token = (
        await must<{ accessToken: string }>(
          'login',
          api().post('/api/v1/auth/login', { tenant: slug, email: admin.email, password: admin.password }),
          200,
        )
      ).accessToken;
      const add = (role: string, who: string) =>
        must<{ id: string }>(
          'user',
          api().call('POST', '/api/v1/users', {
            token,
            body: { name: who, email: `${who.replace(/ /g, '').toLowerCase()}@${slug}.example.test`, role, password: strongPassword() },
          }),
          201,
        );
      await add('admin', 'Admin Two');
      await add('clinician', 'Clin One');
      const gone = await add('admin', 'Admin Gone');
      await must('disable', api().call('PATCH', `/api/v1/users/${gone.id}`, { token, body: { disabled: true } }), 200);
      practices.push(slug);
    }
    const env = platform.env('messaging');
    const noticeId = `maint-${randomBytes(4).toString('hex')}`;
    const run = () =>
      new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
        const child = spawn(
          process.execPath,
          ['--import', 'tsx', 'src/cli.ts', 'practice-notice', '--id', noticeId, '--subject', 'Planned maintenance on Sunday'],
          {
            cwd: path.join(ROOT, 'services', 'messaging'),
            env: { PATH: env.PATH ?? process.env.PATH ?? '', ...env, LOG_LEVEL: 'warn' },
            stdio: ['pipe', 'pipe', 'pipe'],
          },
        );
        let out = '';
        let err = '';
        child.stdout.on('data', (c) => (out += c));
        child.stderr.on('data', (c) => (err += c));
        child.on('exit', (code) => resolve({ code, out, err }));
        child.stdin.end(
          'Praxis will be unavailable on Sunday from 02:00 to 03:00 UTC.\n\nNothing is lost; texts queue until we are back.\n',
        );
      });
    const first = await run();
    expect(first).toMatchObject({ code: 0 });
    const counts = JSON.parse(first.out) as { practices: number; admins: number; sent: number; alreadySent: number; failed: number };
    // Every practice of this platform's auth: the two here and the first test's.
    expect(counts).toMatchObject({ practices: 3, admins: 5, sent: 5, alreadySent: 0, failed: 0 });
    for (const slug of practices) {
      for (const who of ['admin1', 'admintwo']) {
        const mails = await eventually(
          async () => ((await mailTo(`${who}@${slug}.example.test`)).length ? mailTo(`${who}@${slug}.example.test`) : undefined),
          `notice to ${who}`,
        );
        expect(mails).toHaveLength(1);
        const mail = (await (await fetch(`${MAILPIT_API}/api/v1/message/${mails[0]!.ID}`)).json()) as { Subject: string; Text: string };
        expect(mail.Subject).toBe('Planned maintenance on Sunday');
        expect(mail.Text).toContain('unavailable on Sunday from 02:00 to 03:00 UTC');
      }
      expect(await mailTo(`clinone@${slug}.example.test`)).toHaveLength(0);
      expect(await mailTo(`admingone@${slug}.example.test`)).toHaveLength(0);
    }
    const second = await run();
    expect(second.code).toBe(0);
    expect(JSON.parse(second.out)).toMatchObject({ admins: 5, sent: 0, alreadySent: 5, failed: 0 });
    expect(await mailTo(`admin1@${practices[0]}.example.test`)).toHaveLength(1);

    // The route behind it takes messaging's client secret and no other.
    const route = `${platform.urls.auth}/api/v1/internal/practice-admins`;
    const basic = (who: string, secret: string) => ({ authorization: `Basic ${Buffer.from(`${who}:${secret}`).toString('base64')}` });
    expect((await fetch(route)).status).toBe(401);
    expect((await fetch(route, { headers: basic('messaging', 'x'.repeat(40)) })).status).toBe(401);
    expect((await fetch(route, { headers: basic('consent', platform.env('consent').SERVICE_CLIENT_SECRET!) })).status).toBe(403);
    expect(
      (await fetch(`${platform.url}/api/v1/internal/practice-admins`, { headers: basic('messaging', env.SERVICE_CLIENT_SECRET!) })).status,
    ).toBe(404);
    console.log(JSON.stringify({ first: counts, second: JSON.parse(second.out) }));
  });
});
