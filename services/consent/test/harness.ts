// A consent service built for one test suite: its own database, its own bus queues (a
// unique service name and consumer prefix, so it never competes with a running consent),
// a throwaway token issuer (which also signs its service tokens), and a sink consumer
// collecting every consent.* event. Patients are introduced the way records does it: by
// publishing records.patient.created.
import { randomBytes } from 'node:crypto';
import { type Consent, type ConsentSettings, buildConsent } from '../src/app';
import { answerConsumerName } from '../src/erasure/consumers';
import { patientConsumerName } from '../src/patients/consumers';
import type { Participant } from '../src/subject-access/participants';
import { ownErasureConsumerName } from '../src/subject-data/consumers';
import { type SuiteHarness, type TestTenant, deleteTestQueues, openSuite, randomIdForTests, waitFor } from './testing';

export interface Harness extends SuiteHarness {
  consent: Consent;
  tenant(): TestTenant;
  /** A patient records has announced, once consent has learnt it. */
  patient(tenantId: string): Promise<string>;
}

export async function startHarness(opts: { participants?: Participant[]; settings?: Partial<ConsentSettings> } = {}): Promise<Harness> {
  const suite = await openSuite('consent', { retryDelaysMs: [200] });
  const { issuer } = suite;
  const prefix = `${randomBytes(4).toString('hex')}-`;
  const consent = await buildConsent({
    ...suite.parts(),
    participants: opts.participants ?? [{ service: 'consent', exports: true, erases: true }],
    serviceTokens: { tokenFor: async (tid) => issuer.sign({ tid, role: 'service', sub: 'consent', amr: ['svc'] }) },
    settings: { runnerIntervalMs: 100, exportRetryDelaysMs: [50, 100], ...opts.settings },
    relayIntervalMs: 50,
    consumerPrefix: prefix,
  });
  await consent.start();

  const { publish } = suite.sink;
  return {
    ...suite.view,
    consent,
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
    async close() {
      await consent.stop();
      for (const name of [patientConsumerName(prefix), ownErasureConsumerName(prefix), answerConsumerName(prefix)])
        await deleteTestQueues(suite.bus.queuesOf(name));
      await suite.close();
    },
  };
}
