// Stored checkpoints: one per (tenant, seq), so replicas that sign the same head at the
// same time store it once. Append-only, like the log.
import { isDuplicateKeyError, modelOn } from '@praxis/platform';
import { type Connection, type Model, Schema, trusted } from 'mongoose';
import type { Checkpoint } from './checkpoint';

type CheckpointDoc = Checkpoint & { createdAt: Date };

const checkpointSchema = new Schema<CheckpointDoc>(
  {
    tenantId: { type: String, required: true },
    seq: { type: Number, required: true },
    hash: { type: String, required: true },
    signedAt: { type: String, required: true },
    keyId: { type: String, required: true },
    alg: { type: String, required: true },
    signature: { type: String, required: true },
    createdAt: { type: Date, required: true },
  },
  { collection: 'audit_checkpoints', versionKey: false, strict: 'throw' },
);
checkpointSchema.index({ tenantId: 1, seq: 1 }, { unique: true });

const fields = { _id: 0, tenantId: 1, seq: 1, hash: 1, signedAt: 1, keyId: 1, alg: 1, signature: 1 };

export class CheckpointRepository {
  private readonly model: Model<CheckpointDoc>;

  constructor(conn: Connection) {
    this.model = modelOn(conn, 'AuditCheckpoint', checkpointSchema);
  }

  async init(): Promise<void> {
    await this.model.createIndexes();
  }

  /** Store a checkpoint; one for the same (tenant, seq) already there wins. */
  async save(tenantId: string, cp: Checkpoint): Promise<Checkpoint> {
    if (cp.tenantId !== tenantId) throw new Error('checkpoint of another tenant');
    try {
      await this.model.collection.insertOne({ ...cp, createdAt: new Date() });
      return cp;
    } catch (err) {
      if (!isDuplicateKeyError(err)) throw err;
      return (await this.model.findOne({ tenantId, seq: cp.seq }, fields).lean<Checkpoint>())!;
    }
  }

  async latest(tenantId: string): Promise<Checkpoint | undefined> {
    return (await this.model.findOne({ tenantId }, fields).sort({ seq: -1 }).lean<Checkpoint>()) ?? undefined;
  }

  async list(tenantId: string, upToSeq?: number): Promise<Checkpoint[]> {
    return this.model
      .find({ tenantId, ...(upToSeq !== undefined ? { seq: trusted({ $lte: upToSeq }) } : {}) }, fields)
      .sort({ seq: 1 })
      .lean<Checkpoint[]>();
  }
}
