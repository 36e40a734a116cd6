// 5. Two regions partitioned and healed. Each region is a network namespace of its own
// (only loopback and one end of a veth pair between the two; the pair's /30 addresses
// exist only between these two namespaces), with its own RabbitMQ node started by
// scripts/infra inside it. Each node federates `praxis.events` from the other as
// k8s/rabbitmq/federation.yaml does (upstream `peer-region`, ack-mode on-confirm,
// max-hops 1, policy on ^praxis\.events$), and each region's consumer is the platform's
// Bus on a quorum queue. Partition = both ends of the link set down; heal = up again.
import { type ChildProcessByStdio, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { promisify } from 'node:util';
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
  const r = await exec(cmd, args, { env: env ?? parentEnv, timeout: 180_000 });
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

async function ctl(r: Region, args: string[]): Promise<string> {
  const env = regionEnv(r);
  const base = env.PRAXIS_INFRA_DIR!;
  return inNs(r, ['/usr/lib/rabbitmq/bin/rabbitmqctl', '-q', ...args], {
    ...env,
    HOME: path.join(base, 'rabbitmq'),
    RABBITMQ_NODENAME: env.PRAXIS_INFRA_RMQ_NODENAME,
    ERL_EPMD_PORT: '4369',
  });
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

interface Received {
  deliveries: Map<string, number>;
  effects: Map<string, number>;
}

async function report(agent: Agent): Promise<Received> {
  agent.send({ cmd: 'report' });
  const o = await agent.next('report');
  const j = JSON.parse(readFileSync(String(o.report), 'utf8')) as { deliveries: [string, number][]; effects: [string, number][] };
  return { deliveries: new Map(j.deliveries), effects: new Map(j.effects) };
}

export async function regions(ctx: Ctx): Promise<ScenarioResult> {
  const dir = path.join(chaosInfra.dir, 'regions');
  mkdirSync(dir, { recursive: true });
  await teardown();
  const agents: Partial<Record<Region, Agent>> = {};
  try {
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
    ctx.log(`two regions' brokers up in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    // Federation as the charts set it up, in both directions.
    const password = randomBytes(18).toString('base64url');
    for (const r of REGIONS) {
      await ctl(r, ['add_user', 'federation', password]);
      await ctl(r, ['set_permissions', '-p', '/', 'federation', '.*', '.*', '.*']);
    }
    for (const r of REGIONS) {
      const upstream = {
        uri: `amqp://federation:${password}@${addr[other(r)]}:5672`,
        'ack-mode': 'on-confirm',
        'max-hops': 1,
        exchange: 'praxis.events',
        'reconnect-delay': 1,
      };
      await ctl(r, ['set_parameter', 'federation-upstream', 'peer-region', JSON.stringify(upstream)]);
      await ctl(r, [
        'set_policy',
        '--apply-to',
        'exchanges',
        'federate-praxis-events',
        '^praxis\\.events$',
        JSON.stringify({ 'federation-upstream': 'peer-region' }),
      ]);
    }
    for (const r of REGIONS) {
      const child = spawn(
        'ip',
        ['netns', 'exec', ns(r), process.execPath, '--import', 'tsx', path.join(__dirname, 'region-agent.ts'), r, dir],
        { cwd: path.join(ROOT, 'test/chaos'), stdio: ['pipe', 'pipe', 'inherit'] },
      );
      agents[r] = new Agent(child);
    }
    for (const r of REGIONS) await agents[r]!.next('ready', 120_000);
    // A link starts once its exchange exists (the agents declared it); events published
    // before the link has bound its queue upstream are not federated, by design.
    const linksUp = async (timeoutMs: number) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const up = await Promise.all(
          REGIONS.map(async (r) => (await ctl(r, ['eval', 'rabbit_federation_status:status().'])).includes('{status,running}')),
        );
        if (up.every(Boolean)) return Date.now();
        if (Date.now() > deadline) throw new Error('federation links did not start');
        await sleep(500);
      }
    };
    await linksUp(120_000);

    // Before the partition: a few events each way prove the links carry them.
    const published: Record<string, string[]> = {};
    const publish = async (r: Region, tag: string, n: number, spreadMs: number) => {
      agents[r]!.send({ cmd: 'publish', tag, n, spreadMs });
      const o = await agents[r]!.next('published');
      if (Number(o.failed) > 0) ctx.log(`region ${r}: ${String(o.failed)} publishes not confirmed`);
      published[`${r}-${tag}`] = JSON.parse(readFileSync(String(o.file), 'utf8')) as string[];
    };
    const crossed = async (r: Region, ids: string[], timeoutMs: number) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const got = await report(agents[r]!);
        const missing = ids.filter((id) => !got.effects.has(id)).length;
        if (missing === 0 || Date.now() > deadline) return { got, missing };
        await sleep(1000);
      }
    };
    const warm = Math.min(200, ctx.sizes.regionEvents / 10);
    const w0 = Date.now();
    await Promise.all(REGIONS.map((r) => publish(r, 'warm', warm, 0)));
    for (const r of REGIONS) {
      const { missing } = await crossed(r, published[`${other(r)}-warm`]!, 120_000);
      if (missing) throw new Error(`federation ${other(r)}→${r} carried no events before the partition (${missing} missing)`);
    }
    ctx.log(`federation carries events both ways (${((Date.now() - w0) / 1000).toFixed(1)} s)`);

    // The partition: the link goes down at both ends, while each region publishes.
    for (const r of REGIONS) await inNs(r, ['ip', 'link', 'set', dev(r), 'down']);
    const partitionedAt = Date.now();
    ctx.log(`regions partitioned for ${ctx.sizes.partitionMs / 1000} s`);
    const during = ctx.sizes.regionEvents / 2;
    await Promise.all(REGIONS.map((r) => publish(r, 'partition', during, ctx.sizes.partitionMs * 0.8)));
    await sleep(Math.max(0, ctx.sizes.partitionMs - (Date.now() - partitionedAt)));
    // Proof the partition held: nothing published during it crossed.
    const leaked: Record<Region, number> = { a: 0, b: 0 };
    for (const r of REGIONS) {
      const got = await report(agents[r]!);
      leaked[r] = published[`${other(r)}-partition`]!.filter((id) => got.effects.has(id)).length;
    }
    const statusDuring = (await ctl('a', ['eval', 'rabbit_federation_status:status().'])).replace(/\s+/g, ' ').slice(0, 300);
    for (const r of REGIONS) await inNs(r, ['ip', 'link', 'set', dev(r), 'up']);
    const healedAt = Date.now();
    ctx.log('link up again; waiting for the backlog to cross');
    const linksBackMs = (await linksUp(600_000)) - healedAt;
    const results: Record<
      Region,
      { missing: number; raw: number; effects: number; redelivered: number; duplicateEffects: number; ownDelivered: number }
    > = {} as never;
    let recoveryMs = 0;
    for (const r of REGIONS) {
      const expected = [...published[`${other(r)}-warm`]!, ...published[`${other(r)}-partition`]!];
      const { got, missing } = await crossed(r, expected, 600_000);
      recoveryMs = Math.max(recoveryMs, Date.now() - healedAt);
      // Everything published anywhere: from the other region and from this one.
      const own = [...published[`${r}-warm`]!, ...published[`${r}-partition`]!];
      let raw = 0;
      let redelivered = 0;
      let duplicateEffects = 0;
      for (const id of [...expected, ...own]) {
        const d = got.deliveries.get(id) ?? 0;
        raw += d;
        if (d > 1) redelivered += d - 1;
        const e = got.effects.get(id) ?? 0;
        if (e > 1) duplicateEffects += e - 1;
      }
      results[r] = {
        missing: missing + own.filter((id) => !got.effects.has(id)).length,
        raw,
        effects: got.effects.size,
        redelivered,
        duplicateEffects,
        ownDelivered: own.filter((id) => got.effects.has(id)).length,
      };
    }
    // A little longer: a late duplicate would arrive now.
    await sleep(5_000);
    for (const r of REGIONS) {
      const got = await report(agents[r]!);
      results[r].duplicateEffects = [...got.effects.values()].filter((n) => n > 1).length;
      results[r].effects = got.effects.size;
    }
    const sent = Object.values(published).reduce((n, l) => n + l.length, 0);
    const problems: string[] = [];
    for (const r of REGIONS) {
      if (leaked[r] > 0) problems.push(`${leaked[r]} events crossed into ${r} during the partition: it did not hold`);
      if (results[r].missing > 0) problems.push(`region ${r}: ${results[r].missing} events never arrived`);
      if (results[r].duplicateEffects > 0) problems.push(`region ${r}: ${results[r].duplicateEffects} events processed twice`);
      if (results[r].effects !== sent) problems.push(`region ${r}: ${results[r].effects} events processed, ${sent} published`);
    }
    return {
      name: 'regions partitioned',
      injected: `veth link down at both ends for ${(ctx.sizes.partitionMs / 1000).toFixed(0)} s`,
      load: `${sent} events (${during}/region during the partition)`,
      sent,
      acknowledged: sent,
      stored: results.a.effects + results.b.effects,
      lost: results.a.missing + results.b.missing,
      duplicated: results.a.duplicateEffects + results.b.duplicateEffects,
      recovery: `links up ${(linksBackMs / 1000).toFixed(1)} s, backlog crossed ${(recoveryMs / 1000).toFixed(1)} s after healing`,
      ok: problems.length === 0,
      problems,
      figures: {
        linksBackMs,
        recoveryMs,
        perRegion: results,
        leakedDuringPartition: leaked,
        federationStatusDuringPartition: statusDuring,
        rawRedeliveriesAbsorbed: results.a.redelivered + results.b.redelivered,
      },
    };
  } finally {
    for (const r of REGIONS) agents[r]?.send({ cmd: 'exit' });
    await sleep(1000);
    await teardown();
  }
}
