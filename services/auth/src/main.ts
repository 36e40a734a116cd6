// Boot: configuration, connections (auth verifies tokens with its own key store), the
// app, then the outbox relay, the purge scheduler and the region's revocation consumer;
// closes everything in reverse order on SIGTERM/SIGINT.
import { openServiceDeps, runMain, serveService } from '@praxis/platform';
import { buildAuth, ownJwks } from './app';
import { loadAuthConfig } from './config';

async function main(): Promise<void> {
  const config = loadAuthConfig();
  const jwks = ownJwks();
  const deps = await openServiceDeps('auth', config, { jwksSource: jwks.source });
  const auth = await buildAuth({ ...deps, config }, jwks);
  await serveService(deps, config, auth);
}

runMain(main);
