// Load through the gateway as practices' software would send it: patients created,
// changed (PATCH) and viewed (GET, an audited access), by many practices at once. Every
// request's outcome is recorded, so the checks know what was acknowledged (2xx), what
// failed cleanly (4xx/5xx) and what is unknown (connection lost mid-request).
import { randomBytes } from 'node:crypto';
import { Api, strongPassword, uniqueSlug } from '../../e2e/client';

export interface Practice {
  slug: string;
  tenantId: string;
  email: string;
  password: string;
  token: string;
  api: Api;
  /** Its sign-up died between its two writes and was completed by signing up again later. */
  resumed?: boolean;
}

export interface PatientTrack {
  practice: Practice;
  id: string;
  /** Updates whose change is known to be stored (200, or seen on a read after an unknown outcome). */
  appliedUpdates: number;
  /**
   * Updates whose outcome stays unknown: the answer was lost and the read-back did not see
   * the value, yet the request may still be running in records (a client timeout, or the
   * gateway killed while records carries on) and store it later. The log may hold their
   * events or not; never more than these.
   */
  uncertainUpdates: number;
  /** Views answered 200 (their access event must be in the log)… */
  ackedViews: number;
  /** …and every view attempted (the log may hold a view whose answer was lost, never more). */
  attemptedViews: number;
  value: string;
}

export interface LoadFigures {
  sent: number;
  acknowledged: number;
  failed: number;
  unknown: number;
  /** Creations answered 201. */
  created: number;
  /** Creations whose outcome is unknown (a patient may exist that the client never heard of). */
  unknownCreates: number;
  resolvedByRead: number;
  statuses: Record<string, number>;
  ms: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A practice: signed up and its admin logged in, retrying through faults as a client
 * would. Sign-up is two writes in auth (tenant, then admin). After an attempt whose answer
 * was lost, a 409 means either that attempt completed (the admin can log in) or it died
 * between the writes; auth gives such a slug back after ABANDONED_SIGNUP_MS (2 minutes),
 * so the client signs up again until it gets through: the saga resumes.
 */
export async function newPractice(base: string, prefix: string): Promise<Practice> {
  const api = new Api(`${base}/api/v1`);
  const slug = uniqueSlug(prefix);
  const email = `admin@${slug}.example.test`;
  const password = strongPassword();
  const deadline = Date.now() + 4 * 60_000;
  let resumed = false;
  let triedLogin = false;
  for (let attempt = 0; ; attempt++) {
    const r = await api
      .post<{ tenant: { id: string } }>('/tenants', { name: `Chaos ${slug}`, slug, admin: { name: 'Chaos Admin', email, password } })
      .catch(() => undefined);
    if (r?.status === 201) break;
    if (r?.status === 409 && attempt > 0) {
      if (!triedLogin) {
        // One try (a failed login counts against the account): did the lost attempt complete?
        let l = await api.post('/auth/login', { tenant: slug, email, password }).catch(() => undefined);
        while (!l || l.status >= 500) {
          await sleep(1000);
          l = await api.post('/auth/login', { tenant: slug, email, password }).catch(() => undefined);
        }
        triedLogin = true;
        if (l.status === 200) break;
      }
      // It died between its writes: wait for the slug to be given back.
      resumed = true;
      await sleep(10_000);
    } else await sleep(1000);
    if (Date.now() > deadline) throw new Error(`sign-up of ${slug} kept failing (${r?.status})`);
  }
  const token = await login(api, slug, email, password);
  for (let attempt = 0; ; attempt++) {
    const me = await api.get<{ tenant: { id: string } }>('/auth/me', token).catch(() => undefined);
    if (me?.status === 200) return { slug, tenantId: me.body.tenant.id, email, password, token, api, resumed };
    if (attempt > 60) throw new Error(`GET /auth/me for ${slug} kept failing (${me?.status})`);
    await sleep(1000);
  }
}

export async function login(api: Api, slug: string, email: string, password: string): Promise<string> {
  for (let attempt = 0; ; attempt++) {
    const r = await api.post<{ accessToken: string }>('/auth/login', { tenant: slug, email, password }).catch(() => undefined);
    if (r?.status === 200) return r.body.accessToken;
    if (attempt > 60) throw new Error(`login to ${slug} kept failing (${r?.status})`);
    await sleep(1000);
  }
}

export class Load {
  /** Each worker's own patients: one worker alone writes a patient, so its updates are sequential and a read-back settles an unknown outcome. */
  private readonly own: PatientTrack[][];
  readonly figures: LoadFigures = {
    sent: 0,
    acknowledged: 0,
    failed: 0,
    unknown: 0,
    created: 0,
    unknownCreates: 0,
    resolvedByRead: 0,
    statuses: {},
    ms: 0,
  };
  /** Operations finished (any outcome). */
  done = 0;
  private startedAt = 0;
  private stopped = false;

