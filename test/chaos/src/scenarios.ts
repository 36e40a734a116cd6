// Scenarios 1–4 and 6 (5, the two regions, is in regions.ts). Each injects its fault
// into the chaos run's own servers or service processes, drives load through the
// gateway meanwhile, and reports figures and whether every invariant held.
import { Bus, createLogger, makeEvent } from '@praxis/platform';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Platform, ServiceName } from '../../e2e/platform';
import { type Inspector, type LogFigures, invariantsHold } from './check';
import { Load, type Practice, login, newPractice } from './load';
import { RightsAndMessages } from './rights';
import { amqpUrl, killServer, redisUrl, startServer } from './servers';

export interface Sizes {
  practices: number;
  /** Longest each scenario's load runs (it stops at its operation count or here, whichever first). */
  loadMs: number;
  brokerEvents: number;
  serviceKills: number;
  serviceOps: number;
  /** Scenario 2's SMS and emails queued during the kills, and its SARs and erasures (each). */
  messages: number;
  rightsRequests: number;
  ferretOps: number;
  ferretOutageMs: number;
  /** Scenario 7's outage: at least 1.5× the bus's retry budget against an unreachable database. */
  ferretLongOutageMs: number;
  redisOutageMs: number;
  partitionMs: number;
  regionEvents: number;
  concurrency: number;
}

export const BOUNDED: Sizes = {
  practices: 8,
  loadMs: 60_000,
  brokerEvents: 3_000,
  serviceKills: 2,
  serviceOps: 1_500,
  messages: 40,
  rightsRequests: 3,
  ferretOps: 1_000,
  ferretOutageMs: 5_000,
  ferretLongOutageMs: 25_000,
  redisOutageMs: 5_000,
  partitionMs: 30_000,
  regionEvents: 2_000,
  concurrency: 8,
};
export const FULL: Sizes = {
  practices: 40,
  loadMs: 3_600_000,
  brokerEvents: 100_000,
  serviceKills: 20,
  serviceOps: 20_000,
  messages: 2_000,
  rightsRequests: 40,
  ferretOps: 10_000,
  ferretOutageMs: 20_000,
  ferretLongOutageMs: 60_000,
  redisOutageMs: 20_000,
  partitionMs: 180_000,
  regionEvents: 20_000,
  concurrency: 24,
};

export interface ScenarioResult {
  /** Its number in docs/resilience.md (main.ts sets it). */
  number?: number;
  name: string;
  injected: string;
  load: string;
  sent: number;
  acknowledged: number;
  stored: number;
  lost: number;
  duplicated: number;
  recovery: string;
  ok: boolean;
  problems: string[];
  figures: Record<string, unknown>;
}

