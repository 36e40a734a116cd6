// Kill messaging in the middle of a 1,000-patient batch. The service runs as a child
// process (`node src/main.ts`, as in production) against this suite's database, records
// and simulators; it is killed with SIGKILL while texts are going out, and a second process
// takes over the same queues. Every patient's text must reach the simulator exactly once
// (idempotency keys), none lost, none twice.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { type Harness, mobile, startHarness } from './harness';
import { ROOT, bearer, deleteTestQueues, infra, waitFor } from './testing';

jest.setTimeout(1_800_000);

// CRASH_N: a smaller batch for a quick run on a busy machine (the figure is 1,000).
const N = Number(process.env.CRASH_N ?? 1_000);
const KILL_AFTER = Math.max(10, Math.floor(N * 0.15));

describe('a batch survives the messaging process being killed', () => {
  let h: Harness;
  let t: ReturnType<Harness['tenant']>;
  let tokenServer: http.Server;
  let child: ChildProcess | undefined;
  /** The child's bus consumer prefix: its queues are deleted afterwards (the broker's test-queue policy does not match them). */
  const prefix = `crash-${randomBytes(5).toString('hex')}-`;
  const logDir = path.join(ROOT, '.data', 'logs', 'messaging-tests');

  beforeAll(async () => {
    h = await startHarness({ start: false });
    t = h.tenant();
    // What the child asks auth for: the JWKS to verify staff tokens, service tokens for records.
    tokenServer = http.createServer((req, res) => {
      if (req.url === '/.well-known/jwks.json')
        return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(h.issuer.jwks));
      if (req.url === '/api/v1/internal/service-tokens' && req.method === 'POST') {
        let raw = '';
        req.on('data', (c) => (raw += c));
        req.on('end', () => {
          const { tenantId } = JSON.parse(raw) as { tenantId: string };
          // Like auth: a token only for its own practice, 404 for any other.
          if (tenantId !== t.tenantId)
            return void res.writeHead(404, { 'content-type': 'application/problem+json' }).end(JSON.stringify({ status: 404 }));
          res.writeHead(200, { 'content-type': 'application/json' }).end(
            JSON.stringify({
              accessToken: h.issuer.sign({ tid: tenantId, role: 'service', sub: 'messaging', amr: ['svc'] }),
              expiresIn: 600,
            }),
          );
        });
        return;
      }
      res.writeHead(404).end();
    });
    await new Promise<void>((r) => tokenServer.listen(0, '127.0.0.1', () => r()));
    mkdirSync(logDir, { recursive: true });
  });
  afterAll(async () => {
    child?.kill('SIGKILL');
    await new Promise<void>((r) => tokenServer?.close(() => r()));
    const retries = ['200', '1000', '2000'].map((d) => `.retry.${d}ms`);
    for (const name of ['deliveries', 'batches', 'preferences', 'erasure-requests', 'notice-requests']) {
      const queue = `messaging.${prefix}${name}`;
      await deleteTestQueues({ queue, parked: `${queue}.parked`, retries: retries.map((r) => `${queue}${r}`) });
    }
    await h?.close();
  });

  function startChild(port: number, env: Record<string, string>, tag: string): ChildProcess {
    const out = createWriteStream(path.join(logDir, `${tag}.log`), { flags: 'a' });
    const c = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: path.join(ROOT, 'services', 'messaging'),
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env, PORT: String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    c.stdout?.pipe(out);
    c.stderr?.pipe(out);
    return c;
  }

  it(`sends each of ${N} texts exactly once across a SIGKILL`, async () => {
    const created: string[] = [];
    for (let i = 0; i < N; i += 10)
      created.push(...(await Promise.all(Array.from({ length: 10 }, () => h.patient(t, { mobile: mobile() })))).map((p) => p.id));
    await h.buy(t, N);
    const tpl = await fetch(`${h.recordsUrl}/api/v1/templates`, {
      method: 'POST',
      headers: { ...bearer(t.admin.token), 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Recall', channel: 'sms', body: 'Time for your check-up, {{patient.ref}}.' }),
    });
    const templateId = ((await tpl.json()) as { id: string }).id;

    const childPort = await new Promise<number>((resolve) => {
      const s = http.createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    const auth = `http://127.0.0.1:${(tokenServer.address() as AddressInfo).port}`;
    const s = h.settings.sms;
    const env: Record<string, string> = {
      HOST: '127.0.0.1',
      MONGO_URL: infra.mongoUrl,
      MONGO_DB: h.dbName,
      AMQP_URL: infra.amqpUrl,
      REDIS_URL: infra.redisUrl,
      JWKS_URL: `${auth}/.well-known/jwks.json`,
      LOG_LEVEL: 'warn',
      KEK: h.settings.keks.KEK,
      KEK_ID: h.settings.keks.KEK_ID,
      RECORDS_URL: h.recordsUrl,
      AUTH_URL: auth,
      SERVICE_CLIENT_SECRET: randomBytes(16).toString('hex'),
      SMTP_URL: h.mail.smtpUrl,
      SMTP_CA_FILE: h.mail.caFile!,
      TWILIO_API_URL: s.twilio.apiUrl,
      TWILIO_ACCOUNT_SID: s.twilio.accountSid,
      TWILIO_AUTH_TOKEN: s.twilio.authToken,
      VONAGE_API_URL: s.vonage.apiUrl,
      VONAGE_API_KEY: s.vonage.apiKey,
      VONAGE_API_SECRET: s.vonage.apiSecret,
      VONAGE_SIGNATURE_SECRET: s.vonage.signatureSecret,
      PUBLIC_URL: `http://127.0.0.1:${childPort}`,
      MESSAGING_CONSUMER_PREFIX: prefix,
      BUS_RETRY_DELAYS_MS: '200,1000,2000',
    };
    const base = `http://127.0.0.1:${childPort}`;
    const waitReady = () =>
      waitFor(
        async () =>
          (await fetch(`${base}/readyz`)
            .then((r) => r.ok)
            .catch(() => false)) || undefined,
        { what: 'messaging child ready', timeoutMs: 60_000 },
      );

    child = startChild(childPort, env, 'crash-1');
    await waitReady();
    h.twilio.behaviour.delayMs = 20; // a steady trickle, so the kill lands mid-batch
    const res = await fetch(`${base}/api/v1/message-batches`, {
      method: 'POST',
      headers: { ...bearer(t.receptionist.token), 'content-type': 'application/json' },
      body: JSON.stringify({ channel: 'sms', templateId, patientIds: created }),
    });
    expect(res.status).toBe(202);
    const batchId = ((await res.json()) as { id: string }).id;
    const ours = () => h.twilio.messages.filter((m) => m.idempotencyKey.startsWith(`${batchId}-`)).length;

    await waitFor(() => ours() >= KILL_AFTER || undefined, { what: `${KILL_AFTER} texts before the kill`, timeoutMs: 600_000 });
    const exited = new Promise<NodeJS.Signals | null>((r) => child!.once('exit', (_code, signal) => r(signal)));
    child.kill('SIGKILL');
    const signal = await exited;
    const atKill = ours();
    await new Promise((r) => setTimeout(r, 1_500));
    const afterKill = ours();
    const queuedAtKill = await h.mongo.collection('messages').countDocuments({ batchId, status: { $in: ['queued', 'sending'] } });
    const createdAtKill = await h.mongo.collection('messages').countDocuments({ batchId });
    // The kill happened: the process died of SIGKILL, with texts still to send.
    expect(signal).toBe('SIGKILL');
    expect(afterKill).toBeLessThan(N);

    child = startChild(childPort, env, 'crash-2');
    await waitReady();
    h.twilio.behaviour.delayMs = 0;
    const final = await waitFor(
      async () => {
        const v = (await (await fetch(`${base}/api/v1/message-batches/${batchId}`, { headers: bearer(t.receptionist.token) })).json()) as {
          status: string;
          sent: number;
          failed: number;
          blocked: number;
          queued: number;
        };
        return v.status === 'completed' ? v : undefined;
      },
      { what: 'batch completed after restart', timeoutMs: 1_500_000, intervalMs: 2_000 },
    );

    const counts = h.twilio.countsByKey();
    const keys = [...counts.keys()].filter((k) => k.startsWith(`${batchId}-`));
    const twice = keys.filter((k) => counts.get(k)! > 1);
    console.log(
      JSON.stringify({
        atKill,
        afterKill,
        createdAtKill,
        queuedAtKill,
        final,
        texts: keys.length,
        duplicatesAbsorbedBySimulator: h.twilio.stats.duplicates,
        twice: twice.length,
      }),
    );
    expect(twice).toEqual([]);
    expect(final.sent + final.failed).toBe(N);
    expect(keys.length).toBe(final.sent);
    expect(final.sent).toBe(N); // every provider call succeeded in the end: all sent
    child.kill('SIGTERM');
  });
});
