// The admin API over real FerretDB: queries, who may call what, tenant isolation,
// verification, export and the offline verifier, signing-key rotation.
import { makeEvent, randomId } from '@praxis/platform';
import { ROOT, bearer } from '@praxis/testing';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import request from 'supertest';
import { keysFromJwks } from '../src/checkpoints/checkpoint';
import { verifyExport } from '../src/verify/chain-verifier';
import { type Harness, harness, probe, viewed } from './harness';

const run = promisify(execFile);

async function verifyCli(exportText: string, publicKey: unknown): Promise<{ code: number; out: string }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'audit-verify-'));
  writeFileSync(path.join(dir, 'export.jsonl'), exportText);
  writeFileSync(path.join(dir, 'key.json'), JSON.stringify(publicKey));
  try {
    const { stdout } = await run(
      'node',
      ['--import', 'tsx', path.join(ROOT, 'services/audit/src/verify-cli.ts'), path.join(dir, 'export.jsonl'), path.join(dir, 'key.json')],
      { cwd: ROOT },
    );
    return { code: 0, out: stdout };
  } catch (err) {
    const e = err as { code: number; stdout: string };
    return { code: e.code, out: e.stdout };
  }
}

describe('audit API', () => {
  let h: Harness;
  let tenant: ReturnType<Harness['issuer']['tenant']>;
  let otherTenant: ReturnType<Harness['issuer']['tenant']>;
  const supportUser = randomId('sup');
  const start = new Date(Date.now() - 1000).toISOString();

  beforeAll(async () => {
    h = await harness({ checkpointEvery: 5 });
    tenant = h.issuer.tenant();
    otherTenant = h.issuer.tenant();
    const t = tenant.tenantId;
    await h.core.appender.appendBatch(t, [
      viewed(t, 'pat_a', { kind: 'user', id: tenant.clinician.id }),
      viewed(t, 'pat_b', { kind: 'user', id: tenant.clinician.id }),
      viewed(t, 'pat_a', { kind: 'support', id: supportUser, onBehalfOf: t }),
      probe(t, 1),
      viewed(t, 'pat_a', { kind: 'user', id: tenant.receptionist.id }),
      probe(t, 2),
      probe(t, 3),
    ]);
    await h.core.appender.appendBatch(otherTenant.tenantId, [viewed(otherTenant.tenantId, 'pat_a'), viewed(otherTenant.tenantId, 'pat_z')]);
  });

  afterAll(async () => {
    await h?.close();
  });

  const get = (url: string, token?: string) => (token ? request(h.app).get(url).set(bearer(token)) : request(h.app).get(url));

  it('lists the log in order with hashes, support activity marked', async () => {
    const res = await get('/api/v1/audit/events', tenant.admin.token);
    expect(res.status).toBe(200);
    expect(res.body.items.map((i: { seq: number }) => i.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    const third = res.body.items[2];
    expect(third).toMatchObject({
      seq: 3,
      type: 'records.patient.viewed',
      actor: { kind: 'support', id: supportUser },
      subject: { patientId: 'pat_a' },
      data: { patientId: 'pat_a' },
      support: true,
    });
    expect(third.prevHash).toBe(res.body.items[1].hash);
    expect(res.body.items[0].support).toBe(false);
    expect(res.body.next).toBeUndefined();
  });

  it('filters by patient, actor, type and time', async () => {
    const byPatient = await get('/api/v1/audit/events?patientId=pat_a', tenant.admin.token);
    expect(byPatient.body.items.map((i: { seq: number }) => i.seq)).toEqual([1, 3, 5]);
    const byActor = await get(`/api/v1/audit/events?actorId=${tenant.clinician.id}`, tenant.admin.token);
    expect(byActor.body.items.map((i: { seq: number }) => i.seq)).toEqual([1, 2]);
    const byType = await get('/api/v1/audit/events?type=platform.probe.sent', tenant.admin.token);
    expect(byType.body.items.map((i: { seq: number }) => i.seq)).toEqual([4, 6, 7]);
    const inWindow = await get(
      `/api/v1/audit/events?from=${encodeURIComponent(start)}&to=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`,
      tenant.admin.token,
    );
    expect(inWindow.body.items).toHaveLength(7);
    const before = await get(`/api/v1/audit/events?to=${encodeURIComponent(start)}`, tenant.admin.token);
    expect(before.body.items).toHaveLength(0);
  });

  it('pages with limit and cursor, both ways', async () => {
    const seen: number[] = [];
    let url = '/api/v1/audit/events?limit=3';
    for (;;) {
      const res = await get(url, tenant.admin.token);
      expect(res.status).toBe(200);
      seen.push(...res.body.items.map((i: { seq: number }) => i.seq));
      if (!res.body.next) break;
      url = `/api/v1/audit/events?limit=3&cursor=${res.body.next}`;
    }
    expect(seen).toEqual([1, 2, 3, 4, 5, 6, 7]);
    const desc = await get('/api/v1/audit/events?limit=2&order=desc', tenant.admin.token);
    expect(desc.body.items.map((i: { seq: number }) => i.seq)).toEqual([7, 6]);
    const desc2 = await get(`/api/v1/audit/events?limit=2&order=desc&cursor=${desc.body.next}`, tenant.admin.token);
    expect(desc2.body.items.map((i: { seq: number }) => i.seq)).toEqual([5, 4]);
  });

  it('refuses unknown and malformed query parameters', async () => {
    expect((await get('/api/v1/audit/events?tenantId=x', tenant.admin.token)).status).toBe(400);
    expect((await get('/api/v1/audit/events?limit=500', tenant.admin.token)).status).toBe(400);
    expect((await get('/api/v1/audit/events?from=yesterday', tenant.admin.token)).status).toBe(400);
    expect((await get('/api/v1/audit/events?cursor=bm9wZQ', tenant.admin.token)).status).toBe(400);
    expect((await get('/api/v1/audit/events?patientId[$ne]=x', tenant.admin.token)).status).toBe(400);
  });

  it('shows another tenant nothing of this one', async () => {
    const res = await get('/api/v1/audit/events?patientId=pat_a', otherTenant.admin.token);
    expect(res.body.items).toHaveLength(1);
    expect(res.body.items[0].seq).toBe(1);
    expect(JSON.stringify(res.body)).not.toContain(tenant.tenantId);
    const all = await get('/api/v1/audit/events', otherTenant.admin.token);
    expect(all.body.items.map((i: { subject: { patientId: string } }) => i.subject.patientId)).toEqual(['pat_a', 'pat_z']);
    const v = await get('/api/v1/audit/verify', otherTenant.admin.token);
    expect(v.body).toMatchObject({ ok: true, entries: 2, head: { seq: 2 } });
    const exp = await get('/api/v1/audit/export', otherTenant.admin.token);
    expect(exp.text).not.toContain(tenant.tenantId);
  });

  it('answers 403 to clinicians and receptionists, 401 without a token', async () => {
    for (const path_ of ['/api/v1/audit/events', '/api/v1/audit/verify', '/api/v1/audit/export']) {
      expect((await get(path_, tenant.clinician.token)).status).toBe(403);
      expect((await get(path_, tenant.receptionist.token)).status).toBe(403);
      const support = h.issuer.sign({ tid: tenant.tenantId, role: 'support', scope: 'records', act: { sub: supportUser } } as never);
      expect((await get(path_, support)).status).toBe(403);
      expect((await get(path_)).status).toBe(401);
    }
  });

  it('verifies the log and signs its head with a key anyone can fetch', async () => {
    const res = await get('/api/v1/audit/verify', tenant.admin.token);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      ok: true,
      entries: 7,
      head: { seq: 7 },
      checkpoint: { seq: 7, hash: res.body.head.hash, alg: 'Ed25519' },
    });
    expect(res.body.checkpoint.signature).toMatch(/^[A-Za-z0-9_-]{80,}$/);
    const key = await get('/api/v1/audit/public-key');
    expect(key.status).toBe(200);
    expect(key.body).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', kid: res.body.checkpoint.keyId });
    expect(key.body.keys[0].kid).toBe(res.body.checkpoint.keyId);
    expect(JSON.stringify(key.body)).not.toMatch(/"d"/);
  });

  it('exports JSON lines ending with a signed checkpoint that the offline verifier accepts', async () => {
    const exp = await get('/api/v1/audit/export', tenant.admin.token)
      .buffer(true)
      .parse((res, cb) => {
        let t = '';
        res.on('data', (c: Buffer) => (t += c.toString('utf8')));
        res.on('end', () => cb(null, t));
      });
    expect(exp.status).toBe(200);
    expect(exp.headers['content-type']).toMatch(/application\/x-ndjson/);
    const text = exp.body as string;
    const lines = text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.filter((l) => l.kind === 'entry')).toHaveLength(7);
    expect(lines[lines.length - 1]).toMatchObject({ kind: 'checkpoint', seq: 7, tenantId: tenant.tenantId });
    // The stored checkpoint at seq 5 (every N = 5) sits right after entry 5.
    expect(lines[5]).toMatchObject({ kind: 'checkpoint', seq: 5 });
    const key = (await get('/api/v1/audit/public-key')).body;
    expect(verifyExport(text, keysFromJwks(key)).ok).toBe(true);
    const ok = await verifyCli(text, key);
    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(/^OK: 7 entries/);

    // Tampered files: modified, deleted, inserted and reordered entries.
    const rows = text.trim().split('\n');
    const modified = [...rows];
    modified[1] = modified[1]!.replaceAll('pat_b', 'pat_c');
    const m = await verifyCli(modified.join('\n'), key);
    expect(m.code).toBe(1);
    expect(m.out).toMatch(/BROKEN at seq 2 \(line 2\).*modified/);

    const deleted = rows.filter((_, i) => i !== 3);
    const d = await verifyCli(deleted.join('\n'), key);
    expect(d.code).toBe(1);
    expect(d.out).toMatch(/BROKEN at seq 5 \(line 4\): expected seq 4/);

    const inserted = [...rows.slice(0, 2), rows[1]!, ...rows.slice(2)];
    const i = await verifyCli(inserted.join('\n'), key);
    expect(i.code).toBe(1);
    expect(i.out).toMatch(/BROKEN at seq 2 \(line 3\)/);

    const reordered = [rows[0]!, rows[2]!, rows[1]!, ...rows.slice(3)];
    const r = await verifyCli(reordered.join('\n'), key);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/line 2/);

    const truncated = rows.slice(0, rows.length - 2);
    expect((await verifyCli(truncated.join('\n'), key)).code).toBe(1);

    // A key that did not sign it.
    const wrongKey = { ...key, x: Buffer.alloc(32, 7).toString('base64url'), keys: undefined };
    expect((await verifyCli(text, wrongKey)).code).toBe(1);
    expect((await verifyCli(text, { nothing: true })).code).toBe(2);
  });

  it('records the export itself as an access event', async () => {
    const pending = await h.conn
      .collection('outbox')
      .find({ '_outbox.type': 'audit.log.exported', '_outbox.tenantId': tenant.tenantId })
      .toArray();
    expect(pending.length).toBeGreaterThan(0);
    expect(pending[0]!._outbox[0]).toMatchObject({ actor: { kind: 'user', id: tenant.admin.id }, data: { entries: 7 } });
  });

  it('keeps old checkpoints verifiable after the signing key rotates', async () => {
    const before = (await get('/api/v1/audit/verify', tenant.admin.token)).body.checkpoint.keyId;
    const kid = await h.core.keyring.rotate();
    expect(kid).not.toBe(before);
    await h.core.appender.appendBatch(tenant.tenantId, [probe(tenant.tenantId, 9)]);
    const v = await get('/api/v1/audit/verify', tenant.admin.token);
    expect(v.body).toMatchObject({ ok: true, entries: 8, checkpoint: { seq: 8, keyId: kid } });
    const key = (await get('/api/v1/audit/public-key')).body;
    expect(key.kid).toBe(kid);
    expect(key.keys.map((k: { kid: string }) => k.kid)).toEqual(expect.arrayContaining([kid, before]));
    const exp = await get('/api/v1/audit/export', tenant.admin.token)
      .buffer(true)
      .parse((res, cb) => {
        let t = '';
        res.on('data', (c: Buffer) => (t += c.toString('utf8')));
        res.on('end', () => cb(null, t));
      });
    expect((await verifyCli(exp.body as string, key)).code).toBe(0);
  });

  it('describes its routes in the OpenAPI document', async () => {
    const res = await get('/openapi.json');
    expect(res.status).toBe(200);
    expect(Object.keys(res.body.paths)).toEqual(
      expect.arrayContaining(['/api/v1/audit/events', '/api/v1/audit/verify', '/api/v1/audit/export', '/api/v1/audit/public-key']),
    );
    expect(res.body.paths['/api/v1/audit/events'].get['x-permission']).toBe('audit:read');
    expect(res.body.paths['/api/v1/audit/public-key'].get.security).toEqual([]);
  });

  it('stores the signing key sealed under the KEK, never in clear', async () => {
    const docs = await h.conn.collection('audit_signing_keys').find({}).toArray();
    expect(docs.length).toBeGreaterThanOrEqual(2);
    for (const d of docs) {
      expect(d.privateKey).toMatchObject({ kid: 'test-kek-1', ct: expect.stringMatching(/^v1\./) });
      expect(JSON.stringify(d)).not.toMatch(/PRIVATE KEY|"d":/);
    }
  });

  it('gives a service caller one patient’s access log for a subject access export, and nobody else', async () => {
    const service = h.issuer.sign({ tid: tenant.tenantId, role: 'service', sub: 'consent', amr: ['svc'] });
    // A change about the patient is not an access: it is left out (the change itself is in records' part).
    await h.core.appender.appendBatch(tenant.tenantId, [
      makeEvent({
        type: 'records.patient.updated',
        tenantId: tenant.tenantId,
        actor: { kind: 'user', id: tenant.admin.id },
        subject: { patientId: 'pat_a' },
        data: { patientId: 'pat_a', fields: ['email'] },
      }),
    ]);
    const res = await get('/api/v1/internal/patients/pat_a/export?requestId=req_1', service);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ service: 'audit', patientId: 'pat_a', requestId: 'req_1', generatedAt: expect.any(String) });
    expect(res.body.accessLog.map((e: { type: string; actor: { id: string } }) => [e.type, e.actor.id])).toEqual([
      ['records.patient.viewed', tenant.clinician.id],
      ['records.patient.viewed', supportUser],
      ['records.patient.viewed', tenant.receptionist.id],
    ]);
    const seqs = res.body.accessLog.map((e: { seq: number }) => e.seq);
    expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
    // Another practice's service token sees only its own practice's entries.
    const otherService = h.issuer.sign({ tid: otherTenant.tenantId, role: 'service', sub: 'consent', amr: ['svc'] });
    expect((await get('/api/v1/internal/patients/pat_b/export', otherService)).body.accessLog).toEqual([]);
    expect((await get('/api/v1/internal/patients/pat_a/export', tenant.admin.token)).status).toBe(403);
    expect((await get('/api/v1/internal/patients/pat_a/export?patientId=x', service)).status).toBe(400);
  });
});