export interface Ctx {
  platform: Platform;
  inspector: Inspector;
  sizes: Sizes;
  log: (s: string) => void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const until = async (cond: () => boolean) => {
  while (!cond()) await sleep(100);
};

async function practices(ctx: Ctx, n: number, prefix: string): Promise<Practice[]> {
  const out: Practice[] = [];
  for (let i = 0; i < n; i++) out.push(await newPractice(ctx.platform.url, prefix));
  return out;
}

function fromLog(
  name: string,
  injected: string,
  loadText: string,
  sent: number,
  acknowledged: number,
  f: LogFigures,
  recovery: string,
  figures: Record<string, unknown>,
): ScenarioResult {
  return {
    name,
    injected,
    load: loadText,
    sent,
    acknowledged,
    stored: f.entries,
    lost: f.lost + f.ackedWritesLost,
    duplicated: f.duplicated,
    recovery: f.parkedReplayed ? `${recovery}; ${f.parkedReplayed} parked events replayed` : recovery,
    ok: invariantsHold(f),
    problems: f.problems,
    figures: { ...figures, log: f },
  };
}

// 1. The broker killed -9 three times while patient changes and views flow.
export async function brokerKills(ctx: Ctx): Promise<ScenarioResult> {
  const ps = await practices(ctx, ctx.sizes.practices, 'chaos-broker');
  const load = new Load(ps, {
    operations: ctx.sizes.brokerEvents,
    concurrency: ctx.sizes.concurrency,
    maxMs: ctx.sizes.loadMs,
    holdUntil: () => killsDone,
  });
  // The load goes on until the third kill is done, so every kill lands during it.
  let killsDone = false;
  const running = load.run();
  const kills: { at: number; downMs: number; startMs: number }[] = [];
  for (let k = 1; k <= 3; k++) {
    await until(() => load.progress() >= k / 4);
    const t0 = Date.now();
    await killServer('rabbitmq');
    const at = load.done;
    ctx.log(`broker killed -9 (${k}/3) after ${at} operations`);
    await sleep(2_000); // down for a while under load: events wait in the outboxes
    const startMs = await startServer('rabbitmq');
    kills.push({ at, downMs: Date.now() - t0, startMs });
  }
  killsDone = true;
  const figures = await running;
  const drainMs = await ctx.inspector.drain(600_000);
  const f = await ctx.inspector.check(ps, load, drainMs);
  return fromLog(
    'broker kill -9 ×3',
    `RabbitMQ SIGKILL ×3 at ${kills.map((k) => k.at).join('/')} ops`,
    `${load.done} ops, ${ps.length} practices`,
    figures.sent,
    figures.acknowledged,
    f,
    `down ${kills.map((k) => (k.downMs / 1000).toFixed(1)).join('/')} s; drained ${(drainMs / 1000).toFixed(1)} s`,
    { kills, load: figures },
  );
}

// 2. Every service process (and the gateway) SIGKILLed repeatedly mid-write, restarted.
export async function serviceKills(ctx: Ctx): Promise<ScenarioResult> {
  const ps = await practices(ctx, ctx.sizes.practices, 'chaos-svc');
  // Consent and messaging's own work meanwhile: messages to send, SARs and erasures.
  const rights = new RightsAndMessages(ctx.platform.url, {
    messages: ctx.sizes.messages,
    rightsRequests: ctx.sizes.rightsRequests,
    spreadMs: ctx.sizes.loadMs,
  });
  await rights.prepare();
  const targets: ServiceName[] = [...ctx.platform.services, 'gateway'];
  const total = targets.length * ctx.sizes.serviceKills;
  // No time cap: the load goes on until the last kill is done (or its operations run out).
  const load = new Load(ps, {
    operations: ctx.sizes.serviceOps,
    concurrency: ctx.sizes.concurrency,
    maxMs: ctx.sizes.loadMs,
    holdUntil: () => killsDone,
  });
  let killsDone = false;
  const running = load.run();
  rights.start();
  // Sign-ups meanwhile: a sign-up is two writes in auth (tenant, then admin); one cut in
  // between by a kill must be finished or taken back when the practice signs up again.
  const signedUp: Practice[] = [];
  let loading = true;
  let signupError: string | undefined;
  const signups = (async () => {
    while (loading) signedUp.push(await newPractice(ctx.platform.url, 'chaos-signup'));
  })().catch((err: unknown) => void (signupError = String(err)));
  const restartMs: Record<string, number[]> = {};
  const killedAt: number[] = [];
  for (let k = 0; k < total; k++) {
    const name = targets[k % targets.length]!;
    // Spread over the load; if restarts are slow the load waits for the kills (below),
    // so every kill lands while writes are in flight.
    await until(() => load.progress() >= (k + 1) / (total + 1) || load.done >= ctx.sizes.serviceOps);
    killedAt.push(load.done);
    await ctx.platform.kill(name, 'SIGKILL');
    (restartMs[name] ??= []).push(await ctx.platform.restart(name));
  }
  killsDone = true;
  const figures = await running;
  // A kill after the load had finished would not be "mid-write": count them.
  const idleKills = killedAt.filter((n) => n >= figures.sent).length;
  loading = false;
  await signups;
  await rights.stop();
  const drainMs = await ctx.inspector.drain(600_000);
  const f = await ctx.inspector.check([...ps, ...signedUp], load, drainMs);
  const rf = await rights.check(ctx.inspector, 300_000);
  const worst = Math.max(...Object.values(restartMs).flat());
  if (signupError) f.problems.push(`a sign-up did not complete: ${signupError}`);
  if (idleKills) f.problems.push(`${idleKills} kills came after the load had finished`);
  const result = fromLog(
    'service SIGKILL',
    `SIGKILL ×${ctx.sizes.serviceKills} each: ${targets.join(', ')}`,
    `${load.done} ops + ${signedUp.length} sign-ups`,
    figures.sent,
    figures.acknowledged,
    f,
    `restart ≤ ${(worst / 1000).toFixed(1)} s; drained ${(drainMs / 1000).toFixed(1)} s`,
    {
      restartMs,
      killedAtOps: killedAt,
      signups: signedUp.length,
      signupsResumed: signedUp.filter((p) => p.resumed).length,
      load: figures,
      supervisedRestarts: { ...ctx.platform.restarts },
      consentAndMessaging: rf,
    },
  );
  result.load += `, ${rf.messagesQueued} messages (${rf.smsSent} SMS out), ${rf.sars} SARs, ${rf.erasures} erasures`;
  result.lost += rf.missing;
  result.duplicated += rf.sentTwice + rf.sagaEventsTwice;
  result.problems.push(...rf.problems.slice(0, 20));
  result.ok = result.ok && rf.problems.length === 0;
  return result;
}

async function readiness(url: string): Promise<boolean> {
  try {
    const r = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2_000) });
    await r.arrayBuffer();
    return r.ok;
  } catch {
    return false;
  }
}

