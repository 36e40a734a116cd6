// Operator commands for the records service.
//   rotate-kek   re-wrap every tenant key under the current KEK (KEK / KEK_ID), reading
//                the old ones from KEK_PREVIOUS (`id:base64,…`). Data and patient keys are
//                not touched. Safe to rerun, and to run while the service is serving
//                (keep the old KEK in the service's KEK_PREVIOUS until this has finished).
// Usage: node --import tsx services/records/src/cli.ts rotate-kek
import { KekRing, connectMongo, createLogger } from '@praxis/platform';
import { loadCliConfig } from './config';
import { rotateKek } from './keys/key-service';
import { KeyRepository } from './keys/model';

export async function runCli(argv: string[], env?: Record<string, string | undefined>): Promise<number> {
  const [command] = argv;
  if (command !== 'rotate-kek') {
    console.error('usage: cli.ts rotate-kek');
    return 2;
  }
  const config = loadCliConfig(env);
  const logger = createLogger({ service: 'records-cli', level: config.LOG_LEVEL });
  const mongo = await connectMongo({ url: config.MONGO_URL, dbName: config.MONGO_DB ?? 'records' });
  try {
    const result = await rotateKek(new KeyRepository(mongo), new KekRing(config));
    logger.info({ kekId: config.KEK_ID, ...result }, 'tenant keys re-wrapped');
    console.log(JSON.stringify({ kekId: config.KEK_ID, ...result }));
    return 0;
  } finally {
    await mongo.close();
  }
}

if (require.main === module) {
  runCli(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(err instanceof Error ? err.message : err);
      process.exit(1);
    },
  );
}
