// Every query consent sends searches an index (issue 10, docs/decisions/0004): consent runs
// against its own patched FerretDB, its routes (notices in person and by link with the public
// page, preferences, codes, subject access with both export formats, erasure), its consumers
// (patients and practices, its own erasure, the participants' answers) and its runner (SAR
// retries, failures and expiry, erasure re-sends and the deadline) are driven, every distinct
// query shape its repositories sent is recorded, and SQLite's plan for each must be an index
// search. A new repository query without a fitting index fails here.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { KeyRepository } from '../src/keys/model';
import { startHarness } from './harness';
import { bearer, onPrivateFerretDb, proveQueriesIndexed, waitFor } from './testing';

/**
 * A stand-in participant (as `audit`: exports only, not streamed) whose answer the test sets:
 * a part, a 503 (transient: the request waits and is asked again) or a 400 (fails at once).
 */
async function startParticipant(): Promise<{ url: string; answer: 'ok' | 'down' | 'refuse'; close(): Promise<void> }> {
  const state = { answer: 'ok' as 'ok' | 'down' | 'refuse' };
  const server = http.createServer((req, res) => {
    if (state.answer === 'ok') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ service: 'audit', accessLog: [], generatedAt: new Date().toISOString() }));
    } else res.writeHead(state.answer === 'down' ? 503 : 400).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return Object.assign(state, {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  });
}

