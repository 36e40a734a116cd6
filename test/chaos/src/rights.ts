// Consent and messaging under scenario 2's kills: messages (SMS and email) queued through
// the gateway, subject access requests and erasures started, while consent, messaging,
// records and the rest are SIGKILLed and restarted. Afterwards, counted at the third
// parties themselves (the local SMS simulators' record of what they accepted, Mailpit's
// inbox): no SMS or email went out twice, none accepted went missing, no SMS credit was
// spent twice, and every SAR and erasure saga completed exactly once.
import { randomBytes } from 'node:crypto';
import type { Inspector } from './check';
import { type Practice, login, newPractice } from './load';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
// The simulators and Mailpit that scripts/infra runs (test/e2e/platform.ts's messagingEnv).
const SIMS = ['http://127.0.0.1:4010', 'http://127.0.0.1:4011'];
const MAILPIT = 'http://127.0.0.1:8025';

interface Sent {
  i: number;
  channel: 'sms' | 'email';
  /** 202 with this id, or undefined when the answer was lost or refused. */
  id?: string;
  status: number;
}

export interface RightsFigures {
  messagesQueued: number;
  messagesUncertain: number;
  messagesRefused: number;
  refusedStatuses: Record<string, number>;
  finalStatuses: Record<string, number>;
  smsAtProviders: number;
  emailsAtMailpit: number;
  sentTwice: number;
  missing: number;
  creditsBought: number;
  creditsSpent: number;
  smsSent: number;
  sars: number;
  sarsCompleted: number;
  erasures: number;
  erasuresCompleted: number;
  sagaEventsTwice: number;
  problems: string[];
}

export class RightsAndMessages {
  private practice?: Practice;
  private readonly marker = `chaos${randomBytes(5).toString('hex')}`;
  private readonly sent: Sent[] = [];
  private readonly sars: { patientId: string; id?: string }[] = [];
  private readonly erasures: { patientId: string; id?: string }[] = [];
  private running = false;
  private loop?: Promise<void>;
  private balance0 = 0;
  private readonly credits = 100_000;
  private error?: string;

  constructor(
    private readonly base: string,
    private readonly sizes: { messages: number; rightsRequests: number; spreadMs: number },
  ) {}

  private get p(): Practice {
    if (!this.practice) throw new Error('not started');
    return this.practice;
  }

  /** One call with the practice's token; a run outlives a token (10 minutes): sign in again once on 401. */
  private async authed<T>(call: (token: string) => Promise<{ status: number; body: T }>): Promise<{ status: number; body: T }> {
    const r = await call(this.p.token);
    if (r.status !== 401) return r;
    this.p.token = await login(this.p.api, this.p.slug, this.p.email, this.p.password);
    return call(this.p.token);
  }

  /** Retries through faults (5xx, lost answers) as a client would, for calls that are safe to repeat. */
  private async retrying<T>(
    fn: () => Promise<{ status: number; body: T }>,
    ok: (s: number) => boolean,
  ): Promise<{ status: number; body: T }> {
    const deadline = Date.now() + 180_000;
    for (;;) {
      const r = await fn().catch(() => ({ status: 0, body: undefined as T }));
      if (ok(r.status) || (r.status >= 400 && r.status < 500 && r.status !== 404) || Date.now() > deadline) return r;
      await sleep(500);
    }
  }

  private async patient(n: number, contact: boolean): Promise<string> {
    const body = {
      givenName: 'Chaos',
      familyName: `Rights${n}`,
      birthDate: '1980-01-01',
      test: true,
      ...(contact ? { email: `${this.marker}-${n}@chaos.example.test`, mobile: `+4479123${String(n % 100_000).padStart(5, '0')}` } : {}),
    };
    // A valid UK mobile (the 07700 900xxx drama range is not a valid number to libphonenumber).
    // A lost answer may leave a patient behind: harmless here (nothing counts patients).
    const r = await this.retrying(
      () => this.authed((t) => this.p.api.post<{ id: string }>('/patients', body, t)),
      (s) => s === 201,
    );
    if (r.status !== 201) throw new Error(`creating a patient answered ${r.status}`);
    return r.body.id;
  }

  /** Sign the practice up, buy SMS credit, make the patients; before the faults. */
  async prepare(): Promise<void> {
    this.practice = await newPractice(this.base, 'chaos-rights');
    const bought = await this.authed((t) => this.p.api.post<{ balance: number }>('/sms-credits/purchases', { quantity: this.credits }, t));
    if (bought.status !== 201) throw new Error(`buying SMS credit answered ${bought.status}`);
    this.balance0 = bought.body.balance;
  }

  start(): void {
    this.running = true;
    this.loop = this.run().catch((err: unknown) => void (this.error = String(err)));
  }

