// 5. Two regions partitioned and healed. Each region is a network namespace of its own
// (only loopback and one end of a veth pair between the two; the pair's /30 addresses
// exist only between these two namespaces), with its own RabbitMQ node started by
// scripts/infra inside it. Each node gets the federation k8s/data/rabbitmq.yaml deploys,
// read from that file: the `peer-region` upstream (the other region) and its policies,
// exchange federation of praxis.broadcast (auth's session revocations, which every region
// must process) and queue federation of the consumers' queues (an event consumed once, in
// whichever region takes it). Each region's application side is region-agent.ts: auth's
// revocation consumer and an audit-shaped consumer, on the platform's Bus.
// Partition = both ends of the link set down; heal = up again.
import { type ChildProcessByStdio, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { ROOT } from '../../e2e/platform';
import type { Ctx, ScenarioResult } from './scenarios';
import { chaosInfra, env as parentEnv } from './servers';

const exec = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const REGIONS = ['a', 'b'] as const;
type Region = (typeof REGIONS)[number];
const ns = (r: Region) => `praxis-chaos-${r}`;
const dev = (r: Region) => `pxchaos-${r}`;
// Test addresses of our own, on the veth pair between our two namespaces only (no route
// to or from anywhere else exists).
const addr: Record<Region, string> = { a: '10.213.16.1', b: '10.213.16.2' };
const other = (r: Region): Region => (r === 'a' ? 'b' : 'a');

async function sh(cmd: string, args: string[], env?: NodeJS.ProcessEnv): Promise<string> {
  // A broker's boot on a loaded machine: scripts/infra waits PRAXIS_INFRA_START_TIMEOUT (240 s) itself.
  const r = await exec(cmd, args, { env: env ?? parentEnv, timeout: 300_000 });
  return r.stdout;
}
const inNs = (r: Region, cmd: string[], env?: NodeJS.ProcessEnv) => sh('ip', ['netns', 'exec', ns(r), ...cmd], env);

function regionEnv(r: Region): NodeJS.ProcessEnv {
  return {
    ...parentEnv,
    PRAXIS_INFRA_DIR: path.join(chaosInfra.dir, `region-${r}`),
    PRAXIS_INFRA_AMQP_PORT: '5672',
    PRAXIS_INFRA_AMQP_MGMT_PORT: '15672',
    PRAXIS_INFRA_AMQP_DIST_PORT: '25672',
    PRAXIS_INFRA_EPMD_PORT: '4369',
    PRAXIS_INFRA_RMQ_NODENAME: `region${r}@localhost`,
    PRAXIS_INFRA_AMQP_LISTEN: '0.0.0.0',
    PRAXIS_INFRA_RMQ_PLUGINS: 'rabbitmq_management,rabbitmq_federation,rabbitmq_federation_management',
  };
}

async function teardown(): Promise<void> {
  for (const r of REGIONS) {
    // Everything left in our namespaces is ours (broker, its epmd, the agent).
    const pids = await sh('ip', ['netns', 'pids', ns(r)]).catch(() => '');
    for (const pid of pids.split(/\s+/).filter(Boolean)) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await sh('ip', ['netns', 'del', ns(r)]).catch(() => undefined);
  }
}

class Agent {
  private readonly lines: string[] = [];
  private waiters: (() => void)[] = [];
  constructor(readonly child: ChildProcessByStdio<Writable, Readable, null>) {
    readline.createInterface({ input: child.stdout }).on('line', (l) => {
      this.lines.push(l);
      for (const w of this.waiters.splice(0)) w();
    });
  }
  send(o: unknown): void {
    this.child.stdin.write(JSON.stringify(o) + '\n');
  }
  async next(key: string, timeoutMs = 600_000): Promise<Record<string, unknown>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.lines.findIndex((l) => key in (JSON.parse(l) as object) || 'error' in (JSON.parse(l) as object));
      if (i >= 0) {
        const o = JSON.parse(this.lines.splice(i, 1)[0]!) as Record<string, unknown>;
        if ('error' in o) throw new Error(`region agent: ${String(o.error)}`);
        return o;
      }
      if (Date.now() > deadline) throw new Error(`region agent: no ${key} within ${timeoutMs} ms`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 1000);
      });
    }
  }
}

interface Counts {
  deliveries: Map<string, number>;
  effects: Map<string, number>;
}
type Kind = 'revoked' | 'viewed';
type Received = Record<Kind, Counts>;