describe('consent: every query shape searches an index', () => {
  let participant: Awaited<ReturnType<typeof startParticipant>>;
  const harness = onPrivateFerretDb(async () => {
    participant = await startParticipant();
    const h = await startHarness({
      participants: [
        { service: 'consent', exports: true, erases: true },
        { service: 'audit', exports: true, erases: false, url: participant.url },
        // Erases only; silent unless the test answers for it (records answers only practices it holds).
        { service: 'records', exports: false, erases: true, url: 'http://127.0.0.1:9' },
      ],
      settings: { sarExportTtlMs: 6000, sarRetryMs: 200, sarRetryWindowMs: 60_000, erasureRetryMs: 300, erasureDeadlineMs: 6000 },
    });
    return {
      ...h,
      async close() {
        await h.close();
        await participant.close();
      },
    };
  });

  it('notices, preferences, codes, subject access, erasure, consumers and the runner', async () => {
    const h = harness();
    const SNOMED = 'http://snomed.info/sct';
    await proveQueriesIndexed(
      h.mongo,
      async () => {
        const api = () => request(h.consent.app);
        const t = h.tenant();
        const admin = bearer(t.admin.token);
        const mine = (type: string, pred: (d: Record<string, unknown>) => boolean) =>
          h.waitForEvent((e) => e.tenantId === t.tenantId && e.type === type && pred(e.data), type);
        const actor = { kind: 'user' as const, id: t.admin.id };
        // The practices projection: auth's events, and the name the public page stores.
        await h.publish({ type: 'auth.tenant.created', tenantId: t.tenantId, actor, data: { tenantId: t.tenantId, slug: 'index-proof' } });
        const p = await h.patient(t.tenantId);
        await h.patient(h.tenant().tenantId);

        // Notices: versions, in person, by emailed link with the public page.
        for (const version of ['2026-01', '2026-02'])
          expect(
            (
              await api()
                .post('/api/v1/privacy-notice-versions')
                .set(admin)
                .send({ version, text: `Notice ${version}` })
            ).status,
          ).toBe(201);
        expect((await api().post('/api/v1/privacy-notice-versions').set(admin).send({ version: '2026-02', text: 'again' })).status).toBe(
          409,
        );
        expect((await api().get('/api/v1/privacy-notice-versions').set(bearer(t.receptionist.token))).status).toBe(200);
        expect(
          (
            await api()
              .post(`/api/v1/patients/${p}/privacy-notices`)
              .set(bearer(t.receptionist.token))
              .send({ noticeVersion: '2026-01', method: 'in_person' })
          ).status,
        ).toBe(201);
        const sent = await api()
          .post(`/api/v1/patients/${p}/privacy-notices`)
          .set(bearer(t.clinician.token))
          .send({ noticeVersion: '2026-02', method: 'email' });
        expect(sent.status).toBe(201);
        const link = `/api/v1${String((await mine('consent.notice.requested', (d) => d.noticeRequestId === sent.body.id)).data.ackPath)}`;
        expect((await api().get(link)).status).toBe(200);
        const gen = (await h.consent.patients.practiceName(t.tenantId)).gen;
        expect(await h.consent.patients.rememberPracticeName(t.tenantId, 'Index Lane Surgery', gen)).toBe(true);
        await h.publish({ type: 'auth.tenant.updated', tenantId: t.tenantId, actor, data: { fields: ['name'] } });
        await waitFor(async () => (await h.consent.patients.practiceName(t.tenantId)).gen === 1, { what: 'the rename' });
        expect(await h.consent.patients.rememberPracticeName(t.tenantId, 'Renamed Surgery', 1)).toBe(true);
        expect((await api().post(link)).status).toBe(200);
        expect((await api().post(link)).status).toBe(404);

        // Preferences (a change, and one that changes nothing) and codes; the consent record.
        expect((await api().put(`/api/v1/patients/${p}/preferences`).set(admin).send({ sms: false })).status).toBe(200);
        expect((await api().put(`/api/v1/patients/${p}/preferences`).set(admin).send({ sms: false })).status).toBe(200);
        expect(
          (
            await api()
              .post(`/api/v1/patients/${p}/consent-codes`)
              .set(admin)
              .send({ kind: 'consent', system: SNOMED, code: '73211009', display: 'Consent to share' })
          ).status,
        ).toBe(201);
        expect((await api().get(`/api/v1/patients/${p}/consent`).set(bearer(t.receptionist.token))).status).toBe(200);
        const service = h.issuer.sign({ tid: t.tenantId, role: 'service', sub: 'svc_records', amr: ['svc'] });
        expect((await api().get(`/api/v1/internal/patients/${p}/export`).set(bearer(service))).status).toBe(200);

        // Subject access: collated, listed, read, exported as JSON and FHIR.
        const sarDone = (id: string) =>
          waitFor(
            async () => {
              const r = await api().get(`/api/v1/subject-access-requests/${id}`).set(admin);
              return r.body.status !== 'pending' ? r.body : undefined;
            },
            { what: 'the subject access request to finish' },
          );
        const sar = await api().post('/api/v1/subject-access-requests').set(admin).send({ patientId: p });
        expect(sar.status).toBe(201);
        expect(await sarDone(sar.body.id)).toMatchObject({ status: 'completed' });
        expect((await api().get(`/api/v1/subject-access-requests/${sar.body.id}/export`).set(admin)).status).toBe(200);
        expect((await api().get(`/api/v1/subject-access-requests/${sar.body.id}/export?format=fhir`).set(admin)).status).toBe(200);
        // Another replica (its key cache empty) finds the patient's key by its id to open the export.
        const kid = String((await h.mongo.collection('patient_keys').findOne({ tenantId: t.tenantId, patientId: p }))!._id);
        expect(await new KeyRepository(h.mongo).findPatientKey(t.tenantId, p, kid)).not.toBeNull();

        // A participant down: the request waits and is asked again (the runner's claim), then completes.
        participant.answer = 'down';
        const waiting = await api().post('/api/v1/subject-access-requests').set(admin).send({ patientId: p });
        await waitFor(
          async () => (await api().get(`/api/v1/subject-access-requests/${waiting.body.id}`).set(admin)).body.retrying?.attempts >= 2,
          { what: 'the request to be retried' },
        );
        participant.answer = 'ok';
        expect(await sarDone(waiting.body.id)).toMatchObject({ status: 'completed' });
        // A participant that refuses: failed at once.
        participant.answer = 'refuse';
        const refused = await api().post('/api/v1/subject-access-requests').set(admin).send({ patientId: p });
        expect(await sarDone(refused.body.id)).toMatchObject({ status: 'failed', failedParticipant: 'audit' });
        participant.answer = 'ok';
        const first = await api().get('/api/v1/subject-access-requests?limit=2').set(admin);
        expect(first.body.next).toEqual(expect.any(String));
        expect((await api().get(`/api/v1/subject-access-requests?limit=2&cursor=${first.body.next}`).set(admin)).status).toBe(200);
        const byPatient = await api().get(`/api/v1/subject-access-requests?patientId=${p}&limit=2`).set(admin);
        expect(
          (await api().get(`/api/v1/subject-access-requests?patientId=${p}&limit=2&cursor=${byPatient.body.next}`).set(admin)).status,
        ).toBe(200);

        // Erasure: answered by every participant (completed), and one left unanswered (re-sent, failed at the deadline).
        const erased = await h.patient(t.tenantId);
        await api().put(`/api/v1/patients/${erased}/preferences`).set(admin).send({ email: false });
        const e1 = await api().post('/api/v1/erasure-requests').set(admin).send({ patientId: erased, reason: 'Asked to be forgotten' });
        expect(e1.status).toBe(202);
        expect((await api().post('/api/v1/subject-access-requests').set(admin).send({ patientId: erased })).status).toBe(409);
        await mine('consent.patient.erased', (d) => d.erasureId === e1.body.id);
        await h.publish({
          type: 'records.patient.erased',
          tenantId: t.tenantId,
          actor,
          data: { erasureId: e1.body.id, patientId: erased, notes: 0, documents: 0 },
        });
        await mine('consent.erasure-request.completed', (d) => d.erasureId === e1.body.id);
        expect((await api().post('/api/v1/erasure-requests').set(admin).send({ patientId: erased, reason: 'again' })).body.id).toBe(
          e1.body.id,
        );
        const e2 = await api()
          .post('/api/v1/erasure-requests')
          .set(admin)
          .send({ patientId: await h.patient(t.tenantId), reason: 'Left unanswered' });
        const e3 = await api()
          .post('/api/v1/erasure-requests')
          .set(admin)
          .send({ patientId: await h.patient(t.tenantId), reason: 'Paging' });
        expect((await api().get(`/api/v1/erasure-requests/${e1.body.id}`).set(admin)).status).toBe(200);
        const page = await api().get('/api/v1/erasure-requests?limit=2').set(admin);
        expect(page.body.next).toEqual(expect.any(String));
        expect((await api().get(`/api/v1/erasure-requests?limit=2&cursor=${page.body.next}`).set(admin)).status).toBe(200);
        await mine('consent.erasure-request.failed', (d) => d.erasureId === e2.body.id);
        await mine('consent.erasure-request.failed', (d) => d.erasureId === e3.body.id);

        // The runner expires the exports past their life (6 s here); a download of one is 410.
        await waitFor(async () => (await api().get(`/api/v1/subject-access-requests/${sar.body.id}/export`).set(admin)).status === 410, {
          what: 'the export to expire',
          timeoutMs: 20_000,
        });
        await h.consent.runner.tick();
      },
      { searches: 20 },
    );
  }, 180_000);
});