  private async run(): Promise<void> {
    const recipients: string[] = [];
    for (let n = 0; n < 4; n++) recipients.push(await this.patient(n, true));
    let i = 0;
    let rights = 0;
    while (this.running && (i < this.sizes.messages || rights < this.sizes.rightsRequests)) {
      if (i < this.sizes.messages) {
        for (const channel of ['sms', 'email'] as const) {
          const n = i++;
          const text = `${this.marker} message ${n}`;
          // Not retried: a POST /messages whose answer was lost may have queued it (uncertain).
          const r = await this.authed((t) =>
            this.p.api.post<{ id: string }>(
              '/messages',
              {
                patientId: recipients[n % recipients.length],
                channel,
                body: `Chaos test ${text}`,
                ...(channel === 'email' ? { subject: text } : {}),
              },
              t,
            ),
          ).catch(() => ({ status: 0, body: undefined }));
          this.sent.push({ i: n, channel, status: r.status, ...(r.status === 202 && r.body ? { id: r.body.id } : {}) });
        }
      }
      if (rights < this.sizes.rightsRequests && i % 6 === 0) {
        rights++;
        const sarPatient = await this.patient(1000 + rights, false);
        const erasePatient = await this.patient(2000 + rights, false);
        const sar = await this.retrying(
          () => this.authed((t) => this.p.api.post<{ id: string }>('/subject-access-requests', { patientId: sarPatient }, t)),
          (s) => s === 201,
        );
        this.sars.push({ patientId: sarPatient, ...(sar.status === 201 ? { id: sar.body.id } : {}) });
        const era = await this.retrying(
          () =>
            this.authed((t) => this.p.api.post<{ id: string }>('/erasure-requests', { patientId: erasePatient, reason: 'chaos test' }, t)),
          (s) => s === 202,
        );
        this.erasures.push({ patientId: erasePatient, ...(era.status === 202 ? { id: era.body.id } : {}) });
      }
      // Spread over the kills (a burst could fall entirely into one service's restart).
      await sleep(Math.min(3_000, Math.max(250, this.sizes.spreadMs / Math.max(1, this.sizes.messages / 2))));
    }
  }

