// A local stand-in for an SMS provider, speaking its documented wire format, for the
// service's tests, the demo and the benchmark (never for production). Two dialects:
//   twilio  POST /2010-04-01/Accounts/{sid}/Messages.json (form, Basic auth) → 201 { sid, status },
//           status callbacks as signed form posts (X-Twilio-Signature, HMAC-SHA1)
//   vonage  POST /sms/json (JSON or form with api_key/api_secret) → 200 { messages: [{ status, message-id }] },
//           delivery receipts as JSON posts signed with `sig` (HMAC-SHA256 over sorted params)
// It records every text it accepted, keyed by the caller's idempotency key
// (I-Twilio-Idempotency-Token / client-ref): a repeated key is answered with the first
// message's id and counted as a duplicate, never stored or "sent" twice.
// Tests steer it (`/_sim/behaviour`): fail with 5xx, time out (never answer, nothing
// recorded), be slow, drop delivery receipts, or report failures.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type SimProvider = 'twilio' | 'vonage';

export interface SimBehaviour {
  mode: 'ok' | 'fail' | 'timeout';
  /** Extra latency before answering (ok and fail modes). */
  delayMs: number;
  /** Accept texts but never post a delivery receipt. */
  dropReceipts: boolean;
  receiptStatus: 'delivered' | 'failed';
  receiptDelayMs: number;
}

export interface SimMessage {
  id: string;
  idempotencyKey: string;
  to: string;
  from: string;
  body: string;
  receivedAt: string;
  callback?: string;
  receipt?: { status: string; postedAt: string; answer: number };
}

export interface SimOptions {
  provider: SimProvider;
  port?: number;
  host?: string;
  /** twilio: account SID and auth token; vonage: api key, api secret and signature secret. */
  accountSid?: string;
  authToken?: string;
  apiKey?: string;
  apiSecret?: string;
  signatureSecret?: string;
}

export interface SmsSimulator {
  provider: SimProvider;
  url: string;
  port: number;
  behaviour: SimBehaviour;
  messages: SimMessage[];
  stats: { requests: number; accepted: number; duplicates: number; refused: number; timedOut: number };
  /** The credentials it expects and signs with (an operator copies them from the provider's dashboard). */
  credentials: { accountSid: string; authToken: string; apiKey: string; apiSecret: string; signatureSecret: string };
  /** Accepted texts per idempotency key (1 everywhere means nothing was sent twice). */
  countsByKey(): Map<string, number>;
  reset(): void;
  close(): Promise<void>;
}

const defaults = (): SimBehaviour => ({ mode: 'ok', delayMs: 0, dropReceipts: false, receiptStatus: 'delivered', receiptDelayMs: 50 });

function twilioSignature(authToken: string, url: string, params: Record<string, string>): string {
  return createHmac('sha1', authToken)
    .update(
      url +
        Object.keys(params)
          .sort()
          .map((k) => k + params[k])
          .join(''),
      'utf8',
    )
    .digest('base64');
}

function vonageSignature(secret: string, params: Record<string, string>): string {
  const data = Object.keys(params)
    .filter((k) => k !== 'sig')
    .sort()
    .map((k) => `&${k}=${params[k]!.replace(/[&=]/g, '_')}`)
    .join('');
  return createHmac('sha256', secret).update(data, 'utf8').digest('hex');
}

const same = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

async function readBody(req: http.IncomingMessage): Promise<Record<string, string>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > 256 * 1024) throw new Error('body too large');
    chunks.push(c as Buffer);
  }
  const raw = Buffer.concat(chunks).toString('utf8');
  if (!raw) return {};
  if ((req.headers['content-type'] ?? '').includes('application/json')) {
    const parsed = JSON.parse(raw) as Record<string, unknown>;
    return Object.fromEntries(Object.entries(parsed).map(([k, v]) => [k, String(v)]));
  }
  return Object.fromEntries(new URLSearchParams(raw));
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

