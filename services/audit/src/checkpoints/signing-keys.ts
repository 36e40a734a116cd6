// The checkpoint-signing keys: Ed25519 key pairs whose private halves are stored sealed
// (AES-256-GCM) under the key-encryption key from the environment (KEK, KEK_ID), never in
// clear. Keys have ids so they can rotate: rotate() makes a new current key; old public
// keys stay published so older checkpoints keep verifying. When the KEK itself rotates
// (KEK_PREVIOUS given), keys sealed under an old one are re-sealed at boot.
import { isDuplicateKeyError, type KekRing, modelOn, randomId, type SealedValue, unwrapKey, wrapKey } from '@praxis/platform';
import { type KeyObject, createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { type Connection, type Model, Schema } from 'mongoose';
import { type PublicJwk, publicJwk } from './checkpoint';

interface SigningKeyDoc {
  _id: string;
  alg: 'Ed25519';
  publicJwk: PublicJwk;
  privateKey: SealedValue;
  createdAt: Date;
  retiredAt?: Date;
}

interface KeyStateDoc {
  _id: string;
  kid: string;
}

const keySchema = new Schema<SigningKeyDoc>(
  {
    _id: { type: String, required: true },
    alg: { type: String, required: true },
    publicJwk: { type: Schema.Types.Mixed, required: true },
    privateKey: { type: Schema.Types.Mixed, required: true },
    createdAt: { type: Date, required: true },
    retiredAt: { type: Date },
  },
  { collection: 'audit_signing_keys', versionKey: false, strict: 'throw' },
);
const stateSchema = new Schema<KeyStateDoc>(
  { _id: { type: String, required: true }, kid: { type: String, required: true } },
  { collection: 'audit_key_state', versionKey: false, strict: 'throw' },
);

const CURRENT = 'current';
const aad = (kid: string) => `audit-signing-key|${kid}`;
const CACHE_MS = 30_000;

export interface SigningKey {
  kid: string;
  privateKey: KeyObject;
}

export class SigningKeyring {
  private readonly keys: Model<SigningKeyDoc>;
  private readonly state: Model<KeyStateDoc>;
  private cached?: { key: SigningKey; at: number };

  constructor(
    conn: Connection,
    private readonly kek: KekRing,
  ) {
    this.keys = modelOn(conn, 'AuditSigningKey', keySchema);
    this.state = modelOn(conn, 'AuditKeyState', stateSchema);
  }

  /** Make sure a current key exists (the first replica to boot makes it) and re-seal keys under a rotated KEK. */
  async init(): Promise<void> {
    if (!(await this.state.exists({ _id: CURRENT }))) await this.rotate({ onlyIfNone: true });
    for (const doc of await this.keys.find({}).lean()) {
      if (doc.privateKey.kid === this.kek.currentId) continue;
      // Sealed under a KEK we do not have: the key stays unusable for signing, but its public half is still served.
      if (!this.kek.has(doc.privateKey.kid)) continue;
      const der = unwrapKey(this.kek.get(doc.privateKey.kid), doc.privateKey, aad(doc._id));
      const current = this.kek.current();
      const resealed = wrapKey(current.key, current.id, der, aad(doc._id));
      await this.keys.updateOne({ _id: doc._id }, { $set: { privateKey: resealed } });
    }
    await this.current();
  }

  /** Generate a new key and make it current. Older keys stay published (retired). */
  async rotate(opts: { onlyIfNone?: boolean } = {}): Promise<string> {
    const kid = randomId('ak');
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const der = privateKey.export({ format: 'der', type: 'pkcs8' });
    const kek = this.kek.current();
    await this.keys.create({
      _id: kid,
      alg: 'Ed25519',
      publicJwk: publicJwk(kid, publicKey),
      privateKey: wrapKey(kek.key, kek.id, der, aad(kid)),
      createdAt: new Date(),
    });
    if (opts.onlyIfNone) {
      try {
        await this.state.collection.insertOne({ _id: CURRENT, kid } as never);
      } catch (err) {
        if (!isDuplicateKeyError(err)) throw err;
        // Another replica made the first key at the same moment: keep theirs.
        await this.keys.deleteOne({ _id: kid });
        return (await this.state.findById(CURRENT).lean())!.kid;
      }
    } else {
      const prev = await this.state.findById(CURRENT).lean();
      await this.state.updateOne({ _id: CURRENT }, { $set: { kid } }, { upsert: true });
      if (prev) await this.keys.updateOne({ _id: prev.kid }, { $set: { retiredAt: new Date() } });
    }
    this.cached = undefined;
    return kid;
  }

  /** The key new checkpoints are signed with. */
  async current(): Promise<SigningKey> {
    if (this.cached && Date.now() - this.cached.at < CACHE_MS) return this.cached.key;
    const state = await this.state.findById(CURRENT).lean();
    if (!state) throw new Error('no current checkpoint-signing key');
    const doc = await this.keys.findById(state.kid).lean();
    if (!doc) throw new Error(`checkpoint-signing key ${state.kid} is missing`);
    if (!this.kek.has(doc.privateKey.kid))
      throw new Error(`checkpoint-signing key ${doc._id} is sealed under KEK ${doc.privateKey.kid}, which is not configured`);
    const privateKey = createPrivateKey({
      key: unwrapKey(this.kek.get(doc.privateKey.kid), doc.privateKey, aad(doc._id)),
      format: 'der',
      type: 'pkcs8',
    });
    const key = { kid: doc._id, privateKey };
    this.cached = { key, at: Date.now() };
    return key;
  }

  /** Every public key, current first: a JWK Set. */
  async publicJwks(): Promise<{ keys: PublicJwk[] }> {
    const state = await this.state.findById(CURRENT).lean();
    const docs = await this.keys.find({}, { publicJwk: 1, createdAt: 1 }).sort({ createdAt: -1 }).lean();
    const keys = docs.map((d) => d.publicJwk);
    keys.sort((a, b) => Number(b.kid === state?.kid) - Number(a.kid === state?.kid));
    return { keys };
  }

  async publicKeys(): Promise<Map<string, KeyObject>> {
    const out = new Map<string, KeyObject>();
    for (const jwk of (await this.publicJwks()).keys)
      out.set(jwk.kid, createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: jwk.x }, format: 'jwk' }));
    return out;
  }
}
