// The invariants, read from the services' own databases (the truth of what changed) and
// the audit log (the truth of which events arrived), plus the audit's own verification
// through the gateway.
import { Bus, createLogger } from '@praxis/platform';
import mongoose, { type Connection } from 'mongoose';
import type { Platform } from '../../e2e/platform';
import { type Load, type Practice, login } from './load';
import { amqpUrl, chaosInfra, mongoUrl } from './servers';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface EntryRow {
  tenantId: string;
  seq: number;
  eventId: string;
  type: string;
  patientId?: string;
}

export interface LogFigures {
  entries: number;
  /** Acknowledged changes or views with no event in the log. */
  lost: number;
  /** Events in the log twice, or more events than changes/attempts. */
  duplicated: number;
  /** Patients stored without their created event, or created events without a patient. */
  changeWithoutEvent: number;
  eventWithoutChange: number;
  /** Acknowledged patients missing from records' database. */
  ackedWritesLost: number;
  /** Events audit had parked (retries spent during an outage) and the run replayed. */
  parkedReplayed: number;
  /** Changes whose outcome the client could not learn (their events may or may not be in the log). */
  uncertainUpdates: number;
  chainsVerified: number;
  chainsFailed: number;
  outboxPending: number;
  drainMs: number;
  problems: string[];
}

export class Inspector {
  private conn?: Connection;
  constructor(private readonly platform: Platform) {}

  private async db(): Promise<Connection> {
    if (!this.conn) this.conn = await mongoose.createConnection(mongoUrl, { serverSelectionTimeoutMS: 60_000 }).asPromise();
    return this.conn;
  }

  async close(): Promise<void> {
    await this.conn?.close().catch(() => undefined);
  }

  private dbName(service: string): string {
    return `e2e_${service}_${this.platform.run}`;
  }

  /** Events waiting in any service's outbox (inside changed documents or standalone). */
  async outboxPending(): Promise<number> {
    const conn = await this.db();
    let n = 0;
    for (const s of this.platform.services) {
      const db = conn.useDb(this.dbName(s), { useCache: true }).db!;
      for (const c of await db.listCollections({}, { nameOnly: true }).toArray()) {
        const col = db.collection(c.name);
        n += c.name === 'outbox' ? await col.countDocuments({}) : await col.countDocuments({ _outboxPending: true });
      }
    }
    return n;
  }

  /**
   * Events audit parked (its retries ran out, e.g. while FerretDB was down longer than the
   * retry delays): not lost, but not in the log until replayed. An operator replays them
   * (Bus.replayParked); the run does the same and reports how many.
   */
  parkedReplayed = 0;
  /** drain() replays audit's parked messages (as an operator would); off where parking itself is the failure. */
  replayParked = true;

  async replayParkedAudit(): Promise<number> {
    const parked = await this.auditQueueDepth('.parked').catch(() => 0);
    if (parked === 0) return 0;
    const bus = new Bus({ url: amqpUrl, service: 'audit', logger: createLogger({ service: 'chaos', level: 'silent' }) });
    await bus.connect();
    try {
      const n = await bus.replayParked(`e2e-${this.platform.run}`, 100_000);
      this.parkedReplayed += n;
      return n;
    } finally {
      await bus.close();
    }
  }

  /** Messages still queued for audit (ready or unacknowledged), from the management API. */
  async auditQueueDepth(suffix = ''): Promise<number> {
    const q = encodeURIComponent(`audit.e2e-${this.platform.run}${suffix}`);
    const res = await fetch(`http://127.0.0.1:${chaosInfra.mgmtPort}/api/queues/%2F/${q}`, {
      headers: { authorization: 'Basic ' + Buffer.from('guest:guest').toString('base64') },
      signal: AbortSignal.timeout(5_000),
    });
    const body = (await res.json()) as { messages?: number };
    return body.messages ?? 0;
  }

