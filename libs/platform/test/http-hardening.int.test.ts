// The shared HTTP app and server against what a security review threw at them: bodies
// that lie about their encoding, text that is not Unicode, duplicate keys, unknown
// methods, oversized heads, slow clients, and handlers slower than the gateway waits.
import { TestIssuer, bearer, testLogger } from '@praxis/testing';
import http from 'node:http';
import net from 'node:net';
import { gzipSync } from 'node:zlib';
import request from 'supertest';
import { z } from 'zod';
import {
  ApiRouter,
  Metrics,
  OUTCOME_UNKNOWN,
  type RunningServer,
  TokenAuthenticator,
  atLeastOneField,
  createHttpApp,
  humanText,
  startHttpServer,
} from '../src';

const issuer = new TestIssuer();
let slowChangesMade = 0;
const tenant = issuer.tenant();
let server: RunningServer;
let slowServer: RunningServer;

function build(requestTimeoutMs?: number) {
  const redis = { exists: async () => 0 };
  const api = new ApiRouter(new TokenAuthenticator(issuer.verifier(), redis as never));
  api.route(
    {
      method: 'post',
      path: '/names',
      summary: 'a name',
      auth: 'public',
      body: z.strictObject({ name: humanText({ max: 100 }), scope: z.string().optional() }),
      status: 201,
    },
    ({ body }) => body,
  );
  api.route(
    {
      method: 'patch',
      path: '/settings',
      summary: 'change',
      auth: 'authenticated',
      body: atLeastOneField(z.strictObject({ a: z.string().optional(), b: z.boolean().optional() })),
    },
    ({ body }) => body,
  );
  api.route({ method: 'get', path: '/slow', summary: 'slow', auth: 'public' }, async () => {
    await new Promise((r) => setTimeout(r, 3_000));
    return { late: true };
  });
  api.route({ method: 'post', path: '/slow-change', summary: 'a slow change', auth: 'public', status: 201 }, async () => {
    await new Promise((r) => setTimeout(r, 3_000));
    slowChangesMade++;
    return { made: true };
  });
  // The database failing the way the MongoDB driver reports it: never reached, or cut off mid-operation.
  const dbError = (name: string) => Object.assign(new Error(`${name} (test)`), { name });
  for (const [method, path, name] of [
    ['get', '/db-cut', 'MongoNetworkError'],
    ['post', '/db-cut', 'MongoNetworkError'],
    ['post', '/db-unselected', 'MongoServerSelectionError'],
  ] as const) {
    api.route({ method, path, summary: name, auth: 'public', ...(method === 'post' ? { status: 201 } : {}) }, async () => {
      throw new Error('the operation failed', { cause: dbError(name) });
    });
  }
  return createHttpApp({
    service: 'test',
    logger: testLogger(),
    metrics: new Metrics('test'),
    routers: [api],
    ...(requestTimeoutMs ? { requestTimeoutMs } : {}),
  });
}

const app = build();

beforeAll(async () => {
  server = await startHttpServer(app, 0);
  slowServer = await startHttpServer(build(500), 0);
});
afterAll(async () => {
  await server.close(1_000);
  await slowServer.close(1_000);
});

/** POST raw bytes (supertest would turn a Buffer into JSON) to /api/v1/names. */
function post(
  body: Buffer | string,
  headers: Record<string, string> = {},
): Promise<{
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Record<string, unknown> & { status?: number; detail?: string; name?: string };
}> {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port: server.port,
        method: 'POST',
        path: '/api/v1/names',
        headers: { 'Content-Type': 'application/json', 'Content-Length': String(bytes.length), ...headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') }),
        );
      },
    );
    req.on('error', reject);
    req.end(bytes);
  });
}

function expectProblem(res: { status: number; headers: http.IncomingHttpHeaders; body: { status?: number } }, status: number) {
  expect(res.status).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(res.body.status).toBe(status);
}

describe('Content-Encoding', () => {
  it.each(['gzip', 'deflate', 'br'])('a body that claims %s but is not → 400 problem+json', async (enc) => {
    expectProblem(await post(Buffer.from('{"name":"Ada"}'), { 'Content-Encoding': enc }), 400);
  });

  it('a real gzip body is read', async () => {
    const res = await post(gzipSync(Buffer.from('{"name":"Ada"}')), { 'Content-Encoding': 'gzip' });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ name: 'Ada' });
  });

  it('an encoding we do not accept → 415, and so does a charset other than UTF-8', async () => {
    expectProblem(await post('{"name":"Ada"}', { 'Content-Encoding': 'compress' }), 415);
    expectProblem(await post('{"name":"Ada"}', { 'Content-Encoding': 'gzip, br' }), 415);
    expectProblem(await post('{"name":"Ada"}', { 'Content-Type': 'application/json; charset=utf-16' }), 415);
  });

  it('a body that is not JSON where JSON is expected → 415', async () => {
    expectProblem(await request(app).post('/api/v1/names').set('Content-Type', 'text/plain').send('name=Ada'), 415);
  });
});

