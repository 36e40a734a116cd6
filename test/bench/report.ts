// One table of every benchmark (run by `pnpm bench all` after the benchmarks, or alone as
// `pnpm bench report` over the reports already in .data/reports/): each figure beside the
// raw baseline that its benchmark measured in the same run, and the ratio, with the load
// average the machine had while it ran. Writes .data/reports/bench-all.md and
// bench-all.json. A benchmark with no report is listed as such; a report older than this
// run (`--since`, set by scripts/bench all) is shown with its date and marked as not from
// this run, so a failed benchmark never passes an old figure off as new.
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');
const REPORTS = path.join(ROOT, '.data', 'reports');

export interface Row {
  bench: string;
  figure: string;
  value: number;
  unit: string;
  baseline?: string;
  baselineValue?: number;
  /**
   * The figure as a fraction of its baseline, oriented so that 1 means "as good as raw":
   * value ÷ baseline for rates, baseline ÷ value for times.
   */
  ratio?: number;
  aim?: string;
  met?: boolean;
}

type Json = Record<string, unknown>;

/** A nested field, or undefined (a report from an older version of its benchmark). */
function at(o: unknown, ...keys: (string | number)[]): unknown {
  let cur = o;
  for (const k of keys) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string | number, unknown>)[k];
  }
  return cur;
}
const num = (o: unknown, ...keys: (string | number)[]): number | undefined => {
  const v = at(o, ...keys);
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
};

const r3 = (x: number) => Math.round(x * 1000) / 1000;

function rate(bench: string, figure: string, value: number | undefined, unit: string, baseline: string, base: number | undefined): Row[] {
  if (value === undefined) return [];
  return [{ bench, figure, value, unit, baseline, baselineValue: base, ratio: base ? r3(value / base) : undefined }];
}
function time(bench: string, figure: string, value: number | undefined, baseline: string, base: number | undefined): Row[] {
  if (value === undefined) return [];
  return [{ bench, figure, value, unit: 'ms', baseline, baselineValue: base, ratio: base && value ? r3(base / value) : undefined }];
}
const withAim = (rows: Row[], aim: string, met: (r: Row) => boolean): Row[] => rows.map((r) => ({ ...r, aim, met: met(r) }));

