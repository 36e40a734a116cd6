// Revocations reach every region's Redis: the consumer of one region writes the mark for
// a revocation made in this region (through praxis.events and its binding into
// praxis.broadcast) and for one the federation link delivers from the other region
// (straight into praxis.broadcast). Real RabbitMQ and Redis.
import { revokedSessionKey } from '@praxis/contracts';
import { BROADCAST_EXCHANGE, makeEvent } from '@praxis/platform';
import { deleteTestQueues, infra, unique, waitFor } from '@praxis/testing';
import amqp from 'amqplib';
import IORedis from 'ioredis';
import request from 'supertest';
import { revocationConsumerName, startRevocationConsumer } from '../src/sessions/consumers';
import { API, type Harness, bearer, claimsOf, login, signUpPractice, startAuth } from './harness';

describe('session revocations across regions', () => {
  let h: Harness;
  // This consumer writes into its own Redis database: every other auth started on the
  // shared test broker runs a revocation consumer too, and writes the same key into
  // database 0 with its own TTL, so the TTL this test checks must be this consumer's.
  let marks: IORedis;
  const region = unique('region')
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-');

  beforeAll(async () => {
    h = await startAuth();
    marks = new IORedis(infra.redisUrl, { db: 7, lazyConnect: true });
    await marks.connect();
    await startRevocationConsumer(h.auth.bus, { redis: marks, markTtlS: 120 }, region);
  });
  afterAll(async () => {
    await deleteTestQueues(h.auth.bus.queuesOf(revocationConsumerName(region))).catch(() => undefined);
    await h.close();
    marks.disconnect();
  });

  it('writes the mark for a revocation published in the other region (delivered into praxis.broadcast)', async () => {
    const sessionId = unique('sess');
    const event = makeEvent({
      type: 'auth.session.revoked',
      tenantId: unique('t'),
      actor: { kind: 'system', id: 'auth' },
      data: { sessionId, userId: unique('u'), reason: 'logout' },
    });
    const conn = await amqp.connect(infra.amqpUrl);
    try {
      const ch = await conn.createConfirmChannel();
      // What the federation link does: publish into this region's broadcast exchange.
      ch.publish(BROADCAST_EXCHANGE, 'auth.session.revoked', Buffer.from(JSON.stringify(event)), {
        persistent: true,
        contentType: 'application/json',
        messageId: event.id,
      });
      await ch.waitForConfirms();
    } finally {
      await conn.close();
    }
    const t0 = Date.now();
    const mark = await waitFor(async () => (await marks.get(revokedSessionKey(sessionId))) ?? undefined, {
      what: 'the revocation mark',
      timeoutMs: 10_000,
    });
    const ttl = await marks.ttl(revokedSessionKey(sessionId));
    console.log(`peer-region revocation in Redis after ${Date.now() - t0} ms, ttl ${ttl}s`);
    expect(mark).toBe('logout');
    expect(ttl).toBeGreaterThan(60);
    expect(ttl).toBeLessThanOrEqual(120);
  });

  it('carries a revocation made here onto praxis.broadcast, where the other region federates it from', async () => {
    const p = await signUpPractice(h.app);
    const tokens = await login(h.app, p.slug, p.admin.email, p.admin.password);
    // A second, independent queue on praxis.broadcast stands in for the peer region's link.
    const conn = await amqp.connect(infra.amqpUrl);
    const ch = await conn.createChannel();
    const peer = unique('peer-link');
    const got: string[] = [];
    try {
      await ch.assertQueue(peer, { exclusive: true });
      await ch.bindQueue(peer, BROADCAST_EXCHANGE, 'auth.session.revoked');
      await ch.consume(peer, (m) => m && got.push(JSON.parse(m.content.toString()).data.sessionId), { noAck: true });
      const { sid } = claimsOf(tokens.accessToken);
      expect((await request(h.app).post(`${API}/auth/logout`).set(bearer(tokens.accessToken))).status).toBe(204);
      await waitFor(() => (got.includes(sid) ? true : undefined), { what: 'the revocation on praxis.broadcast', timeoutMs: 10_000 });
      expect(await h.auth.redis.get(revokedSessionKey(sid))).toBeTruthy();
      await waitFor(async () => (await marks.get(revokedSessionKey(sid))) ?? undefined, {
        what: "the mark written by this region's consumer",
        timeoutMs: 10_000,
      });
    } finally {
      await conn.close();
    }
  });
});