describe('text that is not Unicode, and duplicate keys', () => {
  it('invalid UTF-8 → 400 (not stored as U+FFFD)', async () => {
    const res = await post(Buffer.concat([Buffer.from('{"name":"Ad'), Buffer.from([0xff, 0xfe]), Buffer.from('a"}')]));
    expectProblem(res, 400);
    expect(res.body.detail).toMatch(/UTF-8/);
  });

  it('UTF-8-encoded surrogates (CESU) → 400', async () => {
    expectProblem(await post(Buffer.concat([Buffer.from('{"name":"A'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('"}')])), 400);
  });

  it('an escaped lone surrogate → 400, in values and in keys; a proper pair is fine', async () => {
    expectProblem(await post('{"name":"Ada \\ud800"}'), 400);
    expectProblem(await post('{"name":"Ada \\udc00 x"}'), 400);
    expectProblem(await post('{"name":"Ada","\\ud800":1}'), 400);
    const ok = await post('{"name":"Ada \\ud83d\\ude00"}');
    expect(ok.status).toBe(201);
    expect(ok.body.name).toBe('Ada 😀');
  });

  it('a duplicate key → 400 (not "the last one wins"), also when spelled with escapes or nested', async () => {
    const res = await post('{"name":"Ada","scope":"settings","scope":"records"}');
    expectProblem(res, 400);
    expect(res.body.detail).toMatch(/duplicate key/);
    expectProblem(await post('{"name":"Ada","n\\u0061me":"Eve"}'), 400);
    expectProblem(await post('{"name":"Ada","scope":{"a":1,"a":2}}'), 400);
  });
});

describe('human text in names', () => {
  it.each([
    ['a right-to-left override', 'Ada\u202Egpj.exe'],
    ['a bidi isolate', 'Ada \u2066x\u2069'],
    ['a zero-width space', 'A\u200Bda'],
    ['a zero-width joiner', 'A\u200Dda'],
    ['a byte-order mark inside', 'A\uFEFFda'],
    ['a control character', 'Ada\u0007'],
    ['a line separator', 'Ada\u2028Lovelace'],
  ])('refuses %s', async (_what, name) => {
    expectProblem(await post(JSON.stringify({ name })), 400);
  });

  it('accepts ordinary names in any script', async () => {
    for (const name of ['Ada Lovelace', 'Zoë O’Brien-Łukasiewicz', 'محمد', '山田 太郎']) {
      const res = await post(JSON.stringify({ name }));
      expect(res.status).toBe(201);
    }
  });
});

describe('empty bodies where a body is required', () => {
  it('PATCH with {} or with no body → 400', async () => {
    expectProblem(await request(app).patch('/api/v1/settings').set(bearer(tenant.admin.token)).send({}), 400);
    expectProblem(await request(app).patch('/api/v1/settings').set(bearer(tenant.admin.token)), 400);
    expect((await request(app).patch('/api/v1/settings').set(bearer(tenant.admin.token)).send({ b: true })).status).toBe(200);
  });
});

describe('methods', () => {
  it.each(['TRACE', 'PROPFIND', 'MKCOL'])('%s → 405 problem+json with Allow', async (method) => {
    const res = await rawRequest(server.port, `${method} /api/v1/names HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    expect(res.status).toBe(405);
    expect(res.head).toMatch(/content-type: application\/problem\+json/i);
    expect(res.head).toMatch(/allow: GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS/i);
    expect(JSON.parse(res.body)).toMatchObject({ status: 405 });
  });

  it('a method the HTTP parser does not know → 405 problem+json', async () => {
    const res = await rawRequest(server.port, 'FOOBAR /api/v1/names HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(res.status).toBe(405);
    expect(JSON.parse(res.body)).toMatchObject({ status: 405 });
  });
});

describe('what the HTTP parser refuses is problem+json too', () => {
  it('a 300 KB Authorization header → 431 problem+json, read in full (no reset)', async () => {
    const huge = 'Bearer ' + 'a'.repeat(300 * 1024);
    const res = await rawRequest(server.port, `GET /api/v1/slow HTTP/1.1\r\nHost: x\r\nAuthorization: ${huge}\r\n\r\n`);
    console.log(`300 KB Authorization header: ${res.status}, reset=${res.reset}, ${res.body.length} body bytes`);
    expect(res.reset).toBe(false);
    expect(res.status).toBe(431);
    expect(res.head).toMatch(/content-type: application\/problem\+json/i);
    expect(JSON.parse(res.body)).toMatchObject({ status: 431 });
  });

  it('a malformed request line → 400 problem+json', async () => {
    const res = await rawRequest(server.port, 'GET /a b c HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body)).toMatchObject({ status: 400 });
  });
});

describe('slow clients', () => {
  it('partial headers: the server answers 408 and closes within 10–15 s', async () => {
    const r = await slowClient(server.port, 'GET /livez HTTP/1.1\r\nHost: x\r\nX-Slow: ');
    console.log(`partial headers: closed after ${r.seconds.toFixed(1)} s, status ${r.status}`);
    expect(r.seconds).toBeGreaterThanOrEqual(9);
    expect(r.seconds).toBeLessThanOrEqual(16.5);
    expect(r.status).toBe(408);
  }, 40_000);

  it('a partial body: the server answers and closes within 15 s', async () => {
    const r = await slowClient(
      server.port,
      'POST /api/v1/names HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"name":',
    );
    console.log(`partial body: closed after ${r.seconds.toFixed(1)} s, status ${r.status}`);
    expect(r.seconds).toBeLessThanOrEqual(16.5);
    expect([408, 503]).toContain(r.status);
  }, 40_000);

  it('an idle keep-alive connection outlives the header timeout and still serves the next request', async () => {
    const socket = net.connect(server.port, '127.0.0.1');
    await new Promise((r) => socket.once('connect', r));
    let data = '';
    socket.on('data', (c: Buffer) => (data += c.toString()));
    socket.write('GET /livez HTTP/1.1\r\nHost: x\r\n\r\n');
    await new Promise((r) => setTimeout(r, 11_500));
    socket.write('GET /livez HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    await new Promise((r) => socket.once('close', r));
    expect(data.match(/HTTP\/1\.1 200/g)).toHaveLength(2);
  }, 30_000);
});

describe('a handler slower than the service deadline', () => {
  it('gets 503 problem+json at the deadline (below the gateway’s upstream timeout)', async () => {
    const started = Date.now();
    const res = await request(`http://127.0.0.1:${slowServer.port}`).get('/api/v1/slow');
    const ms = Date.now() - started;
    console.log(`deadline 500 ms: answered ${res.status} after ${ms} ms`);
    expect(res.status).toBe(503);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(ms).toBeLessThan(2_500);
  });

  it('a change gets 504 at the deadline, saying it may still be made; it then is', async () => {
    const res = await request(`http://127.0.0.1:${slowServer.port}`).post('/api/v1/slow-change');
    console.log(`deadline 500 ms, a POST: answered ${res.status} (${res.body.detail})`);
    expect(res.status).toBe(504);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({ status: 504, type: 'urn:praxis:problem:timeout', detail: OUTCOME_UNKNOWN });
    const before = slowChangesMade;
    await new Promise((r) => setTimeout(r, 3_500));
    expect(slowChangesMade).toBe(before + 1);
  });

  it('defaults to 8 s', async () => {
    const res = await request(app).get('/api/v1/slow');
    expect(res.status).toBe(200);
  });
});

describe('a database that fails', () => {
  it('answers 503 (nothing changed, try again) unless a change was cut off mid-operation: 504, outcome unknown', async () => {
    const statuses = {
      readCut: (await request(app).get('/api/v1/db-cut')).status,
      changeCut: (await request(app).post('/api/v1/db-cut')).status,
      changeNeverSent: (await request(app).post('/api/v1/db-unselected')).status,
    };
    expect(statuses).toEqual({ readCut: 503, changeCut: 504, changeNeverSent: 503 });
    expect((await request(app).post('/api/v1/db-cut')).body.detail).toBe(OUTCOME_UNKNOWN);
  });

  it('documents 504 on changes only', async () => {
    const doc = (await request(app).get('/openapi.json')).body as { paths: Record<string, Record<string, { responses: object }>> };
    const codes = (path: string, method: string) => Object.keys(doc.paths[path]![method]!.responses);
    expect(codes('/api/v1/db-cut', 'post')).toContain('504');
    expect(codes('/api/v1/db-cut', 'get')).not.toContain('504');
    expect(codes('/api/v1/db-cut', 'get')).toContain('503');
  });
});

interface RawResponse {
  status: number;
  head: string;
  body: string;
  reset: boolean;
}

/** Send raw bytes (as fast as the socket takes them) and read the answer until the server closes. */
function rawRequest(port: number, text: string): Promise<RawResponse> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let reset = false;
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ECONNRESET' || err.code === 'EPIPE') reset = true;
    });
    socket.on('close', () => {
      const all = Buffer.concat(chunks).toString('utf8');
      const [head = '', body = ''] = all.split('\r\n\r\n');
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0), head, body, reset });
    });
    socket.write(text);
  });
}

/** Send a start and then nothing; how long until the server closes, and what it said. */
function slowClient(port: number, start: string): Promise<{ seconds: number; status: number }> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const started = Date.now();
    let data = '';
    socket.on('data', (c: Buffer) => (data += c.toString()));
    socket.on('error', () => undefined);
    socket.on('close', () =>
      resolve({ seconds: (Date.now() - started) / 1000, status: Number(/^HTTP\/1\.1 (\d{3})/.exec(data)?.[1] ?? 0) }),
    );
    socket.write(start);
  });
}
