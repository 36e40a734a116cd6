// Credits under concurrency, encryption at rest (marker test over the raw FerretDB files),
// the data-subject participant (export, erasure by crypto-shredding, privacy notices), and
// the OpenAPI document.
import { uuidv7 } from '@praxis/platform';
import { randomBytes } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import request from 'supertest';
import { SweepMarks, sweepMarkModel } from '../src/credits/model';
import { AbandonedReservationSweep } from '../src/credits/sweep';
import { Credits } from '../src/credits/use-cases';
import { type Harness, mobile, startHarness } from './harness';
import { bearer, ferretDataDir, marker, waitFor } from './testing';

jest.setTimeout(180_000);

describe('credits, encryption at rest, subject data, OpenAPI', () => {
  let h: Harness;
  let t: ReturnType<Harness['tenant']>;
  const api = () => request(h.messaging.app);
  const service = () => h.issuer.sign({ tid: t.tenantId, role: 'service', sub: 'consent', amr: ['svc'] });

  beforeAll(async () => {
    // The credit race measures the ledger, not latency: 50 sends at once on a busy machine
    // outlast the platform's default request deadline (the 503s of a loaded run).
    h = await startHarness({ requestTimeoutMs: 120_000 });
    t = h.tenant();
  });
  afterAll(() => h?.close());

  it('never lets the balance go below zero under 50 concurrent sends', async () => {
    const poor = h.tenant();
    const p = await h.patient(poor, { mobile: mobile() });
    await h.buy(poor, 20);
    const answers = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        api()
          .post('/api/v1/messages')
          .set(bearer(poor.receptionist.token))
          .send({ patientId: p.id, channel: 'sms', body: `race ${i}` }),
      ),
    );
    const accepted = answers.filter((r) => r.status === 202).length;
    const refused = answers.filter((r) => r.status === 402).length;
    const ledger = await h.mongo.collection('sms_credit_ledger').find({ tenantId: poor.tenantId }).sort({ seq: 1 }).toArray();
    const statuses: Record<number, number> = {};
    for (const r of answers) statuses[r.status] = (statuses[r.status] ?? 0) + 1;
    const others = answers.filter((r) => r.status !== 202 && r.status !== 402).map((r) => r.body as unknown);
    console.log(
      JSON.stringify({
        accepted,
        refused,
        statuses,
        entries: ledger.length,
        lowest: Math.min(...ledger.map((e) => e.balance as number)),
        others: others.slice(0, 2),
      }),
    );
    expect(accepted).toBe(20);
    expect(refused).toBe(30);
    expect(ledger.every((e) => (e.balance as number) >= 0)).toBe(true);
    expect(ledger.map((e) => e.seq)).toEqual(ledger.map((_e, i) => i + 1)); // gapless, no two writers on one number
    expect((await api().get('/api/v1/sms-credits').set(bearer(poor.receptionist.token))).body.balance).toBe(0);
    await waitFor(() => h.twilio.messages.filter((m) => m.body.startsWith('race ')).length >= 20 || undefined, {
      what: '20 texts',
      timeoutMs: 60_000,
    });
    expect(h.twilio.messages.filter((m) => m.body.startsWith('race ')).length).toBe(20);
  });

  it('refunds a reservation whose message was never stored (the process died between the two writes), once', async () => {
    const x = h.tenant();
    const p = await h.patient(x, { mobile: mobile() });
    await h.buy(x, 5);
    const sent = await api()
      .post('/api/v1/messages')
      .set(bearer(x.receptionist.token))
      .send({ patientId: p.id, channel: 'sms', body: 'kept' });
    expect(sent.status).toBe(202);
    await waitFor(
      async () =>
        ['sent', 'delivered'].includes(
          (await api().get(`/api/v1/messages/${sent.body.id}`).set(bearer(x.receptionist.token))).body.status,
        ) || undefined,
      {
        what: 'the text sent',
      },
    );
    // What a process killed after its reservation and before the message's insert leaves behind.
    const orphan = `msg_${randomBytes(8).toString('hex')}`;
    await h.messaging.credits.reserve(x.tenantId, orphan, 2, x.receptionist.id);
    const balance = async () => (await api().get('/api/v1/sms-credits').set(bearer(x.receptionist.token))).body.balance as number;
    expect(await balance()).toBe(2);

    const warnings: unknown[] = [];
    const logger = { warn: (o: unknown) => void warnings.push(o) };
    const sweeper = new AbandonedReservationSweep(
      new Credits(h.messaging.credits.ledger, 300),
      new SweepMarks(sweepMarkModel(h.mongo)),
      (ids) => h.messaging.messages.existing(ids),
      logger,
    );
    const early = await sweeper.run(new Date(Date.now() - 1_000));
    expect(early).toBe(0); // younger than the hold: a request may still be storing its message
    await new Promise((r) => setTimeout(r, 400));
    const refunded = await sweeper.run();
    const again = await sweeper.run();
    const entries = await h.mongo.collection('sms_credit_ledger').find({ tenantId: x.tenantId }).sort({ seq: 1 }).toArray();
    console.log(JSON.stringify({ refunded, again, balance: await balance(), kinds: entries.map((e) => `${e.kind}:${e.delta}`) }));
    expect(refunded).toBe(1);
    expect(again).toBe(0);
    expect(await balance()).toBe(4); // 5 bought, 1 spent on the text that went out
    expect(entries.filter((e) => e.ref === orphan).map((e) => e.kind)).toEqual(['reservation', 'refund']);
    expect(entries.filter((e) => e.ref === sent.body.id).map((e) => e.kind)).toEqual(['reservation', 'spend']);
    expect(JSON.stringify(warnings)).not.toContain(p.id);

    // A request that got to its insert only after half the hold answers 503 and gives the credit back.
    const slow = new Credits(h.messaging.credits.ledger, 2);
    const slowId = `msg_${randomBytes(8).toString('hex')}`;
    const hold = await slow.reserve(x.tenantId, slowId, 1, x.receptionist.id);
    await new Promise((r) => setTimeout(r, 5));
    expect(hold.expired()).toBe(true);
    // The same message reserved again later (a batch expanded again after a crash) finds its
    // earlier reservation, and its hold runs from now: it may still store the message.
    expect((await slow.reserve(x.tenantId, slowId, 1, x.receptionist.id)).expired()).toBe(false);
    expect((await h.messaging.credits.reserve(x.tenantId, `msg_${randomBytes(8).toString('hex')}`, 1, 'u')).expired()).toBe(false);
  });

  it('pages reservations by time without losing any that share the millisecond a page ends on', async () => {
    // Seven reservations in one millisecond long ago (practices of their own), and one after it.
    const at = new Date('2001-02-03T04:05:06.007Z');
    const run = randomBytes(4).toString('hex');
    const entry = (i: number, when: Date) => ({
      _id: `led_${run}_${i}`,
      tenantId: `ten_${run}_${i}`,
      seq: 1,
      kind: 'reservation',
      ref: `msg_${run}_${i}`,
      delta: -1,
      balance: 0,
      actor: 'usr_test',
      at: when,
    });
    const docs = [...Array.from({ length: 7 }, (_, i) => entry(i, at)), entry(7, new Date(at.getTime() + 1))];
    const raw = h.mongo.collection('sms_credit_ledger');
    await raw.insertMany(docs as never[]);
    try {
      const ledger = h.messaging.credits.ledger;
      const upTo = new Date(at.getTime() + 10);
      const seen: string[] = [];
      let after = new Date(at.getTime() - 1);
      for (let pages = 0; pages < 10; pages++) {
        const page = await ledger.reservationsBetween(after, upTo, 3);
        if (!page.length) break;
        seen.push(...page.map((r) => r.ref));
        after = page.at(-1)!.at;
      }
      // Pages of 3 where all 7 share one millisecond: the first page holds all 7, the next the last one.
      expect(seen.sort()).toEqual(docs.map((d) => d.ref).sort());
    } finally {
      await raw.deleteMany({ _id: { $in: docs.map((d) => d._id) } } as never);
    }
  });

  it('stores no message body, subject, address or code in plaintext: markers are not in the raw database files', async () => {
    await h.buy(t, 10);
    const m = {
      body: marker('Body'),
      subject: marker('Subj'),
      dmBody: marker('DmBody'),
      dmSubject: marker('DmSubj'),
      email: `${marker('mail').toLowerCase()}@example.org`,
    };
    const p = await h.patient(t, { email: m.email, mobile: mobile() });
    const sent = await api()
      .post('/api/v1/messages')
      .set(bearer(t.admin.token))
      .send({ patientId: p.id, channel: 'email', subject: m.subject, body: m.body });
    expect(sent.status).toBe(202);
    expect(
      (
        await api()
          .post('/api/v1/direct-messages')
          .set(bearer(t.admin.token))
          .send({ patientId: p.id, subject: m.dmSubject, body: m.dmBody })
      ).status,
    ).toBe(201);
    await waitFor(
      async () => (await api().get(`/api/v1/messages/${sent.body.id}`).set(bearer(t.admin.token))).body.status === 'sent' || undefined,
      { what: 'sent' },
    );
    const dir = ferretDataDir();
    const bytes = await waitFor(
      async () => {
        const files = (await readdir(dir)).filter((f) => f === `${h.dbName}.sqlite` || f.startsWith(`${h.dbName}.sqlite-`));
        const b = Buffer.concat(await Promise.all(files.map((f) => readFile(path.join(dir, f)))));
        // Positive control: the message id is in the files, so the search does see the data.
        return b.includes(Buffer.from(sent.body.id)) ? b : undefined;
      },
      { what: 'the message in the database files' },
    );
    for (const [what, value] of Object.entries(m))
      for (const form of [value, value.toLowerCase(), value.toUpperCase()])
        expect({ what, found: bytes.includes(Buffer.from(form)) }).toEqual({ what, found: false });
  });

  it('exports everything held about a patient to a service caller, decrypted', async () => {
    const p = await h.patient(t, { email: `exp-${Date.now()}@example.org`, mobile: mobile() });
    const sent = await api()
      .post('/api/v1/messages')
      .set(bearer(t.admin.token))
      .send({ patientId: p.id, channel: 'email', subject: 'Exported', body: 'Body to export' });
    await api()
      .post('/api/v1/direct-messages')
      .set(bearer(t.admin.token))
      .send({ patientId: p.id, subject: 'DM subject', body: 'DM body' });
    const requestId = uuidv7();
    const res = await api().get(`/api/v1/internal/patients/${p.id}/export?requestId=${requestId}`).set(bearer(service()));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ service: 'messaging', patientId: p.id, generatedAt: expect.any(String) });
    expect(res.body.messages.find((x: { id: string }) => x.id === sent.body.id)).toMatchObject({
      subject: 'Exported',
      body: 'Body to export',
      purpose: 'message',
    });
    expect(res.body.directMessages).toEqual([
      expect.objectContaining({ subject: 'DM subject', body: 'DM body', practice: 'Riverside Surgery' }),
    ]);
    expect((await api().get(`/api/v1/internal/patients/${p.id}/export`).set(bearer(t.admin.token))).status).toBe(403);
    await h.waitForEvent((e) => e.type === 'messaging.patient.exported' && e.data.requestId === requestId, 'patient.exported');
  });

  it('erases a patient on consent.erasure-request.created: queued texts blocked, key shredded, documents gone, counts published once', async () => {
    const p = await h.patient(t, { email: `er-${Date.now()}@example.org`, mobile: mobile() });
    await api().post('/api/v1/messages').set(bearer(t.admin.token)).send({ patientId: p.id, channel: 'email', subject: 's', body: 'b' });
    h.twilio.behaviour.mode = 'fail';
    h.vonage.behaviour.mode = 'fail';
    const waiting = await api()
      .post('/api/v1/messages')
      .set(bearer(t.admin.token))
      .send({ patientId: p.id, channel: 'sms', body: 'never sent' });
    const balanceBefore = (await api().get('/api/v1/sms-credits').set(bearer(t.admin.token))).body.balance;
    const erasureId = uuidv7();
    for (let i = 0; i < 2; i++)
      await h.publish({
        type: 'consent.erasure-request.created',
        tenantId: t.tenantId,
        actor: { kind: 'user', id: t.admin.id },
        data: { erasureId, patientId: p.id },
      });
    // This deployment's answer is the one with its counts (a messaging of an older build
    // elsewhere on the shared broker may still answer every erasure with zeros).
    const ours = (e: (typeof h.events)[number]) =>
      e.type === 'messaging.patient.erased' && e.data.erasureId === erasureId && e.data.messages === 2;
    const erased = await h.waitForEvent(ours, 'patient.erased', 30_000);
    expect(erased.data).toEqual({ erasureId, patientId: p.id, messages: 2, directMessages: 0 });
    h.twilio.behaviour.mode = 'ok';
    h.vonage.behaviour.mode = 'ok';
    expect(await h.mongo.collection('messages').countDocuments({ patientId: p.id })).toBe(0);
    expect(await h.mongo.collection('patient_keys').countDocuments({ patientId: p.id })).toBe(0);
    expect((await api().get(`/api/v1/messages/${waiting.body.id}`).set(bearer(t.admin.token))).status).toBe(404);
    await h.waitForEvent(
      (e) => e.type === 'messaging.message.blocked' && e.data.messageId === waiting.body.id && e.data.reason === 'erased',
      'blocked erased',
    );
    expect((await api().get('/api/v1/sms-credits').set(bearer(t.admin.token))).body.balance).toBe(balanceBefore + 1);
    await new Promise((r) => setTimeout(r, 1_000));
    expect(h.events.filter(ours)).toHaveLength(1);
    expect(
      h.twilio.messages.some((m) => m.idempotencyKey === waiting.body.id) ||
        h.vonage.messages.some((m) => m.idempotencyKey === waiting.body.id),
    ).toBe(false);
  });

  it("answers erasures of its own practices only: zero counts for one that never sent a message, nothing for a stranger's", async () => {
    const quiet = h.tenant(); // known to this deployment (its auth), never sent anything: no tenant key
    const strangerTenant = `tn_${randomBytes(8).toString('hex')}`; // another deployment's practice on the shared broker
    const foreignId = uuidv7();
    const quietId = uuidv7();
    await h.publish({
      type: 'consent.erasure-request.created',
      tenantId: strangerTenant,
      actor: { kind: 'user', id: 'usr_stranger' },
      data: { erasureId: foreignId, patientId: 'pat_stranger' },
    });
    await h.publish({
      type: 'consent.erasure-request.created',
      tenantId: quiet.tenantId,
      actor: { kind: 'user', id: quiet.admin.id },
      data: { erasureId: quietId, patientId: 'pat_never_messaged' },
    });
    const answer = await h.waitForEvent(
      (e) => e.type === 'messaging.patient.erased' && e.data.erasureId === quietId,
      'zero-count answer',
      30_000,
    );
    expect(answer.data).toEqual({ erasureId: quietId, patientId: 'pat_never_messaged', messages: 0, directMessages: 0 });
    expect(answer.tenantId).toBe(quiet.tenantId);
    // One consumer takes both in order; give the stranger's a moment more all the same.
    await new Promise((r) => setTimeout(r, 2_000));
    const tombstones = h.mongo.collection('erasures');
    expect(await tombstones.countDocuments({ erasureId: quietId })).toBe(1);
    expect(await tombstones.countDocuments({ erasureId: foreignId })).toBe(0);
    expect(await tombstones.countDocuments({ tenantId: strangerTenant })).toBe(0);
    expect(await h.mongo.collection<{ _id: string }>('tenant_keys').countDocuments({ _id: strangerTenant })).toBe(0);
    const answeredForStranger = h.events.filter((e) => e.type === 'messaging.patient.erased' && e.data.erasureId === foreignId);
    console.log(JSON.stringify({ quietPracticeAnswer: answer.data, strangerAnswers: answeredForStranger.length }));
  });

  it('emails a privacy notice on consent.notice.requested, once', async () => {
    const address = `notice-${Date.now()}@example.org`;
    const p = await h.patient(t, { email: address });
    const noticeRequestId = uuidv7();
    const ackPath = `/privacy-notices/ack/${'a'.repeat(10)}${Date.now()}xyzxyz`;
    for (let i = 0; i < 2; i++)
      await h.publish({
        type: 'consent.notice.requested',
        tenantId: t.tenantId,
        actor: { kind: 'user', id: t.admin.id },
        data: { noticeRequestId, patientId: p.id, noticeVersion: 'v3', ackPath },
      });
    const mails = await waitFor(async () => ((await h.mail.to(address)).length ? h.mail.to(address) : undefined), {
      what: 'notice email',
      timeoutMs: 30_000,
    });
    const mail = await h.mail.message(mails[0]!.ID);
    expect(mail.HTML).toContain(`http://praxis.test/#${ackPath}`);
    await new Promise((r) => setTimeout(r, 1_500));
    expect(await h.mail.to(address)).toHaveLength(1);
  });

  it('describes every route in the OpenAPI document with its permission', async () => {
    const res = await api().get('/openapi.json');
    const paths = res.body.paths as Record<string, Record<string, { 'x-permission'?: string; security?: unknown[] }>>;
    const expected: [string, string, string | undefined][] = [
      ['/api/v1/messages', 'post', 'message:send'],
      ['/api/v1/messages', 'get', 'message:read'],
      ['/api/v1/messages/{id}', 'get', 'message:read'],
      ['/api/v1/sms-credits', 'get', 'sms-credit:read'],
      ['/api/v1/sms-credits/purchases', 'post', 'sms-credit:purchase'],
      ['/api/v1/direct-messages', 'post', 'message:send'],
      ['/api/v1/dm/{token}', 'get', undefined],
      ['/api/v1/dm/{token}/unlock', 'post', undefined],
      ['/api/v1/message-batches', 'post', 'message:send'],
      ['/api/v1/message-batches/{id}', 'get', 'message:read'],
      ['/api/v1/message-batches/{id}/cancel', 'post', 'message:send'],
      ['/api/v1/webhooks/sms/{provider}', 'post', undefined],
      ['/api/v1/internal/patients/{id}/export', 'get', 'internal:subject-data'],
    ];
    for (const [p, method, permission] of expected) {
      expect({ p, method, present: paths[p]?.[method] !== undefined, permission: paths[p]?.[method]?.['x-permission'] }).toEqual({
        p,
        method,
        present: true,
        permission,
      });
    }
    expect(paths['/api/v1/dm/{token}']!.get!.security).toEqual([]);
    expect((await api().get('/livez')).body).toMatchObject({ status: 'ok', service: 'messaging' });
  });
});
