// Boot: configuration, connections, the app, then the outbox relay, the checkpoint timer
// and the log consumer once the service is ready; closes everything in reverse order on
// SIGTERM/SIGINT.
import { openServiceDeps, runMain, servicePartsOf, serveService } from '@praxis/platform';
import { buildAudit } from './app';
import { loadAuditConfig } from './config';

async function main(): Promise<void> {
  const config = loadAuditConfig();
  const deps = await openServiceDeps('audit', config);
  const audit = await buildAudit({
    ...servicePartsOf(deps, config),
    checkpointEvery: config.AUDIT_CHECKPOINT_EVERY,
    checkpointIntervalMs: config.AUDIT_CHECKPOINT_INTERVAL_MS,
    maxBatch: config.AUDIT_BATCH_MAX,
    consumer: { prefetch: config.AUDIT_PREFETCH, name: config.AUDIT_CONSUMER_NAME },
  });
  await serveService(deps, config, audit);
}

runMain(main);
