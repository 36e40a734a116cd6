// The deployment proof in CI: scripts/k8s-verify installs both regions on a real
// Kubernetes API server (kwok nodes) and boots every service with its rendered
// environment. Its binaries are cached under .data/k8s/bin; on a fresh clone Go's build
// cache makes them a relink, on a new machine a cold build (docs/deployment.md, timings).
import { spawn } from 'node:child_process';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');

it('proves the charts and k8s/ on a real API server: every check passes', async () => {
  const child = spawn('bash', [path.join(ROOT, 'scripts/k8s-verify')], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (out += b.toString()));
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  const summary = out.split('\n').find((l) => l.startsWith('k8s-verify: ')) ?? '(no summary line)';
  console.log(summary);
  const failures = out.split('\n').filter((l) => /FAIL|failed:/.test(l));
  expect({ code, failures }).toEqual({ code: 0, failures: [] });
  expect(summary).toMatch(/^k8s-verify: \d+ passed, 0 failed/);
}, 60 * 60_000);
