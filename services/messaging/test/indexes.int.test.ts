// Every query messaging sends searches an index (issue 10, docs/decisions/0004): messaging
// runs against its own patched FerretDB (records, its neighbour, too), messages (email and
// SMS, by body and by template), the delivery worker, signed receipts, batches, credits,
// direct messages, the preference projection, subject data (export, erasure, privacy-notice
// emails) and the operator's practice notices are driven, every distinct query shape its
// repositories sent is recorded, and SQLite's plan for each must be an index search.
// A new repository query without a fitting index fails here.
import request from 'supertest';
import { LedgerRepository, SweepMarks, ledgerModel, sweepMarkModel } from '../src/credits/model';
import { AbandonedReservationSweep } from '../src/credits/sweep';
import { Credits } from '../src/credits/use-cases';
import { sendPracticeNotice } from '../src/practice-notices/notices';
import { mobile, startHarness } from './harness';
import { bearer, onPrivateFerretDb, proveQueriesIndexed, waitFor } from './testing';

describe('messaging: every query shape searches an index', () => {
  const harness = onPrivateFerretDb(() => startHarness());

  it('messages, delivery, receipts, batches, credits, direct messages, preferences and subject data', async () => {
    const h = harness();
    await proveQueriesIndexed(
      h.mongo,
      async () => {
        const api = () => request(h.messaging.app);
        const t = h.tenant();
        const admin = bearer(t.admin.token);
        const actor = { kind: 'user' as const, id: t.admin.id };
        const final = ['sent', 'delivered', 'failed', 'blocked'];
        const settled = (id: string) =>
          waitFor(
            async () => {
              const m = (await api().get(`/api/v1/messages/${id}`).set(admin)).body as { status: string };
              return final.includes(m.status) ? m : undefined;
            },
            { what: `message ${id} to settle`, timeoutMs: 30_000 },
          );
        const template = async (channel: 'sms' | 'email', body: string) => {
          const res = await fetch(`${h.recordsUrl}/api/v1/templates`, {
            method: 'POST',
            headers: { ...admin, 'content-type': 'application/json' },
            body: JSON.stringify({
              name: `Index ${channel}`,
              channel,
              body,
              ...(channel === 'email' ? { subject: 'From the practice' } : {}),
            }),
          });
          expect(res.status).toBe(201);
          return ((await res.json()) as { id: string }).id;
        };

        // Credits: a fresh ledger reader finds the head by the practice's newest entry.
        expect((await api().get('/api/v1/sms-credits').set(admin)).body.balance).toBe(0);
        expect(await h.buy(t, 50)).toBe(50);
        expect(await new Credits(new LedgerRepository(ledgerModel(h.mongo))).balance(t.tenantId)).toBe(50);

        // Messages by body and by template; sent by the worker; SMS receipts (delivered, failed).
        const p = await h.patient(t, { email: `index-${Date.now()}@example.org`, mobile: mobile() });
        const ids: string[] = [];
        const queue = async (body: Record<string, unknown>, patientId = p.id) => {
          const res = await api()
            .post('/api/v1/messages')
            .set(bearer(t.receptionist.token))
            .send({ patientId, ...body });
          expect(res.status).toBe(202);
          ids.push(res.body.id as string);
          return res.body.id as string;
        };
        const smsTpl = await template('sms', 'Hello {{patient.ref}}.');
        const emailTpl = await template('email', '<p>Hello {{patient.ref}}.</p>');
        await queue({ channel: 'sms', body: 'Your appointment is on Monday.' });
        await queue({ channel: 'email', subject: 'Appointment', body: 'See you on Monday.' });
        await queue({ channel: 'sms', templateId: smsTpl });
        await queue({ channel: 'email', templateId: emailTpl });
        h.twilio.behaviour.receiptStatus = 'failed';
        const undelivered = await queue({ channel: 'sms', body: 'This one is not delivered.' });
        await waitFor(async () => (await settled(undelivered)).status === 'failed', { what: 'the failed receipt', timeoutMs: 30_000 });
        h.twilio.behaviour.receiptStatus = 'delivered';
        for (const id of ids) await settled(id);
        const page = await api().get(`/api/v1/messages?patientId=${p.id}&limit=2`).set(admin);
        expect(page.body.next).toEqual(expect.any(String));
        expect((await api().get(`/api/v1/messages?patientId=${p.id}&limit=2&cursor=${page.body.next}`).set(admin)).status).toBe(200);

        // The preference projection (first change, a newer one, a stale one); an opted-out
        // patient is refused, and a queued text to them is blocked (credits refunded).
        const change = async (version: number, sms: boolean) => {
          await h.publish({
            type: 'consent.preference.changed',
            tenantId: t.tenantId,
            actor,
            data: { patientId: p.id, sms, email: true, version },
          });
        };
        await change(1, true);
        await change(3, false);
        await change(2, true);
        await waitFor(async () => !(await h.messaging.preferences.allows(t.tenantId, p.id, 'sms')) || undefined, {
          what: 'the preference projected',
        });
        expect((await api().post('/api/v1/messages').set(admin).send({ patientId: p.id, channel: 'sms', body: 'Opted out' })).status).toBe(
          422,
        );

        // Batches: one runs to completion; another is cancelled at once (409 if it completed first:
        // the same queries either way, and the worker checks `cancelled` for every batch text).
        const others = await Promise.all([1, 2, 3].map(() => h.patient(t, { mobile: mobile() })));
        const done = await api()
          .post('/api/v1/message-batches')
          .set(bearer(t.receptionist.token))
          .send({ channel: 'sms', templateId: smsTpl, patientIds: [...others.map((o) => o.id), p.id, 'pat_unknown'] });
        expect(done.status).toBe(202);
        await waitFor(async () => (await api().get(`/api/v1/message-batches/${done.body.id}`).set(admin)).body.status === 'completed', {
          what: 'the batch to complete',
          timeoutMs: 60_000,
        });
        const many = await Promise.all(Array.from({ length: 6 }, () => h.patient(t, { mobile: mobile() })));
        const cancelled = await api()
          .post('/api/v1/message-batches')
          .set(bearer(t.receptionist.token))
          .send({ channel: 'sms', templateId: smsTpl, patientIds: many.map((o) => o.id) });
        expect([200, 409]).toContain((await api().post(`/api/v1/message-batches/${cancelled.body.id}/cancel`).set(admin)).status);
        expect((await api().get(`/api/v1/message-batches/${cancelled.body.id}`).set(admin)).status).toBe(200);

        // Direct messages: created (link emailed, code texted), viewed, a wrong code, then the right one.
        const dmAddress = `dm-${Date.now()}@example.org`;
        const dmMobile = mobile();
        const dmPatient = await h.patient(t, { email: dmAddress, mobile: dmMobile });
        const dm = await api()
          .post('/api/v1/direct-messages')
          .set(bearer(t.clinician.token))
          .send({ patientId: dmPatient.id, subject: 'Results', body: 'All fine.' });
        expect(dm.status).toBe(201);
        const mails = await waitFor(async () => ((await h.mail.to(dmAddress)).length ? h.mail.to(dmAddress) : undefined), {
          what: 'the direct message email',
        });
        const link = /#\/dm\/([A-Za-z0-9_-]+)/.exec((await h.mail.message(mails[0]!.ID)).HTML)![1]!;
        const text = await waitFor(() => h.twilio.messages.find((m) => m.to === dmMobile), { what: 'the direct message code' });
        const code = /\b(\d{6})\b/.exec(text.body)![1]!;
        expect((await api().get(`/api/v1/dm/${link}`)).status).toBe(200);
        expect(
          (
            await api()
              .post(`/api/v1/dm/${link}/unlock`)
              .send({ code: code === '000000' ? '111111' : '000000' })
          ).status,
        ).toBe(401);
        expect((await api().post(`/api/v1/dm/${link}/unlock`).send({ code })).status).toBe(200);

        // Subject data: the export, a privacy-notice email asked by consent, and an erasure.
        const service = h.issuer.sign({ tid: t.tenantId, role: 'service', sub: 'consent', amr: ['svc'] });
        expect((await api().get(`/api/v1/internal/patients/${p.id}/export`).set(bearer(service))).status).toBe(200);
        const noticeRequestId = `ntr_${Date.now()}`;
        await h.publish({
          type: 'consent.notice.requested',
          tenantId: t.tenantId,
          actor,
          data: { noticeRequestId, patientId: dmPatient.id, noticeVersion: '2026-01', ackPath: `/privacy-notices/ack/${'a'.repeat(43)}` },
        });
        await waitFor(async () => (await h.messaging.messages.find(t.tenantId, `ntc_${noticeRequestId}`)) !== null || undefined, {
          what: 'the privacy notice email',
        });
        const erasureId = `era_${Date.now()}`;
        await h.publish({
          type: 'consent.erasure-request.created',
          tenantId: t.tenantId,
          actor,
          data: { erasureId, patientId: dmPatient.id },
        });
        await h.waitForEvent((e) => e.type === 'messaging.patient.erased' && e.data.erasureId === erasureId, 'messaging.patient.erased');

        // The operator's practice notice, run twice (the second finds every admin done).
        const notice = { id: `idx-${Date.now()}`, subject: 'Maintenance', text: 'Planned maintenance on Sunday.' };
        const noticeDeps = {
          mongo: h.mongo,
          admins: {
            page: async () => ({
              items: [{ tenantId: t.tenantId, practice: 'Index', admins: [{ userId: t.admin.id, name: 'A', email: 'a@example.org' }] }],
            }),
          },
          email: { send: async () => ({}) },
          logger: h.messaging.delivery.logger,
        };
        expect((await sendPracticeNotice(noticeDeps, notice)).sent).toBe(1);
        expect((await sendPracticeNotice(noticeDeps, notice)).alreadySent).toBe(1);

        // Both providers down until the bus's last delivery: the text fails and its credits are refunded.
        h.twilio.behaviour.mode = 'fail';
        h.vonage.behaviour.mode = 'fail';
        try {
          const lost = await queue({ channel: 'sms', body: 'Nobody takes this one.' }, others[0]!.id);
          expect(await settled(lost)).toMatchObject({ status: 'failed' });
          // The refund follows the status change (two writes): wait for it.
          await waitFor(() => h.messaging.credits.ledger.findByRef(t.tenantId, 'refund', lost).then((r) => r ?? undefined), {
            what: 'the refund',
          });
        } finally {
          h.twilio.behaviour.mode = 'ok';
          h.vonage.behaviour.mode = 'ok';
        }

        // The sweep for reservations a kill left without their message (credits/sweep.ts):
        // its mark, the reservations by time across practices, which messages exist, and the
        // spend and reservation looked up for the one without its message.
        await h.messaging.credits.reserve(t.tenantId, `msg_orphan${Date.now()}`, 1, t.admin.id);
        const sweeper = new AbandonedReservationSweep(
          new Credits(h.messaging.credits.ledger, 1),
          new SweepMarks(sweepMarkModel(h.mongo)),
          (ids) => h.messaging.messages.existing(ids),
          { warn: () => undefined },
        );
        await new Promise((r) => setTimeout(r, 20));
        expect(await sweeper.run()).toBe(1);
      },
      { searches: 20 },
    );
  }, 240_000);
});
