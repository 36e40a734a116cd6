// scripts/chaos's driver: the whole platform on the chaos run's own servers, the
// scenarios one after another, a table, a summary line, and a jest-shaped result file so
// scripts/test's `N passed, N failed` line counts each scenario.
//   node --import tsx test/chaos/src/main.ts [--full] [--only 1,3,6] [--sizes '{"brokerEvents":20000}']
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT, startPlatform } from '../../e2e/platform';
import { Inspector } from './check';
import { prepareRegions, regions, teardownRegions } from './regions';
import {
  BOUNDED,
  type Ctx,
  FULL,
  type ScenarioResult,
  type Sizes,
  brokerKills,
  ferretKill,
  ferretPastRetries,
  ordering,
  redisKill,
  serviceKills,
} from './scenarios';

const args = process.argv.slice(2);
const full = args.includes('--full');
const onlyArg = args[args.indexOf('--only') + 1];
const only = args.includes('--only') && onlyArg ? new Set(onlyArg.split(',').map(Number)) : undefined;
// Sizes between the bounded and the full run, for a machine that cannot do the full one in time.
const sizesArg = args.includes('--sizes') ? (JSON.parse(args[args.indexOf('--sizes') + 1] ?? '{}') as Partial<Sizes>) : {};

const SCENARIOS: [number, string, (ctx: Ctx) => Promise<ScenarioResult>][] = [
  [6, 'clock and ordering', ordering],
  [1, 'broker kill -9 ×3', brokerKills],
  [2, 'service SIGKILL', serviceKills],
  [3, 'FerretDB kill -9', ferretKill],
  [7, 'FerretDB down past the retries', ferretPastRetries],
  [4, 'Redis kill -9', redisKill],
  [5, 'regions partitioned', (ctx) => regions(ctx, regionsBooting)],
];
/** Scenario 5's brokers, booting from the start of the run (see prepareRegions). */
let regionsBooting: Promise<number> | undefined;

// A run in another slot (scripts/chaos, PRAXIS_CHAOS_SLOT) writes its own result files.
// eslint-disable-next-line no-restricted-syntax -- a script's own setting, from scripts/chaos
const slot = process.env.PRAXIS_CHAOS_SLOT && process.env.PRAXIS_CHAOS_SLOT !== '0' ? `-${process.env.PRAXIS_CHAOS_SLOT}` : '';

const log = (s: string) => console.log(`[chaos ${new Date().toISOString().slice(11, 19)}] ${s}`);

function table(results: ScenarioResult[]): string {
  const head = ['#', 'scenario', 'injected', 'load', 'sent', 'acked', 'stored', 'lost', 'dup', 'recovery', 'ok'];
  const rows = results.map((r) => [
    String(r.number ?? '-'),
    r.name,
    r.injected,
    r.load,
    String(r.sent),
    String(r.acknowledged),
    String(r.stored),
    String(r.lost),
    String(r.duplicated),
    r.recovery,
    r.ok ? 'yes' : 'NO',
  ]);
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (cells: string[]) => '| ' + cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ') + ' |';
  return [line(head), '|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|', ...rows.map(line)].join('\n');
}

