// Benchmark (scripts/bench auth): logins per second with a password and with password +
// TOTP, and token verifications per second, each beside its raw primitive measured in the
// same run (one argon2id verification at the service's parameters and concurrency; one
// ES256 signature check), with the ratios; and login latency at a steady 20 logins/s.
// Writes .data/reports/bench-auth.json. Runs against a throwaway database on the local
// infrastructure, through real HTTP.
import { spawn } from 'node:child_process';
import { randomBytes, verify as cryptoVerify } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { TOKEN_AUDIENCE, TOKEN_ISSUER } from '@praxis/contracts';
import { JwksVerifier, openServiceDeps, randomId, startHttpServer } from '@praxis/platform';
import { ROOT, infra, runBench, testDbName, testLogger, unique, writeBenchReport } from '@praxis/testing';
import argon2 from 'argon2';
import jwt from 'jsonwebtoken';
import { buildAuth, ownJwks } from '../src/app';
import { authConfigSchema } from '../src/config';
import { newTotpSecret, totpCode } from '../src/mfa/totp';

async function measure(
  seconds: number,
  concurrency: number,
  op: () => Promise<void>,
): Promise<{ ops: number; perSecond: number; latencies: number[] }> {
  const end = Date.now() + seconds * 1000;
  const latencies: number[] = [];
  const worker = async () => {
    while (Date.now() < end) {
      const t0 = performance.now();
      await op();
      latencies.push(performance.now() - t0);
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsed = (performance.now() - t0) / 1000;
  return { ops: latencies.length, perSecond: latencies.length / elapsed, latencies };
}

function syncRate(seconds: number, op: () => void): number {
  const end = performance.now() + seconds * 1000;
  let n = 0;
  const t0 = performance.now();
  while (performance.now() < end) {
    for (let i = 0; i < 100; i++) op();
    n += 100;
  }
  return n / ((performance.now() - t0) / 1000);
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? NaN;
};
const r1 = (x: number) => Math.round(x * 10) / 10;
const r2 = (x: number) => Math.round(x * 100) / 100;
/** The latencies of a steady 20 logins/s phase. */
const loginLatency = (ms: number[]) => ({
  loginsPerSecond: 20,
  logins: ms.length,
  p50Ms: r1(pct(ms, 50)),
  p99Ms: r1(pct(ms, 99)),
  maxMs: r1(Math.max(...ms)),
});

async function main(): Promise<void> {
  const config = authConfigSchema.parse({
    MONGO_URL: infra.mongoUrl,
    MONGO_DB: testDbName('auth_bench'),
    AMQP_URL: infra.amqpUrl,
    REDIS_URL: infra.redisUrl,
    JWKS_URL: 'http://127.0.0.1:9/unused',
    LOG_LEVEL: 'silent',
    KEK: randomBytes(32).toString('base64'),
    KEK_ID: 'bench',
    REDIS_PREFIX: `bench:${unique('auth')}:`,
    IP_REQUESTS_PER_MIN: '1000000',
    IP_FAILURES_PER_WINDOW: '1000000',
  });
  const jwks = ownJwks();
  const deps = await openServiceDeps('auth', config, { logger: testLogger('auth'), jwksSource: jwks.source });
  const auth = await buildAuth({ ...deps, config }, jwks);
  await auth.start();
  const server = await startHttpServer(auth.app, 0, '127.0.0.1');
  const base = `http://127.0.0.1:${server.port}/api/v1`;
  const post = async (p: string, body: unknown, ip = '10.0.0.1') => {
    const res = await fetch(base + p, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': ip },
      body: JSON.stringify(body),
    });
    const json = (await res.json().catch(() => ({}))) as Record<string, unknown>;
    if (res.status >= 300) throw new Error(`${p} answered ${res.status}: ${JSON.stringify(json)}`);
    return json;
  };
  const cores = os.availableParallelism();
  const concurrency = config.HASH_CONCURRENCY * 2;
  try {
    const slug = unique('bench');
    const password = `${randomBytes(8).toString('base64url')} bench horse staple`;
    const email = 'bench-admin@example.test';
    const signUp = await post('/tenants', { name: 'Bench Practice', slug, admin: { name: 'Bench', email, password } });
    const tenantId = (signUp.tenant as { id: string }).id;

    // 1. Raw primitive: argon2id verifications at the service's parameters and concurrency.
    const hash = await argon2.hash(password, {
      type: argon2.argon2id,
      memoryCost: config.ARGON2_MEMORY_KIB,
      timeCost: config.ARGON2_TIME,
      parallelism: 1,
    });
    const rawArgon = await measure(3, config.HASH_CONCURRENCY, async () => {
      await argon2.verify(hash, password);
    });

    // 2. Password logins through HTTP (argon2id + session insert + ES256 signing + events).
    const pwdLogins = await measure(4, concurrency, async () => {
      await post('/auth/login', { tenant: slug, email, password });
    });

    // 3. Password + TOTP logins: each user's step is usable once, so one user per login.
    const secret = newTotpSecret();
    const users: string[] = [];
    const now = new Date();
    for (let i = 0; i < 150; i++) {
      const userId = randomId('usr');
      const uEmail = `totp-${i}@example.test`;
      await auth.users.create(
        {
          _id: userId,
          tenantId,
          email: uEmail,
          name: 'Bench',
          role: 'clinician',
          passwordHash: hash,
          disabled: false,
          createdAt: now,
          updatedAt: now,
          totpSecret: await auth.users.sealTotp(tenantId, userId, secret),
          totpLastStep: 0,
          recoveryCodes: [],
        },
        [],
      );
      users.push(uEmail);
    }
    let next = 0;
    const totpLogins = await measure(4, concurrency, async () => {
      const uEmail = users[next++];
      if (!uEmail) {
        await new Promise((r) => setTimeout(r, 5));
        return;
      }
      const challenge = await post('/auth/login', { tenant: slug, email: uEmail, password });
      await post('/auth/mfa/verify', { mfaToken: challenge.mfaToken, code: totpCode(secret) });
    });
    const totpDone = Math.min(next, users.length);
    const totpPerSecond = (totpDone / totpLogins.ops) * totpLogins.perSecond;

    // 4. Token verification (one core): auth's JwksVerifier vs one raw ES256 verify.
    const tokens = (await post('/auth/login', { tenant: slug, email, password })) as { accessToken: string };
    const token = tokens.accessToken;
    await deps.verifier.verify(token);
    const { privateKey, kid } = await auth.keys.signingKey();
    const jwk = (await auth.keys.jwks()).keys.find((k) => k.kid === kid)!;
    const { createPublicKey } = await import('node:crypto');
    const pub = createPublicKey({ key: jwk as import('node:crypto').JsonWebKey, format: 'jwk' });
    const [h64, p64, s64] = token.split('.') as [string, string, string];
    const signed = Buffer.from(`${h64}.${p64}`);
    const sig = Buffer.from(s64, 'base64url');
    const rawVerify = syncRate(1.5, () => {
      if (!cryptoVerify('sha256', signed, { key: pub, dsaEncoding: 'ieee-p1363' }, sig)) throw new Error('bad signature');
    });
    const jwtVerify = syncRate(1.5, () => {
      jwt.verify(token, pub, { algorithms: ['ES256'], issuer: TOKEN_ISSUER, audience: TOKEN_AUDIENCE });
    });
    // The full service path: the async verifier every service uses. A session's token is
    // verified once (kid lookup, jsonwebtoken, claims schema) and then found in the
    // verifier's memory by its SHA-256 until it expires; 1,000 distinct tokens in turn, as
    // many signed-in users would send. Beside it the same verifier with no memory.
    const manyTokens: string[] = [];
    for (let i = 0; i < 1_000; i++)
      manyTokens.push(jwt.sign({ ...(jwt.decode(token) as object), jti: `bench-${i}` }, privateKey, { algorithm: 'ES256', keyid: kid }));
    const rateOf = async (verify: (t: string) => Promise<unknown>, tokenList: string[]) => {
      for (const t of tokenList) await verify(t);
      const end = performance.now() + 1500;
      let n = 0;
      const t0 = performance.now();
      while (performance.now() < end) {
        for (let i = 0; i < 100; i++) await verify(tokenList[(n + i) % tokenList.length]!);
        n += 100;
      }
      return n / ((performance.now() - t0) / 1000);
    };
    const verifierRate = await rateOf((t) => deps.verifier.verify(t), manyTokens);
    const uncached = new JwksVerifier({ source: jwks.source, cacheEntries: 0 });
    const uncachedRate = await rateOf((t) => uncached.verify(t), manyTokens);

    // 5. Latency at a steady 20 logins/s for 8 s (open loop: arrivals do not wait).
    const steadyLogins = async (): Promise<number[]> => {
      const ms: number[] = [];
      const arrivals: Promise<void>[] = [];
      const start = performance.now();
      for (let i = 0; i < 160; i++) {
        const due = start + i * 50;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        arrivals.push(
          (async () => {
            const t0 = performance.now();
            await post('/auth/login', { tenant: slug, email, password }, `10.1.${i % 250}.1`);
            ms.push(performance.now() - t0);
          })(),
        );
      }
      await Promise.all(arrivals);
      return ms;
    };
    const latencies = await steadyLogins();

    // 6. The same while the rest of the platform carries load: a records service in its own
    // process on the same FerretDB, RabbitMQ and Redis, given 100 patient reads and 10
    // creates a second (test/bench/background-load.ts). Its achieved rates are reported, so
    // the load is shown to have happened.
    const background = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(ROOT, 'test/bench/background-load.ts'), '--get=100', '--post=10'],
      {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    const lines = createInterface({ input: background.stdout! });
    const lineIter = lines[Symbol.asyncIterator]();
    const nextLine = async () => ((await lineIter.next()).value as string | undefined) ?? '';
    if ((await nextLine()) !== 'ready') throw new Error('the background load did not start');
    await new Promise((r) => setTimeout(r, 2_000)); // let it reach its rate
    const underLoad = await steadyLogins();
    background.kill('SIGTERM');
    const bg = JSON.parse(await nextLine()) as {
      seconds: number;
      get: { perSecond: number; failed: number; p99Ms: number };
      post: { perSecond: number; failed: number; p99Ms: number };
    };
    lines.close();

    const rawArgonPerSecond = rawArgon.perSecond;
    const report = {
      at: new Date().toISOString(),
      machine: {
        cores,
        cpu: os.cpus()[0]?.model ?? 'unknown',
        node: process.version,
        loadAverage1m: r2(os.loadavg()[0] ?? 0),
        loadAverage: os.loadavg().map(r2),
      },
      argon2id: { memoryKiB: config.ARGON2_MEMORY_KIB, timeCost: config.ARGON2_TIME, parallelism: 1, concurrency: config.HASH_CONCURRENCY },
      rawArgon2idVerifyPerSecond: r1(rawArgonPerSecond),
      rawArgon2idMs: r1(pct(rawArgon.latencies, 50)),
      passwordLoginsPerSecond: r1(pwdLogins.perSecond),
      passwordLoginRatioToRawArgon2id: r2(pwdLogins.perSecond / rawArgonPerSecond),
      passwordTotpLoginsPerSecond: r1(totpPerSecond),
      passwordTotpLoginRatioToRawArgon2id: r2(totpPerSecond / rawArgonPerSecond),
      rawEs256VerifyPerSecondOneCore: Math.round(rawVerify),
      jsonwebtokenVerifyPerSecondOneCore: Math.round(jwtVerify),
      serviceTokenVerifyPerSecondOneCore: Math.round(verifierRate),
      tokenVerifyRatioToRawEs256: r2(verifierRate / rawVerify),
      serviceTokenVerifyUncachedPerSecondOneCore: Math.round(uncachedRate),
      tokenVerifyUncachedRatioToRawEs256: r2(uncachedRate / rawVerify),
      steadyLoad: loginLatency(latencies),
      underPlatformLoad: { ...loginLatency(underLoad), background: bg },
      aims: { tokenVerifyPerSecondPerCore: 10_000, loginP99Ms: 250 },
    };
    const written = writeBenchReport('bench-auth.json', report);
    const line = (label: string, value: string) => process.stdout.write(`${label.padEnd(46)} ${value}\n`);
    line('raw argon2id verify (at service concurrency)', `${report.rawArgon2idVerifyPerSecond}/s (${report.rawArgon2idMs} ms each)`);
    line('password login (HTTP)', `${report.passwordLoginsPerSecond}/s  ratio ${report.passwordLoginRatioToRawArgon2id} of raw argon2id`);
    line(
      'password + TOTP login (HTTP, two requests)',
      `${report.passwordTotpLoginsPerSecond}/s  ratio ${report.passwordTotpLoginRatioToRawArgon2id} of raw argon2id`,
    );
    line('raw ES256 verify (one core)', `${report.rawEs256VerifyPerSecondOneCore}/s`);
    line('jsonwebtoken verify (one core)', `${report.jsonwebtokenVerifyPerSecondOneCore}/s`);
    line(
      'service token verification (one core)',
      `${report.serviceTokenVerifyPerSecondOneCore}/s  ratio ${report.tokenVerifyRatioToRawEs256} of raw ES256 (1,000 tokens in turn)`,
    );
    line(
      "the same without the verifier's memory",
      `${report.serviceTokenVerifyUncachedPerSecondOneCore}/s  ratio ${report.tokenVerifyUncachedRatioToRawEs256} of raw ES256`,
    );
    line(
      'load average (1, 5, 15 min)',
      os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' '),
    );
    const latencyText = (l: ReturnType<typeof loginLatency>) => `p50 ${l.p50Ms} ms, p99 ${l.p99Ms} ms, max ${l.maxMs} ms`;
    line('login latency at 20/s', latencyText(report.steadyLoad));
    line('login latency at 20/s under platform load', latencyText(report.underPlatformLoad));
    line(
      '  the load meanwhile (records, own process)',
      `${bg.get.perSecond} reads/s (p99 ${bg.get.p99Ms} ms, ${bg.get.failed} failed), ${bg.post.perSecond} creates/s (p99 ${bg.post.p99Ms} ms, ${bg.post.failed} failed) over ${bg.seconds} s`,
    );
    line('report', written);
  } finally {
    await server.close(2_000);
    await auth.stop();
    await deps.mongo.dropDatabase().catch(() => undefined);
    await deps.lifecycle.stop(5_000);
  }
}

runBench(main);
