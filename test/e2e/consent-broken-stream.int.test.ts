// A participant's streamed answer that breaks off mid-stream, end to end: consent reaches
// records through a TCP relay (this file's, in front of the real records process) that cuts
// the first export answer after EXPORT_CUT_BYTES — past the headers, after consent has taken
// notes from it and stored chunks of them. The request must not fail and must not keep
// anything twice: that collation's chunks are dropped, the request is collated again from the
// start, and the export holds every note exactly once, in one collation's chunks.
import net from 'node:net';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { connectMongo } from '../../libs/platform/src';
import { Api, eventually, strongPassword, uniqueSlug } from './client';
import { type Platform, freePort, startPlatform } from './platform';

jest.setTimeout(400_000);

const MONGO_URL = process.env.TEST_MONGO_URL ?? 'mongodb://127.0.0.1:27017';
const NOTES = 240;
/**
 * Bytes of records' first export answer let through: more than two 512 kB chunks of notes
 * (consent stores them two at a time), less than the whole (~1.8 MB).
 */
const EXPORT_CUT_BYTES = 1300 * 1024;

/** A TCP relay to `target()`; the first connection that asks for a patient export is cut after `cutAfter` answer bytes. */
function cuttingRelay(target: () => number, cutAfter: number) {
  const cuts: { answerBytes: number }[] = [];
  let armed = true;
  const server = net.createServer((client) => {
    const upstream = net.connect(target(), '127.0.0.1');
    let isExport: boolean | undefined;
    let answerBytes = 0;
    client.on('data', (d) => {
      if (isExport === undefined) {
        isExport = armed && /^GET \/api\/v1\/internal\/patients\/[^/]+\/export/.test(d.toString('latin1'));
        if (isExport) armed = false;
      }
      upstream.write(d);
    });
    upstream.on('data', (d) => {
      if (!isExport) return void client.write(d);
      const room = cutAfter - answerBytes;
      answerBytes += Math.min(room, d.length);
      client.write(d.subarray(0, Math.max(0, room)));
      if (answerBytes >= cutAfter) {
        cuts.push({ answerBytes });
        client.destroy();
        upstream.destroy();
      }
    });
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('end', () => client.end());
  });
  return { server, cuts };
}

