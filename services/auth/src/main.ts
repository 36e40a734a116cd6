// Boot: configuration, connections (auth verifies tokens with its own key store), the
// app, then the outbox relay, the purge scheduler and the region's revocation consumer;
// closes everything in reverse order on SIGTERM/SIGINT.
import { openServiceDeps, runMain, serveHttp } from '@praxis/platform';
import { buildAuth, ownJwks } from './app';
import { loadAuthConfig } from './config';

async function main(): Promise<void> {
  const config = loadAuthConfig();
  const jwks = ownJwks();
  const deps = await openServiceDeps('auth', config, { jwksSource: jwks.source });
  const auth = await buildAuth({ ...deps, config }, jwks);
  // Registered after mongo, Redis and bus, so it closes before them (reverse order).
  deps.lifecycle.onClose('auth', () => auth.stop());
  await serveHttp(deps, auth.app, config.PORT, config.HOST);
  await auth.start();
}

runMain(main);
