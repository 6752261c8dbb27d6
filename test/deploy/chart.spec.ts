import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '@stowage/config';
import { parse } from 'yaml';
import { CHART, K8sObject, NAMESPACE, RELEASE, ROOT, lint, template, validateManifests } from './tools';

const FULL = `${RELEASE}-stowage`;
const ROOT_KEY = '0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef';
const DB_URL = 'postgres://stowage:db-Passw0rd@pg.db.svc:5432/stowage';
const REDIS_URL = 'redis://:redis-Passw0rd@redis.cache.svc:6379/0';
const ADMIN_HASH = '$argon2id$v=19$m=65536,t=3,p=2$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo';
const OIDC_SECRET = 'oidc-Client-Secret';

/** Every option on: what the "all on" render and its checks use. */
const ALL_ON = {
  database: { url: DB_URL },
  redis: { url: REDIS_URL },
  secretKey: { value: ROOT_KEY },
  staticAdmin: { enabled: true, passwordHash: ADMIN_HASH },
  oidc: { clientSecret: OIDC_SECRET },
  commonLabels: { team: 'storage' },
  config: {
    s3_proxy: { enabled: true },
    auth: {
      modes: ['local', 'oidc'],
      oidc: {
        issuer: 'https://idp.example.com/realms/main',
        client_id: 'stowage',
        role_claim: 'groups',
        role_mapping: { admin: ['stowage-admins'], user: ['stowage-users'] },
      },
    },
  },
  ingress: {
    enabled: true,
    className: 'nginx',
    annotations: { 'cert-manager.io/cluster-issuer': 'letsencrypt' },
    dashboard: { host: 'stowage.example.com', tlsSecretName: 'stowage-tls' },
    s3: {
      enabled: true,
      host: 's3.example.com',
      hostSuffixes: ['s3.example.com'],
      tlsSecretName: 's3-tls',
      annotations: { 'nginx.ingress.kubernetes.io/proxy-body-size': '0' },
    },
  },
  s3Service: { type: 'LoadBalancer' },
  autoscaling: { enabled: true, targetMemoryUtilizationPercentage: 80 },
  worker: { enabled: true, replicaCount: 2 },
  networkPolicy: {
    enabled: true,
    metricsFrom: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }],
    s3ClientsFrom: [{ podSelector: { matchLabels: { 's3-client': 'true' } } }],
  },
  metrics: { serviceMonitor: { enabled: true }, grafanaDashboard: { enabled: true } },
  nodeOptions: '--max-old-space-size=384',
  extraEnv: [{ name: 'GARAGE_ACCESS_KEY', valueFrom: { secretKeyRef: { name: 'garage', key: 'access-key' } } }],
};

const EVALUATION = {
  bundledPostgresql: { enabled: true },
  bundledRedis: { enabled: true },
  networkPolicy: { enabled: true },
};

function rendered(values?: Record<string, unknown>): K8sObject[] {
  const run = template(values);
  if (run.status !== 0) throw new Error(`helm template failed: ${run.stderr}`);
  return run.docs;
}

const find = (docs: K8sObject[], kind: string, name: string) => {
  const doc = docs.find((d) => d.kind === kind && d.metadata.name === name);
  if (!doc) throw new Error(`no ${kind} ${name} among ${docs.map((d) => `${d.kind}/${d.metadata.name}`).join(', ')}`);
  return doc;
};
const all = (docs: K8sObject[], kind: string) => docs.filter((d) => d.kind === kind);
type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const podSpec = (workload: K8sObject): Obj => (workload.spec as Obj).template.spec as Obj;
const podLabels = (workload: K8sObject): Record<string, string> => (workload.spec as Obj).template.metadata.labels;
const matches = (selector: Record<string, string>, labels: Record<string, string>) =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);
const workloads = (docs: K8sObject[]) => docs.filter((d) => ['Deployment', 'StatefulSet', 'Job'].includes(d.kind));