  async entries(): Promise<EntryRow[]> {
    const conn = await this.db();
    const col = conn.useDb(this.dbName('audit'), { useCache: true }).db!.collection('audit_entries');
    // One scan (FerretDB pushes only _id equality down); filtered by tenant here.
    return (await col
      .find({}, { projection: { _id: 0, tenantId: 1, seq: 1, eventId: 1, type: 1, patientId: 1 } })
      .toArray()) as unknown as EntryRow[];
  }

  /** How many entries one tenant's log holds now. */
  async entryCountOf(tenantId: string): Promise<number> {
    const conn = await this.db();
    return conn.useDb(this.dbName('audit'), { useCache: true }).db!.collection('audit_entries').countDocuments({ tenantId });
  }

  async patientIds(): Promise<{ id: string; tenantId: string }[]> {
    const conn = await this.db();
    const col = conn.useDb(this.dbName('records'), { useCache: true }).db!.collection('patients');
    return (await col.find({}, { projection: { _id: 1, tenantId: 1 } }).toArray()).map((d) => ({
      id: String(d._id),
      tenantId: String(d.tenantId),
    }));
  }

  /** Wait until every outbox is empty, audit's queue is empty and the log stops growing. */
  async drain(timeoutMs: number): Promise<number> {
    const t0 = Date.now();
    let last = -1;
    let stableSince = Date.now();
    for (;;) {
      const [pending, depth] = await Promise.all([this.outboxPending().catch(() => -1), this.auditQueueDepth().catch(() => -1)]);
      // Counting entries is a scan of the log: only once nothing is waiting upstream.
      const count = pending === 0 && depth === 0 ? await this.entryCount().catch(() => -1) : -2;
      if (count !== last) {
        last = count;
        stableSince = Date.now();
      }
      if (pending === 0 && depth === 0 && Date.now() - stableSince > 3_000) {
        if (!this.replayParked || (await this.replayParkedAudit()) === 0) return Date.now() - t0;
        stableSince = Date.now();
      }
      if (Date.now() - t0 > timeoutMs)
        throw new Error(`not drained after ${timeoutMs} ms: outbox ${pending}, audit queue ${depth}, entries ${count}`);
      await sleep(1500);
    }
  }

  private async entryCount(): Promise<number> {
    const conn = await this.db();
    return conn.useDb(this.dbName('audit'), { useCache: true }).db!.collection('audit_entries').estimatedDocumentCount();
  }

