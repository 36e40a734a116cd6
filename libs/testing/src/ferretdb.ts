// FerretDB for storage tests: a private server process (patched as scripts/infra builds it,
// or unpatched upstream for differential tests), and the proof that a query searches an
// index (docs/decisions/0004, docs/platform.md).
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import type { Connection, mongo } from 'mongoose';
import { ROOT, infra, runInfra, unique } from './index';

export type FerretDbBuild = 'patched' | 'upstream';

type Db = mongo.Db;

/**
 * Where scripts/infra builds FerretDB: .data/bin; or PRAXIS_FERRETDB_BIN_DIR, taken as it is
 * (a patch set being tried, built by `PRAXIS_FERRETDB_BIN_DIR=<dir> scripts/infra up`, or an
 * older build to compare with).
 */
const binary = (build: FerretDbBuild) =>
  path.join(process.env.PRAXIS_FERRETDB_BIN_DIR ?? path.join(ROOT, '.data/bin'), build === 'patched' ? 'ferretdb' : 'ferretdb-upstream');

let built: Promise<void> | undefined;

/** scripts/infra builds both binaries (and rebuilds one whose patches changed); once per process. */
function ensureBuilt(): Promise<void> {
  built ??= process.env.PRAXIS_FERRETDB_BIN_DIR ? Promise.resolve() : runInfra('up');
  return built;
}

/** A TCP port nothing listens on now (for a private server). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** Whether something accepts connections on this local port. */
export function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

export interface FerretDbServer {
  url: string;
  port: number;
  build: FerretDbBuild;
  stop(): Promise<void>;
}

/**
 * Start a FerretDB of its own for a test or benchmark: a free port (or the one given), an
 * empty SQLite directory under .data/tmp (or the one given, kept on stop). Stop it in afterAll.
 */
export async function startFerretDb(
  build: FerretDbBuild = 'patched',
  opts: { port?: number; dataDir?: string } = {},
): Promise<FerretDbServer> {
  await ensureBuilt();
  const bin = binary(build);
  if (!existsSync(bin)) throw new Error(`${bin} is missing after scripts/infra up`);
  const port = opts.port ?? (await freePort());
  const dir = opts.dataDir ?? path.join(ROOT, '.data/tmp', unique(`ferretdb-${build}`));
  await mkdir(dir, { recursive: true });
  const child: ChildProcess = spawn(
    bin,
    [
      '--handler=sqlite',
      `--sqlite-url=file:${dir}/`,
      `--listen-addr=127.0.0.1:${port}`,
      '--telemetry=disable',
      '--log-level=error',
      '--debug-addr=-',
      `--state-dir=${dir}`,
    ],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
      // The collector settings scripts/infra gives the shared server (docs/decisions/0009).
      env: {
        ...process.env,
        GOGC: process.env.PRAXIS_FERRETDB_GOGC ?? '300',
        GOMEMLIMIT: process.env.PRAXIS_FERRETDB_GOMEMLIMIT ?? '2GiB',
      },
    },
  );
  let stderr = '';
  child.stderr?.on('data', (b: Buffer) => (stderr = (stderr + b.toString('utf8')).slice(-4000)));
  const deadline = Date.now() + 30_000;
  while (!(await portOpen(port))) {
    if (child.exitCode !== null) throw new Error(`FerretDB (${build}) exited with ${child.exitCode}: ${stderr}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`FerretDB (${build}) did not listen on ${port} within 30 s: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url: `mongodb://127.0.0.1:${port}`,
    port,
    build,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, 5000)))]);
        clearTimeout(timer);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      child.stderr?.destroy();
      if (!opts.dataDir) await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface QueryPlan {
  /** The index SQLite searches (FerretDB's name: `<collection>_<index name>` in the table's namespace), or undefined. */
  index?: string;
  /** SQLite's EXPLAIN QUERY PLAN lines, as FerretDB's explain returns them. */
  plan: string[];
  filterPushdown: boolean;
}

