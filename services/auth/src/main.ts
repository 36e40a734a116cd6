// Boot: config, dependencies (auth verifies with its own key store), the HTTP server, the
// outbox relay, the purge scheduler and the region's revocation consumer; everything
// closes in reverse on SIGTERM.
import { serveHttp } from '@praxis/platform';
import { createAuthApp } from './app';
import { loadAuthConfig } from './config';
import { PurgeScheduler } from './deletion/deletion';
import { openAuthDeps } from './deps';
import { startRevocationConsumer } from './sessions/revocations';

async function main(): Promise<void> {
  const config = loadAuthConfig();
  const deps = await openAuthDeps(config);
  deps.relay.start();
  deps.lifecycle.onClose('outbox-relay', () => deps.relay.stop());
  const scheduler = new PurgeScheduler(deps, config.PURGE_INTERVAL_MS);
  scheduler.start();
  deps.lifecycle.onClose('purge-scheduler', () => scheduler.stop());
  const markTtlS = config.SESSION_MAX_S + config.ACCESS_TOKEN_TTL_S + 60;
  await startRevocationConsumer(deps.bus, { redis: deps.redis, markTtlS }, config.REGION);
  await serveHttp(deps, createAuthApp(deps), config.PORT, config.HOST);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