// 3. FerretDB killed -9 under load and restarted.
export async function ferretKill(ctx: Ctx): Promise<ScenarioResult> {
  const ps = await practices(ctx, ctx.sizes.practices, 'chaos-db');
  const load = new Load(ps, { operations: ctx.sizes.ferretOps, concurrency: ctx.sizes.concurrency, maxMs: ctx.sizes.loadMs });
  const running = load.run();
  await until(() => load.progress() >= 0.4);
  const names: ServiceName[] = [...ctx.platform.services, 'gateway'];
  const notReadyAfter: Record<string, number> = {};
  const readyAgainAfter: Record<string, number> = {};
  const t0 = Date.now();
  await killServer('ferretdb');
  ctx.log(`FerretDB killed -9 after ${load.done} operations`);
  let watching = true;
  let restartedAt = 0;
  const watch = (async () => {
    while (watching) {
      await Promise.all(
        names.map(async (n) => {
          const ok = await readiness(ctx.platform.urls[n]!);
          if (!ok && notReadyAfter[n] === undefined) notReadyAfter[n] = Date.now() - t0;
          if (ok && restartedAt && notReadyAfter[n] !== undefined && readyAgainAfter[n] === undefined)
            readyAgainAfter[n] = Date.now() - restartedAt;
        }),
      );
      await sleep(200);
    }
  })();
  await sleep(ctx.sizes.ferretOutageMs);
  await startServer('ferretdb');
  restartedAt = Date.now();
  await until(
    () =>
      names.every((n) => readyAgainAfter[n] !== undefined || (notReadyAfter[n] === undefined && Date.now() - restartedAt > 5_000)) ||
      Date.now() - restartedAt > 120_000,
  );
  watching = false;
  await watch;
  const figures = await running;
  const drainMs = await ctx.inspector.drain(600_000);
  const f = await ctx.inspector.check(ps, load, drainMs);
  const result = fromLog(
    'FerretDB kill -9',
    `FerretDB SIGKILL, down ${(ctx.sizes.ferretOutageMs / 1000).toFixed(0)} s`,
    `${load.done} ops, ${ps.length} practices`,
    figures.sent,
    figures.acknowledged,
    f,
    `not ready ≤ ${(Math.max(...Object.values(notReadyAfter)) / 1000).toFixed(1)} s; ready again ≤ ${(Math.max(...Object.values(readyAgainAfter)) / 1000).toFixed(1)} s after restart`,
    {
      notReadyAfterMs: notReadyAfter,
      readyAgainAfterRestartMs: readyAgainAfter,
      supervisedRestarts: { ...ctx.platform.restarts },
      load: figures,
    },
  );
  // Readiness must reflect the outage: every service (each reads FerretDB) not ready, then ready.
  // A write that failed for want of the database says so (503, retryable), never 500.
  if (figures.statuses['500'])
    result.problems.push(`${figures.statuses['500']} requests answered 500 while FerretDB was down (503 expected)`);
  for (const n of ctx.platform.services) {
    if (notReadyAfter[n] === undefined) result.problems.push(`${n} never reported not-ready while FerretDB was down`);
    if (readyAgainAfter[n] === undefined) result.problems.push(`${n} did not report ready within 120 s of FerretDB's restart`);
  }
  result.ok = result.ok && result.problems.length === 0;
  return result;
}

