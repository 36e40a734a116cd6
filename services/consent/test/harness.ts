// A consent service built for one test suite: its own database, its own bus queues (a
// unique service name and consumer prefix, so it never competes with a running consent),
// a throwaway token issuer (which also signs its service tokens), and a sink consumer
// collecting every consent.* event. Patients are introduced the way records does it: by
// publishing records.patient.created.
import type { EventEnvelope } from '@praxis/contracts';
import { Bus, Metrics, TokenAuthenticator, connectMongo, connectRedis, makeEvent, type Redis } from '@praxis/platform';
import { randomBytes } from 'node:crypto';
import type { Connection } from 'mongoose';
import { type Consent, type ConsentSettings, buildConsent } from '../src/app';
import { answerConsumerName } from '../src/erasure/consumers';
import { patientConsumerName } from '../src/patients/consumers';
import type { Participant } from '../src/subject-access/participants';
import { ownErasureConsumerName } from '../src/subject-data/consumers';
import { TestIssuer, type TestTenant, deleteTestQueues, infra, randomIdForTests, testDbName, testLogger, unique, waitFor } from './testing';

export interface Harness {
  issuer: TestIssuer;
  consent: Consent;
  mongo: Connection;
  dbName: string;
  events: EventEnvelope[];
  publish(event: Parameters<typeof makeEvent>[0]): Promise<EventEnvelope>;
  tenant(): TestTenant;
  /** A patient records has announced, once consent has learnt it. */
  patient(tenantId: string): Promise<string>;
  waitForEvent(pred: (e: EventEnvelope) => boolean, what: string): Promise<EventEnvelope>;
  close(): Promise<void>;
}

export async function startHarness(opts: { participants?: Participant[]; settings?: Partial<ConsentSettings> } = {}): Promise<Harness> {
  const issuer = new TestIssuer();
  const logger = testLogger('consent');
  const dbName = testDbName('consent');
  const mongo = await connectMongo({ url: infra.mongoUrl, dbName });
  const redis: Redis = await connectRedis(infra.redisUrl, 'consent-test');
  const service = unique('consent-t');
  const prefix = `${randomBytes(4).toString('hex')}-`;
  const bus = new Bus({ url: infra.amqpUrl, service, logger, retryDelaysMs: [200] });
  await bus.connect();
  const sink = new Bus({ url: infra.amqpUrl, service: unique('consent-sink'), logger });
  await sink.connect();
  const events: EventEnvelope[] = [];
  await sink.consume('sink', { bindings: ['consent.#'], handler: async (e) => void events.push(e) });
  const consent = await buildConsent({
    logger,
    metrics: new Metrics('consent'),
    mongo,
    bus,
    authenticator: new TokenAuthenticator(issuer.verifier(), redis),
    keks: { KEK: randomBytes(32).toString('base64'), KEK_ID: 'test-kek-1' },
    participants: opts.participants ?? [{ service: 'consent', exports: true, erases: true }],
    serviceTokens: { tokenFor: async (tid) => issuer.sign({ tid, role: 'service', sub: 'consent', amr: ['svc'] }) },
    settings: { runnerIntervalMs: 100, exportRetryDelaysMs: [50, 100], ...opts.settings },
    relayIntervalMs: 50,
    consumerPrefix: prefix,
  });
  await consent.start();

  const publish = async (e: Parameters<typeof makeEvent>[0]) => {
    const event = makeEvent(e);
    await sink.publish(event);
    return event;
  };
  return {
    issuer,
    consent,
    mongo,
    dbName,
    events,
    publish,
    tenant: () => issuer.tenant(),
    async patient(tenantId) {
      const patientId = randomIdForTests('pat');
      await publish({
        type: 'records.patient.created',
        tenantId,
        actor: { kind: 'user', id: 'usr_records' },
        subject: { patientId },
        data: { patientId, test: false },
      });
      await waitFor(() => consent.patients.exists(tenantId, patientId), { what: 'consent to learn the patient' });
      return patientId;
    },
    waitForEvent(pred, what) {
      return waitFor(() => events.find(pred), { what, timeoutMs: 15_000 });
    },
    async close() {
      await consent.stop();
      for (const name of [patientConsumerName(prefix), ownErasureConsumerName(prefix), answerConsumerName(prefix)])
        await deleteTestQueues(bus.queuesOf(name));
      await deleteTestQueues(sink.queuesOf('sink'));
      await bus.close();
      await sink.close();
      await redis.quit();
      await mongo.dropDatabase();
      await mongo.close();
    },
  };
}