describe('consent end to end: a participant answer broken off mid-stream', () => {
  let platform: Platform;
  let relay: ReturnType<typeof cuttingRelay>;

  beforeAll(async () => {
    const relayPort = await freePort();
    let recordsPort = 0;
    relay = cuttingRelay(() => recordsPort, EXPORT_CUT_BYTES);
    await new Promise<void>((resolve) => relay.server.listen(relayPort, '127.0.0.1', resolve));
    platform = await startPlatform({
      services: ['auth', 'records', 'consent', 'audit'],
      env: {
        consent: {
          RECORDS_URL: `http://127.0.0.1:${relayPort}`,
          RUNNER_INTERVAL_MS: '200',
          SAR_RETRY_S: '1',
          SAR_RETRY_WINDOW_S: '60',
          LOG_LEVEL: 'info',
        },
      },
      readyTimeoutMs: 180_000,
    });
    recordsPort = Number(new URL(platform.urls.records!).port);
  }, 400_000);

  afterAll(async () => {
    await platform?.stop();
    await new Promise((resolve) => relay?.server.close(resolve));
  }, 60_000);

  it('collates again from the start: the broken collation’s chunks are dropped, every note is in the export once', async () => {
    const api = new Api(`${platform.url}/api/v1`);
    const slug = uniqueSlug('broken');
    const password = strongPassword();
    const email = `admin@${slug}.example.test`;
    expect((await api.post('/tenants', { name: 'Broken Surgery', slug, admin: { name: 'Ada Admin', email, password } })).status).toBe(201);
    const admin = (await api.post<{ accessToken: string }>('/auth/login', { tenant: slug, email, password })).body.accessToken;
    const cEmail = `clinician@${slug}.example.test`;
    expect((await api.post('/users', { name: 'Dr C', email: cEmail, role: 'clinician', password }, admin)).status).toBe(201);
    const clinician = (await api.post<{ accessToken: string }>('/auth/login', { tenant: slug, email: cEmail, password })).body.accessToken;
    const p = (await api.post<{ id: string }>('/patients', { givenName: 'Bea', familyName: 'Broken', birthDate: '1980-02-03' }, clinician))
      .body;
    // ~7.5 kB a note (its body twice: the note and its version): ~1.8 MB of export, four chunks.
    const filler = 'Plan unchanged; reviewed at length. '.repeat(100);
    const written = new Set<string>();
    for (let i = 0; i < NOTES; i += 8)
      await Promise.all(
        Array.from({ length: Math.min(8, NOTES - i) }, async (_, k) => {
          const r = await api.post<{ id: string }>(
            `/patients/${p.id}/notes`,
            { title: `Note ${i + k}`, body: `${i + k}: ${filler}` },
            clinician,
          );
          expect(r.status).toBe(201);
          written.add(r.body.id);
        }),
      );
    await eventually(
      async () => ((await api.get(`/patients/${p.id}/consent`, admin)).status === 200 ? true : undefined),
      'consent to know the patient',
    );

    const t0 = Date.now();
    const opened = await api.post<{ id: string }>('/subject-access-requests', { patientId: p.id }, admin);
    expect(opened.status).toBe(201);
    const done = await eventually(
      async () => {
        const r = await api.get<{ status: string; exportChunks?: number }>(`/subject-access-requests/${opened.body.id}`, admin);
        return r.body.status !== 'pending' ? r.body : undefined;
      },
      'the request to complete',
      120_000,
    );
    const ms = Date.now() - t0;
    expect(done.status).toBe('completed');

    // The fault happened: one export answer was cut, past the headers and more than a chunk in…
    expect(relay.cuts).toEqual([{ answerBytes: EXPORT_CUT_BYTES }]);
    // …consent had taken notes from it and stored chunks of them, then dropped that collation.
    const warned = readFileSync(path.join(platform.logDir, `${platform.run}-consent.log`), 'utf8')
      .split('\n')
      .filter((l) => l.includes('subject access participant failed; asked again later'))
      .map((l) => JSON.parse(l) as { requestId: string; participant: string; reason: string; attempts: number; droppedChunks: number });
    expect(warned).toHaveLength(1);
    expect(warned[0]).toMatchObject({ requestId: opened.body.id, participant: 'records', reason: 'broke off mid-answer', attempts: 1 });
    expect(warned[0]!.droppedChunks).toBeGreaterThanOrEqual(1);

    // The export: every note once, whole.
    const exp = await api.get<{ notes: { id: string; versions: { version: number; body: string }[] }[] }>(
      `/subject-access-requests/${opened.body.id}/export`,
      admin,
    );
    expect(exp.status).toBe(200);
    const ids = exp.body.notes.map((n) => n.id);
    expect(ids).toHaveLength(NOTES);
    expect(new Set(ids)).toEqual(written);
    for (const n of exp.body.notes)
      expect(n.versions).toEqual([expect.objectContaining({ version: 1, body: expect.stringContaining(filler) })]);

    // Stored: the chunks of one collation only, numbered without a gap.
    const conn = await connectMongo({ url: MONGO_URL, dbName: `e2e_consent_${platform.run}` });
    try {
      const chunks = await conn
        .collection('access_export_chunks')
        .find({ requestId: opened.body.id })
        .project({ exportId: 1, seq: 1 })
        .toArray();
      const request = await conn.collection('access_requests').findOne({ _id: opened.body.id as never });
      expect(new Set(chunks.map((c) => c.exportId))).toEqual(new Set([request!.exportId]));
      expect(chunks.map((c) => c.seq as number).sort((a, b) => a - b)).toEqual(
        Array.from({ length: request!.exportChunks as number }, (_, i) => i),
      );
      console.log(
        `records' export cut after ${relay.cuts[0]!.answerBytes} bytes: ${warned[0]!.droppedChunks} stored chunk(s) of that collation dropped; collated again and completed ${ms} ms after the request; ${ids.length} notes, each once, in ${chunks.length} chunks of one collation`,
      );
    } finally {
      await conn.close();
    }
  });
});
