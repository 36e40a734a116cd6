// Boot: configuration, connections, the app, the outbox relay and the consumers; closes
// everything in reverse order on SIGTERM/SIGINT.
import { openServiceDeps, runMain, servicePartsOf, serveService } from '@praxis/platform';
import { buildRecords } from './app';
import { loadRecordsConfig } from './config';

async function main(): Promise<void> {
  const config = loadRecordsConfig();
  const deps = await openServiceDeps('records', config);
  const records = await buildRecords({ ...servicePartsOf(deps, config), consumerPrefix: config.RECORDS_CONSUMER_PREFIX });
  await serveService(deps, config, records);
}

runMain(main);
