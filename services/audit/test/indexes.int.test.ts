// Every query audit sends searches an index (issue 10, docs/decisions/0004): audit runs
// against its own patched FerretDB, appends, admin queries (by patient, actor, type, time,
// paged both ways), verify and export are driven, every distinct query shape its
// repositories sent is recorded, and SQLite's plan for each must be an index search.
// A new repository query without a fitting index fails here.
import { expectIndexedQuery, onPrivateFerretDb, proveQueriesIndexed } from '@praxis/testing';
import request from 'supertest';
import { harness as startHarness, probe, viewed } from './harness';

describe('audit: every query shape searches an index', () => {
  const harness = onPrivateFerretDb(() => startHarness({ checkpointEvery: 5 }));

  it('append, admin queries, verify and export', async () => {
    const h = harness();
    await proveQueriesIndexed(
      h.conn,
      async () => {
        const tenant = h.issuer.tenant();
        const other = h.issuer.tenant();
        const t = tenant.tenantId;
        const bearer = { Authorization: `Bearer ${tenant.admin.token}` };
        await h.core.appender.appendBatch(other.tenantId, [viewed(other.tenantId, 'pat_a')]);
        await h.core.appender.appendBatch(t, [
          viewed(t, 'pat_a', { kind: 'user', id: tenant.clinician.id }),
          viewed(t, 'pat_b'),
          probe(t, 1),
        ]);
        for (let i = 0; i < 8; i++) await h.core.appender.append(viewed(t, `pat_${i % 3}`, { kind: 'user', id: tenant.clinician.id }));
        const from = encodeURIComponent(new Date(Date.now() - 60_000).toISOString());
        const to = encodeURIComponent(new Date(Date.now() + 60_000).toISOString());
        for (const q of [
          '',
          '?patientId=pat_a',
          `?actorId=${tenant.clinician.id}`,
          '?type=platform.probe.sent',
          `?from=${from}&to=${to}`,
          '?patientId=pat_a&order=desc&limit=2',
          `?actorId=${tenant.clinician.id}&from=${from}`,
        ]) {
          const res = await request(h.app).get(`/api/v1/audit/events${q}`).set(bearer);
          expect(res.status).toBe(200);
          if (res.body.next)
            expect(
              (
                await request(h.app)
                  .get(`/api/v1/audit/events${q}${q ? '&' : '?'}cursor=${res.body.next}`)
                  .set(bearer)
              ).status,
            ).toBe(200);
        }
        const v = await request(h.app).get('/api/v1/audit/verify').set(bearer);
        expect(v.body).toMatchObject({ ok: true, entries: 11 });
        const exp = await request(h.app).get('/api/v1/audit/export').set(bearer);
        expect(exp.status).toBe(200);
        expect(exp.text.trim().split('\n').length).toBeGreaterThanOrEqual(11);
        await h.core.checkpointer.stop();
        // The appender moves a batch's heads inside bulkWrite, which recordQueries does not see.
        expect(await expectIndexedQuery(h.conn.db!, 'audit_heads', { _id: t, seq: 11 })).toMatch(/_id_$/);
      },
      {
        allowed: [
          // The checkpoint-signing keys (a handful of documents) are read whole.
          { collection: 'audit_signing_keys', shape: '{}', why: 'the few checkpoint-signing keys are read whole' },
          { collection: 'audit_heads', shape: '{}', why: 'the checkpointer lists every tenant head (one document per tenant)' },
        ],
        searches: 6,
      },
    );
  }, 180_000);
});
