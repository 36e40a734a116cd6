// Boot: config, connections, the log core, HTTP, then the consumer and checkpoint timer
// once the service is ready. Everything closes in reverse on SIGTERM.
import { KekRing, OutboxRelay, openServiceDeps, serveHttp } from '@praxis/platform';
import { buildApp } from './app';
import { openAuditCore } from './audit';
import { loadAuditConfig } from './config';
import { startLogConsumer } from './log/consumer';

async function main(): Promise<void> {
  const config = loadAuditConfig();
  const deps = await openServiceDeps('audit', config);
  const core = await openAuditCore({
    conn: deps.mongo,
    kek: new KekRing(config),
    logger: deps.logger,
    metrics: deps.metrics,
    checkpointEvery: config.AUDIT_CHECKPOINT_EVERY,
    checkpointIntervalMs: config.AUDIT_CHECKPOINT_INTERVAL_MS,
    maxBatch: config.AUDIT_BATCH_MAX,
  });
  const relay = new OutboxRelay({ bus: deps.bus, logger: deps.logger, metrics: deps.metrics, conn: deps.mongo, collections: [] });
  await relay.init();
  const app = buildApp({
    core,
    conn: deps.mongo,
    authenticator: deps.authenticator,
    logger: deps.logger,
    metrics: deps.metrics,
    readiness: deps.readiness,
    onEventsRecorded: () => relay.nudge(),
    http: { trustedProxies: config.TRUSTED_PROXIES, requestTimeoutMs: config.REQUEST_TIMEOUT_MS },
  });
  await serveHttp(deps, app, config.PORT, config.HOST);
  relay.start();
  deps.lifecycle.onClose('outbox-relay', () => relay.stop());
  core.checkpointer.start();
  deps.lifecycle.onClose('checkpointer', () => core.checkpointer.stop());
  await startLogConsumer(deps.bus, core.appender, { prefetch: config.AUDIT_PREFETCH, name: config.AUDIT_CONSUMER_NAME });
}

main().catch((err) => {
  console.error('audit failed to start:', err instanceof Error ? err.message : err);
  process.exit(1);
});
