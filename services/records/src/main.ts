// Boot: configuration, connections, the app, the outbox relay and the consumers; closes
// everything in reverse order on SIGTERM/SIGINT.
import { openServiceDeps, runMain, serveHttp } from '@praxis/platform';
import { buildRecords } from './app';
import { loadRecordsConfig } from './config';

async function main(): Promise<void> {
  const config = loadRecordsConfig();
  const deps = await openServiceDeps('records', config);
  const records = await buildRecords({
    logger: deps.logger,
    metrics: deps.metrics,
    mongo: deps.mongo,
    bus: deps.bus,
    authenticator: deps.authenticator,
    keks: config,
    readiness: deps.readiness,
    consumerPrefix: config.RECORDS_CONSUMER_PREFIX,
    http: { trustedProxies: config.TRUSTED_PROXIES, requestTimeoutMs: config.REQUEST_TIMEOUT_MS },
  });
  // Registered after mongo and bus, so it closes before them (reverse order).
  deps.lifecycle.onClose('outbox-relay', () => records.stop());
  await serveHttp(deps, records.app, config.PORT, config.HOST);
  await records.start();
}

runMain(main);