/** SQLite's plan for a find with this filter, through FerretDB's `explain` command. */
export async function queryPlan(db: Db, collection: string, filter: Record<string, unknown>): Promise<QueryPlan> {
  const res = await db.command({ explain: { find: collection, filter }, verbosity: 'queryPlanner' });
  const plan = ((res.queryPlanner as { Plan?: string[] } | undefined)?.Plan ?? []).map((l) => l.replace(/^.*detail=/, ''));
  const searches = plan.map((l) => /^SEARCH \S+ USING (?:COVERING )?INDEX (\S+)/.exec(l)?.[1]).filter((x): x is string => !!x);
  return { index: searches[0], plan, filterPushdown: res.filterPushdown === true };
}

/**
 * Assert that FerretDB answers this filter by searching an index: the backend pushed a WHERE
 * down and every table access in SQLite's plan is an index SEARCH (no SCAN). Returns the
 * index; pass `index` (the declared index's name, e.g. `tenantId_1_emailIndex_1`) to also
 * require that one. The filter's values should be realistic (a string where the service
 * passes a string): the pushdown depends on value types (docs/decisions/0004).
 *
 *   await expectIndexedQuery(conn.db, 'users', { tenantId: 't', emailIndex: 'x' }, { index: 'tenantId_1_emailIndex_1' });
 */
export async function expectIndexedQuery(
  db: Db,
  collection: string,
  filter: Record<string, unknown>,
  opts: { index?: string } = {},
): Promise<string> {
  const p = await queryPlan(db, collection, filter);
  const show = () => `${collection} ${JSON.stringify(filter)}:\n  ${p.plan.join('\n  ') || '(no plan)'}`;
  const scans = p.plan.filter((l) => /^SCAN /.test(l));
  if (!p.filterPushdown || !p.index || scans.length) throw new Error(`query is not answered from an index: ${show()}`);
  const all = new Set(p.plan.map((l) => /USING (?:COVERING )?INDEX (\S+)/.exec(l)?.[1]).filter(Boolean));
  if (opts.index && ![...all].every((i) => i!.endsWith(`_${opts.index}`)))
    throw new Error(`query does not use index ${opts.index}: ${show()}`);
  return p.index;
}

/** A query a repository sent, as mongoose saw it: collection, method and filter. */
export interface RecordedQuery {
  collection: string;
  method: string;
  filter: Record<string, unknown>;
  /** The filter with its values replaced by their types: one per distinct query shape. */
  shape: string;
}

const FILTER_ARG: Record<string, number> = {
  find: 0,
  findOne: 0,
  countDocuments: 0,
  count: 0,
  updateOne: 0,
  updateMany: 0,
  replaceOne: 0,
  deleteOne: 0,
  deleteMany: 0,
  findOneAndUpdate: 0,
  findOneAndDelete: 0,
  findOneAndReplace: 0,
  distinct: 1,
};

function shapeOf(v: unknown): unknown {
  if (Array.isArray(v)) return v.length ? [shapeOf(v[0])] : [];
  if (v instanceof Date) return 'date';
  if (v && typeof v === 'object') {
    const bsontype = (v as { _bsontype?: string })._bsontype;
    if (bsontype) return bsontype;
    return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, shapeOf(x)]));
  }
  return typeof v;
}

/**
 * Record every query a mongoose connection sends (through models or `model.collection`),
 * so a test can drive a service and then prove each distinct shape searches an index.
 */
export function recordQueries(conn: Connection): {
  queries(): RecordedQuery[];
  stop(): void;
} {
  const seen = new Map<string, RecordedQuery>();
  const listener = (op: { collectionName: string; method: string; params: unknown[] }) => {
    let filter: unknown;
    if (op.method === 'aggregate') filter = ((op.params[0] as Record<string, unknown>[] | undefined)?.[0] ?? {}).$match;
    else if (op.method in FILTER_ARG) filter = op.params[FILTER_ARG[op.method]!] ?? {};
    if (!filter || typeof filter !== 'object') return;
    const shape = JSON.stringify(shapeOf(filter));
    const key = `${op.collectionName} ${op.method} ${shape}`;
    if (!seen.has(key))
      seen.set(key, { collection: op.collectionName, method: op.method, filter: filter as Record<string, unknown>, shape });
  };
  conn.on('operation-start', listener);
  return { queries: () => [...seen.values()], stop: () => void conn.off('operation-start', listener) };
}

