// The common shapes of a tenant-scoped repository, written once (docs/new-service.md, "The
// repository"): every document carries `tenantId`, every filter includes it — the type of
// `scope()`'s result requires it, and every method here takes the tenant id first, so
// another tenant's id is simply not found (404). A change and its events are one
// single-document write (`withOutbox` on insert, `outboxUpdate` merged into an update), and
// the relay is woken in one place (`notify`, when the service's repositories wake it
// themselves; services whose use cases call `events.written()` leave it out). Updates go
// through the serialised collection shared with the relay (serial.ts). Subclasses add their
// own queries (search, sealing) on top of these protected helpers.
import type { EventEnvelope } from '@praxis/contracts';
import mongoose, { type Collection, type Model } from 'mongoose';
import { isDuplicateKeyError } from './mongo';
import { OUTBOX, OUTBOX_PENDING, outboxUpdate, withOutbox } from './outbox';

/** A filter of one tenant's documents: `tenantId` cannot be left out. */
export type TenantFilter = { tenantId: string } & Record<string, unknown>;

/** A keyset page: documents after `after` (by `_id`), at most `limit`. */
export interface PageRequest {
  after?: string;
  limit: number;
}

/** An update's operators; the repository adds the events' outbox operators. */
export interface DocUpdate {
  $set?: Record<string, unknown>;
  $unset?: Record<string, 1 | ''>;
  $push?: Record<string, unknown>;
  $pull?: Record<string, unknown>;
  $inc?: Record<string, number>;
}

export interface TenantRepositoryOptions {
  /** The serialised collection the outbox relay also writes (default: the model's own). */
  collection?: Collection;
  /** Wake the relay after a write that carried events. */
  notify?: () => void;
}

export class TenantRepository<D extends { _id: string; tenantId: string }> {
  protected readonly collection: Collection;
  private readonly notify: () => void;

  constructor(
    readonly model: Model<D>,
    opts: TenantRepositoryOptions = {},
  ) {
    this.collection = opts.collection ?? model.collection;
    this.notify = opts.notify ?? (() => undefined);
  }

  /** Every document of the tenant (removal, purge). */
  async deleteAllForTenant(tenantId: string): Promise<number> {
    return (await this.model.deleteMany(this.scope(tenantId))).deletedCount;
  }

  async countForTenant(tenantId: string): Promise<number> {
    return this.model.countDocuments(this.scope(tenantId));
  }

  /** Events still waiting in the tenant's documents' outboxes (so a purge or erasure can carry them over). */
  async pendingEventsForTenant(tenantId: string): Promise<EventEnvelope[]> {
    return this.pendingEventsWhere(tenantId);
  }

  /** Events still waiting in the outboxes of the tenant's documents that match `extra`. */
  protected async pendingEventsWhere(tenantId: string, extra: Record<string, unknown> = {}): Promise<EventEnvelope[]> {
    const docs = await this.model.collection
      .find(this.scope(tenantId, { ...extra, [OUTBOX_PENDING]: true }) as never, { projection: { [OUTBOX]: 1 } })
      .toArray();
    return docs.flatMap((d) => ((d as Record<string, unknown>)[OUTBOX] as EventEnvelope[] | undefined) ?? []);
  }

  /** The tenant's filter, with more conditions (never another `tenantId`). */
  protected scope(tenantId: string, extra: Record<string, unknown> = {}): TenantFilter {
    return { ...extra, tenantId };
  }

  /** Insert a new document with its events in one write (validated by the schema); without events, no outbox. */
  protected async insert(doc: D, events: EventEnvelope[]): Promise<void> {
    if (!events.length) {
      await this.model.create(doc);
      return;
    }
    await this.model.create(withOutbox(doc, events));
    this.notify();
  }

  /** Insert unless a document with its unique keys exists (a retry, a race lost): whether it was inserted. */
  protected async insertIfNew(doc: D, events: EventEnvelope[]): Promise<boolean> {
    try {
      await this.insert(doc, events);
      return true;
    } catch (err) {
      if (isDuplicateKeyError(err)) return false;
      throw err;
    }
  }

  /** The tenant's documents that match `extra`, in `sort` order (at most `limit`). */
  protected findMany<T = D>(
    tenantId: string,
    extra: Record<string, unknown>,
    opts: { sort?: Record<string, 1 | -1>; limit?: number; projection?: Record<string, 0 | 1> } = {},
  ): Promise<T[]> {
    const q = this.model.find(this.scope(tenantId, extra), opts.projection).sort(opts.sort ?? { _id: 1 });
    if (opts.limit !== undefined) q.limit(opts.limit);
    return q.lean<T[]>().exec();
  }

  /** Delete the tenant's documents that match `extra`; how many. */
  protected async deleteWhere(tenantId: string, extra: Record<string, unknown>): Promise<number> {
    return (await this.model.deleteMany(this.scope(tenantId, extra))).deletedCount;
  }

  /** The tenant's document `id` (with more conditions), or null. */
  protected findDoc<T = D>(
    tenantId: string,
    id: string,
    extra: Record<string, unknown> = {},
    projection?: Record<string, 0 | 1>,
  ): Promise<T | null> {
    return this.model
      .findOne(this.scope(tenantId, { ...extra, _id: id }), projection)
      .lean<T>()
      .exec();
  }

