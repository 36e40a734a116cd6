// One "region"'s application side, run inside that region's network namespace
// (`ip netns exec praxis-chaos-<r> node --import tsx region-agent.ts <r> <dir>`), so it
// reaches only its own broker at 127.0.0.1. It is the platform's real Bus, with the two
// kinds of consumer the deployed topology has (k8s/data/rabbitmq.yaml):
// - auth's session-revocation consumer: queue `auth.revocations-<region>` on the
//   praxis.broadcast exchange (services/auth/src/sessions/revocations.ts), which the
//   exchange federation feeds with the other region's revocations too. Every revocation,
//   from either region, must be processed in every region.
// - an ordinary consumer, `audit.entries` on praxis.events (the audit's shape), whose
//   queue is federated queue-to-queue: an event is consumed once, in whichever region
//   takes it. Its idempotency is this region's (each region has its own database); here
//   the processed ids are kept in memory, with MongoIdempotencyStore's contract.
// Commands come as JSON lines on stdin; answers go as JSON lines on stdout.
import { BROADCAST_EXCHANGE, Bus, type IdempotencyStore, createLogger, makeEvent } from '@praxis/platform';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';

const [region, dir] = process.argv.slice(2) as [string, string];
const out = (o: unknown) => process.stdout.write(JSON.stringify(o) + '\n');
const url = 'amqp://guest:guest@127.0.0.1:5672';
const logger = (service: string) => createLogger({ service: `region-${region}-${service}`, level: 'warn' });

type Kind = 'revoked' | 'viewed';
/** The queue of auth's revocation consumer in this region (revocationConsumerName). */
export const revocationQueue = (r: string) => `auth.revocations-${r}`;

/** Raw deliveries per event id (redeliveries included) and effects (after idempotency), per consumer. */
const counts = {
  revoked: { deliveries: new Map<string, number>(), effects: new Map<string, number>() },
  viewed: { deliveries: new Map<string, number>(), effects: new Map<string, number>() },
};
const bump = (m: Map<string, number>, id: string) => m.set(id, (m.get(id) ?? 0) + 1);

function store(kind: Kind): IdempotencyStore {
  const processed = new Set<string>();
  return {
    seen: async (_c, id) => {
      bump(counts[kind].deliveries, id);
      return processed.has(id);
    },
    remember: async (_c, id) => void processed.add(id),
  };
}
// One per consumer, for the life of the region (a restarted consumer keeps its database).
const stores = { revoked: store('revoked'), viewed: store('viewed') };

async function authBus(): Promise<Bus> {
  const bus = new Bus({ url, service: 'auth', logger: logger('auth'), publishTimeoutMs: 120_000 });
  await bus.connect();
  await bus.consume(`revocations-${region}`, {
    exchange: BROADCAST_EXCHANGE,
    bindings: ['auth.session.revoked'],
    idempotency: stores.revoked,
    handler: async (e) => void bump(counts.revoked.effects, e.id),
  });
  return bus;
}

async function auditBus(): Promise<Bus> {
  const bus = new Bus({ url, service: 'audit', logger: logger('audit'), publishTimeoutMs: 120_000 });
  await bus.connect();
  await bus.consume('entries', {
    bindings: ['records.patient.viewed'],
    idempotency: stores.viewed,
    handler: async (e) => void bump(counts.viewed.effects, e.id),
  });
  return bus;
}

function event(kind: Kind, tag: string, i: number) {
  const actor = { kind: 'system' as const, id: `region-${region}` };
  const tenantId = `region-${region}`;
  if (kind === 'revoked')
    return makeEvent({
      type: 'auth.session.revoked',
      tenantId,
      actor,
      data: { sessionId: `ses_${randomUUID().replace(/-/g, '').slice(0, 20)}`, userId: `usr_${tag}_${i}`, reason: 'logout' },
    });
  return makeEvent({
    type: 'records.patient.viewed',
    tenantId,
    actor,
    subject: { patientId: `${tag}-${i}` },
    data: { patientId: `${tag}-${i}` },
  });
}

interface Command {
  cmd: 'publish' | 'report' | 'stop-audit' | 'start-audit' | 'configure' | 'links' | 'exit';
  federation?: Federation;
  kind?: Kind;
  n?: number;
  spreadMs?: number;
  tag?: string;
}

interface Federation {
  user: string;
  password: string;
  upstreamName: string;
  upstream: Record<string, unknown>;
  policies: { name: string; pattern: string; applyTo: string; priority: number; definition: Record<string, unknown> }[];
}