/** A query shape that may scan, and why (the test fails when a shape scans without one). */
export interface AllowedScan {
  collection: string;
  /** The recorded shape (RecordedQuery.shape), e.g. `{"_outboxPending":"boolean"}`. */
  shape: string;
  why: string;
}

/**
 * Prove that every recorded query searches an index on FerretDB (expectIndexedQuery), but for
 * the listed scans. Prints one line per shape; throws listing every shape that scans.
 */
export async function expectIndexedQueries(
  db: Db,
  queries: RecordedQuery[],
  allowed: AllowedScan[] = [],
): Promise<{ collection: string; shape: string; index: string }[]> {
  const rows: { collection: string; shape: string; index: string }[] = [];
  const failures: string[] = [];
  const byShape = new Map<string, RecordedQuery>();
  for (const q of queries) byShape.set(`${q.collection} ${q.shape}`, q);
  for (const q of [...byShape.values()].sort((a, b) => `${a.collection} ${a.shape}`.localeCompare(`${b.collection} ${b.shape}`))) {
    const allow = allowed.find((a) => a.collection === q.collection && a.shape === q.shape);
    try {
      rows.push({ collection: q.collection, shape: q.shape, index: await expectIndexedQuery(db, q.collection, q.filter) });
    } catch (err) {
      if (allow) rows.push({ collection: q.collection, shape: q.shape, index: `SCAN (allowed: ${allow.why})` });
      else failures.push(`${q.method}: ${(err as Error).message}`);
    }
  }
  console.log(
    `query shapes (${rows.length} answered, ${failures.length} scanning):\n${rows.map((r) => `  ${r.collection} ${r.shape} -> ${r.index}`).join('\n')}`,
  );
  if (failures.length)
    throw new Error(
      `${failures.length} query shape(s) scan the collection; add an index (or list an allowed scan with a reason):\n${failures.join('\n')}`,
    );
  return rows;
}

/**
 * An index-proof suite (docs/decisions/0004): a patched FerretDB of its own for the describe
 * block. `infra.mongoUrl` points at it while `start` builds the service (its harness
 * connects there), and is put back after. Returns the started harness (read it in tests).
 */
export function onPrivateFerretDb<H extends { close(): Promise<void> }>(start: () => Promise<H>): () => H {
  let ferret: FerretDbServer | undefined;
  let started: H | undefined;
  const mongoUrl = infra.mongoUrl;
  beforeAll(async () => {
    ferret = await startFerretDb('patched');
    infra.mongoUrl = ferret.url;
    started = await start();
  }, 120_000);
  afterAll(async () => {
    await started?.close();
    infra.mongoUrl = mongoUrl;
    await ferret?.stop();
  });
  return () => {
    if (!started) throw new Error('the suite did not start');
    return started;
  };
}

/**
 * Drive a service while recording every query its connection sends, then prove each distinct
 * shape searches an index (expectIndexedQueries, but for `allowed`) and that at least
 * `searches` shapes did (so a drive that sent nothing cannot pass).
 */
export async function proveQueriesIndexed(
  conn: Connection,
  drive: () => Promise<void>,
  opts: { allowed?: AllowedScan[]; searches: number },
): Promise<{ collection: string; shape: string; index: string }[]> {
  const rec = recordQueries(conn);
  try {
    await drive();
  } finally {
    rec.stop();
  }
  const rows = await expectIndexedQueries(conn.db!, rec.queries(), opts.allowed);
  const searched = rows.filter((r) => !r.index.startsWith('SCAN')).length;
  if (searched < opts.searches) throw new Error(`${searched} query shapes searched an index; expected at least ${opts.searches}`);
  return rows;
}