async function main(): Promise<number> {
  const sizes: Sizes = { ...(full ? FULL : BOUNDED), ...sizesArg };
  const t0 = Date.now();
  if (!only || only.has(5)) {
    regionsBooting = prepareRegions();
    // Its failure is scenario 5's, reported there.
    regionsBooting.catch(() => undefined);
  }
  log(`${full ? 'full' : args.includes('--sizes') ? 'custom-size' : 'bounded'} run: ${JSON.stringify(sizes)}`);
  const platform = await startPlatform({
    restartAfterMs: 1_000,
    readyTimeoutMs: 120_000,
    // Every practice's load comes from 127.0.0.1 here: per-IP limits (the gateway's, and
    // auth's own per-IP throttle) would throttle the whole run as one client.
    env: {
      gateway: { RATE_LIMIT_USER_PER_MIN: '100000000', RATE_LIMIT_IP_PER_MIN: '100000000', RATE_LIMIT_AUTH_IP_PER_MIN: '100000000' },
      auth: { IP_REQUESTS_PER_MIN: '100000000', IP_FAILURES_PER_WINDOW: '100000000' },
      // Sagas step and retry quickly (a SAR whose participant is being restarted is asked again every
      // 2 s rather than 30 s), so scenario 2's SARs and erasures finish within the run.
      consent: { RUNNER_INTERVAL_MS: '200', ERASURE_RETRY_S: '2', SAR_RETRY_S: '2' },
      // A reservation left without its message by a kill is refunded 20 s later (not 10 min),
      // so scenario 2's credit check sees it settled (docs/messaging.md, "SMS credits").
      messaging: { CREDIT_HOLD_S: '20', CREDIT_SWEEP_MS: '2000' },
    },
  });
  log(`platform up: ${platform.services.join(', ')} + gateway (run ${platform.run})`);
  const inspector = new Inspector(platform);
  const ctx: Ctx = { platform, inspector, sizes, log };
  const results: ScenarioResult[] = [];
  try {
    for (const [n, name, fn] of SCENARIOS) {
      if (only && !only.has(n)) continue;
      const s0 = Date.now();
      log(`scenario ${n}: ${name}`);
      let r: ScenarioResult;
      try {
        r = await fn(ctx);
      } catch (err) {
        r = {
          name,
          injected: '-',
          load: '-',
          sent: 0,
          acknowledged: 0,
          stored: 0,
          lost: 0,
          duplicated: 0,
          recovery: '-',
          ok: false,
          problems: [`did not finish: ${(err as Error).stack ?? String(err)}`],
          figures: {},
        };
      }
      r.number = n;
      r.figures.seconds = Math.round((Date.now() - s0) / 1000);
      results.push(r);
      log(`scenario ${n}: ${r.ok ? 'invariants hold' : 'FAILED'} in ${r.figures.seconds} s; ${r.problems.slice(0, 10).join('; ')}`);
    }
  } finally {
    await inspector.close();
    await platform.stop();
    await teardownRegions();
  }
  const lost = results.reduce((n, r) => n + r.lost, 0);
  const duplicated = results.reduce((n, r) => n + r.duplicated, 0);
  const failed = results.filter((r) => !r.ok);
  const reports = path.join(ROOT, '.data/reports');
  mkdirSync(reports, { recursive: true });
  const figuresFile = `${full || args.includes('--sizes') ? 'chaos-large' : 'chaos'}${slot}.json`;
  writeFileSync(
    path.join(reports, figuresFile),
    JSON.stringify({ full, sizes, seconds: Math.round((Date.now() - t0) / 1000), results }, null, 2),
  );
  // Shaped like jest's --json output, so scripts/lib/jest-summary.js counts each scenario.
  writeFileSync(
    path.join(reports, `jest-chaos${slot}.json`),
    JSON.stringify({
      numPassedTests: results.length - failed.length,
      numFailedTests: failed.length,
      testResults: [
        {
          name: 'scripts/chaos',
          status: failed.length ? 'failed' : 'passed',
          assertionResults: results.map((r) => ({ title: r.name, status: r.ok ? 'passed' : 'failed', failureMessages: r.problems })),
        },
      ],
    }),
  );
  console.log('\n' + table(results) + '\n');
  for (const r of failed) console.log(`${r.name}: ${r.problems.join('\n  ')}`);
  log(`finished in ${Math.round((Date.now() - t0) / 1000)} s; figures in .data/reports/${figuresFile}`);
  console.log(`chaos: ${results.length} scenarios, ${lost} lost, ${duplicated} duplicated`);
  return failed.length === 0 && results.length > 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    // No summary line: nothing was checked. The result file records one failure.
    mkdirSync(path.join(ROOT, '.data/reports'), { recursive: true });
    writeFileSync(
      path.join(ROOT, `.data/reports/jest-chaos${slot}.json`),
      JSON.stringify({ numPassedTests: 0, numFailedTests: 1, testResults: [] }),
    );
    process.exit(1);
  },
);
