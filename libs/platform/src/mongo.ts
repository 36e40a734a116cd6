// MongoDB through mongoose, one database per service. Filters are sanitised and strict,
// and writes use majority write concern when the server is a replica set (production);
// FerretDB locally is a single server.
import mongoose, { type Connection, type Model, type Schema } from 'mongoose';

// Process-wide mongoose settings: unknown filter paths throw, and `$`-operators inside
// filter values are neutralised (defence in depth behind edge validation).
mongoose.set('strictQuery', 'throw');
mongoose.set('sanitizeFilter', true);
mongoose.set('autoIndex', true);

export interface MongoOptions {
  url: string;
  dbName: string;
  serverSelectionTimeoutMs?: number;
}

export async function connectMongo(opts: MongoOptions): Promise<Connection> {
  const timeout = opts.serverSelectionTimeoutMs ?? 5000;
  // Ask the server what it is before opening the pool, so the write concern fits it.
  const probe = new mongoose.mongo.MongoClient(opts.url, { serverSelectionTimeoutMS: timeout });
  let replicaSet: boolean;
  try {
    await probe.connect();
    const hello = await probe.db('admin').command({ hello: 1 });
    replicaSet = typeof hello.setName === 'string';
  } finally {
    await probe.close().catch(() => undefined);
  }
  const conn = mongoose.createConnection(opts.url, {
    dbName: opts.dbName,
    serverSelectionTimeoutMS: timeout,
    maxPoolSize: 20,
    ...(replicaSet ? { writeConcern: { w: 'majority', journal: true }, readConcern: { level: 'majority' } } : {}),
  });
  await conn.asPromise();
  return conn;
}

export async function pingMongo(conn: Connection): Promise<void> {
  if (!conn.db) throw new Error('not connected');
  await conn.db.admin().command({ ping: 1 });
}

/** The connection's model `name` over `schema`, registered once: every build on one connection shares it. */
export function modelOn<D>(conn: Connection, name: string, schema: Schema<D>): Model<D> {
  return (conn.models[name] as Model<D> | undefined) ?? conn.model<D>(name, schema);
}

/** Build all indexes declared by the connection's models (unique ones matter for correctness). */
export async function syncIndexes(conn: Connection): Promise<void> {
  for (const model of Object.values(conn.models)) await model.createIndexes();
}

export function isDuplicateKeyError(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: number }).code === 11000;
}

// The MongoDB driver's (and mongoose's) errors for a database that cannot be reached
// (down, restarting, connection pool cleared): the work failed for want of a dependency,
// not because of what it was asked. HTTP answers 503 (docs/platform.md); the bus retries
// without spending the event's retry budget, so an outage never parks an event.
const DATABASE_UNREACHABLE = new Set([
  'MongoNetworkError',
  'MongoNetworkTimeoutError',
  'MongoServerSelectionError',
  'MongooseServerSelectionError',
  'MongoNotConnectedError',
  'MongoTopologyClosedError',
  'MongoPoolClearedError',
]);

// Of those, the ones that can come after the operation was sent: the server may have applied it.
const DATABASE_INTERRUPTED = new Set(['MongoNetworkError', 'MongoNetworkTimeoutError']);

/**
 * Whether the database stopped answering an operation it may already have applied (the
 * connection broke or timed out mid-operation), as opposed to one that was never sent
 * (no server selected, pool cleared). A write failing so has an unknown outcome.
 */
export function isDatabaseInterrupted(err: unknown): boolean {
  for (let e = err, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++) {
    if (DATABASE_UNREACHABLE.has(e.name)) return DATABASE_INTERRUPTED.has(e.name);
  }
  return false;
}

/** Whether `err` (or what it wraps, via `cause`) says the database could not be reached. */
export function isDatabaseUnreachable(err: unknown): boolean {
  for (let e = err, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++) {
    if (DATABASE_UNREACHABLE.has(e.name)) return true;
  }
  return false;
}
