// Data-subject rights end to end through the gateway, every service its own process:
// a subject access export across records, consent and audit (a note amended twice: every
// version present; the FHIR Bundle checked by the HL7 R4 validator), and an erasure saga
// across services that survives records being down and consent being killed mid-saga.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Api, eventually, strongPassword, uniqueSlug } from './client';
import { type Platform, ROOT, startPlatform } from './platform';

jest.setTimeout(300_000);

const run = promisify(execFile);

interface SarExport {
  patient: Record<string, unknown>;
  notes: { id: string; versions: { body: string }[] }[];
  consent: { preferences: unknown; codes: unknown[]; notices: unknown[] };
  messages: unknown[];
  accessLog: { type: string; occurredAt: string; actor: { id: string } }[];
}
interface Bundle {
  resourceType: string;
  type: string;
  entry: { fullUrl: string; resource: { resourceType: string; content?: { attachment: { data: string } }[] } }[];
}
const VALIDATOR = [
  path.resolve(ROOT, '../shared/tools/fhir-validate/fhir-validate'),
  path.resolve(ROOT, '../../shared/tools/fhir-validate/fhir-validate'),
].find(existsSync);

async function hasJava(): Promise<boolean> {
  try {
    await run('java', ['-version']);
    await run('mvn', ['-v']);
    return true;
  } catch {
    return false;
  }
}

