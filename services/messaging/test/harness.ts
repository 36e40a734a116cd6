// A messaging service built for one test suite, with real neighbours: its own database and
// uniquely named bus queues, a records service (built in-process on a free port, its own
// database) that it calls over HTTP with service tokens, a private Mailpit with STARTTLS
// required, and two SMS provider simulators. The app listens on a free port so the
// simulators' delivery receipts reach it. A sink collects every messaging.* event.
import { Bus, type ServiceTokenSource, connectMongo, startHttpServer, type RunningServer } from '@praxis/platform';
import { isValidPhoneNumber } from 'libphonenumber-js/max';
// A test fixture, not service code: the real records service, built in-process as this
// suite's neighbour (messaging itself only talks to it over HTTP).
// eslint-disable-next-line no-restricted-imports
import { buildRecords, type Records } from '../../records/src/app';
import { type Messaging, type MessagingDeps, buildMessaging } from '../src/app';
import { EmailSender } from '../src/providers/email';
import { HttpRecordsClient } from '../src/records-client/records-client';
import { type SmsSimulator, startSmsSimulator } from '../sim/sms-simulator';
import { type TestMailpit, startMailpit } from './mailpit';
import {
  type SuiteHarness,
  type TestTenant,
  bearer,
  deleteTestQueues,
  infra,
  openSuite,
  testDbName,
  testKek,
  testServiceParts,
  unique,
} from './testing';

export interface Harness extends SuiteHarness {
  messaging: Messaging;
  records: Records;
  url: string;
  recordsUrl: string;
  mail: TestMailpit;
  twilio: SmsSimulator;
  vonage: SmsSimulator;
  tokens: ServiceTokenSource;
  sms(): Messaging['sms'];
  settings: Pick<MessagingDeps, 'sms' | 'keks'>;
  tenant(): TestTenant;
  /** A patient in records (through records' API), with the given contacts. */
  patient(t: TestTenant, contact?: { email?: string; mobile?: string }): Promise<{ id: string; ref: string }>;
  /** Buy credits for a practice through the API. */
  buy(t: TestTenant, quantity: number): Promise<number>;
}

export interface HarnessOptions {
  start?: boolean;
  breakerFailures?: number;
  halfOpenAfterMs?: number;
  smsTimeoutMs?: number;
  /** A broker other than the shared one (the broker-restart test runs its own). */
  amqpUrl?: string;
  /** The app's request deadline (REQUEST_TIMEOUT_MS); the platform's default unless set. */
  requestTimeoutMs?: number;
}

let phone = 0;
/**
 * A valid UK mobile number nobody else in the run uses: 07912 followed by the clock's
 * seconds (3 digits) and a counter (3 digits). Every 07912 number is in an allocated block
 * (libphonenumber's metadata, which messaging validates against); the old +4479<clock>
 * numbers fell into unallocated blocks such as 07911 3xxxxx for 50 s in every 2.8 h, and
 * a suite started then got 400 for each text.
 */
export const mobile = () => {
  const n = `+447912${String(Math.floor(Date.now() / 1000) % 1000).padStart(3, '0')}${String(phone++ % 1000).padStart(3, '0')}`;
  if (!isValidPhoneNumber(n)) throw new Error(`test mobile ${n} is not a valid number`);
  return n;
};

