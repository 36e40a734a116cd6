// Storage scaling (run by `pnpm bench storage`, issue 10): the hot queries of every
// service at 1,000, 10,000 and 100,000 patients over 50 practices, with the matching notes
// (one per patient), users (one per ten patients), sessions (two per user) and audit
// entries (one per patient, appended through audit's real appender so the chain verifies),
// beside a raw findOne({_id}) in the same run. The queries are the repositories' own
// (same filters, sorts and limits, through the services' mongoose models and audit's
// repository); decryption and HTTP are left out: this measures what the storage costs.
// It runs its own FerretDB (patched by default; --build=upstream for the contrast).
// Options: --scales=1000,10000,100000 --practices=50 --seconds=2 --concurrency=4
//          --port=27101 --build=patched|upstream
//          --big-log=N (also verify one practice's log of N entries)
//          --reuse (measure the data an earlier run left in .data/bench-storage-<build>-<port> again)
// Results: .data/reports/bench-storage[-upstream].json and a markdown table on stdout.
import { KekRing, connectMongo, makeEvent, randomId } from '../../libs/platform/src';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { buildAuditLog } from '../../services/audit/src/app';
import { verifyTenantLog } from '../../services/audit/src/verify/verify-log';
import { sessionModel, usedHashesAfter } from '../../services/auth/src/sessions/model';
import { tenantModel } from '../../services/auth/src/tenants/model';
import { userModel } from '../../services/auth/src/users/model';
import { noteModel } from '../../services/records/src/notes/model';
import { patientModel } from '../../services/records/src/patients/model';
import { ROOT, type FerretDbBuild, startFerretDb, testLogger } from '../../libs/testing/src';

function arg(name: string, fallback: string): string {
  const hit = process.argv.find((a) => a.startsWith(`--${name}=`));
  return hit ? hit.slice(name.length + 3) : fallback;
}

const SCALES = arg('scales', '1000,10000,100000').split(',').map(Number);
const PRACTICES = Number(arg('practices', '50'));
const SECONDS = Number(arg('seconds', '2'));
const CONCURRENCY = Number(arg('concurrency', '4'));
const PORT = Number(arg('port', '27101'));
const BUILD = arg('build', 'patched') as FerretDbBuild;
const REUSE = process.argv.includes('--reuse');
const BIG_LOG = Number(arg('big-log', '0'));
const CHUNK = 100; // insertMany commands of at most 100 documents (docs/platform.md)
const log = (...a: unknown[]) => console.log('[storage bench]', ...a);

const hash = (s: string) => createHash('sha256').update(s).digest('base64url');
const sealed = (n: number) => ({ kid: 'pk_bench', ct: randomBytes(n).toString('base64') });
const pick = <T>(xs: T[]): T => xs[Math.floor(Math.random() * xs.length)]!;

interface Rate {
  perSec: number;
  p50Ms: number;
  p99Ms: number;
}

async function measure(op: () => Promise<unknown>): Promise<Rate> {
  const lat: number[] = [];
  const end = performance.now() + SECONDS * 1000;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < end) {
        const s = performance.now();
        await op();
        lat.push(performance.now() - s);
      }
    }),
  );
  const secs = (performance.now() - t0) / 1000;
  lat.sort((a, b) => a - b);
  const q = (p: number) => Math.round(lat[Math.min(lat.length - 1, Math.floor(lat.length * p))]! * 10) / 10;
  return { perSec: Math.round(lat.length / secs), p50Ms: q(0.5), p99Ms: q(0.99) };
}

