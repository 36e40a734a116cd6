// Boot: configuration, connections, the app, then the outbox relay, the checkpoint timer
// and the log consumer once the service is ready; closes everything in reverse order on
// SIGTERM/SIGINT.
import { openServiceDeps, runMain, serveHttp } from '@praxis/platform';
import { buildAudit } from './app';
import { loadAuditConfig } from './config';

async function main(): Promise<void> {
  const config = loadAuditConfig();
  const deps = await openServiceDeps('audit', config);
  const audit = await buildAudit({
    logger: deps.logger,
    metrics: deps.metrics,
    mongo: deps.mongo,
    bus: deps.bus,
    authenticator: deps.authenticator,
    keks: config,
    readiness: deps.readiness,
    checkpointEvery: config.AUDIT_CHECKPOINT_EVERY,
    checkpointIntervalMs: config.AUDIT_CHECKPOINT_INTERVAL_MS,
    maxBatch: config.AUDIT_BATCH_MAX,
    consumer: { prefetch: config.AUDIT_PREFETCH, name: config.AUDIT_CONSUMER_NAME },
    http: { trustedProxies: config.TRUSTED_PROXIES, requestTimeoutMs: config.REQUEST_TIMEOUT_MS },
  });
  // Registered after mongo and bus, so it closes before them (reverse order).
  deps.lifecycle.onClose('audit', () => audit.stop());
  await serveHttp(deps, audit.app, config.PORT, config.HOST);
  await audit.start();
}

runMain(main);