describe('Helm chart', () => {
  let defaults: K8sObject[];
  let allOn: K8sObject[];
  let evaluation: K8sObject[];

  beforeAll(() => {
    defaults = rendered();
    allOn = rendered(ALL_ON);
    evaluation = rendered(EVALUATION);
  });

  it('passes helm lint --strict with defaults, every option on, and the evaluation servers', () => {
    for (const values of [undefined, ALL_ON, EVALUATION]) {
      const run = lint(values);
      expect({ status: run.status, out: run.stdout + run.stderr }).toEqual({
        status: 0,
        out: expect.stringContaining('0 chart(s) failed'),
      });
    }
  });

  it('renders only the expected objects with defaults', () => {
    expect(defaults.map((d) => `${d.kind}/${d.metadata.name}`).sort()).toEqual(
      [
        `ConfigMap/${FULL}`,
        `Deployment/${FULL}`,
        `PodDisruptionBudget/${FULL}`,
        `Secret/${FULL}-root-key`,
        `Service/${FULL}`,
        `ServiceAccount/${FULL}`,
      ].sort(),
    );
    for (const doc of defaults) expect(doc.metadata.namespace).toBe(NAMESPACE);
  });

  it('every rendered document validates against the Kubernetes API schemas (kubernetes-models, pinned)', () => {
    for (const docs of [defaults, allOn, evaluation]) {
      const problems = validateManifests(docs).filter((r) => r.problems.length > 0);
      expect(problems).toEqual([]);
    }
  });

  it('the schema check catches what the API server would refuse', () => {
    const deployment = structuredClone(find(defaults, 'Deployment', FULL));
    podSpec(deployment).containers[0].ports[0].containerPort = 'eighty';
    const [result] = validateManifests([deployment]);
    expect(result.problems.join()).toMatch(/containerPort must be integer/);
    expect(
      validateManifests([{ apiVersion: 'example.com/v1', kind: 'Gadget', metadata: { name: 'x' } }])[0].problems,
    ).toEqual(['no schema for example.com/v1 Gadget']);
  });

  it('runs 2 API replicas with probes on /healthz and /readyz, spread over zones and nodes', () => {
    const deployment = find(defaults, 'Deployment', FULL);
    expect((deployment.spec as Obj).replicas).toBe(2);
    const spec = podSpec(deployment);
    const [container] = spec.containers;
    expect(container.args).toEqual(['serve', '--config', '/etc/stowage/stowage.yaml']);
    expect(container.startupProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(container.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(container.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' });
    expect(container.ports.map((p: Obj) => p.name)).toEqual(['http']);
    expect(container.resources.limits.memory).toBeDefined();
    expect(spec.topologySpreadConstraints.map((t: Obj) => t.topologyKey)).toEqual([
      'topology.kubernetes.io/zone',
      'kubernetes.io/hostname',
    ]);
    for (const t of spec.topologySpreadConstraints)
      expect(t.labelSelector.matchLabels).toEqual((deployment.spec as Obj).selector.matchLabels);
  });

  it('every Stowage container is non-root with a read-only root filesystem and writes only to /tmp', () => {
    for (const docs of [defaults, allOn]) {
      for (const workload of workloads(docs)) {
        const spec = podSpec(workload);
        expect(spec.securityContext).toMatchObject({
          runAsNonRoot: true,
          runAsUser: 10001,
          seccompProfile: { type: 'RuntimeDefault' },
        });
        expect(spec.automountServiceAccountToken).toBe(false);
        for (const c of spec.containers) {
          expect(c.securityContext).toEqual({
            runAsNonRoot: true,
            runAsUser: 10001,
            runAsGroup: 10001,
            readOnlyRootFilesystem: true,
            allowPrivilegeEscalation: false,
            capabilities: { drop: ['ALL'] },
          });
          const writable = c.volumeMounts.filter((m: Obj) => !m.readOnly).map((m: Obj) => m.mountPath);
          expect(writable).toEqual(['/tmp']);
          const tmp = spec.volumes.find((v: Obj) => v.name === 'tmp');
          expect(tmp.emptyDir.sizeLimit).toBe('64Mi');
        }
      }
    }
  });

  it('takes every secret from a Secret: none in a ConfigMap, none as a plain env value', () => {
    const secretNames = new Set(all(allOn, 'Secret').map((s) => s.metadata.name));
    const external = new Set(['garage']); // named by extraEnv
    for (const workload of workloads(allOn)) {
      for (const c of podSpec(workload).containers) {
        for (const env of c.env ?? []) {
          if (/SECRET|URL|HASH|PASSWORD|KEY/.test(env.name)) expect(env.value).toBeUndefined();
          const ref = env.valueFrom?.secretKeyRef;
          if (!ref) continue;
          expect(secretNames.has(ref.name) || external.has(ref.name)).toBe(true);
          if (secretNames.has(ref.name))
            expect(Object.keys(find(allOn, 'Secret', ref.name).data as Obj)).toContain(ref.key);
        }
      }
    }
    const server = podSpec(find(allOn, 'Deployment', FULL)).containers[0];
    const envNames = server.env.map((e: Obj) => e.name);
    for (const name of [
      'STOWAGE_SECRET_KEY',
      'STOWAGE_DATABASE_URL',
      'STOWAGE_REDIS_URL',
      'STOWAGE_STATIC_ADMIN_HASH',
      'STOWAGE_OIDC_CLIENT_SECRET',
    ]) {
      expect(envNames).toContain(name);
    }
    const configText = JSON.stringify(all(allOn, 'ConfigMap').map((c) => c.data));
    for (const secret of [ROOT_KEY, 'db-Passw0rd', 'redis-Passw0rd', ADMIN_HASH, OIDC_SECRET]) {
      expect(configText).not.toContain(secret);
    }
    const stored = find(allOn, 'Secret', FULL).data as Record<string, string>;
    const decoded = Object.fromEntries(
      Object.entries(stored).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]),
    );
    expect(decoded).toEqual({
      'database-url': DB_URL,
      'redis-url': REDIS_URL,
      'static-admin-hash': ADMIN_HASH,
      'oidc-client-secret': OIDC_SECRET,
    });
  });

  it('uses existing Secrets when named and then creates none of its own for them', () => {
    const docs = rendered({
      database: { existingSecret: 'conn', existingSecretKey: 'pg' },
      redis: { existingSecret: 'conn', existingSecretKey: 'rd' },
      secretKey: { existingSecret: 'root', existingSecretKey: 'k' },
      staticAdmin: { enabled: true, existingSecret: 'admin', existingSecretKey: 'h' },
      oidc: { existingSecret: 'oidc', existingSecretKey: 'cs' },
    });
    expect(all(docs, 'Secret')).toEqual([]);
    const env = podSpec(find(docs, 'Deployment', FULL)).containers[0].env as Obj[];
    const refs = Object.fromEntries(env.filter((e) => e.valueFrom).map((e) => [e.name, e.valueFrom.secretKeyRef]));
    expect(refs).toEqual({
      STOWAGE_SECRET_KEY: { name: 'root', key: 'k' },
      STOWAGE_DATABASE_URL: { name: 'conn', key: 'pg' },
      STOWAGE_REDIS_URL: { name: 'conn', key: 'rd' },
      STOWAGE_STATIC_ADMIN_HASH: { name: 'admin', key: 'h' },
      STOWAGE_OIDC_CLIENT_SECRET: { name: 'oidc', key: 'cs' },
    });
    const job = find(docs, 'Job', `${FULL}-migrations`);
    expect(
      podSpec(job).containers[0].env.find((e: Obj) => e.name === 'STOWAGE_DATABASE_URL').valueFrom.secretKeyRef,
    ).toEqual({
      name: 'conn',
      key: 'pg',
    });
  });

  it('generates the root key once (kept on upgrades by lookup, kept on uninstall) or takes the one given', () => {
    const secret = find(defaults, 'Secret', `${FULL}-root-key`);
    const key = Buffer.from((secret.data as Obj)['secret-key'], 'base64').toString();
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    expect(secret.metadata.annotations?.['helm.sh/resource-policy']).toBe('keep');
    const templateText = readFileSync(join(CHART, 'templates', 'secret.yaml'), 'utf8');
    expect(templateText).toMatch(/lookup "v1" "Secret" \.Release\.Namespace \$name/);
    const given = find(allOn, 'Secret', `${FULL}-root-key`);
    expect(Buffer.from((given.data as Obj)['secret-key'], 'base64').toString()).toBe(ROOT_KEY);
  });

  it('migrates in a pre-install/pre-upgrade hook Job that needs nothing the release creates', () => {
    expect(all(defaults, 'Job')).toEqual([]); // no database configured yet
    const job = find(allOn, 'Job', `${FULL}-migrations`);
    expect(job.metadata.annotations).toMatchObject({
      'helm.sh/hook': 'pre-install,pre-upgrade',
      'helm.sh/hook-delete-policy': 'before-hook-creation,hook-succeeded',
    });
    const spec = podSpec(job);
    expect(spec.restartPolicy).toBe('Never');
    expect(spec.serviceAccountName).toBeUndefined();
    expect(spec.containers[0].args).toEqual(['migrate']);
    expect(spec.volumes.map((v: Obj) => v.name)).toEqual(['tmp']);
    const ref = spec.containers[0].env.find((e: Obj) => e.name === 'STOWAGE_DATABASE_URL').valueFrom.secretKeyRef;
    const hookSecret = find(allOn, 'Secret', ref.name);
    expect(hookSecret.metadata.annotations).toMatchObject({ 'helm.sh/hook': 'pre-install,pre-upgrade' });
    expect(Number(hookSecret.metadata.annotations?.['helm.sh/hook-weight'])).toBeLessThan(
      Number(job.metadata.annotations?.['helm.sh/hook-weight']),
    );
    // The replicas then do not migrate themselves.
    const config = parse((find(allOn, 'ConfigMap', FULL).data as Obj)['stowage.yaml']);
    expect(config.db.migrate_on_start).toBe(false);
    // Without the hook, every replica migrates at start-up (under the advisory lock).
    const off = rendered({ ...ALL_ON, migrations: { enabled: false } });
    expect(all(off, 'Job')).toEqual([]);
    expect(parse((find(off, 'ConfigMap', FULL).data as Obj)['stowage.yaml']).db.migrate_on_start).toBe(true);
  });

  it('keeps selectors and labels consistent: each controller, Service, PDB, policy and monitor selects what it should', () => {
    for (const docs of [defaults, allOn, evaluation]) {
      const pods = workloads(docs).map((w) => ({ name: w.metadata.name, labels: podLabels(w) }));
      for (const w of workloads(docs).filter((d) => d.kind !== 'Job')) {
        const selector = (w.spec as Obj).selector.matchLabels;
        expect(matches(selector, podLabels(w))).toBe(true);
        // No controller's selector catches another workload's pods.
        expect(pods.filter((p) => matches(selector, p.labels)).map((p) => p.name)).toEqual([w.metadata.name]);
      }
      for (const doc of docs) {
        expect(doc.metadata.labels).toMatchObject({
          'app.kubernetes.io/instance': RELEASE,
          'app.kubernetes.io/managed-by': 'Helm',
        });
      }
      const serverPods = pods.filter((p) => p.labels['app.kubernetes.io/component'] === 'server');
      for (const svc of all(docs, 'Service')) {
        const selected = pods.filter((p) => matches((svc.spec as Obj).selector, p.labels));
        expect(selected.length).toBe(1);
      }
      for (const pdb of all(docs, 'PodDisruptionBudget')) {
        expect(pods.filter((p) => matches((pdb.spec as Obj).selector.matchLabels, p.labels))).toEqual(serverPods);
      }
    }
    const services = all(allOn, 'Service');
    const server = find(allOn, 'Deployment', FULL);
    const containerPorts = podSpec(server).containers[0].ports.map((p: Obj) => p.name);
    for (const svc of services) {
      for (const port of (svc.spec as Obj).ports) expect(containerPorts).toContain(port.targetPort);
    }
    for (const ingress of all(allOn, 'Ingress')) {
      for (const rule of (ingress.spec as Obj).rules) {
        for (const path of rule.http.paths) {
          const svc = find(allOn, 'Service', path.backend.service.name);
          expect((svc.spec as Obj).ports.map((p: Obj) => p.name)).toContain(path.backend.service.port.name);
        }
      }
    }
    const monitor = find(allOn, 'ServiceMonitor', FULL);
    const monitored = services.filter((s) =>
      matches((monitor.spec as Obj).selector.matchLabels, s.metadata.labels ?? {}),
    );
    expect(monitored.some((s) => (s.spec as Obj).ports.some((p: Obj) => p.name === 'http'))).toBe(true);
    expect(((find(allOn, 'HorizontalPodAutoscaler', FULL).spec as Obj).scaleTargetRef as Obj).name).toBe(FULL);
    expect((server.spec as Obj).replicas).toBeUndefined(); // the HPA owns the count
    const policy = find(allOn, 'NetworkPolicy', FULL);
    expect(matches((policy.spec as Obj).podSelector.matchLabels, podLabels(server))).toBe(true);
  });

  it('runs the worker Deployment only when enabled, and then the API replicas leave the jobs to it', () => {
    for (const docs of [defaults, rendered({ ...ALL_ON, worker: { enabled: false } })]) {
      expect(workloads(docs).map((w) => w.metadata.name)).not.toContain(`${FULL}-worker`);
      expect(Object.keys(find(docs, 'ConfigMap', FULL).data as Obj)).toEqual(['stowage.yaml']);
    }
    const worker = find(allOn, 'Deployment', `${FULL}-worker`);
    expect((worker.spec as Obj).replicas).toBe(2);
    const [container] = podSpec(worker).containers;
    expect(container.args).toEqual(['worker', '--config', '/etc/stowage/worker.yaml']);
    expect(container.ports).toBeUndefined();
    expect(container.readinessProbe).toBeUndefined();
    const data = find(allOn, 'ConfigMap', FULL).data as Obj;
    expect(parse(data['stowage.yaml']).workers).toEqual({ enabled: false });
    expect(parse(data['worker.yaml']).workers).toEqual({ enabled: true });
  });

  it('merges config over the generated defaults, key by key, an explicit false or empty value included', () => {
    const config = parse((find(allOn, 'ConfigMap', FULL).data as Obj)['stowage.yaml']);
    expect(config.server).toMatchObject({ listen: ':8080', public_url: 'https://stowage.example.com' });
    expect(config.s3_proxy).toMatchObject({ enabled: true, listen: ':8090', host_suffixes: ['s3.example.com'] });
    expect(config.auth.static).toEqual({
      enabled: true,
      username: 'admin',
      password_hash_env: 'STOWAGE_STATIC_ADMIN_HASH',
    });
    expect(config.auth.oidc).toMatchObject({ client_secret_env: 'STOWAGE_OIDC_CLIENT_SECRET', client_id: 'stowage' });
    const over = rendered({
      ...ALL_ON,
      config: { ...ALL_ON.config, db: { migrate_on_start: true }, server: { public_url: '', listen: ':9999' } },
    });
    const merged = parse((find(over, 'ConfigMap', FULL).data as Obj)['stowage.yaml']);
    expect(merged.db.migrate_on_start).toBe(true);
    expect(merged.server).toMatchObject({ public_url: '', listen: ':9999' });
    expect(merged.log).toEqual({ level: 'info', format: 'json' });
  });

  it('renders a configuration Stowage itself accepts', () => {
    for (const docs of [defaults, allOn, evaluation]) {
      const config = parse((find(docs, 'ConfigMap', FULL).data as Obj)['stowage.yaml']);
      const env = { STOWAGE_STATIC_ADMIN_HASH: ADMIN_HASH, STOWAGE_OIDC_CLIENT_SECRET: OIDC_SECRET };
      expect(() => loadConfig({ overrides: config, env })).not.toThrow();
    }
  });

  it('exposes the dashboard and the S3 endpoint (path-style host and wildcard suffixes) on their own Services and Ingresses', () => {
    expect((find(allOn, 'Service', FULL).spec as Obj).ports.map((p: Obj) => [p.name, p.port])).toEqual([
      ['http', 8080],
    ]);
    const s3 = find(allOn, 'Service', `${FULL}-s3`);
    expect((s3.spec as Obj).type).toBe('LoadBalancer');
    expect((s3.spec as Obj).ports.map((p: Obj) => [p.name, p.port])).toEqual([['s3', 8090]]);
    const dashboard = find(allOn, 'Ingress', FULL).spec as Obj;
    expect(dashboard.rules.map((r: Obj) => r.host)).toEqual(['stowage.example.com']);
    expect(dashboard.tls).toEqual([{ hosts: ['stowage.example.com'], secretName: 'stowage-tls' }]);
    const s3Ingress = find(allOn, 'Ingress', `${FULL}-s3`);
    expect((s3Ingress.spec as Obj).rules.map((r: Obj) => r.host)).toEqual(['s3.example.com', '*.s3.example.com']);
    expect(s3Ingress.metadata.annotations).toEqual({
      'cert-manager.io/cluster-issuer': 'letsencrypt',
      'nginx.ingress.kubernetes.io/proxy-body-size': '0',
    });
    const broken = template({ ingress: { enabled: true, s3: { enabled: true, host: 's3.example.com' } } });
    expect(broken.status).not.toBe(0);
    expect(broken.stderr).toMatch(/ingress\.s3\.enabled needs the S3 proxy/);
  });

  it('ships the Grafana dashboard and a NetworkPolicy that admits only the named peers', () => {
    const dashboard = find(allOn, 'ConfigMap', `${FULL}-dashboard`);
    expect(dashboard.metadata.labels?.grafana_dashboard).toBe('1');
    const shipped = JSON.parse(readFileSync(join(ROOT, 'deploy', 'grafana', 'stowage-dashboard.json'), 'utf8'));
    expect(JSON.parse((dashboard.data as Obj)['stowage.json'])).toEqual(shipped);
    const policy = find(allOn, 'NetworkPolicy', FULL).spec as Obj;
    expect(policy.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(policy.ingress.map((r: Obj) => [r.ports[0].port, r.from.length])).toEqual([
      ['http', 2],
      ['s3', 2],
    ]);
    expect(policy.egress[0].ports.map((p: Obj) => p.port)).toEqual([53, 53]);
    const workerPolicy = find(allOn, 'NetworkPolicy', `${FULL}-worker`).spec as Obj;
    expect(workerPolicy.ingress).toEqual([]);
  });

  it('bundles PostgreSQL and Redis for evaluation only when asked, wired through the Secret', () => {
    for (const docs of [defaults, allOn]) {
      expect(docs.filter((d) => /postgresql|redis/.test(d.metadata.name))).toEqual([]);
    }
    const pg = find(evaluation, 'StatefulSet', `${FULL}-postgresql`);
    expect(podSpec(pg).containers[0].image).toMatch(/^postgres:\d+\.\d+-/);
    expect(podSpec(find(evaluation, 'Deployment', `${FULL}-redis`)).containers[0].image).toMatch(
      /^redis:\d+\.\d+\.\d+-/,
    );
    const data = find(evaluation, 'Secret', FULL).data as Record<string, string>;
    const url = Buffer.from(data['database-url'], 'base64').toString();
    const password = Buffer.from(data['postgres-password'], 'base64').toString();
    expect(url).toBe(`postgres://stowage:${password}@${FULL}-postgresql:5432/stowage`);
    expect(Buffer.from(data['redis-url'], 'base64').toString()).toBe(`redis://${FULL}-redis:6379/0`);
    // The bundled server does not exist before install: the first migration runs after it.
    expect(find(evaluation, 'Job', `${FULL}-migrations`).metadata.annotations?.['helm.sh/hook']).toBe(
      'post-install,pre-upgrade',
    );
  });

  describe('values.schema.json refuses bad values clearly', () => {
    it.each([
      [{ replicaCount: 'two' }, /replicaCount: Invalid type\. Expected: integer, given: string/],
      [{ replicaCaunt: 3 }, /Additional property replicaCaunt is not allowed/],
      [{ image: { pullPolicy: 'Sometimes' } }, /image\.pullPolicy must be one of the following/],
      [{ worker: { enabled: 'always' } }, /worker\.enabled: Invalid type\. Expected: boolean/],
      [{ secretKey: { value: 'short' } }, /secretKey\.value: Does not match pattern/],
      [{ database: { url: 'mysql://x' } }, /database\.url: Does not match pattern/],
      [{ containerPorts: { http: 70000, s3: 8090 } }, /containerPorts\.http: Must be less than or equal to 65535/],
      [{ ingress: { s3: { hostSuffixes: ['*.bad'] } } }, /ingress\.s3\.hostSuffixes\.0: Does not match pattern/],
      [{ networkPolicy: { egress: { dns: 1 } } }, /networkPolicy\.egress\.dns: Invalid type/],
      [{ config: 'server: {}' }, /config: Invalid type\. Expected: object, given: string/],
    ])('%j', (values, message) => {
      const run = template(values as Record<string, unknown>);
      expect(run.status).not.toBe(0);
      expect(run.stderr).toMatch(/values don't meet the specifications of the schema/);
      expect(run.stderr).toMatch(message);
      expect(lint(values as Record<string, unknown>).status).not.toBe(0);
    });
  });
});