export async function startSmsSimulator(opts: SimOptions): Promise<SmsSimulator> {
  const creds = {
    accountSid: opts.accountSid ?? `AC${randomBytes(16).toString('hex')}`,
    authToken: opts.authToken ?? randomBytes(16).toString('hex'),
    apiKey: opts.apiKey ?? randomBytes(4).toString('hex'),
    apiSecret: opts.apiSecret ?? randomBytes(8).toString('hex'),
    signatureSecret: opts.signatureSecret ?? randomBytes(16).toString('hex'),
  };
  const sim: SmsSimulator = {
    provider: opts.provider,
    url: '',
    port: 0,
    behaviour: defaults(),
    messages: [],
    stats: { requests: 0, accepted: 0, duplicates: 0, refused: 0, timedOut: 0 },
    credentials: creds,
    countsByKey() {
      const m = new Map<string, number>();
      for (const msg of sim.messages) m.set(msg.idempotencyKey, (m.get(msg.idempotencyKey) ?? 0) + 1);
      return m;
    },
    reset() {
      sim.behaviour = defaults();
      sim.messages.length = 0;
      Object.assign(sim.stats, { requests: 0, accepted: 0, duplicates: 0, refused: 0, timedOut: 0 });
      byKey.clear();
    },
    close: async () => undefined,
  };
  const byKey = new Map<string, SimMessage>();
  const hanging = new Set<http.ServerResponse>();

  const postReceipt = (msg: SimMessage) => {
    if (!msg.callback || sim.behaviour.dropReceipts) return;
    const status = sim.behaviour.receiptStatus;
    setTimeout(() => {
      let body: string;
      const headers: Record<string, string> = {};
      if (opts.provider === 'twilio') {
        const params = {
          AccountSid: creds.accountSid,
          MessageSid: msg.id,
          SmsSid: msg.id,
          MessageStatus: status,
          SmsStatus: status,
          To: msg.to,
          From: msg.from,
          ApiVersion: '2010-04-01',
        };
        headers['content-type'] = 'application/x-www-form-urlencoded';
        headers['x-twilio-signature'] = twilioSignature(creds.authToken, msg.callback!, params);
        body = new URLSearchParams(params).toString();
      } else {
        const now = new Date();
        const params: Record<string, string> = {
          msisdn: msg.to,
          to: msg.from,
          'network-code': '23410',
          messageId: msg.id,
          price: '0.03330000',
          status,
          scts: now.toISOString().replace(/\D/g, '').slice(2, 12),
          'err-code': status === 'delivered' ? '0' : '1',
          'api-key': creds.apiKey,
          'client-ref': msg.idempotencyKey,
          'message-timestamp': now.toISOString().replace('T', ' ').slice(0, 19),
          timestamp: String(Math.floor(now.getTime() / 1000)),
          nonce: randomBytes(8).toString('hex'),
        };
        params.sig = vonageSignature(creds.signatureSecret, params);
        headers['content-type'] = 'application/json';
        body = JSON.stringify(params);
      }
      fetch(msg.callback!, { method: 'POST', headers, body, signal: AbortSignal.timeout(5_000) })
        .then(async (r) => {
          await r.arrayBuffer();
          msg.receipt = { status, postedAt: new Date().toISOString(), answer: r.status };
        })
        .catch(() => {
          msg.receipt = { status, postedAt: new Date().toISOString(), answer: 0 };
        });
    }, sim.behaviour.receiptDelayMs).unref();
  };

  const accept = (
    key: string,
    fields: { to: string; from: string; body: string; callback?: string },
    idPrefix: string,
  ): { msg: SimMessage; duplicate: boolean } => {
    const existing = byKey.get(key);
    if (existing) {
      sim.stats.duplicates++;
      return { msg: existing, duplicate: true };
    }
    const msg: SimMessage = {
      id: `${idPrefix}${randomBytes(16).toString('hex')}`,
      idempotencyKey: key,
      receivedAt: new Date().toISOString(),
      ...fields,
    };
    byKey.set(key, msg);
    sim.messages.push(msg);
    sim.stats.accepted++;
    postReceipt(msg);
    return { msg, duplicate: false };
  };

  const handleProvider = async (req: http.IncomingMessage, res: http.ServerResponse, path: string): Promise<void> => {
    sim.stats.requests++;
    const b = sim.behaviour;
    if (b.mode === 'timeout') {
      // Never answer and record nothing: the request is lost on its way in.
      sim.stats.timedOut++;
      hanging.add(res);
      res.on('close', () => hanging.delete(res));
      req.resume();
      return;
    }
    if (b.delayMs) await new Promise((r) => setTimeout(r, b.delayMs));
    if (b.mode === 'fail') {
      sim.stats.refused++;
      req.resume();
      return send(
        res,
        503,
        opts.provider === 'twilio'
          ? { code: 20503, message: 'Service unavailable', status: 503 }
          : { 'error-code': '503', 'error-code-label': 'Service unavailable' },
      );
    }
    const params = await readBody(req);
    if (opts.provider === 'twilio') {
      const m = /^\/2010-04-01\/Accounts\/([^/]+)\/Messages\.json$/.exec(path);
      if (!m || req.method !== 'POST') return send(res, 404, { code: 20404, message: 'Not found', status: 404 });
      const expected = `Basic ${Buffer.from(`${creds.accountSid}:${creds.authToken}`).toString('base64')}`;
      if (m[1] !== creds.accountSid || !same(req.headers.authorization ?? '', expected))
        return send(res, 401, { code: 20003, message: 'Authenticate', status: 401 });
      if (!params.To || !params.Body || !params.From)
        return send(res, 400, { code: 21604, message: "A 'To' phone number and a 'Body' are required.", status: 400 });
      if (!/^\+[1-9]\d{6,14}$/.test(params.To))
        return send(res, 400, { code: 21211, message: "The 'To' number is not a valid phone number.", status: 400 });
      const key = String(req.headers['i-twilio-idempotency-token'] ?? randomBytes(8).toString('hex'));
      const { msg } = accept(
        key,
        { to: params.To, from: params.From, body: params.Body, ...(params.StatusCallback ? { callback: params.StatusCallback } : {}) },
        'SM',
      );
      return send(res, 201, {
        sid: msg.id,
        account_sid: creds.accountSid,
        to: msg.to,
        from: msg.from,
        body: msg.body,
        status: 'queued',
        date_created: new Date(msg.receivedAt).toUTCString(),
        api_version: '2010-04-01',
        num_segments: '1',
        uri: `/2010-04-01/Accounts/${creds.accountSid}/Messages/${msg.id}.json`,
      });
    }
    if (path !== '/sms/json' || req.method !== 'POST') return send(res, 404, { 'error-code': '404' });
    if (!same(params.api_key ?? '', creds.apiKey) || !same(params.api_secret ?? '', creds.apiSecret))
      return send(res, 200, { 'message-count': '1', messages: [{ status: '4', 'error-text': 'Bad Credentials' }] });
    if (!params.to || !params.text || !params.from)
      return send(res, 200, { 'message-count': '1', messages: [{ status: '2', 'error-text': 'Missing to, from or text' }] });
    if (!/^[1-9]\d{6,14}$/.test(params.to))
      return send(res, 200, { 'message-count': '1', messages: [{ status: '3', 'error-text': 'Invalid to' }] });
    const key = params['client-ref'] ?? randomBytes(8).toString('hex');
    const { msg } = accept(
      key,
      { to: params.to, from: params.from, body: params.text, ...(params.callback ? { callback: params.callback } : {}) },
      '',
    );
    return send(res, 200, {
      'message-count': '1',
      messages: [
        {
          to: msg.to,
          'message-id': msg.id,
          status: '0',
          'remaining-balance': '100.00',
          'message-price': '0.0333',
          network: '23410',
          'client-ref': key,
        },
      ],
    });
  };

  const handleControl = async (req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<void> => {
    if (url.pathname === '/_sim/behaviour' && req.method === 'POST') {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const change = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Partial<SimBehaviour>;
      sim.behaviour = { ...sim.behaviour, ...change };
      return send(res, 200, sim.behaviour);
    }
    if (url.pathname === '/_sim/messages' && req.method === 'GET') {
      const key = url.searchParams.get('key');
      return send(res, 200, {
        provider: opts.provider,
        stats: sim.stats,
        items: key ? sim.messages.filter((m) => m.idempotencyKey === key) : sim.messages,
      });
    }
    if (url.pathname === '/_sim/reset' && req.method === 'POST') {
      sim.reset();
      return send(res, 200, { ok: true });
    }
    if (url.pathname === '/_sim/credentials' && req.method === 'GET')
      return send(res, 200, opts.provider === 'twilio' ? { accountSid: creds.accountSid } : { apiKey: creds.apiKey });
    return send(res, 404, { error: 'no such control route' });
  };

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://sim');
    const p = url.pathname.startsWith('/_sim/') ? handleControl(req, res, url) : handleProvider(req, res, url.pathname);
    p.catch(() => {
      if (!res.headersSent) send(res, 400, { error: 'bad request' });
    });
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  sim.port = port;
  sim.url = `http://127.0.0.1:${port}`;
  sim.close = () =>
    new Promise<void>((resolve) => {
      for (const r of hanging) r.destroy();
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return sim;
}

/** Steer a running simulator over HTTP (for a simulator in another process). */
export async function setSimBehaviour(url: string, change: Partial<SimBehaviour>): Promise<SimBehaviour> {
  const res = await fetch(`${url}/_sim/behaviour`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(change),
  });
  return (await res.json()) as SimBehaviour;
}

export async function simMessages(url: string): Promise<{ stats: SmsSimulator['stats']; items: SimMessage[] }> {
  const res = await fetch(`${url}/_sim/messages`);
  return (await res.json()) as { stats: SmsSimulator['stats']; items: SimMessage[] };
}
