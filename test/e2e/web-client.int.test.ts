// The web client in a real browser (Debian's Chromium, driven by playwright-core) against
// the whole platform: a practice signs up, logs out and in again, creates a patient, sees
// it listed, opens it and writes a note, reads the audit log, turns on TOTP and logs in
// with the second factor, all with the gateway's 'self'-only CSP in force; then the consent
// panel (preferences, codes, notices), the public notice page behind an emailed link, and
// the admin's data-rights page with a subject access request and an erasure.
import { webSuite } from './browser';
import { strongPassword, totp, uniqueSlug } from './client';

jest.setTimeout(240_000);

describe('web client', () => {
  const web = webSuite({ width: 1200, height: 800 });

  it('signs up, logs in, creates a patient and sees it listed, without a CSP violation', async () => {
    const { page, platform } = web;
    const slug = uniqueSlug('web');
    const email = `admin@${slug}.example.test`;
    const password = strongPassword();

    await page.goto(`${platform.url}/#/signup`);
    await page.getByLabel('Practice name').fill('Riverside Surgery');
    await page.getByLabel('Practice address (slug)').fill(slug);
    await page.getByLabel('Your name').fill('Dr Ada Lovelace');
    await page.getByLabel('Your email').fill(email);
    await page.getByLabel('Password (12 characters or more)').fill(password);
    await page.getByRole('button', { name: 'Create practice' }).click();
    await page.getByRole('heading', { name: 'Patients' }).waitFor();
    await page.getByText('Dr Ada Lovelace · admin · Riverside Surgery').waitFor();

    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByRole('heading', { name: 'Log in' }).waitFor();
    await web.screenshot(page, 'web-client-login', false);
    // Signed out: no navigation, no user, no log-out button.
    expect(await page.getByRole('button', { name: 'Log out' }).isVisible()).toBe(false);
    expect(await page.locator('#nav').isVisible()).toBe(false);
    await web.logIn(slug, email, password);
    await page.getByRole('heading', { name: 'Patients' }).waitFor();

    for (const [given, family, born] of [
      ['Grace', 'Hopper', '1946-12-09'],
      ['Alan', 'Turing', '1952-06-23'],
    ]) {
      await page.getByRole('button', { name: 'New patient' }).click();
      const form = page.locator('#new-patient');
      await form.getByLabel('Given name').fill(given!);
      await form.getByLabel('Family name').fill(family!);
      await form.getByLabel('Date of birth').fill(born!);
      await page.getByRole('button', { name: 'Create patient' }).click();
      await page.locator('#patient-results').getByText(`${given} ${family}`).waitFor();
    }
    const rows = page.locator('#patient-results tbody tr');
    expect(await rows.count()).toBe(2);
    expect(await page.locator('#patient-results').innerText()).toContain('Grace Hopper');

    await web.screenshot(page, 'web-client');

    await page.locator('#patient-results').getByText('Grace Hopper').click();
    await page.getByRole('heading', { name: /Grace Hopper/ }).waitFor();
    await page.getByLabel('Title').fill('Annual review');
    await page.getByLabel('Note').fill('Blood pressure 120/80. No concerns.');
    await page.getByRole('button', { name: 'Add note' }).click();
    await page.getByText('Blood pressure 120/80. No concerns.').waitFor();
    await web.screenshot(page, 'web-client-patient');

    await page.getByRole('link', { name: 'Audit log' }).click();
    await page.getByRole('heading', { name: 'Audit log' }).waitFor();
    await page
      .getByText('records.patient.viewed')
      .first()
      .waitFor({ timeout: 20_000 })
      .catch(async () => {
        // The log is fed by events; give the consumer a moment, then look again.
        await page.getByRole('button', { name: 'Filter' }).click();
        await page.getByText('records.patient.viewed').first().waitFor({ timeout: 20_000 });
      });

    await web.screenshot(page, 'web-client-audit', false);

    // Turn on TOTP from the account page, then log in again with the second factor.
    await page.getByRole('link', { name: 'Account' }).click();
    await page.getByRole('button', { name: 'Set up an authenticator app' }).click();
    const secret = (await page.locator('#totp-secret').innerText()).trim();
    await page.getByLabel('Code').fill(totp(secret));
    await page.getByRole('button', { name: 'Turn on' }).click();
    await page.getByText('Two-factor authentication is on.').waitFor();
    expect(await page.locator('ul.codes li').count()).toBe(10);
    await page.getByRole('button', { name: 'Log out' }).click();
    await web.logIn(slug, email, password);
    await page.getByLabel('Code').fill(totp(secret, -3));
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.locator('#flash.bad').waitFor(); // a stale code is refused
    await page.getByLabel('Code').fill(totp(secret, 1)); // this step's code was spent on activation
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.getByRole('heading', { name: 'Patients' }).waitFor();

    expect(web.cspViolations()).toEqual([]);
    expect(web.problems.filter((p) => !/status of 40[0-9]/.test(p))).toEqual([]);
    adminSlug = slug;
  });

  let adminSlug = '';

  it('keeps consent on the patient page, serves the emailed notice link, and runs subject access and erasure from the data-rights page', async () => {
    const { page, platform } = web;
    expect(adminSlug).not.toBe('');
    // Publish a notice version on the data-rights page.
    await page.getByRole('link', { name: 'Data rights' }).click();
    await page.getByRole('heading', { name: 'Data rights' }).waitFor();
    const versionForm = page.locator('#notice-version-form');
    await versionForm.getByLabel('Version').fill('2026-01');
    await versionForm
      .getByLabel('Notice text')
      .fill('Riverside Surgery keeps your record safe.\n\nYou may ask for a copy of it at any time.');
    await page.getByRole('button', { name: 'Publish version' }).click();
    await page
      .getByText('2026-01 (current)')
      .first()
      .waitFor()
      .catch(() => page.locator('li', { hasText: '2026-01' }).first().waitFor());

    // The consent panel on Grace Hopper's page.
    await page.getByRole('link', { name: 'Patients' }).click();
    await page.locator('#patient-results').getByText('Grace Hopper').click();
    const panel = page.locator('#consent-panel');
    await panel.getByRole('heading', { name: 'Contact preferences' }).waitFor();
    await panel.getByLabel('Text messages (SMS) allowed').uncheck();
    await panel.getByRole('button', { name: 'Save preferences' }).click();
    await panel.getByText('History (1 change)').waitFor();
    const codeForm = panel.locator('#code-form');
    await codeForm.getByLabel('Code', { exact: true }).fill('38341003');
    await codeForm.getByLabel('Meaning').fill('Dissent from research use');
    await panel.getByRole('button', { name: 'Record code' }).click();
    await panel.locator('#consent-codes').getByText('Dissent from research use').waitFor();
    const noticeForm = panel.locator('#notice-form');
    await noticeForm.getByLabel('How').selectOption('email');
    await panel.getByRole('button', { name: 'Give notice' }).click();
    await panel
      .locator('#notice-status')
      .getByText(/by email · sent/)
      .waitFor();
    await web.screenshot(page, 'web-client-consent');

    // The emailed link (read from the event in the audit log, as messaging would) opens the public page.
    const token = await page.evaluate(async () => {
      const s = JSON.parse(sessionStorage.getItem('praxis.session') || '{}');
      for (let i = 0; i < 80; i++) {
        const r = await fetch('/api/v1/audit/events?type=consent.notice.requested', {
          headers: { authorization: `Bearer ${s.accessToken}` },
        });
        const body = await r.json();
        if (body.items && body.items.length) return String(body.items[0].data.ackPath).split('/').pop();
        await new Promise((res) => setTimeout(res, 250));
      }
      return '';
    });
    expect(token).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    const patientPage = page.url();
    const visitor = await web.openPage({ width: 900, height: 700 });
    await visitor.goto(`${platform.url}/privacy-notices/ack/${token}`);
    await visitor.getByRole('heading', { name: 'Privacy notice' }).waitFor();
    await visitor.getByText('You may ask for a copy of it at any time.').waitFor();
    await web.screenshot(visitor, 'web-client-notice-link');
    await visitor.getByRole('button', { name: 'I have read this notice' }).click();
    await visitor.getByRole('heading', { name: 'Thank you' }).waitFor();
    await visitor.reload();
    await visitor.getByText('This link is not valid or has already been used.').waitFor();
    await visitor.close();
    await page.reload();
    await page
      .locator('#notice-status')
      .getByText(/by email · acknowledged/)
      .waitFor();

    // Subject access and erasure, started from the patient's page, followed on the data-rights page.
    await page.getByRole('button', { name: 'Subject access request' }).click();
    await page.getByRole('heading', { name: 'Data rights' }).waitFor();
    await page
      .locator('#sar-list')
      .getByRole('button', { name: 'FHIR' })
      .waitFor({ timeout: 30_000 })
      .catch(async () => {
        await page.getByRole('button', { name: 'Refresh' }).click();
        await page.locator('#sar-list').getByRole('button', { name: 'FHIR' }).waitFor({ timeout: 30_000 });
      });
    await page.goto(patientPage);
    page.once('dialog', (d) => void d.accept());
    await page.locator('#erase-form').getByLabel('Reason for erasure').fill('Patient asked to be forgotten');
    await page.getByRole('button', { name: 'Erase patient' }).click();
    await page.getByRole('heading', { name: 'Data rights' }).waitFor();
    for (let i = 0; i < 60; i++) {
      if ((await page.locator('#erasure-list').innerText()).includes('completed')) break;
      await page.waitForTimeout(500);
      await page.getByRole('button', { name: 'Refresh' }).click();
    }
    expect(await page.locator('#erasure-list').innerText()).toMatch(/completed[\s\S]*records: erased, consent: erased/);
    await web.screenshot(page, 'web-client-data-rights');
    await page.goto(patientPage);
    await page
      .getByText(/not found|No such patient/i)
      .first()
      .waitFor();

    expect(web.cspViolations()).toEqual([]);
  });

  it('pages the subject access and erasure lists through the API cursor with a "More" button', async () => {
    const { page } = web;
    expect(adminSlug).not.toBe('');
    // The API in the page, with the admin's session (as the client itself calls it).
    const call = (method: string, url: string, body?: unknown) =>
      page.evaluate(
        async ([m, u, b]) => {
          const s = JSON.parse(sessionStorage.getItem('praxis.session') || '{}');
          const headers: Record<string, string> = { authorization: `Bearer ${s.accessToken}` };
          if (b !== undefined) headers['content-type'] = 'application/json';
          const r = await fetch(`/api/v1${u}`, { method: m, headers, body: b === undefined ? undefined : JSON.stringify(b) });
          return { status: r.status, body: await r.json() };
        },
        [method, url, body] as const,
      );
    const retrying = async (method: string, url: string, body: unknown) => {
      // Consent learns of a new patient from records' event: until then it answers 404.
      for (let i = 0; ; i++) {
        const r = await call(method, url, body);
        if (r.status !== 404 || i === 120) return r;
        await page.waitForTimeout(250);
      }
    };
    // One SAR and one erasure exist from the test before; ten more of each make two pages of ten.
    const alan = (await call('GET', '/patients?limit=200')).body.items.find((p: { familyName: string }) => p.familyName === 'Turing');
    expect(alan).toBeDefined();
    for (let i = 0; i < 10; i++) expect((await retrying('POST', '/subject-access-requests', { patientId: alan.id })).status).toBe(201);
    for (let i = 0; i < 10; i++) {
      const created = await call('POST', '/patients', { givenName: 'Erased', familyName: `Patient${i}`, birthDate: '1970-01-01' });
      expect(created.status).toBe(201);
      const erasure = await retrying('POST', '/erasure-requests', { patientId: created.body.id, reason: 'Asked to be forgotten' });
      expect(erasure.status).toBe(202);
    }
    const allSars = (await call('GET', '/subject-access-requests?limit=200')).body.items.map((r: { patientId: string }) => r.patientId);
    const allErasures = (await call('GET', '/erasure-requests?limit=200')).body.items.map((r: { patientId: string }) => r.patientId);
    expect([allSars.length, allErasures.length]).toEqual([11, 11]);

    await page.getByRole('link', { name: 'Data rights' }).click();
    await page.getByRole('heading', { name: 'Data rights' }).waitFor();
    for (const [list, more, all] of [
      ['#sar-list', 'More subject access requests', allSars],
      ['#erasure-list', 'More erasure requests', allErasures],
    ] as const) {
      const rows = page.locator(`${list} tbody tr`);
      const button = page.locator(list).getByRole('button', { name: more });
      await button.waitFor();
      expect(await rows.count()).toBe(10);
      await button.click();
      await page.locator(`${list} tbody tr:nth-child(11)`).waitFor();
      await button.waitFor({ state: 'detached' });
      // The two pages together are the whole list, in the API's order: nothing repeated, nothing skipped.
      const shown = (await rows.locator('td:first-child').allInnerTexts()).map((t) => t.trim());
      expect(shown).toEqual(all);
      console.log(`${list}: 10 rows, then "${more}" → ${shown.length} rows, no further page`);
    }
    await web.screenshot(page, 'web-client-data-rights-paged');
    expect(web.cspViolations()).toEqual([]);
  });
});
