// Consumer idempotency keyed on event id, stored in the consumer's own database with a
// unique index. Recorded after the handler's work, so a crash in between re-runs the
// handler: handlers make their own writes idempotent too (upserts keyed on event id).
import type { Connection, Model } from 'mongoose';
import { Schema } from 'mongoose';
import type { IdempotencyStore } from './bus';
import { isDuplicateKeyError, modelOn } from './mongo';

interface ProcessedEvent {
  consumer: string;
  eventId: string;
  processedAt: Date;
}

const processedSchema = new Schema<ProcessedEvent>(
  {
    consumer: { type: String, required: true },
    eventId: { type: String, required: true },
    processedAt: { type: Date, required: true },
  },
  { collection: 'processed_events', versionKey: false, strict: 'throw' },
);
processedSchema.index({ consumer: 1, eventId: 1 }, { unique: true });

export class MongoIdempotencyStore implements IdempotencyStore {
  private readonly model: Model<ProcessedEvent>;

  constructor(conn: Connection) {
    this.model = modelOn(conn, 'ProcessedEvent', processedSchema);
  }

  async init(): Promise<void> {
    await this.model.createIndexes();
  }

  async seen(consumer: string, eventId: string): Promise<boolean> {
    return (await this.model.exists({ consumer, eventId })) !== null;
  }

  async remember(consumer: string, eventId: string): Promise<void> {
    try {
      await this.model.create({ consumer, eventId, processedAt: new Date() });
    } catch (err) {
      if (!isDuplicateKeyError(err)) throw err;
    }
  }
}
