// A relay replica in a process of its own, for the test that SIGKILLs one in the middle of
// a drain (outbox-relay.int.test.ts). Configured by one JSON argument; prints `started`,
// then one line per 250 ms with how many events it has published.
import { createLogger } from '../src/logger';
import { Bus } from '../src/bus';
import { Metrics } from '../src/metrics';
import { connectMongo } from '../src/mongo';
import { OutboxRelay } from '../src/outbox';

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2] ?? '{}') as Record<string, string>;
  const env = (name: string) => {
    const v = config[name];
    if (!v) throw new Error(`${name} is not given`);
    return v;
  };
  const logger = createLogger({ service: 'relay-child', level: (config.LOG_LEVEL as 'warn' | undefined) ?? 'silent' });
  const metrics = new Metrics('relay-child');
  const mongo = await connectMongo({ url: env('MONGO_URL'), dbName: env('MONGO_DB') });
  const bus = new Bus({ url: env('AMQP_URL'), service: 'relay-child', logger });
  await bus.connect();
  const relay = new OutboxRelay({
    bus,
    logger,
    metrics,
    conn: mongo,
    collections: [mongo.collection(env('COLLECTION'))],
    owner: env('OWNER'),
    leaseMs: Number(env('LEASE_MS')),
    batchSize: Number(env('BATCH')),
    intervalMs: 50,
  });
  await relay.init();
  relay.start();
  console.log('started');
  const published = metrics.counter('outbox_published_total', 'Events relayed from the outbox');
  setInterval(() => {
    void published.get().then((m) => console.log(`published ${m.values[0]?.value ?? 0}`));
  }, 250);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