  /** The activity done (or cut short when the faults are over). */
  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  /** Waits for every message, SAR and erasure to settle, then counts at the third parties. */
  async check(inspector: Inspector, timeoutMs: number): Promise<RightsFigures> {
    const problems: string[] = [];
    if (this.error) problems.push(`consent/messaging activity stopped: ${this.error}`);
    const queued = this.sent.filter((s) => s.id);
    const final = new Map<string, { status: string; segments?: number }>();
    const deadline = Date.now() + timeoutMs;
    const settled = (s: string) => ['sent', 'delivered', 'failed', 'blocked'].includes(s);
    for (const m of queued) {
      for (;;) {
        const r = await this.authed((t) => this.p.api.get<{ status: string; segments?: number }>(`/messages/${m.id}`, t)).catch(() => ({
          status: 0,
          body: undefined,
        }));
        if (r.status === 200 && r.body && (settled(r.body.status) || Date.now() > deadline)) {
          final.set(m.id!, r.body);
          break;
        }
        if (Date.now() > deadline) break;
        await sleep(1000);
      }
    }
    const pollDone = async (path: string) => {
      for (;;) {
        const r = await this.authed((t) => this.p.api.get<{ status: string }>(path, t)).catch(() => ({ status: 0, body: undefined }));
        if ((r.status === 200 && r.body && r.body.status !== 'pending') || Date.now() > deadline)
          return r.body?.status ?? `http ${r.status}`;
        await sleep(1000);
      }
    };
    const sarStatus = await Promise.all(this.sars.map((s) => (s.id ? pollDone(`/subject-access-requests/${s.id}`) : 'not created')));
    const eraStatus = await Promise.all(this.erasures.map((e) => (e.id ? pollDone(`/erasure-requests/${e.id}`) : 'not created')));
    // A late duplicate send would come now.
    await sleep(3_000);

    // What the providers and the mail server got, by the text's own number.
    const atProviders = new Map<number, number>();
    for (const sim of SIMS) {
      const r = await fetch(`${sim}/_sim/messages`, { signal: AbortSignal.timeout(30_000) });
      const body = (await r.json()) as { items: { body: string }[] };
      for (const m of body.items) {
        const hit = new RegExp(`${this.marker} message (\\d+)\\b`).exec(m.body);
        if (hit) atProviders.set(Number(hit[1]), (atProviders.get(Number(hit[1])) ?? 0) + 1);
      }
    }
    const atMailpit = new Map<number, number>();
    const search = await fetch(`${MAILPIT}/api/v1/search?query=${encodeURIComponent(`subject:"${this.marker}"`)}&limit=10000`, {
      signal: AbortSignal.timeout(30_000),
    });
    const found = (await search.json()) as { messages?: { Subject: string }[] };
    for (const m of found.messages ?? []) {
      const hit = new RegExp(`${this.marker} message (\\d+)\\b`).exec(m.Subject);
      if (hit) atMailpit.set(Number(hit[1]), (atMailpit.get(Number(hit[1])) ?? 0) + 1);
    }
    const count = (m: Sent) => (m.channel === 'sms' ? atProviders : atMailpit).get(m.i) ?? 0;
    const statuses: Record<string, number> = {};
    let sentTwice = 0;
    let missing = 0;
    let smsSent = 0;
    let smsSegments = 0;
    for (const m of this.sent) {
      const n = count(m);
      if (n > 1) {
        sentTwice++;
        problems.push(`${m.channel} message ${m.i} reached its ${m.channel === 'sms' ? 'provider' : 'mail server'} ${n} times`);
      }
      // Sent unasked (no 202) is possible only when the answer was lost: such a POST may have queued it.
      if (n > 0 && !m.id && m.status !== 0) problems.push(`${m.channel} message ${m.i} was refused (${m.status}) yet sent`);
      if (!m.id) {
        // Its answer was lost, yet it was queued and sent: its credit was spent like any other's
        // (the texts are short: one segment each).
        if (m.channel === 'sms' && n > 0) {
          smsSent++;
          smsSegments += 1;
        }
        continue;
      }
      const f = final.get(m.id);
      const st = f?.status ?? 'unknown';
      statuses[st] = (statuses[st] ?? 0) + 1;
      if (!settled(st)) problems.push(`message ${m.i} (${m.channel}) still ${st}`);
      if ((st === 'sent' || st === 'delivered') && n === 0) {
        missing++;
        problems.push(`message ${m.i} (${m.channel}) is ${st} but never reached the ${m.channel === 'sms' ? 'providers' : 'mail server'}`);
      }
      if (m.channel === 'sms' && n > 0) {
        smsSent++;
        smsSegments += f?.segments ?? 1;
      }
    }
    if (queued.length === 0) problems.push(`none of ${this.sent.length} messages was accepted: nothing was tested`);
    // A reservation a kill left without its message is refunded by messaging's sweep once it is
    // older than CREDIT_HOLD_S (20 s here): give the sweep that long to settle the balance.
    const balanceDeadline = Date.now() + 30_000;
    let spent: number;
    for (;;) {
      const balance = await this.authed((t) => this.p.api.get<{ balance: number }>('/sms-credits', t));
      spent = this.balance0 - balance.body.balance;
      if (spent <= smsSegments || Date.now() > balanceDeadline) break;
      await new Promise((r) => setTimeout(r, 1_000));
    }
    // Each SMS that went out spends its segments once; more spent than went out is credit spent twice.
    if (spent > smsSegments) problems.push(`${spent} SMS credits spent for ${smsSegments} segments sent (${smsSent} SMS)`);

    // Sagas: each completed, and their completion (and the erasures' effects) recorded once.
    const tenant = this.p.tenantId;
    const entries = (await inspector.entries()).filter((e) => e.tenantId === tenant);
    const per = (type: string, patientId: string) => entries.filter((e) => e.type === type && e.patientId === patientId).length;
    let sagaEventsTwice = 0;
    this.sars.forEach((s, k) => {
      if (sarStatus[k] !== 'completed') problems.push(`SAR ${s.id ?? '(not created)'}: ${sarStatus[k]}`);
      const created = per('consent.access-request.created', s.patientId);
      const completed = per('consent.access-request.completed', s.patientId);
      if (completed > created) {
        sagaEventsTwice += completed - created;
        problems.push(`SAR for ${s.patientId}: ${completed} completions for ${created} requests`);
      }
    });
    this.erasures.forEach((e, k) => {
      if (eraStatus[k] !== 'completed') problems.push(`erasure ${e.id ?? '(not created)'}: ${eraStatus[k]}`);
      for (const type of ['consent.erasure-request.completed', 'records.patient.erased', 'messaging.patient.erased']) {
        const n = per(type, e.patientId);
        if (n > 1) {
          sagaEventsTwice += n - 1;
          problems.push(`erasure of ${e.patientId}: ${n} ${type} events`);
        }
        if (n === 0 && eraStatus[k] === 'completed' && type !== 'messaging.patient.erased')
          problems.push(`erasure of ${e.patientId} completed without ${type}`);
      }
    });
    for (const e of this.erasures) {
      const r = await this.authed((t) => this.p.api.get(`/patients/${e.patientId}`, t));
      if (r.status !== 404) problems.push(`erased patient ${e.patientId} answers ${r.status}`);
    }
    return {
      messagesQueued: queued.length,
      messagesUncertain: this.sent.filter((s) => s.status === 0).length,
      messagesRefused: this.sent.filter((s) => s.status !== 0 && !s.id).length,
      refusedStatuses: this.sent
        .filter((s) => !s.id)
        .reduce<Record<string, number>>((m, s) => ({ ...m, [s.status]: (m[s.status] ?? 0) + 1 }), {}),
      finalStatuses: statuses,
      smsAtProviders: [...atProviders.values()].reduce((a, b) => a + b, 0),
      emailsAtMailpit: [...atMailpit.values()].reduce((a, b) => a + b, 0),
      sentTwice,
      missing,
      creditsBought: this.credits,
      creditsSpent: spent,
      smsSent,
      sars: this.sars.length,
      sarsCompleted: sarStatus.filter((s) => s === 'completed').length,
      erasures: this.erasures.length,
      erasuresCompleted: eraStatus.filter((s) => s === 'completed').length,
      sagaEventsTwice,
      problems,
    };
  }
}
