// Checkpoint policy and signing keys: every N entries, every T ms, KEK rotation.
import { KekRing, Metrics, TokenAuthenticator, randomId } from '@praxis/platform';
import { testLogger, waitFor } from '@praxis/testing';
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { SigningKeyring } from '../src/checkpoints/signing-keys';
import { buildAudit } from '../src/app';
import { type Harness, harness, kek, kekConfig, probe } from './harness';

describe('checkpoints', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await harness({ checkpointEvery: 4, checkpointIntervalMs: 200 });
  });

  afterAll(async () => {
    await h?.close();
  });

  it('signs at every multiple of N, and the tail within T', async () => {
    const tenantId = randomId('ten');
    await h.core.appender.appendBatch(
      tenantId,
      Array.from({ length: 10 }, (_, i) => probe(tenantId, i)),
    );
    expect((await h.core.checkpoints.list(tenantId)).map((c) => c.seq)).toEqual([4, 8]);
    h.core.checkpointer.start();
    await waitFor(async () => (await h.core.checkpoints.latest(tenantId))?.seq === 10, {
      what: 'timer checkpoint of the tail',
      timeoutMs: 5000,
    });
    const head = await h.core.log.head(tenantId);
    expect(await h.core.checkpoints.latest(tenantId)).toMatchObject({ seq: 10, hash: head.hash, alg: 'Ed25519' });
    // Nothing new: no new checkpoint.
    await new Promise((r) => setTimeout(r, 500));
    expect((await h.core.checkpoints.list(tenantId)).map((c) => c.seq)).toEqual([4, 8, 10]);
    await h.core.checkpointer.stop();
  });

  it('signs the tail on the timer from its own run, and reads the tail back when another replica wrote part of it', async () => {
    const tenantId = randomId('ten');
    const rangeReads = jest.spyOn(h.core.log, 'entriesBetween');
    try {
      await h.core.appender.appendBatch(
        tenantId,
        Array.from({ length: 6 }, (_, i) => probe(tenantId, i)),
      );
      // Checkpoint at 4 (every N); 5 and 6 were appended by this process: no range read.
      expect(await h.core.checkpointer.signHead(tenantId)).toMatchObject({ seq: 6, hash: (await h.core.log.head(tenantId)).hash });
      expect(rangeReads).not.toHaveBeenCalled();

      // Another replica appends 7; this one 8 and 9: its run no longer covers the tail.
      const replica = await h.replica();
      await replica.appender.appendBatch(tenantId, [probe(tenantId, 6)]);
      await h.core.appender.appendBatch(tenantId, [probe(tenantId, 7), probe(tenantId, 8)]);
      // 8 was a multiple of N: signed as appended, and the run starts again there.
      rangeReads.mockClear();
      expect(await h.core.checkpointer.signHead(tenantId)).toMatchObject({ seq: 9 });
      expect(rangeReads).not.toHaveBeenCalled();

      await replica.appender.appendBatch(tenantId, [probe(tenantId, 9)]);
      rangeReads.mockClear();
      expect(await h.core.checkpointer.signHead(tenantId)).toMatchObject({ seq: 10 });
      expect(rangeReads).toHaveBeenCalled();
      expect((await h.core.checkpoints.list(tenantId)).map((c) => c.seq)).toEqual([4, 6, 8, 9, 10]);
    } finally {
      rangeReads.mockRestore();
    }
  });

  it('re-seals signing keys when the KEK rotates, and cannot sign without the KEK', async () => {
    const before = await h.core.keyring.current();
    const newKek = new KekRing({
      KEK: randomBytes(32).toString('base64'),
      KEK_ID: 'test-kek-2',
      KEK_PREVIOUS: [{ id: kekConfig.KEK_ID, key: kekConfig.KEK }],
    });
    const rotated = new SigningKeyring(h.conn, newKek);
    await rotated.init();
    expect((await rotated.current()).kid).toBe(before.kid);
    const docs = await h.conn.collection('audit_signing_keys').find({}).toArray();
    expect(docs.every((d) => d.privateKey.kid === 'test-kek-2')).toBe(true);
    // The old KEK alone no longer opens them.
    const stale = new SigningKeyring(h.conn, kek);
    await expect(stale.current()).rejects.toThrow(/test-kek-2/);
  });

  it('makes one current key when several replicas boot at once', async () => {
    const { connectMongo } = await import('@praxis/platform');
    const { infra, testDbName } = await import('@praxis/testing');
    const conn = await connectMongo({ url: infra.mongoUrl, dbName: testDbName('audit') });
    try {
      const rings = Array.from({ length: 4 }, () => new SigningKeyring(conn, kek));
      await Promise.all(rings.map((r) => r.init()));
      const kids = await Promise.all(rings.map(async (r) => (await r.current()).kid));
      expect(new Set(kids).size).toBe(1);
      expect((await rings[0]!.publicJwks()).keys).toHaveLength(1);
      // A service built on that database serves the one key too.
      const { app } = await buildAudit({
        logger: testLogger(),
        metrics: new Metrics('audit'),
        mongo: conn,
        bus: await h.publisher(),
        authenticator: new TokenAuthenticator(h.issuer.verifier(), h.redis),
        keks: kek,
        checkpointEvery: 10,
        checkpointIntervalMs: 60_000,
      });
      const res = await request(app).get('/api/v1/audit/public-key');
      expect(res.body.kid).toBe(kids[0]);
    } finally {
      await conn.dropDatabase();
      await conn.close();
    }
  });
});
