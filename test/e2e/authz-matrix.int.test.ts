// The authorization matrix, generated: every operation of the gateway's /openapi.json ×
// no token, each staff role, and another practice's admin, judged against the permission
// matrix in libs/contracts. A route added tomorrow is in it the day it is added (the
// document comes from the routes' own declarations). Public routes are only checked not
// to fail with 5xx. Bodies are `{}` (an allowed caller then gets 400, which still proves it
// passed the permission check; nothing is changed).
import { type Permission, can } from '../../libs/contracts/src';
import { Api } from './client';
import { type Platform, startPlatform } from './platform';
import { STAFF, type Practice, fillPath, freshPractice } from './practice';

interface Operation {
  method: string;
  path: string;
  permission?: Permission;
  isPublic: boolean;
  hasBody: boolean;
  documented: string[];
}

let platform: Platform;
let api: Api;
let a: Practice;
let b: Practice;
let ops: Operation[] = [];

beforeAll(async () => {
  platform = await startPlatform();
  api = new Api(platform.url);
  a = await freshPractice(api, 'Matrix A');
  b = await freshPractice(api, 'Matrix B');
  const doc = (
    await api.get<{
      paths: Record<
        string,
        Record<string, { security?: unknown[]; 'x-permission'?: Permission; requestBody?: unknown; responses: Record<string, unknown> }>
      >;
    }>('/openapi.json')
  ).body;
  for (const [path, item] of Object.entries(doc.paths)) {
    if (!path.startsWith('/api/v1/')) continue;
    for (const [method, op] of Object.entries(item)) {
      ops.push({
        method: method.toUpperCase(),
        path,
        ...(op['x-permission'] ? { permission: op['x-permission'] } : {}),
        isPublic: Array.isArray(op.security) && op.security.length === 0,
        hasBody: op.requestBody !== undefined,
        documented: Object.keys(op.responses),
      });
    }
  }
  // Operations that end the caller's own session go last.
  ops = [...ops.filter((o) => o.path !== '/api/v1/auth/logout'), ...ops.filter((o) => o.path === '/api/v1/auth/logout')];
}, 180_000);

afterAll(async () => {
  await platform?.stop();
});

const send = (o: Operation, token: string | undefined, practice: Practice) =>
  api.call(o.method, fillPath(o.path, practice.ids), { ...(token ? { token } : {}), ...(o.hasBody ? { body: {} } : {}) });

describe('authorization matrix (generated from /openapi.json and libs/contracts)', () => {
  it('covers every operation × no token, admin, clinician, receptionist and another practice’s admin', async () => {
    expect(ops.length).toBeGreaterThan(30);
    const failures: string[] = [];
    const cells = { checked: 0, allowed: 0, refused: 0, public: 0 };
    const started = Date.now();
    for (const o of ops) {
      const name = `${o.method} ${o.path}`;
      if (o.isPublic) {
        const r = await send(o, undefined, a);
        cells.public++;
        if (r.status >= 500) failures.push(`${name} (public): ${r.status}`);
        continue;
      }
      if (!o.documented.includes('401')) failures.push(`${name}: 401 not documented`);
      if (o.permission && !o.documented.includes('403')) failures.push(`${name}: 403 not documented`);
      const anon = await send(o, undefined, a);
      cells.checked++;
      if (anon.status !== 401) failures.push(`${name} without a token: ${anon.status}, expected 401`);
      for (const role of STAFF) {
        const allowed = o.permission ? can({ role }, o.permission) : true;
        const r = await send(o, a.tokens[role], a);
        cells.checked++;
        if (r.status >= 500) failures.push(`${name} as ${role}: ${r.status}`);
        else if (allowed && (r.status === 401 || r.status === 403))
          failures.push(`${name} as ${role}: ${r.status}, but ${o.permission ?? 'any user'} allows it`);
        else if (!allowed && r.status !== 403) failures.push(`${name} as ${role}: ${r.status}, expected 403 (${o.permission})`);
        if (allowed) cells.allowed++;
        else cells.refused++;
      }
      // Another practice's admin, aimed at this practice's resources.
      if (o.path.includes('{')) {
        const r = await send(o, b.tokens.admin, a);
        cells.checked++;
        if (r.status !== 404 && r.status !== 403 && r.status !== 400)
          failures.push(`${name} as another practice's admin: ${r.status}, expected 404`);
      }
    }
    console.log(
      `authorization matrix: ${ops.length} operations, ${cells.checked} checks (${cells.allowed} allowed, ${cells.refused} refused by role), ${cells.public} public operations; ${failures.length} failures; ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
    expect(failures).toEqual([]);
  }, 300_000);
});