async function report(agent: Agent): Promise<Received> {
  agent.send({ cmd: 'report' });
  const o = await agent.next('report');
  type Dump = { deliveries: [string, number][]; effects: [string, number][] };
  const j = JSON.parse(readFileSync(String(o.report), 'utf8')) as Record<Kind, Dump>;
  const counts = (d: Dump): Counts => ({ deliveries: new Map(d.deliveries), effects: new Map(d.effects) });
  return { revoked: counts(j.revoked), viewed: counts(j.viewed) };
}

/** The federation production deploys (k8s/data/rabbitmq.yaml), as rabbitmqctl arguments. */
interface Deployed {
  upstreamName: string;
  upstream: Record<string, unknown>;
  policies: { name: string; pattern: string; applyTo: string; priority: number; definition: Record<string, unknown> }[];
}

export function deployedFederation(file = path.join(ROOT, 'k8s/data/rabbitmq.yaml')): Deployed {
  type Doc = { kind?: string; spec?: Record<string, unknown> };
  const docs = parseAllDocuments(readFileSync(file, 'utf8')).map((d) => d.toJS() as Doc);
  const fed = docs.find((d) => d.kind === 'Federation')?.spec;
  if (!fed) throw new Error(`${file} has no Federation`);
  // The operator's spec fields, as the federation plugin's upstream parameter keys.
  const keys: Record<string, string> = {
    ackMode: 'ack-mode',
    maxHops: 'max-hops',
    queueType: 'queue-type',
    reconnectDelay: 'reconnect-delay',
    trustUserId: 'trust-user-id',
    exchange: 'exchange',
    expires: 'expires',
    messageTTL: 'message-ttl',
    prefetchCount: 'prefetch-count',
    queue: 'queue',
  };
  const upstream: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fed)) if (keys[k]) upstream[keys[k]] = v;
  const policies = docs
    .filter((d) => d.kind === 'Policy' && d.spec)
    .map((d) => d.spec as Deployed['policies'][number] & Record<string, unknown>)
    .filter((p) => p.definition['federation-upstream'] === fed.name)
    .map((p) => ({ name: p.name, pattern: p.pattern, applyTo: p.applyTo, priority: p.priority ?? 0, definition: p.definition }));
  if (!policies.length) throw new Error(`${file} has no policy using the ${String(fed.name)} upstream`);
  return { upstreamName: String(fed.name), upstream, policies };
}

/**
 * The two namespaces, their link and their brokers. main.ts starts this at the beginning
 * of a run that includes scenario 5, so the brokers boot while the other scenarios run
 * (an Erlang boot is the slowest part of the scenario); its time is in the figures.
 */
export function prepareRegions(): Promise<number> {
  return (async () => {
    await teardown();
    // Two namespaces joined by one veth pair.
    for (const r of REGIONS) {
      await sh('ip', ['netns', 'add', ns(r)]);
      await inNs(r, ['ip', 'link', 'set', 'lo', 'up']);
    }
    await sh('ip', ['link', 'add', dev('a'), 'netns', ns('a'), 'type', 'veth', 'peer', 'name', dev('b'), 'netns', ns('b')]);
    for (const r of REGIONS) {
      await inNs(r, ['ip', 'addr', 'add', `${addr[r]}/30`, 'dev', dev(r)]);
      await inNs(r, ['ip', 'link', 'set', dev(r), 'up']);
    }
    const t0 = Date.now();
    await Promise.all(REGIONS.map((r) => inNs(r, ['bash', path.join(ROOT, 'scripts/infra'), 'start', 'rabbitmq'], regionEnv(r))));
    return Date.now() - t0;
  })();
}

/** Stops whatever prepareRegions started (for a run that ends before scenario 5). */
export const teardownRegions = teardown;

