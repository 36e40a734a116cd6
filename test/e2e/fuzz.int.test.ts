// The OpenAPI fuzz run: schemathesis (PyPI, pinned; scripts/test installs it into
// .data/venv-schemathesis) against the whole platform on ephemeral ports, as the admin,
// the clinician and the receptionist of a fresh practice. It must end with no server
// error and no response that breaks the document (undocumented status, wrong content
// type, body or headers not matching the schema). Bounded: a few examples per operation
// and a time budget per role.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Api } from './client';
import { type Platform, startPlatform } from './platform';
import { STAFF, type Practice, type Staff, freshPractice } from './practice';

const ROOT = path.resolve(__dirname, '../..');
const ST = path.join(ROOT, '.data/venv-schemathesis/bin/st');
const REPORTS = path.join(ROOT, '.data/reports');
const CHECKS = [
  'not_a_server_error',
  'status_code_conformance',
  'content_type_conformance',
  'response_schema_conformance',
  'response_headers_conformance',
];
const MAX_EXAMPLES = 6;
const MAX_SECONDS_PER_ROLE = 50;

let platform: Platform;
let practice: Practice;

beforeAll(async () => {
  if (!existsSync(ST))
    throw new Error('schemathesis is not installed: run scripts/test (or source scripts/lib/common.sh && ensure_schemathesis)');
  mkdirSync(REPORTS, { recursive: true });
  // Every request comes from 127.0.0.1: the per-IP budgets must not be what the run measures.
  const lots = '1000000';
  platform = await startPlatform({
    env: {
      gateway: { RATE_LIMIT_IP_PER_MIN: lots, RATE_LIMIT_AUTH_IP_PER_MIN: lots, RATE_LIMIT_USER_PER_MIN: lots },
      auth: { IP_REQUESTS_PER_MIN: lots, IP_FAILURES_PER_WINDOW: lots },
    },
  });
  practice = await freshPractice(new Api(platform.url), 'Fuzz Practice');
}, 180_000);

afterAll(async () => {
  await platform?.stop();
});

interface Run {
  role: Staff;
  exit: number | null;
  seconds: number;
  output: string;
  cases: number;
  failures: number;
  errors: number;
}

function fuzz(role: Staff): Promise<Run> {
  const junit = path.join(REPORTS, `fuzz-${role}.xml`);
  const args = [
    'run',
    `${platform.url}/openapi.json`,
    '--url',
    platform.url,
    '-H',
    `Authorization: Bearer ${practice.tokens[role]}`,
    '--checks',
    CHECKS.join(','),
    '--max-examples',
    String(MAX_EXAMPLES),
    '--max-time',
    String(MAX_SECONDS_PER_ROLE),
    '--seed',
    '20261201',
    // One worker: under threads, hypothesis crashes describing its filters on CPython 3.11.
    '--workers',
    '1',
    '--request-timeout',
    '20',
    '--continue-on-failure',
    // Logging out would end the session the rest of the run uses.
    '--exclude-path',
    '/api/v1/auth/logout',
    '--report',
    'junit',
    '--report-junit-path',
    junit,
    '--no-color',
  ];
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(ST, args, {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', SCHEMATHESIS_HOOKS: '' },
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    child.on('close', (exit) => {
      const xml = existsSync(junit) ? readFileSync(junit, 'utf8') : '';
      resolve({
        role,
        exit,
        seconds: (Date.now() - started) / 1000,
        output,
        cases: (xml.match(/<testcase\b/g) ?? []).length,
        failures: (xml.match(/<failure\b/g) ?? []).length,
        errors: (xml.match(/<error\b/g) ?? []).length,
      });
    });
  });
}

describe('OpenAPI fuzz run (schemathesis)', () => {
  it.each(STAFF)(
    'as the %s: no server error, no response that breaks the document',
    async (role) => {
      const r = await fuzz(role);
      const summary = r.output
        .split('\n')
        .filter((l) => /operations|test cases|generated|passed|failed|errors|seconds|Seed/i.test(l))
        .slice(-12);
      console.log(
        `schemathesis as ${role}: exit ${r.exit}, ${r.seconds.toFixed(0)} s, ${r.cases} operations, ${r.failures} with failures, ${r.errors} errors\n${summary.join('\n')}`,
      );
      if (r.exit !== 0) console.log(r.output.slice(-6000));
      expect(r.cases).toBeGreaterThan(20);
      expect(r.failures).toBe(0);
      expect(r.errors).toBe(0);
      expect(r.exit).toBe(0);
    },
    240_000,
  );
});