  constructor(
    private readonly practices: Practice[],
    private readonly opts: { operations: number; concurrency: number; maxMs?: number; holdUntil?: () => boolean },
  ) {
    this.own = Array.from({ length: opts.concurrency }, () => []);
  }

  get patients(): PatientTrack[] {
    return this.own.flat();
  }

  /** How far the load is, 0–1: by operations, or by time when a time cap is set and comes first. Fault injectors strike at fractions of it. */
  progress(): number {
    const byOps = this.done / this.opts.operations;
    if (!this.opts.maxMs || !this.startedAt) return byOps;
    return Math.max(byOps, (Date.now() - this.startedAt) / this.opts.maxMs);
  }

  stop(): void {
    this.stopped = true;
  }

  private note(status: number | 'unknown'): void {
    this.figures.statuses[status] = (this.figures.statuses[status] ?? 0) + 1;
  }

  private async call(
    p: Practice,
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number | 'unknown'; body: Record<string, unknown> }> {
    this.figures.sent++;
    try {
      const r = await p.api.call(method, path, { token: p.token, ...(body !== undefined ? { body } : {}) });
      this.note(r.status);
      if (r.status >= 200 && r.status < 300) this.figures.acknowledged++;
      else this.figures.failed++;
      // A 401 after a restart of auth is impossible (tokens outlive it); refresh anyway if the token expired.
      if (r.status === 401) p.token = await login(p.api, p.slug, p.email, p.password);
      return { status: r.status, body: r.body };
    } catch {
      this.figures.unknown++;
      this.note('unknown');
      return { status: 'unknown', body: {} };
    }
  }

  /** Read the patient until an answer comes, to learn whether a change with a lost answer was stored. */
  private async resolve(t: PatientTrack): Promise<string | undefined> {
    for (let i = 0; i < 120; i++) {
      await sleep(i === 0 ? 1000 : 1000);
      t.attemptedViews++;
      const r = await this.call(t.practice, 'GET', `/patients/${t.id}`);
      if (r.status === 200) {
        t.ackedViews++;
        return r.body.givenName as string;
      }
    }
    return undefined;
  }

  private async op(worker: number, n: number): Promise<void> {
    const practice = this.practices[(worker + n) % this.practices.length]!;
    const mine = this.own[worker]!;
    const roll = n % 5;
    if (mine.length < 2 || roll === 0) {
      const r = await this.call(practice, 'POST', '/patients', {
        givenName: 'Chaos',
        familyName: `Load${randomBytes(3).toString('hex')}`,
        birthDate: '1980-01-01',
        test: true,
      });
      if (r.status === 201) {
        this.figures.created++;
        mine.push({
          practice,
          id: r.body.id as string,
          appliedUpdates: 0,
          uncertainUpdates: 0,
          ackedViews: 0,
          attemptedViews: 0,
          value: 'Chaos',
        });
      } else if (r.status === 'unknown') this.figures.unknownCreates++;
      return;
    }
    const t = mine[n % mine.length]!;
    const practiceOf = t.practice;
    if (roll === 1 || roll === 3) {
      const value = `V${randomBytes(4).toString('hex')}`;
      const r = await this.call(practiceOf, 'PATCH', `/patients/${t.id}`, { givenName: value });
      if (r.status === 200) {
        t.appliedUpdates++;
        t.value = value;
      } else if (r.status === 'unknown' || r.status >= 500) {
        // The answer is lost or the request failed part-way: read back whether it was stored.
        const seen = await this.resolve(t);
        this.figures.resolvedByRead++;
        if (seen === value) {
          t.appliedUpdates++;
          t.value = value;
        } else if (seen === undefined) throw new Error(`patient ${t.id} could not be read back after a failed change`);
        else if (r.status === 'unknown' || r.status === 502 || r.status === 504) t.uncertainUpdates++;
      }
      return;
    }
    t.attemptedViews++;
    const r = await this.call(practiceOf, 'GET', `/patients/${t.id}`);
    if (r.status === 200) t.ackedViews++;
  }

  async run(): Promise<LoadFigures> {
    const t0 = Date.now();
    this.startedAt = t0;
    let next = 0;
    const workers = Array.from({ length: this.opts.concurrency }, async (_, w) => {
      let n = 0;
      // Past the time cap the load goes on while holdUntil() is false (a fault schedule not done yet).
      const inTime = () =>
        !this.opts.maxMs || Date.now() - t0 < this.opts.maxMs || (this.opts.holdUntil !== undefined && !this.opts.holdUntil());
      // Past the operation count too: a fault schedule still running keeps the load going.
      const holding = () => this.opts.holdUntil !== undefined && !this.opts.holdUntil();
      while (!this.stopped && (next < this.opts.operations || holding()) && inTime()) {
        next++;
        await this.op(w, n++);
        this.done++;
      }
    });
    await Promise.all(workers);
    this.figures.ms = Date.now() - t0;
    return this.figures;
  }
}