export async function regions(ctx: Ctx, prepared?: Promise<number>): Promise<ScenarioResult> {
  const dir = path.join(chaosInfra.dir, 'regions');
  mkdirSync(dir, { recursive: true });
  const deployed = deployedFederation();
  const agents: Partial<Record<Region, Agent>> = {};
  try {
    const bootMs = await (prepared ?? prepareRegions());
    ctx.log(`two regions' brokers up (booted in ${(bootMs / 1000).toFixed(1)} s${prepared ? ', during the earlier scenarios' : ''})`);
    for (const r of REGIONS) {
      const child = spawn(
        'ip',
        ['netns', 'exec', ns(r), process.execPath, '--import', 'tsx', path.join(__dirname, 'region-agent.ts'), r, dir],
        { cwd: path.join(ROOT, 'test/chaos'), stdio: ['pipe', 'pipe', 'inherit'] },
      );
      agents[r] = new Agent(child);
    }
    for (const r of REGIONS) await agents[r]!.next('ready', 120_000);
    // The deployed federation, in both directions: each region's upstream is the other.
    // (Through each broker's management API, by the agent inside its namespace.)
    const password = randomBytes(18).toString('base64url');
    const refused: Record<Region, string[]> = { a: [], b: [] };
    for (const r of REGIONS) {
      const upstream: Record<string, unknown> = { ...deployed.upstream, uri: `amqp://federation:${password}@${addr[other(r)]}:5672` };
      // The charts' reconnect delay (seconds) would only slow the run down after healing.
      upstream['reconnect-delay'] = 1;
      agents[r]!.send({ cmd: 'configure', federation: { ...deployed, upstream, user: 'federation', password } });
      refused[r] = (await agents[r]!.next('configured')).configured as string[];
    }
    ctx.log(
      `federation as deployed: ${deployed.policies.map((p) => `${p.name} ${p.applyTo} ${p.pattern}`).join('; ')}` +
        (refused.a.length ? `; this broker refused ${refused.a.join(', ')}` : ''),
    );
    // Links start once their exchange or queue exists downstream (the agents declared them).
    // Each region: one exchange link (praxis.broadcast) and one queue link (audit.entries);
    // auth's revocation queue is not federated (each region must process every revocation).
    type Link = { type?: string; exchange?: string; queue?: string; status?: string; error?: string };
    const status = async (r: Region) => {
      agents[r]!.send({ cmd: 'links' });
      return (await agents[r]!.next('links')).links as Link[];
    };
    const linksUp = async (timeoutMs: number) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const all = await Promise.all(REGIONS.map(status));
        const up = all.every(
          (ls) =>
            ls.some((l) => l.type === 'exchange' && l.exchange === 'praxis.broadcast' && l.status === 'running') &&
            ls.some((l) => l.type === 'queue' && l.queue === 'audit.entries' && l.status === 'running'),
        );
        if (up) return { at: Date.now(), status: all };
        if (Date.now() > deadline) throw new Error(`federation links did not start: ${JSON.stringify(all).slice(0, 600)}`);
        await sleep(500);
      }
    };
    const initial = await linksUp(120_000);
    const topologyProblems: string[] = [];
    for (const ls of initial.status) {
      if (ls.some((l) => l.queue?.includes('revocations')))
        topologyProblems.push('a revocation queue is federated: a region would miss revocations');
      if (ls.some((l) => l.exchange === 'praxis.events'))
        topologyProblems.push('praxis.events is federated: events would be consumed in both regions');
    }

    const published: Record<string, string[]> = {};
    let unconfirmed = 0;
    const publish = async (r: Region, kind: Kind, tag: string, n: number, spreadMs: number) => {
      agents[r]!.send({ cmd: 'publish', kind, tag, n, spreadMs });
      const o = await agents[r]!.next(`published:${kind}-${tag}`);
      unconfirmed += Number(o.failed);
      if (Number(o.failed) > 0) ctx.log(`region ${r}: ${String(o.failed)} publishes not confirmed`);
      published[`${r}-${kind}-${tag}`] = JSON.parse(readFileSync(String(o.file), 'utf8')) as string[];
    };
    const ids = (r: Region, kind: Kind, ...tags: string[]) => tags.flatMap((t) => published[`${r}-${kind}-${t}`] ?? []);
    const reports = async () => ({ a: await report(agents.a!), b: await report(agents.b!) });
    /** Waits until cond holds on the regions' reports (or the time is up); the last reports. */
    const until = async (cond: (g: Record<Region, Received>) => boolean, timeoutMs: number) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const got = await reports();
        if (cond(got) || Date.now() > deadline) return got;
        await sleep(1000);
      }
    };
    const viewedAnywhere = (g: Record<Region, Received>, id: string) => g.a.viewed.effects.has(id) || g.b.viewed.effects.has(id);

    // Before the partition: revocations reach both regions, views are consumed once.
    const warm = Math.max(10, Math.min(100, ctx.sizes.regionEvents / 20));
    const w0 = Date.now();
    await Promise.all(REGIONS.flatMap((r) => [publish(r, 'revoked', 'warm', warm, 0), publish(r, 'viewed', 'warm', warm, 0)]));
    const warmed = await until(
      (g) =>
        REGIONS.every((r) =>
          [...ids('a', 'revoked', 'warm'), ...ids('b', 'revoked', 'warm')].every((id) => g[r].revoked.effects.has(id)),
        ) && [...ids('a', 'viewed', 'warm'), ...ids('b', 'viewed', 'warm')].every((id) => viewedAnywhere(g, id)),
      120_000,
    );
    for (const r of REGIONS) {
      const missing = ids(other(r), 'revoked', 'warm').filter((id) => !warmed[r].revoked.effects.has(id)).length;
      if (missing)
        throw new Error(`praxis.broadcast federation ${other(r)}→${r} carried no revocations before the partition (${missing} missing)`);
    }
    ctx.log(`broadcast federation carries revocations both ways (${((Date.now() - w0) / 1000).toFixed(1)} s)`);

    // The partition: the link goes down at both ends while each region publishes. Halfway
    // through, region b's audit consumer goes away (its services down): its views wait in
    // b's queue, to be taken by region a's federated queue once the link is back.
    for (const r of REGIONS) await inNs(r, ['ip', 'link', 'set', dev(r), 'down']);
    const partitionedAt = Date.now();
    ctx.log(`regions partitioned for ${ctx.sizes.partitionMs / 1000} s`);
    const quarter = Math.max(10, Math.floor(ctx.sizes.regionEvents / 8));
    const spread = ctx.sizes.partitionMs * 0.4;
    await Promise.all([
      publish('a', 'revoked', 'partition', quarter * 2, spread * 2),
      publish('a', 'viewed', 'partition', quarter * 2, spread * 2),
      (async () => {
        await Promise.all([publish('b', 'revoked', 'partition', quarter, spread), publish('b', 'viewed', 'partition', quarter, spread)]);
        agents.b!.send({ cmd: 'stop-audit' });
        await agents.b!.next('audit-stopped');
        await Promise.all([
          publish('b', 'revoked', 'partition-2', quarter, spread),
          publish('b', 'viewed', 'partition-2', quarter, spread),
        ]);
      })(),
    ]);
    await sleep(Math.max(0, ctx.sizes.partitionMs - (Date.now() - partitionedAt)));
    // Proof the partition held: nothing published during it crossed.
    const before = await reports();
    const leaked: Record<Region, number> = { a: 0, b: 0 };
    for (const r of REGIONS)
      leaked[r] =
        ids(other(r), 'revoked', 'partition', 'partition-2').filter((id) => before[r].revoked.effects.has(id)).length +
        ids(other(r), 'viewed', 'partition', 'partition-2').filter((id) => before[r].viewed.effects.has(id)).length;
    const waitingInB = ids('b', 'viewed', 'partition-2').filter((id) => !viewedAnywhere(before, id)).length;
    const statusDuring = (await status('a')).map(
      (l) => `${l.type} ${l.exchange ?? l.queue}: ${l.status}${l.error ? ` (${l.error.slice(0, 80)})` : ''}`,
    );

    for (const r of REGIONS) await inNs(r, ['ip', 'link', 'set', dev(r), 'up']);
    const healedAt = Date.now();
    ctx.log(`link up again; ${waitingInB} of region b's views wait for region a's consumers`);
    const linksBackMs = (await linksUp(600_000)).at - healedAt;
    const allRevoked = [...ids('a', 'revoked', 'warm', 'partition'), ...ids('b', 'revoked', 'warm', 'partition', 'partition-2')];
    const allViewed = [...ids('a', 'viewed', 'warm', 'partition'), ...ids('b', 'viewed', 'warm', 'partition', 'partition-2')];
    const crossed = await until(
      (g) => REGIONS.every((r) => allRevoked.every((id) => g[r].revoked.effects.has(id))) && allViewed.every((id) => viewedAnywhere(g, id)),
      600_000,
    );
    const recoveryMs = Date.now() - healedAt;
    const pulledIntoA = ids('b', 'viewed', 'partition-2').filter((id) => crossed.a.viewed.effects.has(id)).length;
    // Region b's audit comes back; a late duplicate would show now.
    agents.b!.send({ cmd: 'start-audit' });
    await agents.b!.next('audit-started');
    await sleep(5_000);
    const end = await reports();

    const per = {} as Record<
      Region,
      { revocationsMissing: number; revocationsTwice: number; rawDeliveries: number; redeliveriesAbsorbed: number }
    >;
    for (const r of REGIONS) {
      const c = end[r].revoked;
      per[r] = {
        revocationsMissing: allRevoked.filter((id) => !c.effects.has(id)).length,
        revocationsTwice: [...c.effects.values()].filter((n) => n > 1).length,
        rawDeliveries: [...c.deliveries.values(), ...end[r].viewed.deliveries.values()].reduce((a, b) => a + b, 0),
        redeliveriesAbsorbed: [...c.deliveries.values(), ...end[r].viewed.deliveries.values()].reduce((a, b) => a + Math.max(0, b - 1), 0),
      };
    }
    const viewedTimes = (id: string) => (end.a.viewed.effects.get(id) ?? 0) + (end.b.viewed.effects.get(id) ?? 0);
    const viewsLost = allViewed.filter((id) => viewedTimes(id) === 0).length;
    const viewsTwice = allViewed.filter((id) => viewedTimes(id) > 1).length;
    const sent = allRevoked.length + allViewed.length + unconfirmed;
    const problems = [...topologyProblems];
    if (unconfirmed) problems.push(`${unconfirmed} publishes were not confirmed by their region's broker`);
    for (const r of REGIONS) {
      if (leaked[r] > 0) problems.push(`${leaked[r]} events crossed into ${r} during the partition: it did not hold`);
      if (per[r].revocationsMissing > 0) problems.push(`region ${r}: ${per[r].revocationsMissing} revocations never processed`);
      if (per[r].revocationsTwice > 0) problems.push(`region ${r}: ${per[r].revocationsTwice} revocations processed twice`);
    }
    if (viewsLost) problems.push(`${viewsLost} views consumed in neither region`);
    if (viewsTwice) problems.push(`${viewsTwice} views consumed in both regions (queue federation must move, not copy)`);
    if (waitingInB > 0 && pulledIntoA === 0)
      problems.push(`none of the ${waitingInB} views waiting in region b were taken by region a's federated queue`);
    const lost = per.a.revocationsMissing + per.b.revocationsMissing + viewsLost;
    const duplicated = per.a.revocationsTwice + per.b.revocationsTwice + viewsTwice;
    return {
      name: 'regions partitioned',
      injected: `veth link down at both ends for ${(ctx.sizes.partitionMs / 1000).toFixed(0)} s; region b's audit down from mid-partition until after healing`,
      load: `${allRevoked.length} revocations (broadcast) + ${allViewed.length} views (federated queue)`,
      sent,
      acknowledged: allRevoked.length + allViewed.length,
      stored:
        [...end.a.revoked.effects.values(), ...end.b.revoked.effects.values()].reduce((a, b) => a + b, 0) +
        allViewed.reduce((n, id) => n + viewedTimes(id), 0),
      lost,
      duplicated,
      recovery: `links up ${(linksBackMs / 1000).toFixed(1)} s, backlog crossed ${(recoveryMs / 1000).toFixed(1)} s after healing; ${pulledIntoA} of b's views taken by a`,
      ok: problems.length === 0,
      problems,
      figures: {
        deployed: { ...deployed, upstream: { ...deployed.upstream } },
        brokersBootMs: await (prepared ?? Promise.resolve(0)),
        upstreamKeysThisBrokerRefused: refused.a,
        linksBackMs,
        recoveryMs,
        perRegion: per,
        views: {
          total: allViewed.length,
          consumedInA: allViewed.filter((id) => end.a.viewed.effects.has(id)).length,
          consumedInB: allViewed.filter((id) => end.b.viewed.effects.has(id)).length,
        },
        waitingInBAtHealing: waitingInB,
        pulledIntoAByQueueFederation: pulledIntoA,
        leakedDuringPartition: leaked,
        federationStatusDuringPartition: statusDuring,
      },
    };
  } finally {
    for (const r of REGIONS) agents[r]?.send({ cmd: 'exit' });
    await sleep(1000);
    await teardown();
  }
}