// The services' bus retries (BUS_RETRY_DELAYS_MS in test/e2e/platform.ts) and how long a
// database call waits for an unreachable server (libs/platform/src/mongo.ts's default
// serverSelectionTimeoutMS): a handler whose database is gone fails after that long, so a
// message is parked after (retries + 1) × that + the delays, if failures spend attempts.
const E2E_RETRY_DELAYS_MS = [200, 1_000];
const MONGO_SELECTION_TIMEOUT_MS = 5_000;
export const retryBudgetMs = (E2E_RETRY_DELAYS_MS.length + 1) * MONGO_SELECTION_TIMEOUT_MS + E2E_RETRY_DELAYS_MS.reduce((a, b) => a + b, 0);

// 7. FerretDB down for longer than the bus's retry budget while events keep arriving:
// audit cannot append, and must not give up on them (park) for want of its database; every
// event is in the log once the database is back, with no operator replaying anything.
export async function ferretPastRetries(ctx: Ctx): Promise<ScenarioResult> {
  const ps = await practices(ctx, Math.min(4, ctx.sizes.practices), 'chaos-dblong');
  const outageMs = Math.max(ctx.sizes.ferretLongOutageMs, Math.ceil(retryBudgetMs * 1.5));
  const bus = new Bus({
    url: amqpUrl,
    service: 'chaos',
    logger: createLogger({ service: 'chaos', level: 'silent' }),
    publishTimeoutMs: 60_000,
  });
  await bus.connect();
  // Parking is the failure here: the run must not replay audit's parked queue.
  ctx.inspector.replayParked = false;
  let publishing = true;
  try {
    const actor = { kind: 'system' as const, id: 'chaos' };
    const confirmed: string[] = [];
    let unconfirmed = 0;
    let issued = 0;
    // Views of records' patients arrive on the bus from before the kill to after the
    // restart (about 20 a second): audit holds some in flight the whole outage.
    const publisher = (async () => {
      for (let i = 0; publishing; i++) {
        const p = ps[i % ps.length]!;
        const patientId = `pat_${randomUUID().replace(/-/g, '').slice(0, 20)}`;
        const e = makeEvent({ type: 'records.patient.viewed', tenantId: p.tenantId, actor, subject: { patientId }, data: { patientId } });
        issued++;
        void bus.publish(e).then(
          () => void confirmed.push(e.id),
          () => void unconfirmed++,
        );
        await sleep(50);
      }
    })();
    // And patient changes and views through the gateway, as in scenario 3.
    const load = new Load(ps, {
      operations: ctx.sizes.ferretOps,
      concurrency: Math.min(4, ctx.sizes.concurrency),
      maxMs: outageMs + 15_000,
    });
    const running = load.run();
    await sleep(3_000);
    const before = confirmed.length;
    const t0 = await killServer('ferretdb');
    ctx.log(`FerretDB killed -9 for ${(outageMs / 1000).toFixed(0)} s (retry budget ≈ ${(retryBudgetMs / 1000).toFixed(1)} s)`);
    await sleep(outageMs);
    const duringOutage = confirmed.length - before;
    await startServer('ferretdb');
    const downMs = Date.now() - t0;
    await sleep(3_000);
    publishing = false;
    await publisher;
    const figures = await running;
    // Publishes still waiting for their confirm.
    const deadline = Date.now() + 60_000;
    while (confirmed.length + unconfirmed < issued && Date.now() < deadline) await sleep(100);
    const drainMs = await ctx.inspector.drain(600_000);
    const parked = await ctx.inspector.auditQueueDepth('.parked').catch(() => -1);
    const f = await ctx.inspector.check(ps, load, drainMs);
    const inLog = new Map<string, number>();
    for (const e of await ctx.inspector.entries())
      if (e.type === 'records.patient.viewed') inLog.set(e.eventId, (inLog.get(e.eventId) ?? 0) + 1);
    const busLost = confirmed.filter((id) => !inLog.has(id)).length;
    const busTwice = confirmed.filter((id) => (inLog.get(id) ?? 0) > 1).length;
    const result = fromLog(
      'FerretDB down past the retries',
      `FerretDB SIGKILL, down ${(downMs / 1000).toFixed(0)} s (retry budget ≈ ${(retryBudgetMs / 1000).toFixed(1)} s)`,
      `${confirmed.length} bus events (${duringOutage} during the outage) + ${load.done} gateway ops`,
      figures.sent + confirmed.length + unconfirmed,
      figures.acknowledged + confirmed.length,
      f,
      `drained ${(drainMs / 1000).toFixed(1)} s after restart; ${parked} parked`,
      {
        outageMs: downMs,
        retryBudgetMs,
        busEvents: confirmed.length,
        busEventsDuringOutage: duringOutage,
        unconfirmed,
        parked,
        busLost,
        busTwice,
        load: figures,
      },
    );
    // Parked events are not in the log: lost until someone replays them.
    result.lost += busLost;
    result.duplicated += busTwice;
    if (busLost) result.problems.push(`${busLost} of ${confirmed.length} confirmed events are not in the log`);
    if (busTwice) result.problems.push(`${busTwice} events are in the log twice`);
    if (parked > 0)
      result.problems.push(`${parked} events parked by audit while FerretDB was down (retries spent on an unreachable database)`);
    if (duringOutage === 0) result.problems.push('no event was published during the outage: the scenario did not test anything');
    result.ok = result.ok && result.problems.length === 0;
    return result;
  } finally {
    publishing = false;
    // Leave nothing parked behind for the scenarios after this one.
    await ctx.inspector.replayParkedAudit().catch(() => 0);
    ctx.inspector.parkedReplayed = 0;
    ctx.inspector.replayParked = true;
    await bus.close();
  }
}

