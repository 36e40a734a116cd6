// Messaging's local projection of consent's contact preferences (consent.preference.changed),
// so sending does not depend on consent being up. One document per patient,
// `_id = <tenant>|<patient>`; the highest `version` seen wins, so an older event delivered
// late (or again) changes nothing. No document means both channels are allowed.
import { TenantRepository, isDuplicateKeyError, modelOn } from '@praxis/platform';
import { type Connection, type Model, Schema } from 'mongoose';
import type { Channel } from '../messages/model';

export interface PreferenceDoc {
  _id: string;
  tenantId: string;
  patientId: string;
  sms: boolean;
  email: boolean;
  version: number;
  updatedAt: Date;
}

const preferenceSchema = new Schema<PreferenceDoc>(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    patientId: { type: String, required: true },
    sms: { type: Boolean, required: true },
    email: { type: Boolean, required: true },
    version: { type: Number, required: true },
    updatedAt: { type: Date, required: true },
  },
  { collection: 'preferences', versionKey: false, strict: 'throw' },
);
preferenceSchema.index({ tenantId: 1 });

export function preferenceModel(conn: Connection): Model<PreferenceDoc> {
  return modelOn(conn, 'Preference', preferenceSchema);
}

const prefId = (tenantId: string, patientId: string) => `${tenantId}|${patientId}`;

export class PreferenceRepository extends TenantRepository<PreferenceDoc> {
  async allows(tenantId: string, patientId: string, channel: Channel): Promise<boolean> {
    const doc = await this.findDoc(tenantId, prefId(tenantId, patientId));
    return doc ? doc[channel] : true;
  }

  /**
   * Apply a change if it is newer than what is held. The consumer runs as the queue's
   * single active consumer and updates one patient at a time, so the compare-and-set on
   * `version` has no concurrent writer even on FerretDB.
   */
  async apply(
    tenantId: string,
    patientId: string,
    change: { sms: boolean; email: boolean; version: number },
  ): Promise<'applied' | 'stale'> {
    const _id = prefId(tenantId, patientId);
    for (let attempt = 0; attempt < 5; attempt++) {
      const current = await this.findDoc(tenantId, _id);
      if (current && current.version >= change.version) return 'stale';
      if (!current) {
        try {
          await this.insert({ _id, tenantId, patientId, ...change, updatedAt: new Date() }, []);
          return 'applied';
        } catch (err) {
          if (!isDuplicateKeyError(err)) throw err;
          continue;
        }
      }
      const res = await this.model.updateOne(this.scope(tenantId, { _id, version: current.version }), {
        $set: { ...change, updatedAt: new Date() },
      });
      if (res.modifiedCount === 1) return 'applied';
    }
    throw new Error('preference kept changing underneath');
  }

  deleteForPatient(tenantId: string, patientId: string): Promise<number> {
    return this.deleteDoc(tenantId, prefId(tenantId, patientId));
  }
}
