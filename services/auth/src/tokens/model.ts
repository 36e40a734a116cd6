// Token-signing keys: ES256 key pairs, the private half sealed under the KEK. A key is
// "next" (published, not yet signing) until activated, then signs until a newer key is
// activated, and stays published until every token it signed has expired.
import { modelOn } from '@praxis/platform';
import type { SealedValue } from '@praxis/platform';
import { type Connection, type Model, Schema } from 'mongoose';

export interface SigningKeyDoc {
  _id: string;
  alg: 'ES256';
  publicJwk: Record<string, string>;
  privateSealed: SealedValue;
  createdAt: Date;
  /** When it became the signing key; absent while it is the published "next" key. */
  activatedAt?: Date;
  /** When a newer key replaced it; it stays in the JWKS for the access-token lifetime after. */
  retiredAt?: Date;
}

const schema = new Schema<SigningKeyDoc>(
  {
    _id: { type: String, required: true },
    alg: { type: String, required: true, enum: ['ES256'] },
    publicJwk: { type: Schema.Types.Mixed, required: true },
    privateSealed: { type: { kid: String, ct: String }, required: true, _id: false },
    createdAt: { type: Date, required: true },
    activatedAt: { type: Date },
    retiredAt: { type: Date },
  },
  { collection: 'signing_keys', versionKey: false, strict: 'throw' },
);

export function signingKeyModel(conn: Connection): Model<SigningKeyDoc> {
  return modelOn(conn, 'SigningKey', schema);
}
