// TRUSTED_PROXIES in the charts: auth and the gateway get a list of proxies whose
// X-Forwarded-For they believe (without it, every client behind the ingress would share
// one address, and 100 failures would lock logins for everyone), and the schema refuses
// anything that is not a list of IPs or CIDRs. Needs .data/bin/helm (scripts/test builds it).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { TrustedProxies } from '@praxis/platform';

const ROOT = path.resolve(__dirname, '../..');
const HELM = path.join(ROOT, '.data/bin/helm');
const common = ['--set', 'global.image.tag=1.4.2', '--set', 'global.region=uk-south', '--set', 'global.image.registry=r.example'];
const args = (chart: string) => [...common, ...(chart === 'gateway' ? ['--set', 'route.hostnames={praxis.example}'] : [])];

function helm(args: string[]): { ok: boolean; out: string } {
  try {
    return { ok: true, out: execFileSync(HELM, args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }) };
  } catch (err) {
    return { ok: false, out: String((err as { stderr?: string }).stderr) };
  }
}

function configOf(chart: string, extra: string[] = []): Record<string, string> {
  const r = helm(['template', 'praxis', `charts/${chart}`, ...args(chart), ...extra]);
  if (!r.ok) throw new Error(r.out);
  const docs = parseAllDocuments(r.out).map((d) => d.toJS()) as { kind: string; data?: Record<string, string> }[];
  return Object.assign({}, ...docs.filter((d) => d?.kind === 'ConfigMap').map((d) => d.data ?? {}));
}

beforeAll(() => {
  if (!existsSync(HELM)) throw new Error('helm is not built: run scripts/test (or source scripts/lib/common.sh && ensure_helm)');
  for (const c of ['auth', 'gateway']) helm(['dependency', 'build', `charts/${c}`]);
}, 120_000);

describe('TRUSTED_PROXIES in the charts', () => {
  it.each(['auth', 'gateway'])('%s gets a valid, non-empty list that does not trust everyone', (chart) => {
    const value = configOf(chart).TRUSTED_PROXIES;
    expect(value).toBeTruthy();
    const list = TrustedProxies.parse(value!);
    expect(list.cidrs.length).toBeGreaterThan(0);
    expect(list.trusts('203.0.113.7')).toBe(false);
    expect(list.trusts('10.42.0.12')).toBe(true);
  });

  it('takes a cluster’s own CIDRs', () => {
    expect(configOf('gateway', ['--set', 'env.TRUSTED_PROXIES=10.244.0.0/16\\,fd00::/8']).TRUSTED_PROXIES).toBe('10.244.0.0/16,fd00::/8');
  });

  it.each(['auth', 'gateway'])('%s refuses a value that is not a list of IPs or CIDRs, and an unset one', (chart) => {
    const bad = helm(['template', 'x', `charts/${chart}`, ...args(chart), '--set', 'env.TRUSTED_PROXIES=loopback']);
    expect(bad.ok).toBe(false);
    expect(bad.out).toMatch(/TRUSTED_PROXIES/);
    const unset = helm(['template', 'x', `charts/${chart}`, ...args(chart), '--set', 'env.TRUSTED_PROXIES=null']);
    expect(unset.ok).toBe(false);
  });
});