// 4. Redis killed -9: the gateway fails closed, recovers by itself; revocations survive (AOF).
export async function redisKill(ctx: Ctx): Promise<ScenarioResult> {
  const [p] = await practices(ctx, 1, 'chaos-redis');
  const practice = p!;
  const api = practice.api;
  const created = await api.post<{ id: string }>(
    '/patients',
    { givenName: 'Chaos', familyName: 'Redis', birthDate: '1980-01-01', test: true },
    practice.token,
  );
  const path = `/patients/${created.body.id}`;
  const revokedEarlier = await login(api, practice.slug, practice.email, practice.password);
  await api.post('/auth/logout', {}, revokedEarlier);
  // Failed logins: the throttle's counters live in Redis. (Another account's, since the
  // admin's successful login below clears the admin's own counter, as it should.)
  for (let i = 0; i < 3; i++)
    await api.post('/auth/login', {
      tenant: practice.slug,
      email: `someone@${practice.slug}.example.test`,
      password: `${practice.password}-wrong`,
    });
  const revokedLast = await login(api, practice.slug, practice.email, practice.password);
  // Older than the AOF's fsync window (everysec, postponed up to 2 s): these must survive.
  await sleep(3_000);
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  const prefix = `praxis:e2e:${ctx.platform.run}:`;
  /** Auth's keys (throttles, challenges) with when each would expire by itself. */
  const keysNow = async (client: Redis) => {
    const out = new Map<string, number>();
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      for (const k of keys.filter((k) => !k.includes(':gw:'))) {
        const ttl = await client.pttl(k);
        out.set(k, ttl < 0 ? Number.POSITIVE_INFINITY : Date.now() + ttl);
      }
    } while (cursor !== '0');
    return out;
  };
  const revokedKeys = async () => (await redis.keys('praxis:revoked-session:*')).length;
  const beforeKeys = await keysNow(redis);
  const before = { authKeys: beforeKeys.size, revocations: await revokedKeys() };
  redis.disconnect();
  // The last revocation right before the kill: answered 204, then Redis dies within milliseconds.
  const logout = await api.post('/auth/logout', {}, revokedLast);
  const answeredAt = Date.now();
  const t0 = await killServer('redis');
  const killGapMs = t0 - answeredAt;
  const statuses: Record<string, number> = {};
  let through = 0;
  let sent = 0;
  let gatewayReadyDuringOutage = false;
  while (Date.now() - t0 < ctx.sizes.redisOutageMs) {
    sent++;
    const r = await api.get(path, practice.token).catch(() => ({ status: 0 }));
    statuses[r.status] = (statuses[r.status] ?? 0) + 1;
    if (r.status >= 200 && r.status < 300) through++;
    if (sent % 10 === 0 && (await readiness(ctx.platform.url))) gatewayReadyDuringOutage = true;
    await sleep(50);
  }
  await startServer('redis');
  const restarted = Date.now();
  // Until the valid token passes again (and 3 s beyond), also try the session revoked just
  // before the kill: if Redis lost its mark, auth puts it back when it reconnects
  // (reassertRevocations); how long that leaves it open is measured here.
  let recoveryMs = -1;
  let revokedPassed = 0;
  let revokedLastPassedAtMs = -1;
  while (Date.now() - restarted < 60_000) {
    const [a, c] = await Promise.all([
      api.get(path, practice.token).catch(() => ({ status: 0 })),
      api.get(path, revokedLast).catch(() => ({ status: 0 })),
    ]);
    if (c.status === 200) {
      revokedPassed++;
      revokedLastPassedAtMs = Date.now() - restarted;
    }
    if (a.status === 200 && recoveryMs < 0) recoveryMs = Date.now() - restarted;
    if (recoveryMs >= 0 && Date.now() - restarted > recoveryMs + 3_000) break;
    await sleep(50);
  }
  const earlierAfter = (await api.get(path, revokedEarlier)).status;
  const lastAfter = (await api.get(path, revokedLast)).status;
  const redis2 = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis2.connect();
  const afterKeys = await keysNow(redis2);
  const after = { authKeys: afterKeys.size, revocations: (await redis2.keys('praxis:revoked-session:*')).length };
  // Gone, though it would not have expired yet: lost. (Keys that expired meanwhile are not.)
  const lostKeys = [...beforeKeys].filter(([k, until]) => !afterKeys.has(k) && until > Date.now()).length;
  redis2.disconnect();
  const problems: string[] = [];
  if (logout.status !== 204) problems.push(`logout before the kill answered ${logout.status}`);
  if (through > 0) problems.push(`${through} requests passed while Redis was down (fail-open)`);
  if (gatewayReadyDuringOutage) problems.push('the gateway reported ready while Redis was down');
  if (recoveryMs < 0) problems.push('the gateway did not recover within 60 s of Redis restarting');
  if (earlierAfter !== 401) problems.push(`a session revoked before the outage answered ${earlierAfter} after it`);
  if (lastAfter !== 401) problems.push(`the session revoked ${killGapMs} ms before the kill answered ${lastAfter} after it`);
  if (lostKeys)
    problems.push(`${lostKeys} of auth's Redis keys (throttles, challenges) written before the kill and not yet expired are gone`);
  return {
    name: 'Redis kill -9',
    injected: `Redis SIGKILL, down ${(ctx.sizes.redisOutageMs / 1000).toFixed(0)} s (AOF on)`,
    load: `${sent} authenticated reads during the outage`,
    sent,
    acknowledged: through,
    stored: after.revocations,
    lost: Math.max(0, before.revocations + 1 - after.revocations) + lostKeys,
    duplicated: 0,
    recovery: `first 200 ${(recoveryMs / 1000).toFixed(1)} s after restart${revokedPassed ? `; lost revocation back by ${(revokedLastPassedAtMs / 1000).toFixed(1)} s` : ''}`,
    ok: problems.length === 0,
    problems,
    figures: {
      statuses,
      through,
      killGapMs,
      recoveryMs,
      revokedPassedAfterRestart: revokedPassed,
      revokedLastPassedAtMs,
      before,
      after,
      lostKeys,
      revokedEarlierAfter: earlierAfter,
      revokedLastAfter: lastAfter,
      gatewayReadyDuringOutage,
    },
  };
}

