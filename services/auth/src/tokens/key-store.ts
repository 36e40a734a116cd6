// The signing-key store: creates, seals, rotates and caches ES256 keys, and serves the
// JWKS (current, next, and recently retired keys) both over HTTP and to auth's own verifier.
import { type KekRing, type PublicJwk, open, randomId, seal } from '@praxis/platform';
import { type KeyObject, createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { type Model, trusted } from 'mongoose';
import type { SigningKeyDoc } from './model';

export interface KeyStoreOptions {
  /** Seals new private halves under the current KEK; opens them under whichever KEK sealed them. */
  keks: KekRing;
  /** How long a retired key stays published: the access-token lifetime plus clock skew. */
  retiredGraceMs: number;
  cacheMs?: number;
}

/** Verifiers cache the JWKS this long at most (platform JwksVerifier max age + HTTP cache). */
export const VERIFIER_MAX_CACHE_MS = 11 * 60_000;

export class KeyTooYoungError extends Error {
  constructor(readonly waitSeconds: number) {
    super(`the next key was published too recently for every verifier to have it; retry in ${waitSeconds} s (or --force)`);
    this.name = 'KeyTooYoungError';
  }
}

export interface SigningKey {
  kid: string;
  privateKey: KeyObject;
}

const aad = (kid: string) => `signing-key|${kid}`;

export class KeyStore {
  private cache?: { at: number; signing?: SigningKey; jwks: { keys: PublicJwk[] } };
  private readonly listeners: (() => void)[] = [];

  constructor(
    private readonly model: Model<SigningKeyDoc>,
    private readonly opts: KeyStoreOptions,
  ) {}

  private newKeyDoc(activatedAt?: Date): SigningKeyDoc {
    const kid = randomId('key');
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }) as string;
    const jwk = publicKey.export({ format: 'jwk' }) as Record<string, string>;
    return {
      _id: kid,
      alg: 'ES256',
      publicJwk: { kty: jwk.kty!, crv: jwk.crv!, x: jwk.x!, y: jwk.y!, kid, alg: 'ES256', use: 'sig' },
      privateSealed: seal(this.opts.keks.current().key, this.opts.keks.currentId, pem, aad(kid)),
      createdAt: new Date(),
      ...(activatedAt ? { activatedAt } : {}),
    };
  }

  /** At boot: make sure there is a signing key and a published next key. */
  async ensureKeys(): Promise<void> {
    const active = await this.model.findOne({ activatedAt: trusted({ $exists: true }), retiredAt: trusted({ $exists: false }) }).lean();
    if (!active) await this.model.create(this.newKeyDoc(new Date()));
    const next = await this.model.findOne({ activatedAt: trusted({ $exists: false }) }).lean();
    if (!next) await this.model.create(this.newKeyDoc());
    this.markStale();
  }

  /**
   * Rotation: the published next key starts signing, the old signing key retires (still
   * published until its tokens expire), and a fresh next key is published.
   */
  async rotate(opts: { minNextAgeMs?: number } = {}): Promise<{ activated: string; next: string }> {
    await this.ensureKeys();
    const next = await this.model
      .findOne({ activatedAt: trusted({ $exists: false }) })
      .sort({ createdAt: 1 })
      .lean();
    if (!next) throw new Error('no next key');
    const now = new Date();
    // Every verifier must have fetched the next key before it signs: verifiers refresh
    // their JWKS at least every 10 minutes (and HTTP caches keep it a minute).
    const age = now.getTime() - next.createdAt.getTime();
    if (opts.minNextAgeMs && age < opts.minNextAgeMs) {
      throw new KeyTooYoungError(Math.ceil((opts.minNextAgeMs - age) / 1000));
    }
    await this.model.updateMany(
      { activatedAt: trusted({ $exists: true }), retiredAt: trusted({ $exists: false }) },
      { $set: { retiredAt: now } },
    );
    await this.model.updateOne({ _id: next._id }, { $set: { activatedAt: now } });
    const fresh = await this.model.create(this.newKeyDoc());
    this.markStale();
    return { activated: next._id, next: fresh._id };
  }

  private async load() {
    const cacheMs = this.opts.cacheMs ?? 30_000;
    if (this.cache && Date.now() - this.cache.at < cacheMs) return this.cache;
    const since = new Date(Date.now() - this.opts.retiredGraceMs);
    const docs = await this.model
      .find({ $or: [{ retiredAt: trusted({ $exists: false }) }, { retiredAt: trusted({ $gt: since }) }] })
      .lean();
    const signingDoc = docs
      .filter((d) => d.activatedAt && !d.retiredAt)
      .sort((a, b) => b.activatedAt!.getTime() - a.activatedAt!.getTime())[0];
    const signing = signingDoc
      ? {
          kid: signingDoc._id,
          privateKey: createPrivateKey(
            open(this.opts.keks.get(signingDoc.privateSealed.kid), signingDoc.privateSealed, aad(signingDoc._id)).toString('utf8'),
          ),
        }
      : undefined;
    const previous = new Set(this.cache?.jwks.keys.map((k) => k.kid) ?? []);
    this.cache = { at: Date.now(), signing, jwks: { keys: docs.map((d) => d.publicJwk as unknown as PublicJwk) } };
    // A key this process has not seen (rotated elsewhere): let its own verifier reload now.
    if (previous.size && this.cache.jwks.keys.some((k) => !previous.has(k.kid!))) for (const l of this.listeners) l();
    return this.cache;
  }

  async signingKey(): Promise<SigningKey> {
    const { signing } = await this.load();
    if (!signing) throw new Error('no signing key');
    return signing;
  }

  async jwks(): Promise<{ keys: PublicJwk[] }> {
    return (await this.load()).jwks;
  }

  /**
   * KEK rotation: re-seal every private half not under the current KEK (compare-and-set on
   * the old ciphertext). The key pairs themselves do not change, so no token is affected.
   */
  async resealUnderCurrentKek(): Promise<{ resealed: number; alreadyCurrent: number }> {
    const { id, key } = this.opts.keks.current();
    let resealed = 0;
    let alreadyCurrent = 0;
    for (const doc of await this.model.find({}).lean()) {
      if (doc.privateSealed.kid === id) {
        alreadyCurrent++;
        continue;
      }
      const pem = open(this.opts.keks.get(doc.privateSealed.kid), doc.privateSealed, aad(doc._id));
      const res = await this.model.updateOne(
        { _id: doc._id, 'privateSealed.ct': doc.privateSealed.ct },
        { $set: { privateSealed: seal(key, id, pem, aad(doc._id)) } },
      );
      pem.fill(0);
      if (res.modifiedCount === 1) resealed++;
    }
    this.markStale();
    return { resealed, alreadyCurrent };
  }

  /** Called when the published key set gains a key. */
  onNewKeys(listener: () => void): void {
    this.listeners.push(listener);
  }

  /** Reload on next use (after a rotation elsewhere, or in tests); the old key set is kept to compare. */
  invalidate(): void {
    this.markStale();
  }

  private markStale(): void {
    if (this.cache) this.cache.at = 0;
  }
}
