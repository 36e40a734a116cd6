// Subject access and erasure with consent on its own (its own part in-process, and a
// participant that is down): collation, the sealed export, expiry (410), the failed
// participant named, erasure of consent's part with crypto-shredding, 409 while a request
// is pending, duplicates that change nothing, the deadline, and no plaintext in the files.
import type { EventEnvelope } from '@praxis/contracts';
import net from 'node:net';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import request from 'supertest';
import { type Harness, startHarness } from './harness';
import { ROOT, bearer, marker, waitFor } from './testing';

const SNOMED = 'http://snomed.info/sct';

/** A port nothing listens on (taken and released at once). */
function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

async function rawDatabaseBytes(dbName: string): Promise<Buffer> {
  const dir = path.join(ROOT, '.data/ferretdb');
  const files = (await readdir(dir)).filter((f) => f === `${dbName}.sqlite` || f.startsWith(`${dbName}.sqlite-`));
  expect(files.length).toBeGreaterThan(0);
  return Buffer.concat(await Promise.all(files.map((f) => readFile(path.join(dir, f)))));
}

describe('subject access and erasure, consent alone', () => {
  let h: Harness;
  let t: ReturnType<Harness['tenant']>;
  const api = () => request(h.consent.app);
  const mine = (e: EventEnvelope) => e.tenantId === t.tenantId;

  beforeAll(async () => {
    h = await startHarness({ settings: { sarExportTtlMs: 6000, erasureRetryMs: 300, erasureDeadlineMs: 60_000 } });
    t = h.tenant();
  });
  afterAll(() => h.close());

  async function sarDone(id: string) {
    return waitFor(
      async () => {
        const r = await api().get(`/api/v1/subject-access-requests/${id}`).set(bearer(t.admin.token));
        return r.body.status !== 'pending' ? r.body : undefined;
      },
      { what: 'the request to finish' },
    );
  }

  it('collates, seals and serves the export; it expires (410); every step is an event', async () => {
    const p = await h.patient(t.tenantId);
    await api().put(`/api/v1/patients/${p}/preferences`).set(bearer(t.admin.token)).send({ sms: false });
    await api()
      .post(`/api/v1/patients/${p}/consent-codes`)
      .set(bearer(t.admin.token))
      .send({ kind: 'consent', system: SNOMED, code: '73211009', display: 'Consent to share' });
    const opened = await api().post('/api/v1/subject-access-requests').set(bearer(t.admin.token)).send({ patientId: p });
    expect(opened.status).toBe(201);
    expect(opened.body).toMatchObject({ id: expect.any(String), status: 'pending', dueAt: expect.any(String) });
    const due = new Date(opened.body.dueAt).getTime() - Date.now();
    expect(Math.round(due / 86_400_000)).toBe(30);
    const done = await sarDone(opened.body.id);
    expect(done).toMatchObject({ status: 'completed', completedAt: expect.any(String), expiresAt: expect.any(String) });
    const exp = await api().get(`/api/v1/subject-access-requests/${opened.body.id}/export`).set(bearer(t.admin.token));
    expect(exp.status).toBe(200);
    expect(exp.body).toMatchObject({
      patientId: p,
      patient: null,
      notes: [],
      messages: [],
      accessLog: [],
      generatedAt: expect.any(String),
    });
    expect(exp.body.consent.preferences).toEqual({ sms: false, email: true });
    expect(exp.body.consent.codes).toEqual([expect.objectContaining({ code: '73211009', display: 'Consent to share' })]);
    const fhir = await api().get(`/api/v1/subject-access-requests/${opened.body.id}/export?format=fhir`).set(bearer(t.admin.token));
    expect(fhir.body).toMatchObject({ resourceType: 'Bundle', type: 'collection' });
    // The stored export is ciphertext under the patient's key, in the chunks of one collation.
    const stored = await h.mongo.collection('access_export_chunks').find({ requestId: opened.body.id }).toArray();
    expect(stored.length).toBeGreaterThanOrEqual(1);
    const request = await h.mongo.collection('access_requests').findOne({ _id: opened.body.id });
    expect(stored.map((c) => c.exportId)).toEqual(stored.map(() => request!.exportId));
    expect(request!.exportChunks).toBe(stored.length);
    for (const c of stored) expect(c.sealed.ct).toMatch(/^v1\./);
    expect(JSON.stringify(stored)).not.toContain('Consent to share');

    for (const type of ['consent.access-request.created', 'consent.access-request.completed', 'consent.access-request.downloaded']) {
      await h.waitForEvent((e) => mine(e) && e.type === type && e.data.requestId === opened.body.id, type);
    }
    // Past its life (6 s here, 7 days in production): 410, the export deleted, an event.
    await waitFor(
      async () => (await api().get(`/api/v1/subject-access-requests/${opened.body.id}/export`).set(bearer(t.admin.token))).status === 410,
      { what: '410', timeoutMs: 20_000 },
    );
    await h.waitForEvent((e) => mine(e) && e.type === 'consent.access-request.expired' && e.data.requestId === opened.body.id, 'expired');
    expect(await h.mongo.collection('access_export_chunks').countDocuments({ requestId: opened.body.id })).toBe(0);
  });

  it('keeps a request pending while a participant does not answer, asking again, then fails it naming the participant and why', async () => {
    const down = await freePort();
    const h2 = await startHarness({
      participants: [
        { service: 'consent', exports: true, erases: true },
        { service: 'records', exports: true, erases: true, url: `http://127.0.0.1:${down}` },
      ],
      settings: { sarRetryMs: 300, sarRetryWindowMs: 2500 },
    });
    try {
      const t2 = h2.tenant();
      const p = await h2.patient(t2.tenantId);
      const opened = await request(h2.consent.app)
        .post('/api/v1/subject-access-requests')
        .set(bearer(t2.admin.token))
        .send({ patientId: p });
      const seen: number[] = [];
      const started = Date.now();
      const done = await waitFor(async () => {
        const r = await request(h2.consent.app).get(`/api/v1/subject-access-requests/${opened.body.id}`).set(bearer(t2.admin.token));
        if (r.body.status === 'pending' && r.body.retrying) {
          expect(r.body.retrying).toMatchObject({ participant: 'records', reason: 'unreachable' });
          seen.push(r.body.retrying.attempts);
        }
        return r.body.status !== 'pending' ? r.body : undefined;
      });
      const ms = Date.now() - started;
      console.log(
        `participant down: pending with attempts ${[...new Set(seen)].join(', ')}, then failed after ${ms} ms: ${done.failureReason}`,
      );
      expect(done).toMatchObject({ status: 'failed', failedParticipant: 'records' });
      expect(done.failureReason).toMatch(/^records unreachable: \d+ attempts over [\d.]+ s \(retried every 0.3 s for up to 2.5 s\)$/);
      expect(done.retrying).toBeUndefined();
      // It was pending and asked again, more than once, until another attempt would start past
      // the window (2.5 s after the first failure; the last one starts at most 0.3 s before it).
      expect(Math.max(...seen)).toBeGreaterThanOrEqual(2);
      expect(ms).toBeGreaterThanOrEqual(2500 - 300);
      expect(
        (await request(h2.consent.app).get(`/api/v1/subject-access-requests/${opened.body.id}/export`).set(bearer(t2.admin.token))).status,
      ).toBe(409);
      const failed = await h2.waitForEvent(
        (e) => e.type === 'consent.access-request.failed' && e.data.requestId === opened.body.id && e.data.participant === 'records',
        'failed event',
      );
      // The event says why, as a code, and after how many attempts: ids and codes only (no words, no status here).
      const attempts = Number(/: (\d+) attempts/.exec(done.failureReason as string)![1]);
      expect(failed.version).toBe(2);
      expect(failed.data).toStrictEqual({
        requestId: opened.body.id,
        patientId: p,
        participant: 'records',
        reason: 'unreachable',
        attempts,
      });
      expect(attempts).toBeGreaterThanOrEqual(2);
    } finally {
      await h2.close();
    }
  });

  it('refuses erasure while a subject access request is pending (409)', async () => {
    const p = await h.patient(t.tenantId);
    // A pending request as consent stores it (collation would finish it at once here).
    await h.mongo.collection('access_requests').insertOne({
      _id: `sar_${p}` as never,
      tenantId: t.tenantId,
      patientId: p,
      actor: { kind: 'user', id: t.admin.id },
      status: 'pending',
      participants: ['records'],
      createdAt: new Date(),
      dueAt: new Date(Date.now() + 1e9),
    });
    await h.consent.runner.stop();
    try {
      const res = await api().post('/api/v1/erasure-requests').set(bearer(t.admin.token)).send({ patientId: p, reason: 'asked' });
      expect(res.status).toBe(409);
      expect(res.headers['content-type']).toContain('application/problem+json');
    } finally {
      await h.mongo.collection('access_requests').deleteOne({ _id: `sar_${p}` as never });
      h.consent.runner.start();
    }
  });

  it('erases consent’s part: key shredded, documents gone, patient 404; a repeat and duplicate answers change nothing', async () => {
    const p = await h.patient(t.tenantId);
    await api().put(`/api/v1/patients/${p}/preferences`).set(bearer(t.admin.token)).send({ email: false });
    await api()
      .post(`/api/v1/patients/${p}/consent-codes`)
      .set(bearer(t.admin.token))
      .send({ kind: 'dissent', system: SNOMED, code: '22232009', display: 'No sharing' });
    const key = await h.mongo.collection('patient_keys').findOne({ tenantId: t.tenantId, patientId: p });
    expect(key).not.toBeNull();

    const res = await api()
      .post('/api/v1/erasure-requests')
      .set(bearer(t.admin.token))
      .send({ patientId: p, reason: 'Patient asked to be forgotten' });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ status: 'pending', services: { consent: 'pending' } });
    const done = await waitFor(
      async () => {
        const r = await api().get(`/api/v1/erasure-requests/${res.body.id}`).set(bearer(t.admin.token));
        return r.body.status === 'completed' ? r.body : undefined;
      },
      { what: 'erasure completed' },
    );
    expect(done).toMatchObject({ services: { consent: 'erased' }, counts: { consent: { preferences: 1, codes: 1 } } });
    const completed = await h.waitForEvent(
      (e) => mine(e) && e.type === 'consent.erasure-request.completed' && e.data.erasureId === res.body.id,
      'completed',
    );
    expect(completed).toMatchObject({
      actor: { kind: 'user', id: t.admin.id },
      data: { erasureId: res.body.id, patientId: p, counts: { consent: expect.any(Object) } },
    });
    expect(JSON.stringify(completed)).not.toMatch(/forgotten|No sharing/);

    expect(await h.mongo.collection('patient_keys').countDocuments({ tenantId: t.tenantId, patientId: p })).toBe(0);
    for (const col of ['preferences', 'consent_codes', 'notice_acks', 'notice_requests', 'access_export_chunks'])
      expect({ col, n: await h.mongo.collection(col).countDocuments({ tenantId: t.tenantId, patientId: p }) }).toEqual({ col, n: 0 });
    expect((await api().get(`/api/v1/patients/${p}/consent`).set(bearer(t.admin.token))).status).toBe(404);
    expect((await api().post('/api/v1/subject-access-requests').set(bearer(t.admin.token)).send({ patientId: p })).status).toBe(404);

    // The same erasure again: the same one answers; a redelivered answer and request change nothing.
    const again = await api().post('/api/v1/erasure-requests').set(bearer(t.admin.token)).send({ patientId: p, reason: 'again' });
    expect(again.body.id).toBe(res.body.id);
    await h.publish({
      type: 'consent.erasure-request.created',
      tenantId: t.tenantId,
      actor: { kind: 'user', id: t.admin.id },
      data: { erasureId: res.body.id, patientId: p },
    });
    await h.publish({
      type: 'consent.patient.erased',
      tenantId: t.tenantId,
      actor: { kind: 'user', id: t.admin.id },
      data: { erasureId: res.body.id, patientId: p, preferences: 9, codes: 9, notices: 9, exports: 9 },
    });
    // A records.patient.created redelivered for the erased patient does not bring them back.
    await h.publish({
      type: 'records.patient.created',
      tenantId: t.tenantId,
      actor: { kind: 'user', id: 'x' },
      data: { patientId: p, test: false },
    });
    await new Promise((r) => setTimeout(r, 800));
    expect(h.events.filter((e) => e.type === 'consent.erasure-request.completed' && e.data.erasureId === res.body.id)).toHaveLength(1);
    expect(
      new Set(
        h.events
          .filter(
            (e) =>
              e.type === 'consent.patient.erased' &&
              e.data.erasureId === res.body.id &&
              e.actor.id === t.admin.id &&
              e.data.preferences !== 9,
          )
          .map((e) => e.id),
      ).size,
    ).toBe(1);
    expect((await api().get(`/api/v1/erasure-requests/${res.body.id}`).set(bearer(t.admin.token))).body.counts.consent).toMatchObject({
      preferences: 1,
      codes: 1,
    });
    expect((await api().get(`/api/v1/patients/${p}/consent`).set(bearer(t.admin.token))).status).toBe(404);
  });

  it('re-sends to a participant that has not answered, and fails past the deadline naming only it', async () => {
    const h3 = await startHarness({
      participants: [
        { service: 'consent', exports: true, erases: true },
        // Records answers only for practices it holds keys for (none here), so it stays silent
        // even when other suites' records run on the same broker. (Messaging answers every
        // erasure, with zero counts where it holds nothing: it would not stay silent.)
        { service: 'records', exports: true, erases: true, url: 'http://127.0.0.1:9' },
      ],
      settings: { erasureRetryMs: 400, erasureDeadlineMs: 8000 },
    });
    try {
      const t3 = h3.tenant();
      const p = await h3.patient(t3.tenantId);
      const res = await request(h3.consent.app)
        .post('/api/v1/erasure-requests')
        .set(bearer(t3.admin.token))
        .send({ patientId: p, reason: 'r' });
      const failed = await waitFor(
        async () => {
          const r = await request(h3.consent.app).get(`/api/v1/erasure-requests/${res.body.id}`).set(bearer(t3.admin.token));
          return r.body.status === 'failed' ? r.body : undefined;
        },
        { what: 'erasure failed', timeoutMs: 40_000 },
      );
      expect(failed).toMatchObject({ services: { consent: 'erased', records: 'pending' }, missing: ['records'] });
      const sends = h3.events.filter((e) => e.type === 'consent.erasure-request.created' && e.data.erasureId === res.body.id).length;
      console.log(`erasure to a silent participant: request sent ${sends} times before the 8 s deadline`);
      expect(sends).toBeGreaterThanOrEqual(3);
      await h3.waitForEvent((e) => e.type === 'consent.erasure-request.failed' && e.data.erasureId === res.body.id, 'failed event');
    } finally {
      await h3.close();
    }
  });

  it('stores no identifying value in plaintext: markers in codes, an erasure reason and an export are not in the raw files', async () => {
    const m = { display: marker('Display'), reason: marker('Reason') };
    const p = await h.patient(t.tenantId);
    await api()
      .post(`/api/v1/patients/${p}/consent-codes`)
      .set(bearer(t.admin.token))
      .send({ kind: 'consent', system: 'urn:praxis:local', code: 'share', display: m.display });
    const sar = await api().post('/api/v1/subject-access-requests').set(bearer(t.admin.token)).send({ patientId: p });
    await sarDone(sar.body.id);
    const p2 = await h.patient(t.tenantId);
    await api().post('/api/v1/erasure-requests').set(bearer(t.admin.token)).send({ patientId: p2, reason: m.reason });
    const bytes = await waitFor(
      async () => {
        const b = await rawDatabaseBytes(h.dbName);
        // Positive control: the plain code and the request id are in the files.
        return b.includes(Buffer.from(sar.body.id)) && b.includes(Buffer.from('urn:praxis:local')) ? b : undefined;
      },
      { what: 'the data in the database files' },
    );
    for (const [what, value] of Object.entries(m)) {
      for (const form of [value, value.toLowerCase(), value.toUpperCase()])
        expect({ what, found: bytes.includes(Buffer.from(form, 'utf8')) }).toEqual({ what, found: false });
    }
  });

  it('pages both lists with the one cursor format: newest first, no item twice, a foreign cursor 400', async () => {
    const p = await h.patient(t.tenantId);
    const sars: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await api().post('/api/v1/subject-access-requests').set(bearer(t.admin.token)).send({ patientId: p });
      expect(r.status).toBe(201);
      sars.push(r.body.id as string);
      await sarDone(r.body.id);
    }
    const page1 = await api().get(`/api/v1/subject-access-requests?patientId=${p}&limit=2`).set(bearer(t.admin.token));
    expect(page1.status).toBe(200);
    expect(page1.body.items.map((r: { id: string }) => r.id)).toEqual([sars[2], sars[1]]);
    expect(page1.body.next).toEqual(expect.any(String));
    const page2 = await api()
      .get(`/api/v1/subject-access-requests?patientId=${p}&limit=2&cursor=${page1.body.next}`)
      .set(bearer(t.admin.token));
    expect(page2.body.items.map((r: { id: string }) => r.id)).toEqual([sars[0]]);
    expect(page2.body.next).toBeUndefined();

    const erasures: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await api()
        .post('/api/v1/erasure-requests')
        .set(bearer(t.admin.token))
        .send({ patientId: await h.patient(t.tenantId), reason: 'paging' });
      expect(r.status).toBe(202);
      erasures.push(r.body.id as string);
    }
    // Every erasure of the practice, two at a time: each once, newest first.
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const r = await api()
        .get(`/api/v1/erasure-requests?limit=2${cursor ? `&cursor=${cursor}` : ''}`)
        .set(bearer(t.admin.token));
      expect(r.status).toBe(200);
      expect(r.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...r.body.items.map((e: { id: string }) => e.id));
      cursor = r.body.next;
      pages++;
    } while (cursor);
    expect(new Set(seen).size).toBe(seen.length);
    expect(pages).toBeGreaterThanOrEqual(2);
    expect(seen.slice(0, 3)).toEqual([...erasures].reverse());
    expect([...seen].sort().reverse()).toEqual(seen);

    for (const bad of ['not-a-cursor', Buffer.from('x1:$where').toString('base64url')]) {
      const r = await api().get(`/api/v1/erasure-requests?cursor=${bad}`).set(bearer(t.admin.token));
      expect(r.status).toBe(400);
      expect(r.headers['content-type']).toMatch(/application\/problem\+json/);
    }
    // Another practice's cursor position finds nothing of this one's beyond it: the list is per practice.
    const other = h.tenant();
    const foreign = await api().get(`/api/v1/subject-access-requests?cursor=${page1.body.next}`).set(bearer(other.admin.token));
    expect(foreign.status).toBe(200);
    expect(foreign.body.items).toEqual([]);
  });
});
