// A records service built for one test suite: its own database, its own bus queues (a
// unique service name, so it never competes with a running records service), a
// throwaway token issuer, and a sink consumer that collects every records.* event.
import { type SuiteHarness, type TestTenant, deleteTestQueues, openSuite, randomIdForTests, testKek } from './testing';
import { type Records, buildRecords } from '../src/app';

export interface Harness extends SuiteHarness {
  records: Records;
  kek: { KEK: string; KEK_ID: string };
  tenant(): TestTenant & { support: (scope: 'settings' | 'records') => string; service: string };
}

export async function startHarness(opts: { relay?: boolean } = {}): Promise<Harness> {
  const suite = await openSuite('records', { retryDelaysMs: [200], sinkTimeoutMs: 10_000 });
  const { issuer } = suite;
  const kek = testKek();
  const records = await buildRecords({ ...suite.parts(kek), relayIntervalMs: 50 });
  if (opts.relay !== false) await records.start();

  return {
    ...suite.view,
    records,
    kek,
    tenant() {
      const t = issuer.tenant();
      return {
        ...t,
        support: (scope) => {
          const sub = randomIdForTests('sup');
          return issuer.sign({ tid: t.tenantId, role: 'support', scope, sub, act: { sub }, amr: ['pwd', 'otp'] });
        },
        service: issuer.sign({ tid: t.tenantId, role: 'service', sub: 'svc_consent', amr: ['svc'] }),
      };
    },
    async close() {
      await records.stop();
      for (const name of ['erasure-requests', 'tenant-purges']) await deleteTestQueues(suite.bus.queuesOf(name));
      await suite.close();
    },
  };
}