async function main() {
  const dataDir = path.join(ROOT, '.data', `bench-storage-${BUILD}-${PORT}`);
  if (!REUSE) rmSync(dataDir, { recursive: true, force: true });
  const ferret = await startFerretDb(BUILD, { port: PORT, dataDir });
  log(`FerretDB (${BUILD}) on ${ferret.url}, data in ${dataDir}`);
  const conn = await connectMongo({ url: ferret.url, dbName: 'bench_storage' });
  const Patient = patientModel(conn);
  const Note = noteModel(conn);
  const User = userModel(conn);
  const Session = sessionModel(conn);
  const Tenant = tenantModel(conn);
  // A reused log keeps its chain; its signing key and checkpoints (sealed under another
  // run's key) start afresh: verification signs a new head either way.
  if (REUSE)
    for (const c of ['audit_signing_keys', 'audit_key_state', 'audit_checkpoints']) await conn.db!.dropCollection(c).catch(() => undefined);
  const audit = await buildAuditLog({
    mongo: conn,
    // A fixed throwaway key, so --reuse can open the signing key of an earlier run.
    keks: new KekRing({ KEK: createHash('sha256').update('praxis storage bench').digest('base64'), KEK_ID: 'bench' }),
    logger: testLogger('audit'),
    checkpointEvery: 1_000_000,
    checkpointIntervalMs: 3_600_000,
  });
  for (const m of [Patient, Note, User, Session, Tenant]) await m.createIndexes();

  const patients: { id: string; tenantId: string; familyNameIdx: string }[] = [];
  const users: { tenantId: string; slug: string; emailIndex: string }[] = [];
  const sessions: { id: string }[] = [];
  const results: Record<string, unknown>[] = [];
  const now = new Date();
  let tenants: { id: string; slug: string }[];
  let seeded = 0;
  let scales = SCALES;

  if (REUSE) {
    // Measure the data of an earlier run again, without seeding.
    tenants = (await Tenant.collection.find({}).toArray()).map((t) => ({ id: String(t._id), slug: t.slug as string }));
    const slugOf = new Map(tenants.map((t) => [t.id, t.slug]));
    for await (const p of Patient.collection.find({}, { projection: { _id: 1, tenantId: 1, familyNameIdx: 1 } }))
      patients.push({ id: String(p._id), tenantId: p.tenantId, familyNameIdx: p.familyNameIdx });
    for await (const u of User.collection.find({}, { projection: { tenantId: 1, emailIndex: 1 } }))
      users.push({ tenantId: u.tenantId, slug: slugOf.get(u.tenantId)!, emailIndex: u.emailIndex });
    for await (const x of Session.collection.find({}, { projection: { _id: 1 } })) sessions.push({ id: String(x._id) });
    seeded = patients.length;
    scales = [seeded];
    log(`reusing ${seeded} patients, ${users.length} users, ${sessions.length} sessions of ${tenants.length} practices`);
  } else {
    tenants = Array.from({ length: PRACTICES }, (_, i) => ({ id: randomId('ten'), slug: `bench-${i}-${randomBytes(3).toString('hex')}` }));
    await Tenant.collection.insertMany(
      tenants.map((t) => ({
        _id: t.id as never,
        slug: t.slug,
        name: 'Bench Practice',
        status: 'active',
        requireMfa: false,
        createdAt: now,
        updatedAt: now,
      })),
    );
  }

  for (const scale of scales) {
    const t0 = performance.now();
    for (let from = seeded; from < scale; from += CHUNK) {
      const n = Math.min(CHUNK, scale - from);
      const ps = Array.from({ length: n }, (_, k) => {
        const i = from + k;
        const t = tenants[i % PRACTICES]!;
        return {
          _id: randomId('pat'),
          tenantId: t.id,
          ref: `PX-${i.toString(36).toUpperCase().padStart(8, '0')}`,
          test: false,
          keyId: 'pk_bench',
          pii: {
            givenName: sealed(24),
            familyName: sealed(24),
            birthDate: sealed(16),
            email: sealed(40),
            mobile: sealed(24),
            address: sealed(80),
          },
          // Two patients of the practice share each family name, at every scale.
          familyNameIdx: hash(`${t.id}/family-${Math.floor(i / PRACTICES / 2)}`),
          createdAt: now,
          updatedAt: now,
        };
      });
      await Patient.collection.insertMany(ps as never[]);
      for (const p of ps) patients.push({ id: p._id, tenantId: p.tenantId, familyNameIdx: p.familyNameIdx });
      await Note.collection.insertMany(
        ps.map((p) => ({
          _id: randomId('nv'),
          tenantId: p.tenantId,
          patientId: p._id,
          noteId: randomId('note'),
          version: 1,
          keyId: 'pk_bench',
          title: sealed(24),
          body: sealed(200),
          authorId: 'usr_bench',
          createdAt: now,
        })) as never[],
      );
      const us = ps
        .filter((_, k) => (from + k) % 10 === 0)
        .map((p) => ({
          _id: randomId('usr'),
          tenantId: p.tenantId,
          emailIndex: hash(`${p._id}@example.test`),
          role: 'clinician',
          disabled: false,
          passwordHash: sealed(60).ct,
          emailSealed: sealed(40),
          nameSealed: sealed(24),
          createdAt: now,
          updatedAt: now,
        }));
      if (us.length) {
        await User.collection.insertMany(us as never[]);
        for (const u of us)
          users.push({ tenantId: u.tenantId, slug: tenants.find((t) => t.id === u.tenantId)!.slug, emailIndex: u.emailIndex });
        const ss = us.flatMap((u) =>
          [0, 1].map(() => ({
            _id: randomId('ses'),
            tenantId: u.tenantId,
            userId: u._id,
            kind: 'user',
            role: 'clinician',
            amr: ['pwd'],
            refreshHash: hash(randomBytes(8).toString('hex')),
            usedRefreshHashes: [],
            createdAt: now,
            lastUsedAt: now,
            expiresAt: new Date(Date.now() + 12 * 3600_000),
          })),
        );
        await Session.collection.insertMany(ss as never[]);
        for (const s of ss) sessions.push({ id: s._id });
      }
      // One audit entry per patient, appended per practice through audit's own appender.
      const byTenant = new Map<string, typeof ps>();
      for (const p of ps) byTenant.set(p.tenantId, [...(byTenant.get(p.tenantId) ?? []), p]);
      for (const [tenantId, list] of byTenant) {
        await audit.appender.appendBatch(
          tenantId,
          list.map((p) =>
            makeEvent({
              type: 'records.patient.viewed',
              tenantId,
              actor: { kind: 'user', id: 'usr_bench' },
              subject: { patientId: p._id },
              data: { patientId: p._id },
            }),
          ),
        );
      }
      if ((from / CHUNK) % 100 === 0 && from > seeded) log(`  seeded ${from} patients`);
    }
    const seedSecs = (performance.now() - t0) / 1000;
    log(
      `${scale} patients seeded (+${scale - seeded} in ${seedSecs.toFixed(0)} s); measuring ${SECONDS} s per query, ${CONCURRENCY} concurrent`,
    );
    seeded = scale;

    const row: Record<string, unknown> = {
      patients: scale,
      practices: PRACTICES,
      notes: scale,
      users: users.length,
      sessions: sessions.length,
      auditEntries: scale,
      seedSeconds: Math.round(seedSecs),
    };
    const m = async (name: string, op: () => Promise<unknown>) => {
      row[name] = await measure(op);
      log(`  ${name}: ${(row[name] as Rate).perSec}/s (p50 ${(row[name] as Rate).p50Ms} ms, p99 ${(row[name] as Rate).p99Ms} ms)`);
    };
    await m('raw findOne({_id})', () => Patient.collection.findOne({ _id: pick(patients).id as never }));
    await m('patient GET', () => {
      const p = pick(patients);
      return Patient.findOne({ _id: p.id, tenantId: p.tenantId }).lean().exec();
    });
    await m('notes list', () => {
      const p = pick(patients);
      return Note.find({ tenantId: p.tenantId, patientId: p.id }).sort({ noteId: 1, version: -1 }).lean().exec();
    });
    await m('family-name search', () => {
      const p = pick(patients);
      return Patient.find({ tenantId: p.tenantId, familyNameIdx: p.familyNameIdx }).sort({ _id: 1 }).limit(21).lean().exec();
    });
    await m('login', async () => {
      const u = pick(users);
      const t = await Tenant.collection.findOne({ slug: u.slug, status: { $ne: 'purged' } });
      return User.findOne({ tenantId: String(t!._id), emailIndex: u.emailIndex }).lean();
    });
    await m('token refresh', async () => {
      const s = await Session.findOne({ _id: pick(sessions).id }).lean();
      // The service's check before it rotates (sessionStillAllowed): the user and the practice, at once.
      await Promise.all([
        User.findOne({ tenantId: s!.tenantId, _id: s!.userId }).lean().exec(),
        Tenant.collection.findOne({ _id: s!.tenantId as never, status: { $ne: 'purged' } }),
      ]);
      return Session.collection.findOneAndUpdate(
        { tenantId: s!.tenantId, _id: s!._id, refreshHash: s!.refreshHash, revokedAt: { $exists: false } } as never,
        {
          // As the service writes it: the bounded list of used secrets, whole.
          $set: {
            refreshHash: hash(randomBytes(8).toString('hex')),
            lastUsedAt: new Date(),
            usedRefreshHashes: usedHashesAfter(s!.usedRefreshHashes ?? [], s!.refreshHash),
          },
        } as never,
        { returnDocument: 'after' },
      );
    });
    await m('audit query by patient', () => {
      const p = pick(patients);
      return audit.log.find(p.tenantId, { patientId: p.id }, 51, -1);
    });
    // Verify a practice's whole log (every hash and link re-computed, the head signed).
    const verifyMs: number[] = [];
    let verified = 0;
    for (let i = 0; i < 3; i++) {
      const t = tenants[i]!;
      const s = performance.now();
      const r = await verifyTenantLog(t.id, audit);
      verifyMs.push(performance.now() - s);
      if (!r.ok) throw new Error(`audit log of ${t.id} did not verify`);
      verified = r.entries;
    }
    const ms = verifyMs.sort((a, b) => a - b)[1]!;
    row['audit verify'] = { entries: verified, ms: Math.round(ms), entriesPerSec: Math.round((verified / ms) * 1000) };
    log(`  audit verify: ${verified} entries in ${Math.round(ms)} ms (${Math.round((verified / ms) * 1000)} entries/s)`);
    results.push(row);
  }

  // --big-log=N: one more practice whose log holds N entries, verified whole (the issue's
  // "audit verify of 100,000 entries").
  let bigLog: { entries: number; appendSeconds: number; verifyMs: number } | undefined;
  if (BIG_LOG > 0) {
    const tenantId = randomId('ten');
    const t0 = performance.now();
    for (let from = 0; from < BIG_LOG; from += CHUNK) {
      const n = Math.min(CHUNK, BIG_LOG - from);
      await audit.appender.appendBatch(
        tenantId,
        Array.from({ length: n }, (_, k) =>
          makeEvent({
            type: 'records.patient.viewed',
            tenantId,
            actor: { kind: 'user', id: 'usr_bench' },
            subject: { patientId: `pat_${from + k}` },
            data: { patientId: `pat_${from + k}` },
          }),
        ),
      );
    }
    const appendSeconds = Math.round((performance.now() - t0) / 1000);
    const s = performance.now();
    const r = await verifyTenantLog(tenantId, audit);
    const verifyMs = Math.round(performance.now() - s);
    if (!r.ok || r.entries !== BIG_LOG) throw new Error(`the big log did not verify (${r.entries} entries)`);
    bigLog = { entries: BIG_LOG, appendSeconds, verifyMs };
    log(
      `audit verify of one log of ${BIG_LOG} entries: ${verifyMs} ms (${Math.round((BIG_LOG / verifyMs) * 1000)} entries/s; appended in ${appendSeconds} s)`,
    );
  }

  await audit.checkpointer.stop();
  await conn.close();
  await ferret.stop();

  const names = ['patient GET', 'notes list', 'family-name search', 'login', 'token refresh', 'audit query by patient'];
  const raw = (r: Record<string, unknown>) => (r['raw findOne({_id})'] as Rate).perSec;
  const first = results[0]!;
  const lines = [
    `| query (per second, ${CONCURRENCY} concurrent) | ${results.map((r) => `${(r.patients as number).toLocaleString('en')} patients`).join(' | ')} | ${results.length > 1 ? 'last ÷ first |' : ''}`,
    `|---|${results.map(() => '---|').join('')}${results.length > 1 ? '---|' : ''}`,
    `| raw \`findOne({_id})\` | ${results.map((r) => `${raw(r)}`).join(' | ')} | ${results.length > 1 ? `${(raw(results.at(-1)!) / raw(first)).toFixed(2)} |` : ''}`,
    ...names.map(
      (n) =>
        `| ${n} | ${results.map((r) => `${(r[n] as Rate).perSec} (${((r[n] as Rate).perSec / raw(r)).toFixed(2)}× raw)`).join(' | ')} | ${results.length > 1 ? `${((results.at(-1)![n] as Rate).perSec / (first[n] as Rate).perSec).toFixed(2)} |` : ''}`,
    ),
    `| audit verify of one practice | ${results
      .map((r) => {
        const v = r['audit verify'] as { entries: number; ms: number };
        return `${v.entries} entries in ${v.ms} ms`;
      })
      .join(' | ')} | |`,
  ];
  console.log(`\nFerretDB ${BUILD}, ${PRACTICES} practices\n${lines.join('\n')}\n`);
  mkdirSync(path.join(ROOT, '.data/reports'), { recursive: true });
  const out = path.join(ROOT, `.data/reports/bench-storage${BUILD === 'upstream' ? '-upstream' : ''}${REUSE ? '-reuse' : ''}.json`);
  writeFileSync(
    out,
    `${JSON.stringify({ build: BUILD, practices: PRACTICES, seconds: SECONDS, concurrency: CONCURRENCY, results, bigLog, table: lines }, null, 2)}\n`,
  );
  log(`results in ${out}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
