// One "region"'s application side, run inside that region's network namespace
// (`ip netns exec chaos-<r> node --import tsx region-agent.ts <r> <dir>`), so it reaches
// only its own broker at 127.0.0.1. It is the platform's real Bus on both ends: a
// publisher with confirms, and a consumer on a quorum queue bound to every routing key,
// idempotent on the event id as every Praxis consumer is (here the processed ids are kept
// in memory: the region has no database; MongoIdempotencyStore has the same contract).
// Commands come as JSON lines on stdin; answers go as JSON lines on stdout.
import { Bus, type IdempotencyStore, createLogger, makeEvent } from '@praxis/platform';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';

const [region, dir] = process.argv.slice(2) as [string, string];
const out = (o: unknown) => process.stdout.write(JSON.stringify(o) + '\n');

/** Raw deliveries per event id (redeliveries included) and effects (after idempotency). */
const deliveries = new Map<string, number>();
const effects = new Map<string, number>();
const processed = new Set<string>();
const store: IdempotencyStore = {
  seen: async (_c, id) => {
    deliveries.set(id, (deliveries.get(id) ?? 0) + 1);
    return processed.has(id);
  },
  remember: async (_c, id) => void processed.add(id),
};

async function main(): Promise<void> {
  const bus = new Bus({
    url: 'amqp://guest:guest@127.0.0.1:5672',
    service: `region-${region}`,
    logger: createLogger({ service: `region-${region}`, level: 'warn' }),
    publishTimeoutMs: 120_000,
  });
  await bus.connect();
  await bus.consume('events', {
    bindings: ['#'],
    idempotency: store,
    handler: async (e) => void effects.set(e.id, (effects.get(e.id) ?? 0) + 1),
  });
  out({ ready: region });
  const rl = readline.createInterface({ input: process.stdin });
  for await (const line of rl) {
    const cmd = JSON.parse(line) as { cmd: 'publish' | 'report' | 'exit'; n?: number; spreadMs?: number; tag?: string };
    if (cmd.cmd === 'publish') {
      const n = cmd.n ?? 0;
      const confirmed: string[] = [];
      let failed = 0;
      const pending: Promise<void>[] = [];
      for (let i = 0; i < n; i++) {
        const e = makeEvent({
          type: 'records.patient.viewed',
          tenantId: `region-${region}`,
          actor: { kind: 'system', id: `region-${region}` },
          subject: { patientId: `${cmd.tag}-${i}` },
          data: { patientId: `${cmd.tag}-${i}` },
        });
        pending.push(
          bus.publish(e).then(
            () => void confirmed.push(e.id),
            () => void failed++,
          ),
        );
        if (cmd.spreadMs) await new Promise((r) => setTimeout(r, cmd.spreadMs! / n));
      }
      await Promise.all(pending);
      const file = path.join(dir, `${region}-${cmd.tag}-published.json`);
      writeFileSync(file, JSON.stringify(confirmed));
      out({ published: cmd.tag, confirmed: confirmed.length, failed, file });
    } else if (cmd.cmd === 'report') {
      const file = path.join(dir, `${region}-received.json`);
      writeFileSync(file, JSON.stringify({ deliveries: [...deliveries], effects: [...effects] }));
      out({ report: file, effects: effects.size });
    } else {
      await bus.close();
      out({ exit: region });
      process.exit(0);
    }
  }
}

main().catch((err) => {
  out({ error: String(err) });
  process.exit(1);
});
