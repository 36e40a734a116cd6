// The real process: boots from its environment, answers health and the public key,
// consumes, and stops cleanly on SIGTERM.
import { Bus, makeEvent, randomId } from '@praxis/platform';
import { ROOT, deleteTestQueues, infra, queueExists, testDbName, testLogger, waitFor } from '@praxis/testing';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { connectMongo } from '@praxis/platform';

describe('audit process', () => {
  it('boots, consumes into the log, and exits 0 on SIGTERM', async () => {
    const port = 20000 + Math.floor(Math.random() * 20000);
    const dbName = testDbName('audit');
    // A private consumer queue, never the real `audit.log`.
    const consumerName = `boot-${randomBytes(4).toString('hex')}`;
    let output = '';
    const child: ChildProcess = spawn('node', ['--import', 'tsx', path.join(ROOT, 'services/audit/src/main.ts')], {
      cwd: path.join(ROOT, 'services/audit'),
      env: {
        PATH: process.env.PATH,
        PORT: String(port),
        HOST: '127.0.0.1',
        MONGO_URL: infra.mongoUrl,
        MONGO_DB: dbName,
        AMQP_URL: infra.amqpUrl,
        REDIS_URL: infra.redisUrl,
        JWKS_URL: 'http://127.0.0.1:9/.well-known/jwks.json',
        LOG_LEVEL: 'warn',
        KEK: randomBytes(32).toString('base64'),
        KEK_ID: 'boot-test',
        AUDIT_CONSUMER_NAME: consumerName,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (c) => (output += c));
    child.stderr!.on('data', (c) => (output += c));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const base = `http://127.0.0.1:${port}`;
    const conn = await connectMongo({ url: infra.mongoUrl, dbName });
    const bus = new Bus({ url: infra.amqpUrl, service: 'audit-boot-test-pub', logger: testLogger() });
    try {
      await waitFor(async () => (await fetch(`${base}/readyz`)).status === 200, { timeoutMs: 30_000, what: `readiness (${output})` });
      const key = await (await fetch(`${base}/api/v1/audit/public-key`)).json();
      expect(key).toMatchObject({ kty: 'OKP', crv: 'Ed25519' });
      expect((await fetch(`${base}/api/v1/audit/events`)).status).toBe(401);
      // Consumers start once the service is ready (docs/new-service.md): an event published
      // before its queue is bound would go nowhere.
      await waitFor(() => queueExists(`audit.${consumerName}`), { timeoutMs: 20_000, what: 'the consumer queue' });
      await bus.connect();
      const tenantId = randomId('ten');
      const e = makeEvent({
        type: 'platform.probe.sent',
        tenantId,
        actor: { kind: 'system', id: 'boot-test' },
        data: { seq: 1, run: tenantId },
      });
      await bus.publish(e);
      await waitFor(async () => (await conn.collection('audit_entries').countDocuments({ tenantId })) === 1, {
        timeoutMs: 20_000,
        what: 'the event in the log',
      });
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await bus.close();
      const q = `audit.${consumerName}`;
      await deleteTestQueues({ queue: q, parked: `${q}.parked`, retries: [1000, 5000, 30000].map((d) => `${q}.retry.${d}ms`) });
      await conn.dropDatabase();
      await conn.close();
    }
  }, 60_000);
});