/** This region's broker's management API (inside the namespace, as guest on loopback). */
async function api(method: string, p: string, body?: unknown): Promise<{ status: number; text: string }> {
  const r = await fetch(`http://127.0.0.1:15672/api${p}`, {
    method,
    headers: { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(60_000),
  });
  return { status: r.status, text: await r.text() };
}

async function must(method: string, p: string, body?: unknown): Promise<void> {
  const r = await api(method, p, body);
  if (r.status >= 300) throw new Error(`${method} ${p}: ${r.status} ${r.text.slice(0, 300)}`);
}

/**
 * The deployed federation on this region's broker (regions.ts reads it from the charts):
 * the user the peer's links sign in as, the upstream, the policies. Answers the upstream
 * keys this broker refused (and went without).
 */
async function configure(f: Federation): Promise<string[]> {
  await must('PUT', `/users/${f.user}`, { password: f.password, tags: '' });
  await must('PUT', `/permissions/%2F/${f.user}`, { configure: '.*', write: '.*', read: '.*' });
  const refused: string[] = [];
  const upstream = { ...f.upstream };
  for (;;) {
    const r = await api('PUT', `/parameters/federation-upstream/%2F/${f.upstreamName}`, { value: upstream });
    if (r.status < 300) break;
    // A key this broker's federation plugin does not know (queue-type: RabbitMQ 3.13+; the
    // charts deploy 4.2): go without it and say so.
    const key = Object.keys(upstream).find((k) => k !== 'uri' && r.text.includes(k));
    if (r.status !== 400 || !key) throw new Error(`federation upstream: ${r.status} ${r.text.slice(0, 300)}`);
    refused.push(`${key}: ${r.text.slice(0, 160)}`);
    delete upstream[key];
  }
  for (const p of f.policies)
    await must('PUT', `/policies/%2F/${p.name}`, {
      pattern: p.pattern,
      'apply-to': p.applyTo,
      priority: p.priority,
      definition: p.definition,
    });
  return refused;
}

async function publish(bus: Bus, cmd: Command): Promise<void> {
  const n = cmd.n ?? 0;
  const kind = cmd.kind ?? 'viewed';
  const confirmed: string[] = [];
  let failed = 0;
  const pending: Promise<void>[] = [];
  for (let i = 0; i < n; i++) {
    const e = event(kind, cmd.tag ?? 'x', i);
    pending.push(
      bus.publish(e).then(
        () => void confirmed.push(e.id),
        () => void failed++,
      ),
    );
    if (cmd.spreadMs) await new Promise((r) => setTimeout(r, cmd.spreadMs! / n));
  }
  await Promise.all(pending);
  const file = path.join(dir, `${region}-${kind}-${cmd.tag}-published.json`);
  writeFileSync(file, JSON.stringify(confirmed));
  out({ [`published:${kind}-${cmd.tag}`]: confirmed.length, failed, file });
}

async function main(): Promise<void> {
  const auth = await authBus();
  let audit: Bus | undefined = await auditBus();
  out({ ready: region });
  const rl = readline.createInterface({ input: process.stdin });
  for await (const line of rl) {
    const cmd = JSON.parse(line) as Command;
    if (cmd.cmd === 'publish') {
      // Not awaited: several publishes (both kinds) run at once; each answers under its own key.
      void publish(auth, cmd);
    } else if (cmd.cmd === 'report') {
      const file = path.join(dir, `${region}-received.json`);
      const dump = (k: Kind) => ({ deliveries: [...counts[k].deliveries], effects: [...counts[k].effects] });
      writeFileSync(file, JSON.stringify({ revoked: dump('revoked'), viewed: dump('viewed') }));
      out({ report: file });
    } else if (cmd.cmd === 'configure') {
      try {
        out({ configured: await configure(cmd.federation!) });
      } catch (err) {
        out({ error: String(err) });
      }
    } else if (cmd.cmd === 'links') {
      const r = await api('GET', '/federation-links/%2F').catch((err: unknown) => ({ status: 0, text: String(err) }));
      out({ links: r.status === 200 ? (JSON.parse(r.text) as unknown[]) : [], answer: r.status });
    } else if (cmd.cmd === 'stop-audit') {
      // This region's audit goes away (a deploy, a region's services down): its queue stays.
      await audit?.close();
      audit = undefined;
      out({ 'audit-stopped': region });
    } else if (cmd.cmd === 'start-audit') {
      audit ??= await auditBus();
      out({ 'audit-started': region });
    } else {
      await audit?.close();
      await auth.close();
      out({ exit: region });
      process.exit(0);
    }
  }
}

main().catch((err) => {
  out({ error: String(err) });
  process.exit(1);
});