/** Each benchmark's report file and the rows it gives. */
const extractors: Record<string, { file: string; rows: (j: Json) => Row[]; load?: (j: Json) => number[] | undefined }> = {
  gateway: {
    file: 'bench-gateway.json',
    load: (j) => at(j, 'loadAverage') as number[] | undefined,
    rows: (j) => {
      const bare = num(j, 'results', 'bare', 'reqPerSec');
      const cpu = num(j, 'gatewayCpuMicrosecondsPerRequest');
      return [
        ...withAim(
          rate(
            'gateway',
            'authenticated GET through the gateway, bare server behind it',
            num(j, 'results', 'gatewayOverBare', 'reqPerSec'),
            'req/s',
            'bare node:http server',
            bare,
          ),
          '≥ 0.1× bare',
          (r) => (r.ratio ?? 0) >= 0.1,
        ),
        ...(cpu
          ? withAim(
              [
                {
                  bench: 'gateway',
                  figure: 'gateway CPU per request (user + system)',
                  value: cpu,
                  unit: 'µs',
                  baseline: 'the aim (one core ÷ 5,000 req/s), not a measurement',
                  baselineValue: 200,
                  ratio: r3(200 / cpu),
                },
              ],
              '≤ 200 µs (5,000 req/s on one core)',
              (r) => r.value <= 200,
            )
          : []),
        ...withAim(
          time(
            'gateway',
            'gateway p99 at a steady 5,000 req/s, bare server behind it',
            num(j, 'results', 'gatewayOverBareAtRate', 'p99Ms'),
            'the bare server at the same steady rate',
            num(j, 'results', 'bareAtRate', 'p99Ms'),
          ),
          '< 5 ms at 5,000 req/s',
          (r) => r.value < 5 && (num(j, 'results', 'gatewayOverBareAtRate', 'reqPerSec') ?? 0) >= 4_900,
        ),
        ...rate(
          'gateway',
          'records GET /patients/:id through the gateway',
          num(j, 'results', 'gateway', 'reqPerSec'),
          'req/s',
          'the same, direct to records',
          num(j, 'results', 'direct', 'reqPerSec'),
        ),
        ...time(
          'gateway',
          'records GET p99 through the gateway',
          num(j, 'results', 'gateway', 'p99Ms'),
          'the same, direct',
          num(j, 'results', 'direct', 'p99Ms'),
        ),
        ...time(
          'gateway',
          'records GET p50, one connection, through the gateway',
          num(j, 'results', 'gatewaySingle', 'p50Ms'),
          'the same, direct',
          num(j, 'results', 'directSingle', 'p50Ms'),
        ),
      ];
    },
  },
  auth: {
    file: 'bench-auth.json',
    load: (j) => {
      const l = num(j, 'machine', 'loadAverage1m');
      return (at(j, 'machine', 'loadAverage') as number[] | undefined) ?? (l === undefined ? undefined : [l]);
    },
    rows: (j) => [
      ...withAim(
        rate(
          'auth',
          'service token verification, one core',
          num(j, 'serviceTokenVerifyPerSecondOneCore'),
          '/s',
          'raw ES256 verify',
          num(j, 'rawEs256VerifyPerSecondOneCore'),
        ),
        '≥ 10,000/s',
        (r) => r.value >= 10_000,
      ),
      ...rate(
        'auth',
        'the same verifier without its memory of verified tokens',
        num(j, 'serviceTokenVerifyUncachedPerSecondOneCore'),
        '/s',
        'raw ES256 verify',
        num(j, 'rawEs256VerifyPerSecondOneCore'),
      ),
      ...rate(
        'auth',
        'jsonwebtoken verify alone',
        num(j, 'jsonwebtokenVerifyPerSecondOneCore'),
        '/s',
        'raw ES256 verify',
        num(j, 'rawEs256VerifyPerSecondOneCore'),
      ),
      ...rate(
        'auth',
        'password login (HTTP)',
        num(j, 'passwordLoginsPerSecond'),
        '/s',
        'raw argon2id verify',
        num(j, 'rawArgon2idVerifyPerSecond'),
      ),
      ...rate(
        'auth',
        'password + TOTP login (HTTP)',
        num(j, 'passwordTotpLoginsPerSecond'),
        '/s',
        'raw argon2id verify',
        num(j, 'rawArgon2idVerifyPerSecond'),
      ),
      ...withAim(
        time('auth', 'login p99 at 20 logins/s', num(j, 'steadyLoad', 'p99Ms'), 'one raw argon2id verify', num(j, 'rawArgon2idMs')),
        '≤ 250 ms',
        (r) => r.value <= 250,
      ),
      ...withAim(
        time(
          'auth',
          `login p99 at 20 logins/s with records at ${num(j, 'underPlatformLoad', 'background', 'get', 'perSecond') ?? '?'} reads/s + ${num(j, 'underPlatformLoad', 'background', 'post', 'perSecond') ?? '?'} creates/s`,
          num(j, 'underPlatformLoad', 'p99Ms'),
          'one raw argon2id verify',
          num(j, 'rawArgon2idMs'),
        ),
        '≤ 250 ms',
        (r) => r.value <= 250,
      ),
    ],
  },
  records: {
    file: 'bench-records.json',
    rows: (j) => [
      ...withAim(
        rate(
          'records',
          `GET /patients/:id at ${num(j, 'patients') ?? '?'} patients`,
          num(j, 'service', 'read', 'perSec'),
          'req/s',
          'raw indexed findOne + durable insert of the view event',
          num(j, 'raw', 'read', 'perSec'),
        ),
        '≥ 0.5×',
        (r) => (r.ratio ?? 0) >= 0.5,
      ),
      ...rate(
        'records',
        'the same GET',
        num(j, 'service', 'read', 'perSec'),
        'req/s',
        'raw findOne alone',
        num(j, 'raw', 'findOnly', 'perSec'),
      ),
      ...rate(
        'records',
        'POST /patients',
        num(j, 'service', 'create', 'perSec'),
        'req/s',
        'raw insertOne',
        num(j, 'raw', 'create', 'perSec'),
      ),
    ],
  },
  audit: {
    file: 'bench-audit.json',
    rows: (j) => {
      const idx = num(j, 'dbRaw', 'insertManyIndexedPerSec');
      // Each phase beside the raw indexed inserts measured just before it.
      const phase = (figure: string, key: string, field: string) =>
        rate(
          'audit',
          figure,
          num(j, key, field),
          'events/s',
          'raw indexed insertMany (measured just before)',
          num(j, key, 'rawIndexedJustBeforePerSec') ?? idx,
        );
      return [
        ...withAim(phase('end to end, one practice', 'auditOneTenant', 'endToEndPerSec'), '≥ 0.5× raw', (r) => (r.ratio ?? 0) >= 0.5),
        ...phase('end to end, many practices', 'auditManyTenants', 'endToEndPerSec'),
        ...phase('burst drain', 'burstDrain', 'drainPerSec'),
      ];
    },
  },
  messaging: {
    file: 'bench-messaging.json',
    rows: (j) => [
      ...rate('messaging', 'SMS accepted', num(j, 'accepted', 'perSec'), 'msg/s', 'the provider simulator alone', num(j, 'raw', 'perSec')),
      ...rate('messaging', 'SMS sent', num(j, 'sent', 'perSec'), 'msg/s', 'the provider simulator alone', num(j, 'raw', 'perSec')),
    ],
  },
  relay: {
    file: 'bench-relay.json',
    rows: (j) => {
      const bus = num(j, 'bus', 'perSecond');
      // A run ({ perSecond, busPerSecond }) beside the bus measured just before it.
      const vsBus = (figure: string, run: unknown) =>
        rate('relay', figure, num(run, 'perSecond'), 'events/s', 'the bus alone (measured just before)', num(run, 'busPerSecond') ?? bus);
      const sizes = (at(j, 'sizes') as Json[] | undefined) ?? [];
      return [
        ...sizes.flatMap((s) => vsBus(`outbox burst, ${num(s, 'documents')?.toLocaleString('en')} documents`, at(s, 'burst'))),
        ...vsBus('drain after a crash', at(j, 'crash')),
      ];
    },
  },
  consent: {
    file: 'bench-consent.json',
    load: (j) => at(j, 'loadAverage') as number[] | undefined,
    rows: (j) =>
      withAim(
        time(
          'consent',
          `subject access of ${num(j, 'notes')?.toLocaleString('en')} notes, p50`,
          num(j, 'subjectAccess', 'requestToCompleted', 'p50Ms'),
          'raw read of the same data',
          num(j, 'rawRead', 'p50Ms'),
        ),
        '< 1,000 ms',
        (r) => r.value < 1_000,
      ),
  },
  storage: {
    file: 'bench-storage.json',
    rows: (j) => {
      const results = (at(j, 'results') as Json[] | undefined) ?? [];
      const last = results.at(-1);
      if (!last) return [];
      const raw = num(last, 'raw findOne({_id})', 'perSec');
      const n = num(last, 'patients')?.toLocaleString('en');
      return ['patient GET', 'notes list', 'family-name search', 'login', 'token refresh', 'audit query by patient'].flatMap((q) =>
        rate('storage', `${q} at ${n} patients`, num(last, q, 'perSec'), 'queries/s', 'raw findOne({_id})', raw),
      );
    },
  },
};