  /** Delete the tenant's document `id` (with more conditions); how many were deleted (0 or 1). */
  protected async deleteDoc(tenantId: string, id: string, extra: Record<string, unknown> = {}): Promise<number> {
    return (await this.model.deleteOne(this.scope(tenantId, { ...extra, _id: id }))).deletedCount;
  }

  /** One keyset page of the tenant's documents in `_id` order (with more conditions). */
  protected findPage<T = D>(tenantId: string, page: PageRequest, extra: Record<string, unknown> = {}): Promise<T[]> {
    const filter = this.scope(tenantId, extra);
    if (page.after !== undefined) filter._id = mongoose.trusted({ $gt: page.after });
    return this.model.find(filter).sort({ _id: 1 }).limit(page.limit).lean<T[]>().exec();
  }

  /**
   * Apply `update` and the events to the tenant's document `id` in one single-document
   * write, when it also matches `expect` (a compare-and-set guard). The document as it is
   * after, without its outbox; null when nothing matched.
   */
  protected async updateDoc<T = D>(
    tenantId: string,
    id: string,
    update: DocUpdate,
    events: EventEnvelope[],
    expect: Record<string, unknown> = {},
  ): Promise<T | null> {
    // Through the driver: FerretDB's findAndModify takes no projection, which mongoose adds.
    const doc = (await this.collection.findOneAndUpdate(this.scope(tenantId, { ...expect, _id: id }) as never, withEvents(update, events), {
      returnDocument: 'after',
    })) as Record<string, unknown> | null;
    if (!doc) return null;
    if (events.length) this.notify();
    delete doc[OUTBOX];
    delete doc[OUTBOX_PENDING];
    return doc as T;
  }

  /**
   * The same write as `updateDoc` when the caller needs only whether it happened (a claim,
   * a status change on a hot path): an update, not a find-and-modify, so the document is
   * not sent back. Whether the tenant's document `id` matched `expect`.
   */
  protected async updateIf(
    tenantId: string,
    id: string,
    update: DocUpdate,
    events: EventEnvelope[],
    expect: Record<string, unknown> = {},
  ): Promise<boolean> {
    const res = await this.collection.updateOne(this.scope(tenantId, { ...expect, _id: id }) as never, withEvents(update, events));
    if (res.matchedCount !== 1) return false;
    if (events.length) this.notify();
    return true;
  }
}

/** `update` with the events' outbox operators merged in; no empty operator (the server refuses one). */
function withEvents(update: DocUpdate, events: EventEnvelope[]): Record<string, unknown> {
  const op: Record<string, unknown> = { ...update };
  if (events.length) {
    const ob = outboxUpdate(events);
    op.$set = { ...update.$set, ...ob.$set };
    op.$push = { ...update.$push, ...ob.$push };
  }
  for (const k of Object.keys(op)) if (op[k] === undefined || Object.keys(op[k] as object).length === 0) delete op[k];
  return op;
}

/**
 * Events still waiting in the outboxes of the tenant's documents that match `extra`, in
 * several collections of one repository, collection by collection (an erasure carries them over).
 */
export async function pendingEventsIn(
  collections: readonly Pick<TenantCollection<never>, 'pendingEventsWhere'>[],
  tenantId: string,
  extra: Record<string, unknown>,
): Promise<EventEnvelope[]> {
  const out: EventEnvelope[] = [];
  for (const c of collections) out.push(...(await c.pendingEventsWhere(tenantId, extra)));
  return out;
}

/**
 * One tenant-scoped collection of a repository that spans several (consent's notice
 * versions, links and acknowledgements): the base's helpers, callable by that repository.
 */
export class TenantCollection<D extends { _id: string; tenantId: string }> extends TenantRepository<D> {
  override scope(tenantId: string, extra: Record<string, unknown> = {}): TenantFilter {
    return super.scope(tenantId, extra);
  }

  override insert(doc: D, events: EventEnvelope[]): Promise<void> {
    return super.insert(doc, events);
  }

  override insertIfNew(doc: D, events: EventEnvelope[]): Promise<boolean> {
    return super.insertIfNew(doc, events);
  }

  override findDoc<T = D>(
    tenantId: string,
    id: string,
    extra?: Record<string, unknown>,
    projection?: Record<string, 0 | 1>,
  ): Promise<T | null> {
    return super.findDoc<T>(tenantId, id, extra, projection);
  }

  override findMany<T = D>(
    tenantId: string,
    extra: Record<string, unknown>,
    opts?: { sort?: Record<string, 1 | -1>; limit?: number; projection?: Record<string, 0 | 1> },
  ): Promise<T[]> {
    return super.findMany<T>(tenantId, extra, opts);
  }

  override deleteWhere(tenantId: string, extra: Record<string, unknown>): Promise<number> {
    return super.deleteWhere(tenantId, extra);
  }

  override pendingEventsWhere(tenantId: string, extra: Record<string, unknown> = {}): Promise<EventEnvelope[]> {
    return super.pendingEventsWhere(tenantId, extra);
  }
}