  /** Every invariant over the practices' tenants, after drain(). */
  async check(practices: Practice[], load: Load | undefined, drainMs: number): Promise<LogFigures> {
    const f: LogFigures = {
      entries: 0,
      lost: 0,
      duplicated: 0,
      changeWithoutEvent: 0,
      eventWithoutChange: 0,
      ackedWritesLost: 0,
      parkedReplayed: this.parkedReplayed,
      uncertainUpdates: 0,
      chainsVerified: 0,
      chainsFailed: 0,
      outboxPending: 0,
      drainMs,
      problems: [],
    };
    this.parkedReplayed = 0;
    const tenants = new Set(practices.map((p) => p.tenantId));
    const entries = (await this.entries()).filter((e) => tenants.has(e.tenantId));
    f.entries = entries.length;
    f.outboxPending = await this.outboxPending();
    const problem = (s: string) => f.problems.length < 20 && f.problems.push(s);

    // One entry per event id, and gapless sequences per tenant.
    const byTenant = new Map<string, EntryRow[]>();
    const ids = new Set<string>();
    for (const e of entries) {
      if (ids.has(e.eventId)) {
        f.duplicated++;
        problem(`event ${e.eventId} twice in the log`);
      }
      ids.add(e.eventId);
      const l = byTenant.get(e.tenantId) ?? [];
      l.push(e);
      byTenant.set(e.tenantId, l);
    }
    for (const [tenant, l] of byTenant) {
      l.sort((a, b) => a.seq - b.seq);
      l.forEach((e, i) => e.seq !== i + 1 && problem(`tenant ${tenant}: seq ${e.seq} at position ${i + 1}`));
    }

    // Changes against events: records' database against the created/updated/viewed entries.
    const count = (type: string) => {
      const m = new Map<string, number>();
      for (const e of entries) if (e.type === type && e.patientId) m.set(e.patientId, (m.get(e.patientId) ?? 0) + 1);
      return m;
    };
    const created = count('records.patient.created');
    const updated = count('records.patient.updated');
    const viewed = count('records.patient.viewed');
    const stored = (await this.patientIds()).filter((p) => tenants.has(p.tenantId));
    const storedIds = new Set(stored.map((p) => p.id));
    for (const p of stored) {
      const n = created.get(p.id) ?? 0;
      if (n === 0) {
        f.changeWithoutEvent++;
        problem(`patient ${p.id} stored without a created event`);
      }
      if (n > 1) {
        f.duplicated += n - 1;
        problem(`patient ${p.id}: ${n} created events`);
      }
    }
    for (const id of created.keys()) {
      if (!storedIds.has(id)) {
        f.eventWithoutChange++;
        problem(`created event for patient ${id}, who is not stored`);
      }
    }
    for (const t of load?.patients ?? []) {
      if (!storedIds.has(t.id)) {
        f.ackedWritesLost++;
        problem(`acknowledged patient ${t.id} is not stored`);
      }
      if (!created.has(t.id)) f.lost++;
      const u = updated.get(t.id) ?? 0;
      if (u < t.appliedUpdates) {
        f.lost += t.appliedUpdates - u;
        problem(`patient ${t.id}: ${t.appliedUpdates} stored changes, ${u} updated events`);
      }
      if (u > t.appliedUpdates + t.uncertainUpdates) {
        f.eventWithoutChange += u - t.appliedUpdates - t.uncertainUpdates;
        problem(`patient ${t.id}: ${u} updated events for ${t.appliedUpdates} stored changes and ${t.uncertainUpdates} of unknown outcome`);
      }
      f.uncertainUpdates += t.uncertainUpdates;
      const v = viewed.get(t.id) ?? 0;
      if (v < t.ackedViews) {
        f.lost += t.ackedViews - v;
        problem(`patient ${t.id}: ${t.ackedViews} answered views, ${v} viewed events`);
      }
      if (v > t.attemptedViews) {
        f.duplicated += v - t.attemptedViews;
        problem(`patient ${t.id}: ${v} viewed events for ${t.attemptedViews} views attempted`);
      }
    }

    // Each tenant's chain, verified by audit itself through the gateway.
    for (const p of practices) {
      let r = await p.api.get<{ ok: boolean; entries: number }>('/audit/verify', p.token);
      const counted = byTenant.get(p.tenantId)?.length ?? 0;
      // Every entry counted above is in the verified chain, and nothing else…
      let most = counted;
      // A long run outlives the access token (10 minutes): sign in again, as a client would.
      if (r.status === 401) {
        p.token = await login(p.api, p.slug, p.email, p.password);
        r = await p.api.get<{ ok: boolean; entries: number }>('/audit/verify', p.token);
        // …except that this sign-in is audited too, and its entries may already be chained.
        most = await this.entryCountOf(p.tenantId);
      }
      const entries = r.body.entries;
      if (r.status === 200 && r.body.ok && entries >= counted && entries <= most) f.chainsVerified++;
      else {
        f.chainsFailed++;
        problem(`tenant ${p.tenantId}: verify ${r.status} ${JSON.stringify(r.body).slice(0, 200)}`);
      }
    }
    if (f.outboxPending) problem(`${f.outboxPending} events still in outboxes`);
    return f;
  }
}

export function invariantsHold(f: LogFigures): boolean {
  return (
    f.lost === 0 &&
    f.duplicated === 0 &&
    f.changeWithoutEvent === 0 &&
    f.eventWithoutChange === 0 &&
    f.ackedWritesLost === 0 &&
    f.chainsFailed === 0 &&
    f.outboxPending === 0 &&
    f.problems.length === 0
  );
}