export async function startHarness(opts: HarnessOptions = {}): Promise<Harness> {
  const amqpUrl = opts.amqpUrl ?? infra.amqpUrl;
  const suite = await openSuite('messaging', { amqpUrl, retryDelaysMs: [200, 500, 1000] });
  const { issuer, logger, redis, bus } = suite;
  const recordsDbName = testDbName('records');
  const recordsMongo = await connectMongo({ url: infra.mongoUrl, dbName: recordsDbName });

  const recordsBus = new Bus({ url: amqpUrl, service: unique('records-m'), logger });
  await recordsBus.connect();
  const records = await buildRecords({
    ...testServiceParts('records', { logger, mongo: recordsMongo, bus: recordsBus, redis, issuer }, testKek('test-records')),
    relayIntervalMs: 100,
  });
  records.relay.start();
  const recordsServer = await startHttpServer(records.app, 0);
  const recordsUrl = `http://127.0.0.1:${recordsServer.port}`;

  const tokens: ServiceTokenSource = { tokenFor: async (tid) => issuer.sign({ tid, role: 'service', sub: 'messaging', amr: ['svc'] }) };
  const mail = await startMailpit({ tls: true });
  const twilio = await startSmsSimulator({ provider: 'twilio' });
  const vonage = await startSmsSimulator({ provider: 'vonage' });

  // Listen first, so the receipt URL (with the port) is known before the app is built.
  const holder: { app?: Messaging['app'] } = {};
  const server: RunningServer = await startHttpServer(
    ((req: unknown, res: unknown, next: unknown) =>
      (holder.app as unknown as (a: unknown, b: unknown, c: unknown) => void)(req, res, next)) as never,
    0,
  );
  const url = `http://127.0.0.1:${server.port}`;
  const sms: MessagingDeps['sms'] = {
    primary: 'twilio',
    twilio: {
      apiUrl: twilio.url,
      accountSid: twilio.credentials.accountSid,
      authToken: simCredential(twilio, 'authToken'),
      from: 'Praxis',
    },
    vonage: {
      apiUrl: vonage.url,
      apiKey: simCredential(vonage, 'apiKey'),
      apiSecret: simCredential(vonage, 'apiSecret'),
      signatureSecret: simCredential(vonage, 'signatureSecret'),
      from: 'Praxis',
    },
    timeoutMs: opts.smsTimeoutMs ?? 1_000,
    breakerFailures: opts.breakerFailures ?? 3,
    halfOpenAfterMs: opts.halfOpenAfterMs ?? 2_000,
  };
  const keks = testKek('test-messaging-1');
  const practices = new Set<string>();
  const email = new EmailSender({ url: mail.smtpUrl, caFile: mail.caFile!, from: 'Praxis <no-reply@praxis.test>', timeoutMs: 5_000 });
  const messaging = await buildMessaging({
    ...(opts.requestTimeoutMs ? { http: { requestTimeoutMs: opts.requestTimeoutMs } } : {}),
    ...suite.parts(keks),
    records: new HttpRecordsClient(recordsUrl, tokens),
    email,
    sms,
    webhookBaseUrl: url,
    publicUrl: 'http://praxis.test',
    // Auth is not part of this harness: the practice's name is what auth would answer.
    practices: { nameOf: async () => 'Riverside Surgery' },
    // …and the practices auth knows are the ones this harness made (tenant()); consent's
    // requests for any other practice on the shared broker are none of this deployment's.
    knownPractice: async (tid: string) => practices.has(tid),
    relayIntervalMs: 50,
    busRetries: 3,
  });
  holder.app = messaging.app;
  if (opts.start !== false) await messaging.start();

  const harness: Harness = {
    ...suite.view,
    messaging,
    records,
    url,
    recordsUrl,
    mail,
    twilio,
    vonage,
    tokens,
    sms: () => messaging.sms,
    settings: { sms, keks },
    tenant: () => {
      const t = issuer.tenant();
      practices.add(t.tenantId);
      return t;
    },
    async patient(t, contact = {}) {
      const res = await fetch(`${recordsUrl}/api/v1/patients`, {
        method: 'POST',
        headers: { ...bearer(t.admin.token), 'content-type': 'application/json' },
        body: JSON.stringify({ givenName: 'Pat', familyName: 'Messaged', birthDate: '1970-01-01', ...contact }),
      });
      if (res.status !== 201) throw new Error(`creating a patient: ${res.status} ${await res.text()}`);
      return (await res.json()) as { id: string; ref: string };
    },
    async buy(t, quantity) {
      const res = await fetch(`${url}/api/v1/sms-credits/purchases`, {
        method: 'POST',
        headers: { ...bearer(t.admin.token), 'content-type': 'application/json' },
        body: JSON.stringify({ quantity }),
      });
      if (res.status !== 201) throw new Error(`buying credits: ${res.status}`);
      return ((await res.json()) as { balance: number }).balance;
    },
    async close() {
      await messaging.stop();
      await records.stop();
      for (const name of ['deliveries', 'preferences', 'batches', 'erasure-requests', 'notice-requests', 'tenant-purges'])
        await deleteTestQueues(bus.queuesOf(name));
      await recordsBus.close();
      await server.close(1_000);
      await recordsServer.close(1_000);
      email.close();
      await mail.stop();
      await twilio.close();
      await vonage.close();
      await suite.close();
      await recordsMongo.dropDatabase();
      await recordsMongo.close();
    },
  };
  return harness;
}

/** The credentials a simulator made for itself (tests read them as an operator copies them from a dashboard). */
function simCredential(sim: SmsSimulator, name: 'authToken' | 'apiKey' | 'apiSecret' | 'signatureSecret'): string {
  return sim.credentials[name];
}