export interface BenchAll {
  at: string;
  machine: { cpus: number; node: string };
  benches: { bench: string; report: string; reportAt?: string; loadAverage?: number[]; status: string; rows: Row[] }[];
}

/** Load averages that `scripts/bench all` noted before each benchmark (if it ran them). */
function notedLoad(): Record<string, number[]> {
  const file = path.join(REPORTS, 'bench-all-load.txt');
  if (!existsSync(file)) return {};
  const out: Record<string, number[]> = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const [name, ...rest] = line.trim().split(/\s+/);
    if (name && rest.length >= 3) out[name] = rest.slice(0, 3).map(Number);
  }
  return out;
}

export function collect(statuses: Record<string, string> = {}, since?: number): BenchAll {
  const load = notedLoad();
  const benches = Object.entries(extractors).map(([bench, x]) => {
    const file = path.join(REPORTS, x.file);
    if (!existsSync(file)) return { bench, report: x.file, status: statuses[bench] ?? 'no report', rows: [] };
    const { mtime } = statSync(file);
    const j = JSON.parse(readFileSync(file, 'utf8')) as Json;
    const stale = since !== undefined && mtime.getTime() < since;
    return {
      bench,
      report: x.file,
      reportAt: mtime.toISOString(),
      loadAverage: x.load?.(j) ?? (stale ? undefined : load[bench]),
      status: stale ? `not from this run (${statuses[bench] ?? 'not run'}); report of ${mtime.toISOString()}` : (statuses[bench] ?? 'ok'),
      rows: x.rows(j),
    };
  });
  return { at: new Date().toISOString(), machine: { cpus: os.cpus().length, node: process.version }, benches };
}