describe('consent end to end: subject access and erasure across services', () => {
  let platform: Platform;
  let api: Api;
  let admin: string;
  let clinician: string;
  let receptionist: string;
  const slug = uniqueSlug('dsr');

  beforeAll(async () => {
    platform = await startPlatform({
      services: ['auth', 'records', 'consent', 'audit'],
      // A participant down is asked again every 2 s for up to 40 s (the defaults are 30 s and an hour).
      env: { consent: { RUNNER_INTERVAL_MS: '200', ERASURE_RETRY_S: '2', SAR_RETRY_S: '2', SAR_RETRY_WINDOW_S: '40' } },
      readyTimeoutMs: 180_000,
    });
    api = new Api(`${platform.url}/api/v1`);
    const password = strongPassword();
    const email = `admin@${slug}.example.test`;
    expect((await api.post('/tenants', { name: 'Rights Surgery', slug, admin: { name: 'Ada Admin', email, password } })).status).toBe(201);
    admin = (await api.post<{ accessToken: string }>('/auth/login', { tenant: slug, email, password })).body.accessToken;
    const user = async (role: string) => {
      const e = `${role}@${slug}.example.test`;
      const pw = strongPassword();
      expect((await api.post('/users', { name: `Some ${role}`, email: e, role, password: pw }, admin)).status).toBe(201);
      return (await api.post<{ accessToken: string }>('/auth/login', { tenant: slug, email: e, password: pw })).body.accessToken;
    };
    clinician = await user('clinician');
    receptionist = await user('receptionist');
  }, 400_000);

  afterAll(async () => {
    await platform?.stop();
  }, 60_000);

  async function patient(familyName: string) {
    const p = await api.post<{ id: string; ref: string }>(
      '/patients',
      {
        givenName: 'Sara',
        familyName,
        birthDate: '1970-05-06',
        email: 'sara@example.org',
        mobile: '+447700900777',
        address: { line1: '1 High St', city: 'Leeds', postcode: 'LS1 1AA' },
      },
      clinician,
    );
    expect(p.status).toBe(201);
    // Consent learns the patient from records' event.
    await eventually(
      async () => ((await api.get(`/patients/${p.body.id}/consent`, receptionist)).status === 200 ? true : undefined),
      'consent to know the patient',
    );
    return p.body;
  }

  it('collates a subject access export from records, consent and audit, as JSON and as a valid FHIR R4 Bundle', async () => {
    const p = await patient('Subjectaccess');
    const note = await api.post<{ id: string }>(`/patients/${p.id}/notes`, { title: 'Visit', body: 'version one' }, clinician);
    await api.post(
      `/patients/${p.id}/notes/${note.body.id}/amendments`,
      { title: 'Visit', body: 'version two', reason: 'typo' },
      clinician,
    );
    await api.post(
      `/patients/${p.id}/notes/${note.body.id}/amendments`,
      { title: 'Visit', body: 'version three', reason: 'more' },
      clinician,
    );
    await api.post(`/patients/${p.id}/notes`, { title: 'Other', body: 'single version' }, clinician);
    expect((await api.call('PUT', `/patients/${p.id}/preferences`, { body: { sms: false }, token: receptionist })).status).toBe(200);
    expect(
      (
        await api.post(
          `/patients/${p.id}/consent-codes`,
          { kind: 'dissent', system: 'http://snomed.info/sct', code: '38341003', display: 'Dissent from research use' },
          receptionist,
        )
      ).status,
    ).toBe(201);
    expect(
      (await api.post('/privacy-notice-versions', { version: '2026-01', text: 'How Rights Surgery uses your data.' }, admin)).status,
    ).toBe(201);
    expect((await api.post(`/patients/${p.id}/privacy-notices`, { noticeVersion: '2026-01', method: 'email' }, receptionist)).status).toBe(
      201,
    );
    // The emailed link, read from the event (as messaging would), through the gateway's public route.
    const requested = await eventually(async () => {
      const r = await api.get<{ items: { data: { ackPath: string; patientId: string } }[] }>(
        '/audit/events?type=consent.notice.requested',
        admin,
      );
      return r.body.items?.find((e) => e.data.patientId === p.id);
    }, 'the notice request in the audit log');
    expect((await api.get(requested.data.ackPath)).body).toMatchObject({ practice: 'Rights Surgery', version: '2026-01' });
    expect((await api.post(requested.data.ackPath)).status).toBe(200);
    expect((await api.post(requested.data.ackPath)).status).toBe(404);
    await api.get(`/patients/${p.id}`, clinician);
    await api.get(`/patients/${p.id}`, receptionist);
    await eventually(async () => {
      const r = await api.get<{ items: unknown[] }>(`/audit/events?patientId=${p.id}&type=records.patient.viewed`, admin);
      return r.body.items.length >= 2 ? true : undefined;
    }, 'the views in the audit log');

    // A receptionist may not open it.
    expect((await api.post('/subject-access-requests', { patientId: p.id }, receptionist)).status).toBe(403);
    const started = Date.now();
    const opened = await api.post<{ id: string; status: string; dueAt: string }>('/subject-access-requests', { patientId: p.id }, admin);
    expect(opened.status).toBe(201);
    const done = await eventually(async () => {
      const r = await api.get<{ status: string }>(`/subject-access-requests/${opened.body.id}`, admin);
      return r.body.status !== 'pending' ? r.body : undefined;
    }, 'the request to complete');
    console.log(`subject access request across records, consent and audit: completed in ${Date.now() - started} ms`);
    expect(done).toMatchObject({ status: 'completed', participants: ['records', 'consent', 'audit'] });

    const exp = await api.get<SarExport>(`/subject-access-requests/${opened.body.id}/export`, admin);
    expect(exp.status).toBe(200);
    expect(exp.body.patient).toMatchObject({
      id: p.id,
      ref: p.ref,
      givenName: 'Sara',
      familyName: 'Subjectaccess',
      email: 'sara@example.org',
    });
    const amended = exp.body.notes.find((n: { id: string }) => n.id === note.body.id);
    expect(amended?.versions.map((v) => v.body)).toEqual(['version one', 'version two', 'version three']);
    expect(exp.body.notes).toHaveLength(2);
    expect(exp.body.consent.preferences).toEqual({ sms: false, email: true });
    expect(exp.body.consent.codes).toEqual([expect.objectContaining({ code: '38341003', display: 'Dissent from research use' })]);
    expect(exp.body.consent.notices).toEqual([
      expect.objectContaining({ method: 'email', status: 'acknowledged', noticeVersion: '2026-01' }),
    ]);
    expect(exp.body.messages).toEqual([]);
    const views = exp.body.accessLog.filter((e: { type: string }) => e.type === 'records.patient.viewed');
    expect(views.length).toBeGreaterThanOrEqual(2);
    expect(exp.body.accessLog.every((e: { occurredAt: string; actor: { id: string } }) => e.occurredAt && e.actor.id)).toBe(true);

    const fhir = await api.get<Bundle>(`/subject-access-requests/${opened.body.id}/export?format=fhir`, admin);
    expect(fhir.body).toMatchObject({ resourceType: 'Bundle', type: 'collection' });
    const byType = (t: string) => fhir.body.entry.filter((e) => e.resource.resourceType === t);
    expect(byType('Patient')).toHaveLength(1);
    expect(byType('DocumentReference')).toHaveLength(4);
    expect(byType('Consent')).toHaveLength(2); // one code, one preference version
    expect(byType('AuditEvent').length).toBe(exp.body.accessLog.length);
    for (const e of fhir.body.entry) expect(e.fullUrl).toMatch(/^urn:uuid:[0-9a-f-]{36}$/);
    const bodies = byType('DocumentReference').map((e) => Buffer.from(e.resource.content![0]!.attachment.data, 'base64').toString('utf8'));
    expect(bodies.sort()).toEqual(['single version', 'version one', 'version three', 'version two']);

    if (VALIDATOR && (await hasJava())) {
      const dir = mkdtempSync(path.join(tmpdir(), 'sar-fhir-'));
      const file = path.join(dir, 'bundle.json');
      writeFileSync(file, JSON.stringify(fhir.body, null, 2));
      const out = await run(VALIDATOR, [file], { timeout: 200_000 }).then(
        (r) => ({ code: 0, text: r.stdout + r.stderr }),
        (err: { code: number; stdout: string; stderr: string }) => ({ code: err.code, text: err.stdout + err.stderr }),
      );
      console.log(`HL7 FHIR R4 validator on the export: ${out.text.trim().split('\n').pop()}`);
      expect({ code: out.code, errors: out.text.split('\n').filter((l) => /^(ERROR|FATAL)/.test(l)) }).toEqual({ code: 0, errors: [] });
    } else {
      console.log('HL7 FHIR validator not run: Java/Maven or ../shared/tools/fhir-validate missing (scripts/test installs Java and Maven)');
    }
  });

  it('shows a renamed practice on the notice page at once: auth.tenant.updated drops consent’s stored name', async () => {
    const p = await patient('Renamed');
    expect((await api.post('/privacy-notice-versions', { version: '2026-rename', text: 'Who we are.' }, admin)).status).toBe(201);
    expect(
      (await api.post(`/patients/${p.id}/privacy-notices`, { noticeVersion: '2026-rename', method: 'email' }, receptionist)).status,
    ).toBe(201);
    const requested = await eventually(async () => {
      const r = await api.get<{ items: { data: { ackPath: string; patientId: string } }[] }>(
        '/audit/events?type=consent.notice.requested',
        admin,
      );
      return r.body.items?.find((e) => e.data.patientId === p.id);
    }, 'the notice request in the audit log');
    // Consent asked auth for the name (or has it stored from before): the current one.
    expect((await api.get(requested.data.ackPath)).body).toMatchObject({ practice: 'Rights Surgery' });
    const renamedAt = Date.now();
    expect((await api.call('PATCH', '/tenants/current', { body: { name: 'Rights and Remedies Surgery' }, token: admin })).status).toBe(200);
    await eventually(
      async () =>
        (await api.get<{ practice: string }>(requested.data.ackPath)).body.practice === 'Rights and Remedies Surgery' ? true : undefined,
      'the new name on the notice page',
    );
    const ms = Date.now() - renamedAt;
    console.log(`renamed practice shown on the notice page ${ms} ms after PATCH /tenants/current (no cache to wait out)`);
    // The old 5-minute cache is gone: the event path, not a timer, brought the name.
    expect(ms).toBeLessThan(60_000);
    // Auth's event named `name`: one rename, one event.
    const updated = await api.get<{ items: { data: { fields: string[] } }[] }>('/audit/events?type=auth.tenant.updated', admin);
    expect(updated.body.items.map((e) => e.data.fields)).toContainEqual(['name']);
    expect((await api.post(requested.data.ackPath)).status).toBe(200);
  });

  it('streams a large export through the gateway, a slow reader outlasting the gateway deadline', async () => {
    const p = await patient('Longrecord');
    const NOTES = 240;
    const filler = 'Seen and examined; history reviewed in full; plan discussed and agreed. '.repeat(60); // ~4 kB
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < NOTES) {
          const i = next++;
          const r = await api.post(`/patients/${p.id}/notes`, { title: `Visit ${i}`, body: `${i}: ${filler}` }, clinician);
          expect(r.status).toBe(201);
        }
      }),
    );
    const opened = await api.post<{ id: string }>('/subject-access-requests', { patientId: p.id }, admin);
    await eventually(async () => {
      const r = await api.get<{ status: string }>(`/subject-access-requests/${opened.body.id}`, admin);
      return r.body.status === 'completed' ? true : undefined;
    }, 'the request to complete');
    // A gateway of the same platform whose upstream deadline is 5 s (10 s in production;
    // the first byte itself took up to 3 s at load average 50).
    const gw = await platform.startGateway({ UPSTREAM_TIMEOUT_MS: '5000' });
    const started = Date.now();
    const res = await fetch(`${gw}/api/v1/subject-access-requests/${opened.body.id}/export`, {
      headers: { authorization: `Bearer ${admin}` },
    });
    const firstByteMs = Date.now() - started;
    expect(res.status).toBe(200);
    expect(res.headers.get('content-length')).toBeNull(); // streamed (chunked), not buffered and measured first
    const reader = res.body!.getReader();
    const parts: Uint8Array[] = [];
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      parts.push(value);
      await new Promise((r) => setTimeout(r, 400)); // a slow link
    }
    const totalMs = Date.now() - started;
    const text = Buffer.concat(parts).toString('utf8');
    const body = JSON.parse(text) as SarExport;
    console.log(
      `large export through a gateway with a 5 s upstream deadline: ${NOTES} notes, ${text.length} bytes in ${parts.length} parts; first byte after ${firstByteMs} ms, the last after ${totalMs} ms`,
    );
    expect(totalMs).toBeGreaterThan(5_000); // the transfer outlasted the deadline
    expect(body.notes).toHaveLength(NOTES);
    expect(new Set(body.notes.map((n) => n.versions[0]!.body.split(':')[0]))).toEqual(
      new Set(Array.from({ length: NOTES }, (_, i) => String(i))),
    );
    expect(body.patient).toMatchObject({ id: p.id, familyName: 'Longrecord' });

    const fhirRes = await fetch(`${gw}/api/v1/subject-access-requests/${opened.body.id}/export?format=fhir`, {
      headers: { authorization: `Bearer ${admin}` },
    });
    expect(fhirRes.status).toBe(200);
    const fhir = (await fhirRes.json()) as Bundle;
    expect(fhir.entry.filter((e) => e.resource.resourceType === 'DocumentReference')).toHaveLength(NOTES);
    // The stored export was cut into several sealed chunks (512 kB of JSON each at most).
    const chunks = await eventually(async () => {
      const r = await api.get<{ items: { id: string }[] }>(`/subject-access-requests?patientId=${p.id}`, admin);
      return r.body.items.length ? r.body.items : undefined;
    }, 'the request in the list');
    expect(chunks.map((c) => c.id)).toEqual([opened.body.id]);
  });

  it('runs as two replicas on one database and one set of queues: each request and erasure completes exactly once', async () => {
    const replica = await platform.startReplica('consent', { RUNNER_INTERVAL_MS: '50' });
    // Each replica gets half the requests directly (a load balancer would spread them);
    // both runners see every pending request.
    const replicas = [new Api(`${platform.urls.consent}/api/v1`), new Api(`${replica}/api/v1`)];
    const forSar = await Promise.all(['Ames', 'Bell', 'Cole', 'Dunn'].map((n) => patient(n)));
    for (const p of forSar) await api.post(`/patients/${p.id}/notes`, { title: 'Visit', body: 'seen' }, clinician);
    const sars = await Promise.all(
      forSar.map(async (p, i) => {
        const r = await replicas[i % 2]!.post<{ id: string }>('/subject-access-requests', { patientId: p.id }, admin);
        expect(r.status).toBe(201);
        return { id: r.body.id, patientId: p.id };
      }),
    );
    const forErasure = await Promise.all(['Eyre', 'Ford', 'Gray'].map((n) => patient(n)));
    const erasures = await Promise.all(
      forErasure.map(async (p, i) => {
        const r = await replicas[i % 2]!.post<{ id: string }>('/erasure-requests', { patientId: p.id, reason: 'replicas' }, admin);
        expect(r.status).toBe(202);
        return { id: r.body.id, patientId: p.id };
      }),
    );
    for (const s of sars)
      await eventually(
        async () => {
          const r = await api.get<{ status: string }>(`/subject-access-requests/${s.id}`, admin);
          return r.body.status === 'completed' ? true : undefined;
        },
        'each request to complete',
        240_000,
      );
    for (const e of erasures)
      await eventually(
        async () => {
          const r = await api.get<{ status: string }>(`/erasure-requests/${e.id}`, admin);
          return r.body.status === 'completed' ? true : undefined;
        },
        'each erasure to complete',
        240_000,
      );
    // Let any second (duplicate) collation or completion reach the audit log, then count.
    await new Promise((r) => setTimeout(r, 3_000));
    const count = async (patientId: string, type: string, key: string, id: string) =>
      eventually(async () => {
        const r = await api.get<{ items: { data: Record<string, unknown> }[] }>(
          `/audit/events?patientId=${patientId}&type=${type}&limit=200`,
          admin,
        );
        const n = r.body.items.filter((e) => e.data[key] === id).length;
        return n > 0 ? n : undefined;
      }, `${type} in the audit log`);
    const counts: Record<string, number[]> = {
      'records.patient.exported': [],
      'consent.access-request.completed': [],
      'consent.erasure-request.completed': [],
    };
    for (const s of sars) {
      counts['records.patient.exported']!.push(await count(s.patientId, 'records.patient.exported', 'requestId', s.id));
      counts['consent.access-request.completed']!.push(await count(s.patientId, 'consent.access-request.completed', 'requestId', s.id));
      // The export is whole and readable from either replica.
      for (const r of replicas) {
        const exp = await r.get<{ patient: { id: string }; notes: unknown[] }>(`/subject-access-requests/${s.id}/export`, admin);
        expect(exp.status).toBe(200);
        expect(exp.body.patient.id).toBe(s.patientId);
        expect(exp.body.notes).toHaveLength(1);
      }
    }
    for (const e of erasures)
      counts['consent.erasure-request.completed']!.push(await count(e.patientId, 'consent.erasure-request.completed', 'erasureId', e.id));
    console.log(`two consent replicas: per request/erasure, how many times each happened: ${JSON.stringify(counts)}`);
    expect(counts).toEqual({
      'records.patient.exported': [1, 1, 1, 1], // collated once: records was asked once per request
      'consent.access-request.completed': [1, 1, 1, 1],
      'consent.erasure-request.completed': [1, 1, 1],
    });
  }, 600_000);

  it('keeps a subject access request pending while records is down (process stopped) and completes it when records is back; down past the window, it fails with the reason', async () => {
    interface Sar {
      id: string;
      status: string;
      failedParticipant?: string;
      failureReason?: string;
      retrying?: { participant: string; reason: string; since: string; attempts: number; nextAttemptAt: string };
    }
    const recordsUrl = platform.urls.records!;
    const provenDown = async (pid: number) => {
      expect(() => process.kill(pid, 0)).toThrow(); // the process is gone
      await expect(fetch(`${recordsUrl}/readyz`, { signal: AbortSignal.timeout(2_000) })).rejects.toThrow(); // nothing listens
    };
    const p = await patient('Waiting');
    await api.post(`/patients/${p.id}/notes`, { title: 'n', body: 'kept while records is down' }, clinician);

    // 1. Records stopped before the request; back after the request has been retried twice.
    const down = await platform.stopService('records');
    await provenDown(down.pid);
    const t0 = Date.now();
    const opened = await api.post<Sar>('/subject-access-requests', { patientId: p.id }, admin);
    expect(opened.status).toBe(201);
    const waiting = await eventually(async () => {
      const r = await api.get<Sar>(`/subject-access-requests/${opened.body.id}`, admin);
      return r.body.retrying && r.body.retrying.attempts >= 2 ? r.body : undefined;
    }, 'the request to be retried twice');
    expect(waiting).toMatchObject({ status: 'pending', retrying: { participant: 'records', reason: 'unreachable' } });
    const waitedMs = Date.now() - t0;
    await provenDown(down.pid); // still down at the second attempt
    const up = await platform.restartService('records');
    const upAt = Date.now();
    const done = await eventually(async () => {
      const r = await api.get<Sar>(`/subject-access-requests/${opened.body.id}`, admin);
      return r.body.status !== 'pending' ? r.body : undefined;
    }, 'the request to complete once records is back');
    expect(done.status).toBe('completed');
    expect(done.retrying).toBeUndefined();
    const exp = await api.get<{ notes: { versions: { body: string }[] }[] }>(`/subject-access-requests/${opened.body.id}/export`, admin);
    expect(exp.body.notes.map((n) => n.versions[0]!.body)).toEqual(['kept while records is down']);
    console.log(
      `SAR with records stopped (pid ${down.pid}, ${down.signal ?? `exit ${down.code}`}): pending, ${waiting.retrying!.attempts} attempts (${waiting.retrying!.reason}) after ${waitedMs} ms; records restarted (pid ${up.pid}) ${upAt - t0} ms after the request; completed ${Date.now() - upAt} ms later (${Date.now() - t0} ms in all)`,
    );

    // 2. Records stopped for longer than the 40 s window: the request fails, naming records and why.
    const down2 = await platform.stopService('records');
    try {
      await provenDown(down2.pid);
      const t1 = Date.now();
      const second = await api.post<Sar>('/subject-access-requests', { patientId: p.id }, admin);
      expect(second.status).toBe(201);
      const failed = await eventually(
        async () => {
          const r = await api.get<Sar>(`/subject-access-requests/${second.body.id}`, admin);
          return r.body.status !== 'pending' ? r.body : undefined;
        },
        'the request to fail past the window',
        120_000,
      );
      const failedMs = Date.now() - t1;
      await provenDown(down2.pid); // down the whole time
      expect(failed).toMatchObject({ status: 'failed', failedParticipant: 'records' });
      expect(failed.failureReason).toMatch(/^records unreachable: \d+ attempts over [\d.]+ s \(retried every 2 s for up to 40 s\)$/);
      expect(failedMs).toBeGreaterThanOrEqual(40_000 - 2_000); // the last attempt may start up to one interval before the window ends
      const download = await api.get<{ detail: string }>(`/subject-access-requests/${second.body.id}/export`, admin);
      expect(download.status).toBe(409);
      expect(download.body.detail).toContain('records unreachable');
      console.log(
        `SAR with records stopped (pid ${down2.pid}) past the 40 s window: failed after ${failedMs} ms: "${failed.failureReason}"`,
      );
    } finally {
      await platform.restartService('records');
    }
  });

  it('erases a patient across services, with records down for a while and consent killed mid-saga', async () => {
    const p = await patient('Erasable');
    await api.post(`/patients/${p.id}/notes`, { title: 'n', body: 'to be erased' }, clinician);
    await api.call('PUT', `/patients/${p.id}/preferences`, { body: { email: false }, token: receptionist });
    expect((await api.post('/erasure-requests', { patientId: p.id, reason: 'asked' }, receptionist)).status).toBe(403);

    // Records goes down before the request: its part has to wait in its queue.
    const recordsDown = await platform.stopService('records');
    const opened = await api.post<{ id: string; services: Record<string, string> }>(
      '/erasure-requests',
      { patientId: p.id, reason: 'Patient asked to be forgotten' },
      admin,
    );
    expect(opened.status).toBe(202);
    expect(opened.body.services).toEqual({ records: 'pending', consent: 'pending' });
    const half = await eventually(async () => {
      const r = await api.get<{ services: Record<string, string>; status: string }>(`/erasure-requests/${opened.body.id}`, admin);
      return r.body.services?.consent === 'erased' ? r.body : undefined;
    }, 'consent to erase its part');
    expect(half).toMatchObject({ status: 'pending', services: { records: 'pending', consent: 'erased' } });

    // Kill consent (SIGKILL: no shutdown at all), and prove it is gone.
    const killed = await platform.stopService('consent', 'SIGKILL');
    expect(killed.signal).toBe('SIGKILL');
    expect(() => process.kill(killed.pid, 0)).toThrow();
    expect((await api.get(`/erasure-requests/${opened.body.id}`, admin)).status).toBe(503);
    // Records comes back and erases its part while consent is dead; its answer waits in consent's queue.
    const recordsUp = await platform.restartService('records');
    await eventually(async () => ((await api.get(`/patients/${p.id}`, admin)).status === 404 ? true : undefined), 'records to erase');
    const consentUp = await platform.restartService('consent');
    const restartedAt = Date.now();
    const done = await eventually(async () => {
      const r = await api.get<{ status: string }>(`/erasure-requests/${opened.body.id}`, admin);
      return r.body.status === 'completed' ? r.body : undefined;
    }, 'the erasure to complete after the restart');
    console.log(
      `erasure: records down (pid ${recordsDown.pid}) then back (pid ${recordsUp.pid}); consent killed (pid ${killed.pid}, ${killed.signal}) and restarted (pid ${consentUp.pid}); completed ${Date.now() - restartedAt} ms after consent came back`,
    );
    expect(done).toMatchObject({
      services: { records: 'erased', consent: 'erased' },
      counts: { records: { notes: 1 }, consent: { preferences: 1 } },
    });

    // Afterwards the patient is 404 everywhere, a search by ref finds nothing.
    expect((await api.get(`/patients/${p.id}`, admin)).status).toBe(404);
    expect((await api.get(`/patients/${p.id}/notes`, admin)).status).toBe(404);
    expect((await api.get<{ items: unknown[] }>(`/patients?ref=${p.ref}`, admin)).body.items).toEqual([]);
    expect((await api.get(`/patients/${p.id}/consent`, admin)).status).toBe(404);
    expect((await api.post('/subject-access-requests', { patientId: p.id }, admin)).status).toBe(404);
    // The same request again is the same erasure.
    expect((await api.post<{ id: string }>('/erasure-requests', { patientId: p.id, reason: 'again' }, admin)).body.id).toBe(opened.body.id);
    // The audit log holds one non-identifying tombstone.
    const tomb = await eventually(async () => {
      const r = await api.get<{ items: { data: Record<string, unknown> }[] }>(
        `/audit/events?type=consent.erasure-request.completed&patientId=${p.id}`,
        admin,
      );
      return r.body.items?.length ? r.body.items : undefined;
    }, 'the tombstone in the audit log');
    expect(tomb).toHaveLength(1);
    expect(tomb[0]!.data).toMatchObject({
      erasureId: opened.body.id,
      patientId: p.id,
      counts: { records: { notes: 1, documents: 2 }, consent: { preferences: 1 } },
    });
    expect(JSON.stringify(tomb)).not.toMatch(/Erasable|Sara|forgotten|to be erased|447700900777/);
  });
});