// 6. Redelivery out of order, duplicated, and after a long delay: state follows event
// ids (and, where a consumer keeps a current state, versions), never arrival order.
export async function ordering(ctx: Ctx): Promise<ScenarioResult> {
  const [p] = await practices(ctx, 1, 'chaos-order');
  const practice = p!;
  const api = practice.api;
  const bus = new Bus({
    url: amqpUrl,
    service: 'chaos',
    logger: createLogger({ service: 'chaos', level: 'silent' }),
    publishTimeoutMs: 60_000,
  });
  await bus.connect();
  const problems: string[] = [];
  const actor = { kind: 'system' as const, id: 'chaos' };
  try {
    // (a) audit: 20 events published in shuffled order, 5 of them delivered again after a
    // delay, and one that happened two days ago arriving last.
    const patientId = `pat_${randomUUID().replace(/-/g, '').slice(0, 20)}`;
    const events = Array.from({ length: 20 }, () =>
      makeEvent({ type: 'records.patient.viewed', tenantId: practice.tenantId, actor, subject: { patientId }, data: { patientId } }),
    );
    const shuffled = [...events].sort(() => Math.random() - 0.5);
    for (const e of shuffled) await bus.publish(e);
    await sleep(3_000);
    for (const e of events.slice(3, 8)) await bus.publish(e);
    const old = {
      ...makeEvent({ type: 'records.patient.viewed', tenantId: practice.tenantId, actor, subject: { patientId }, data: { patientId } }),
      occurredAt: new Date(Date.now() - 2 * 86_400_000).toISOString(),
    };
    await bus.publish(old);
    for (const e of [events[0]!, old]) await bus.publish(e);
    const drainMs = await ctx.inspector.drain(120_000);
    const entries = (await ctx.inspector.entries()).filter((e) => e.tenantId === practice.tenantId && e.patientId === patientId);
    const distinct = new Set(entries.map((e) => e.eventId)).size;
    if (entries.length !== 21 || distinct !== 21)
      problems.push(`audit: ${entries.length} entries (${distinct} distinct) for 21 events, 7 redelivered`);
    const verify = await api.get<{ ok: boolean }>('/audit/verify', practice.token);
    if (!verify.body.ok) problems.push('audit chain does not verify after out-of-order and late deliveries');
    const day = 86_400_000;
    const range = await api.get<{ items: { id: string }[] }>(
      `/audit/events?patientId=${patientId}&from=${new Date(Date.now() - 3 * day).toISOString()}&to=${new Date(Date.now() - day).toISOString()}`,
      practice.token,
    );
    const inRange = (range.body.items ?? []).map((i) => i.id);
    if (inRange.length !== 1 || inRange[0] !== old.id)
      problems.push(`audit: the time range two days back holds ${JSON.stringify(inRange)}, not the late event alone`);

    // (b) records: an erasure request delivered, then again (same event) after a delay,
    // then again under a new event id for the same erasure after the patient is gone.
    const pat = await api.post<{ id: string }>(
      '/patients',
      { givenName: 'Chaos', familyName: 'Erasure', birthDate: '1980-01-01', test: true },
      practice.token,
    );
    const erasureId = `era_${randomUUID().replace(/-/g, '').slice(0, 20)}`;
    const req = makeEvent({
      type: 'consent.erasure-request.created',
      tenantId: practice.tenantId,
      actor,
      subject: { patientId: pat.body.id },
      data: { erasureId, patientId: pat.body.id },
    });
    await bus.publish(req);
    await sleep(5_000);
    await bus.publish(req);
    await bus.publish(
      makeEvent({
        type: 'consent.erasure-request.created',
        tenantId: practice.tenantId,
        actor,
        subject: { patientId: pat.body.id },
        data: { erasureId, patientId: pat.body.id },
      }),
    );
    await ctx.inspector.drain(120_000);
    await sleep(2_000);
    await ctx.inspector.drain(120_000);
    const erased = (await ctx.inspector.entries()).filter((e) => e.tenantId === practice.tenantId && e.type === 'records.patient.erased');
    if (erased.length !== 1) problems.push(`records: ${erased.length} records.patient.erased events for one erasure delivered three times`);
    const gone = (await api.get(`/patients/${pat.body.id}`, practice.token)).status;
    if (gone !== 404) problems.push(`records: the erased patient answers ${gone}`);
    return {
      name: 'clock and ordering',
      injected: '20 events shuffled, 7 redelivered late, one 2 days old; an erasure 3× (same id, late, new id)',
      load: '24 events',
      sent: 24,
      acknowledged: 24,
      stored: entries.length + erased.length,
      lost: Math.max(0, 21 - distinct),
      duplicated: entries.length - distinct + Math.max(0, erased.length - 1),
      recovery: `drained ${(drainMs / 1000).toFixed(1)} s`,
      ok: problems.length === 0,
      problems,
      figures: {
        auditEntries: entries.length,
        distinct,
        lateEventInItsTimeRange: inRange.length === 1,
        erasedEvents: erased.length,
        erasedPatientStatus: gone,
      },
    };
  } finally {
    await bus.close();
  }
}