const fmt = (x: number | undefined) =>
  x === undefined ? '—' : x >= 100 ? Math.round(x).toLocaleString('en') : String(Math.round(x * 100) / 100);

export function markdown(all: BenchAll): string {
  const lines = [
    `Benchmarks, ${all.at} (${all.machine.cpus} cores, Node ${all.machine.node}). Ratio: the figure as a fraction of its raw baseline measured in the same run (1 = as fast as raw; for times, baseline ÷ figure). Load: the 1-, 5- and 15-minute load averages while the benchmark ran.`,
    '',
    '| bench | figure | value | raw baseline (same run) | baseline value | ratio | aim | load |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const b of all.benches) {
    const load = b.loadAverage ? b.loadAverage.map((l) => l.toFixed(2)).join(' ') : '—';
    if (b.rows.length === 0) {
      lines.push(`| ${b.bench} | (${b.status}) | | | | | | |`);
      continue;
    }
    const name = b.status === 'ok' ? b.bench : `${b.bench} (${b.status})`;
    for (const r of b.rows) {
      const aim = r.aim ? `${r.aim}: ${r.met ? 'met' : 'not met'}` : '';
      lines.push(
        `| ${name} | ${r.figure} | ${fmt(r.value)} ${r.unit} | ${r.baseline ?? ''} | ${fmt(r.baselineValue)} | ${r.ratio === undefined ? '—' : r.ratio} | ${aim} | ${load} |`,
      );
    }
  }
  return lines.join('\n') + '\n';
}

function main(): void {
  // `--since=<ms>` and `name=status` arguments from scripts/bench all (e.g. gateway=failed).
  const args = process.argv.slice(2);
  const since = args.find((a) => a.startsWith('--since='));
  const statuses = Object.fromEntries(args.filter((a) => !a.startsWith('--')).map((a) => a.split('=') as [string, string]));
  const all = collect(statuses, since ? Number(since.slice('--since='.length)) : undefined);
  const md = markdown(all);
  writeFileSync(path.join(REPORTS, 'bench-all.json'), JSON.stringify(all, null, 2) + '\n');
  writeFileSync(path.join(REPORTS, 'bench-all.md'), md);
  process.stdout.write(md);
  process.stdout.write(`written: ${path.relative(ROOT, path.join(REPORTS, 'bench-all.md'))} and bench-all.json\n`);
}

if (require.main === module) main();
