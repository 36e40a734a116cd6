// Helm charts: lint, render per region, and check the manifests keep the security and
// availability promises (non-root, read-only root, probes, PDBs, NetworkPolicies,
// pinned images, secrets only by reference). Needs .data/bin/helm (scripts/test builds it).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';

const ROOT = path.resolve(__dirname, '../..');
const HELM = path.join(ROOT, '.data/bin/helm');
const SERVICES = ['auth', 'records', 'consent', 'messaging', 'audit', 'gateway'];
const REGIONS = ['uk-south', 'uk-west'];

type Doc = { kind: string; metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> }; spec?: any; data?: Record<string, string> }; // eslint-disable-line @typescript-eslint/no-explicit-any

function helm(args: string[]): string {
  return execFileSync(HELM, args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function helmFails(args: string[]): string {
  try {
    helm(args);
  } catch (err) {
    return String((err as { stderr?: string }).stderr);
  }
  throw new Error(`helm ${args.join(' ')} should have failed`);
}

/** What the release pipeline adds for a region: every service image pinned by digest. */
const digest = (s: string) => `sha256:${createHash('sha256').update(`praxis-${s}:1.4.2`).digest('hex')}`;
const DIGESTS = SERVICES.flatMap((s) => ['--set', `${s}.image.digest=${digest(s)}`]);

function render(region: string, extra: string[] = []): Doc[] {
  const out = helm(['template', 'praxis', 'charts/praxis', '-f', `k8s/regions/${region}.yaml`, '--set', 'global.image.tag=1.4.2', ...DIGESTS, ...extra]);
  return parseAllDocuments(out).map((d) => d.toJS()).filter(Boolean) as Doc[];
}

beforeAll(() => {
  if (!existsSync(HELM)) throw new Error('helm is not built: run scripts/test (or source scripts/lib/common.sh && ensure_helm)');
  for (const c of [...SERVICES, 'praxis']) helm(['dependency', 'build', `charts/${c}`]);
}, 120_000);

describe('helm charts', () => {
  it('pass helm lint --strict, each service chart and the umbrella', () => {
    const common = ['--set', 'global.image.tag=1.4.2', '--set', 'global.region=uk-south', '--set', 'global.image.registry=registry.example'];
    for (const c of SERVICES) {
      const extra = c === 'gateway' ? ['--set', 'route.hostnames={praxis.example}'] : [];
      expect(helm(['lint', '--strict', `charts/${c}`, ...common, ...extra])).toMatch(/0 chart\(s\) failed/);
    }
    for (const r of REGIONS) {
      expect(helm(['lint', '--strict', 'charts/praxis', '-f', `k8s/regions/${r}.yaml`, '--set', 'global.image.tag=1.4.2', ...DIGESTS])).toMatch(/0 chart\(s\) failed/);
    }
  });

  describe.each(REGIONS)('rendered for %s', (region) => {
    let docs: Doc[] = [];
    beforeAll(() => {
      docs = render(region);
    });
    const of = (kind: string) => docs.filter((d) => d.kind === kind);

    it('has a Deployment, Service, PDB, HPA and NetworkPolicy for every service', () => {
      for (const s of SERVICES) {
        for (const kind of ['Deployment', 'Service', 'PodDisruptionBudget', 'HorizontalPodAutoscaler', 'NetworkPolicy', 'ServiceAccount']) {
          expect(of(kind).map((d) => d.metadata.name)).toContain(`praxis-${s}`);
        }
      }
    });

    it('runs every pod non-root, read-only, without capabilities, with seccomp, probes and limits', () => {
      for (const d of of('Deployment')) {
        const pod = d.spec.template.spec;
        expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
        expect(pod.automountServiceAccountToken).toBe(false);
        for (const c of pod.containers) {
          expect(c.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
          expect(c.resources.requests).toEqual(expect.objectContaining({ cpu: expect.anything(), memory: expect.anything() }));
          expect(c.resources.limits).toEqual(expect.objectContaining({ cpu: expect.anything(), memory: expect.anything() }));
          expect(c.livenessProbe.httpGet.path).toBe('/livez');
          expect(c.readinessProbe.httpGet.path).toBe('/readyz');
          expect(c.image).toMatch(/:1\.4\.2@sha256:[a-f0-9]{64}$/);
          expect(c.volumeMounts).toContainEqual({ name: 'tmp', mountPath: '/tmp' });
        }
        expect(d.spec.template.metadata.annotations['checksum/config']).toMatch(/^[a-f0-9]{64}$/);
        expect(d.metadata.labels?.['praxis.io/region']).toBe(region);
      }
    });

    it('takes secrets only by reference and renders no Secret', () => {
      expect(of('Secret')).toHaveLength(0);
      for (const d of of('Deployment')) {
        for (const c of d.spec.template.spec.containers) {
          for (const e of c.env ?? []) expect(e.valueFrom?.secretKeyRef?.name).toBeTruthy();
        }
      }
      for (const cm of of('ConfigMap')) {
        for (const [k, v] of Object.entries(cm.data ?? {})) {
          expect(k).not.toMatch(/(^|_)(KEK|SECRET|PASSWORD|TOKEN)$/);
          expect(v).not.toMatch(/:\/\/[^/@]+:[^/@]+@/);
        }
      }
    });

    it('lets the database-owning services talk only to the data namespace, auth and DNS', () => {
      const np = of('NetworkPolicy').find((d) => d.metadata.name === 'praxis-records')!;
      expect(np.spec.policyTypes).toEqual(['Ingress', 'Egress']);
      const from = np.spec.ingress[0].from.map((f: any) => f.podSelector?.matchLabels?.['app.kubernetes.io/name'] ?? f.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name'] ?? `helm-test:${f.podSelector?.matchLabels?.['praxis.io/helm-test']}`); // eslint-disable-line @typescript-eslint/no-explicit-any
      expect(from.sort()).toEqual(['consent', 'gateway', 'helm-test:records', 'messaging', 'monitoring']);
      expect(JSON.stringify(np.spec.egress)).not.toMatch(/0\.0\.0\.0/);
    });

    it('opens the internet to messaging alone: its mail relay and SMS providers, public addresses only', () => {
      const internet = (name: string) =>
        of('NetworkPolicy')
          .find((d) => d.metadata.name === name)!
          .spec.egress.filter((e: any) => e.to.some((t: any) => t.ipBlock?.cidr === '0.0.0.0/0')); // eslint-disable-line @typescript-eslint/no-explicit-any
      for (const s of SERVICES.filter((x) => x !== 'messaging')) expect(internet(`praxis-${s}`)).toEqual([]);
      const [rule, ...more] = internet('praxis-messaging');
      expect(more).toEqual([]);
      expect(rule.ports).toEqual([{ port: 587, protocol: 'TCP' }, { port: 443, protocol: 'TCP' }]);
      for (const block of ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '169.254.0.0/16']) expect(rule.to[0].ipBlock.except).toContain(block);
    });

    it('lets each service call exactly the services it uses, and be called only by its callers', () => {
      const np = (s: string) => of('NetworkPolicy').find((d) => d.metadata.name === `praxis-${s}`)!.spec;
      const to = (s: string) => np(s).egress.flatMap((e: any) => e.to.filter((t: any) => t.podSelector && !t.namespaceSelector).map((t: any) => t.podSelector.matchLabels['app.kubernetes.io/name'])).sort(); // eslint-disable-line @typescript-eslint/no-explicit-any
      const from = (s: string) => np(s).ingress[0].from.map((f: any) => f.podSelector?.matchLabels?.['app.kubernetes.io/name']).filter(Boolean).sort(); // eslint-disable-line @typescript-eslint/no-explicit-any
      expect(to('consent')).toEqual(['audit', 'auth', 'messaging', 'records']);
      expect(to('messaging')).toEqual(['auth', 'records']);
      expect(from('consent')).toEqual(['gateway']);
      expect(from('messaging')).toEqual(['consent', 'gateway']);
      // Every call allowed out is allowed in at the other end, and the other way round.
      for (const a of SERVICES) for (const b of to(a)) expect(from(b)).toContain(a);
      for (const b of SERVICES) for (const a of from(b)) expect(to(a)).toContain(b);
      // Each URL a service is configured with is a service it may reach.
      for (const cm of of('ConfigMap').filter((c) => SERVICES.includes(c.metadata.name.replace(/^praxis-/, '')))) {
        const me = cm.metadata.name.replace(/^praxis-/, '');
        for (const [k, v] of Object.entries(cm.data!)) {
          const m = /^http:\/\/praxis-([a-z]+):/.exec(v);
          if (m && m[1] !== me) expect([k, to(me)]).toEqual([k, expect.arrayContaining([m[1]])]);
        }
      }
    });

    it('gives consent a URL for every subject-rights participant it runs, each one deployed', () => {
      const cm = of('ConfigMap').find((d) => d.metadata.name === 'praxis-consent')!.data!;
      const deployed = of('Deployment').map((d) => d.metadata.name);
      const participants = cm.SUBJECT_RIGHTS_PARTICIPANTS!.split(',');
      expect(participants.sort()).toEqual(['audit', 'consent', 'messaging', 'records']);
      for (const p of participants.filter((x) => x !== 'consent')) {
        expect(cm[`${p.toUpperCase()}_URL`]).toMatch(new RegExp(`^http://praxis-${p}:\\d+$`));
        expect(deployed).toContain(`praxis-${p}`);
      }
    });

    it('gives messaging its mail relay and SMS providers, their credentials only by Secret reference', () => {
      const cm = of('ConfigMap').find((d) => d.metadata.name === 'praxis-messaging')!.data!;
      expect(cm.SMTP_URL).toMatch(/^smtp:\/\/[^@/]+:587$/);
      expect(cm.SMS_PRIMARY).toMatch(/^(twilio|vonage)$/);
      const env = of('Deployment').find((d) => d.metadata.name === 'praxis-messaging')!.spec.template.spec.containers[0].env as { name: string; valueFrom: { secretKeyRef: { name: string } } }[];
      const refs = Object.fromEntries(env.map((e) => [e.name, e.valueFrom.secretKeyRef.name]));
      for (const k of ['SMTP_USER', 'SMTP_PASSWORD', 'TWILIO_ACCOUNT_SID', 'TWILIO_AUTH_TOKEN', 'VONAGE_API_KEY', 'VONAGE_API_SECRET', 'VONAGE_SIGNATURE_SECRET']) {
        expect([k, refs[k]]).toEqual([k, 'praxis-messaging-providers']);
        expect(cm[k]).toBeUndefined();
      }
      expect(refs.SERVICE_CLIENT_SECRET).toBe('praxis-messaging');
    });

    it('references only Secrets that an ExternalSecret makes', () => {
      const made = parseAllDocuments(readFileSync(path.join(ROOT, 'k8s/cluster/external-secrets.yaml'), 'utf8'))
        .map((d) => d.toJS())
        .filter((d) => d?.kind === 'ExternalSecret' && d.metadata.namespace === 'praxis')
        .map((d) => d.spec.target.name as string);
      const used = new Set<string>();
      for (const d of [...of('Deployment'), ...of('CronJob')]) {
        const pod = d.kind === 'CronJob' ? d.spec.jobTemplate.spec.template.spec : d.spec.template.spec;
        for (const e of pod.containers[0].env ?? []) used.add(e.valueFrom.secretKeyRef.name);
      }
      expect(used.size).toBeGreaterThanOrEqual(SERVICES.length + 1);
      for (const u of used) expect(made).toContain(u);
    });

    it('exposes only the gateway, through an HTTPRoute on the HTTPS listener of the region Gateway', () => {
      expect(of('Ingress')).toHaveLength(0);
      const routes = of('HTTPRoute');
      expect(routes.map((r) => r.metadata.name)).toEqual(['praxis-gateway']);
      expect(routes[0]!.spec.parentRefs).toEqual([{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'praxis', namespace: 'praxis-edge', sectionName: 'https' }]);
      expect(routes[0]!.spec.hostnames).toEqual([`${region}.praxis.example`, `*.${region}.praxis.example`, 'app.praxis.example', '*.app.praxis.example']);
      expect(routes[0]!.spec.rules[0].backendRefs).toEqual([{ name: 'praxis-gateway', port: 8080 }]);
    });

    it('lets the gateway wait only for what it depends on: no undeployed upstream, readiness on Redis', () => {
      const cm = of('ConfigMap').find((d) => d.metadata.name === 'praxis-gateway')!;
      const upstreams = Object.keys(cm.data!).filter((k) => /_URL$/.test(k) && k !== 'JWKS_URL');
      const deployed = of('Deployment').map((d) => d.metadata.name.replace(/^praxis-/, '').toUpperCase());
      for (const u of upstreams) expect(deployed).toContain(u.replace(/_URL$/, ''));
      expect(cm.data!.READINESS_UPSTREAMS).toBe('redis');
    });

    it('rotates keys on a schedule with CronJobs that no Service or PDB mistakes for service pods', () => {
      const cron = of('CronJob');
      expect(cron.map((c) => c.metadata.name).sort()).toEqual(['praxis-audit-rotate-signing-key', 'praxis-auth-rotate-keys']);
      for (const c of cron) {
        const pod = c.spec.jobTemplate.spec.template;
        expect(c.spec.concurrencyPolicy).toBe('Forbid');
        expect(pod.spec.containers[0].securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
        for (const svc of of('Service')) {
          const sel = Object.entries(svc.spec.selector as Record<string, string>);
          expect(sel.every(([k, v]) => pod.metadata.labels[k] === v)).toBe(false);
        }
      }
    });

    it('has a helm test hook per service, under the same restrictions as the service', () => {
      const tests = of('Pod').filter((p) => p.metadata.annotations?.['helm.sh/hook'] === 'test');
      expect(tests.map((t) => t.metadata.name).sort()).toEqual(SERVICES.map((s) => `praxis-${s}-test`).sort());
      for (const t of tests) {
        expect(t.spec.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
        expect(t.spec.containers[0].securityContext).toMatchObject({ allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
      }
    });

    it('sends traces to the region collector and lets the services reach the MongoDB members of the other sites only on 27017', () => {
      for (const cm of of('ConfigMap')) expect(cm.data!.OTEL_EXPORTER_OTLP_ENDPOINT).toBe('http://otel-collector.praxis-observability:4318');
      const np = of('NetworkPolicy').find((d) => d.metadata.name === 'praxis-records')!;
      const blocks = np.spec.egress.filter((e: any) => e.to.some((t: any) => t.ipBlock)); // eslint-disable-line @typescript-eslint/no-explicit-any
      expect(blocks.map((b: any) => b.ports)).toEqual([[{ port: 27017, protocol: 'TCP' }], [{ port: 27017, protocol: 'TCP' }]]); // eslint-disable-line @typescript-eslint/no-explicit-any
    });
  });

  it('fails the render with every configuration error of a chart at once', () => {
    const err = helmFails([
      'template', 'x', 'charts/auth',
      '--set', 'global.region=', '--set', 'global.image.tag=latest', '--set', 'global.image.registry=r.example',
      '--set', 'env.ADMIN_PASSWORD=hunter2', '--set', 'env.MONGO_URL=mongodb://u:p@db/x', '--set', 'resources.limits.cpu=',
    ]);
    expect(err).toMatch(/pinned version/);
    expect(err).toMatch(/global.region/);
    expect(err).toMatch(/env.ADMIN_PASSWORD looks like a secret/);
    expect(err).toMatch(/env.MONGO_URL carries credentials/);
    expect(err).toMatch(/resources.limits.cpu/);
  });

  it('keeps secrets out of ConfigMaps: retired KEKs, signing keys, password-only URLs, data-tier URLs', () => {
    const err = helmFails([
      'template', 'x', 'charts/auth',
      '--set', 'global.region=uk-south', '--set', 'global.image.tag=1.4.2', '--set', 'global.image.registry=r.example',
      '--set', 'env.KEK_PREVIOUS=k1:abc', '--set', 'env.SIGNING_KEY=abc', '--set', 'env.CACHE_URL=rediss://:hunter2@cache:6380',
      '--set', 'env.MONGO_URL=mongodb://db:27017/?tls=true',
    ]);
    expect(err).toMatch(/env.KEK_PREVIOUS looks like a secret/);
    expect(err).toMatch(/env.SIGNING_KEY looks like a secret/);
    expect(err).toMatch(/env.CACHE_URL carries credentials/);
    expect(err).toMatch(/env.MONGO_URL is a data-tier connection string/);
    // Ids and public URLs stay fine.
    expect(helm(['template', 'x', 'charts/auth', '--set', 'global.region=uk-south', '--set', 'global.image.tag=1.4.2', '--set', 'global.image.registry=r.example', '--set', 'env.KEK_ID=k2'])).toMatch(/KEK_ID: "k2"/);
  });

  it('refuses a region without image digests', () => {
    const err = helmFails(['template', 'x', 'charts/praxis', '-f', 'k8s/regions/uk-south.yaml', '--set', 'global.image.tag=1.4.2']);
    expect(err).toMatch(/image.digest must pin the image/);
  });

  it('refuses values the schema does not know', () => {
    const err = helmFails(['template', 'x', 'charts/praxis', '-f', 'k8s/regions/uk-south.yaml', '--set', 'global.image.tag=1.4.2', ...DIGESTS, '--set', 'records.replicaCount=3']);
    expect(err).toMatch(/replicaCount/);
  });

  it('pins every third-party image in k8s/ by tag and digest; our own collector is pinned by the release (kustomization)', () => {
    const dir = path.join(ROOT, 'k8s');
    const images: string[] = [];
    const walk = (v: unknown, key = ''): void => {
      if (typeof v === 'string' && key === 'image') images.push(v);
      else if (Array.isArray(v)) v.forEach((x) => walk(x));
      else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, k);
    };
    for (const f of readdirSync(dir, { recursive: true }).map(String).filter((f) => f.endsWith('.yaml') && !f.startsWith('crds/'))) {
      for (const d of parseAllDocuments(readFileSync(path.join(dir, f), 'utf8'))) walk(d.toJS());
    }
    const unpinned = images.filter((i) => !/^[a-z0-9.-]+\/[a-z0-9./_-]+:[A-Za-z0-9._-]+@sha256:[a-f0-9]{64}$/.test(i));
    expect(images.length).toBeGreaterThanOrEqual(10);
    // The collector is built from scripts/tools/otelcol and pinned at release by
    // k8s/observability/kustomization.yaml; the cluster's admission policy refuses it before.
    expect([...new Set(unpinned)]).toEqual(['registry.praxis.example/praxis/otelcol:0.161.0']);
    const policy = parseAllDocuments(readFileSync(path.join(dir, 'cluster/image-digests.yaml'), 'utf8')).map((d) => d.toJS());
    expect(policy.map((d) => d.kind)).toEqual(['ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding']);
    expect(policy[0].spec.matchConstraints.namespaceSelector.matchExpressions[0].values).toEqual(['praxis', 'praxis-data', 'praxis-edge', 'praxis-observability']);
    expect(policy[1].spec.validationActions).toEqual(['Deny']);
    // The documentation names where each digest came from.
    const doc = readFileSync(path.join(ROOT, 'docs/deployment.md'), 'utf8');
    for (const i of new Set(images.filter((x) => !unpinned.includes(x)))) expect([i, doc.includes(i.split('@')[1]!)]).toEqual([i, true]);
  });

  it('keeps the cluster manifests parseable, namespaces restricted and default-deny in place', () => {
    const dir = path.join(ROOT, 'k8s');
    const files = readdirSync(dir, { recursive: true }).map(String).filter((f) => f.endsWith('.yaml') && !f.startsWith('crds/'));
    expect(files.length).toBeGreaterThanOrEqual(5);
    for (const f of files) {
      for (const d of parseAllDocuments(readFileSync(path.join(dir, f), 'utf8'))) expect(d.errors).toEqual([]);
    }
    const ns = parseAllDocuments(readFileSync(path.join(dir, 'cluster/namespaces.yaml'), 'utf8')).map((d) => d.toJS());
    for (const n of ns) expect(n.metadata.labels['pod-security.kubernetes.io/enforce']).toBe('restricted');
    expect(readFileSync(path.join(dir, 'cluster/default-deny.yaml'), 'utf8')).toMatch(/podSelector: \{\}\n {2}policyTypes: \[Ingress, Egress\]/);
  });
});
