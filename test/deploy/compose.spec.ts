import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '@stowage/config';
import { parse } from 'yaml';
import { ROOT } from './tools';

// Docker does not run here: docker-compose.yml is parsed and checked instead, with the
// configuration files it mounts.
type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as Obj;
const services = compose.services as Record<string, Obj>;

/** `${NAME:-default}` as Compose interpolates it with an empty environment. */
const interpolate = (value: string) => value.replace(/\$\{(\w+):-([^}]*)\}/g, (_, _name, fallback) => fallback);
const mounts = (service: Obj) =>
  (service.volumes ?? []).map((v: string) => {
    const [source, target, mode] = v.split(':');
    return { source, target, mode };
  });

describe('docker-compose.yml', () => {
  it('runs PostgreSQL, Redis, SeaweedFS (with its bucket job) and Stowage; no MinIO', () => {
    expect(Object.keys(services).sort()).toEqual(['postgres', 'redis', 'seaweedfs', 'seaweedfs-init', 'stowage']);
    expect(JSON.stringify(compose)).not.toMatch(/minio/i);
  });

  it('pins every image to a version', () => {
    for (const [name, service] of Object.entries(services)) {
      if (service.build) {
        expect({ name, image: service.image }).toEqual({ name, image: 'stowage:dev' });
        continue;
      }
      expect({ name, image: service.image }).toEqual({
        name,
        image: expect.stringMatching(/^[\w./-]+:\d+(\.\d+)+(-[a-z0-9]+)?$/),
      });
    }
  });

  it('gives every long-running service a healthcheck and starts Stowage after all of them', () => {
    for (const name of ['postgres', 'redis', 'seaweedfs', 'stowage']) {
      const check = services[name].healthcheck;
      expect({ name, test: Array.isArray(check?.test) && ['CMD', 'CMD-SHELL'].includes(check.test[0]) }).toEqual({
        name,
        test: true,
      });
      expect(check.interval).toMatch(/^\d+s$/);
    }
    expect(services.stowage.healthcheck.test.join(' ')).toMatch(/\/readyz/);
    expect(services.seaweedfs.healthcheck.test.join(' ')).toMatch(/127\.0\.0\.1:8333\/healthz/);
    expect(services.stowage.depends_on).toEqual({
      postgres: { condition: 'service_healthy' },
      redis: { condition: 'service_healthy' },
      seaweedfs: { condition: 'service_healthy' },
      'seaweedfs-init': { condition: 'service_completed_successfully' },
    });
    expect(services['seaweedfs-init'].restart).toBe('no');
  });

  it('mounts configuration that exists, read-only, and that Stowage accepts', () => {
    for (const service of Object.values(services)) {
      for (const m of mounts(service).filter((m: Obj) => m.source.startsWith('./'))) {
        expect(existsSync(join(ROOT, m.source))).toBe(true);
        expect(m.mode).toBe('ro');
      }
    }
    const stowageMount = mounts(services.stowage).find((m: Obj) => m.target === '/etc/stowage/stowage.yaml');
    expect(services.stowage.command).toEqual(['serve', '--config', '/etc/stowage/stowage.yaml']);
    const env = Object.fromEntries(
      Object.entries(services.stowage.environment as Record<string, string>).map(([k, v]) => [k, interpolate(v)]),
    );
    const config = loadConfig({ path: join(ROOT, stowageMount.source), env });
    expect(config.db.url).toBe('postgres://stowage:stowage@postgres:5432/stowage');
    expect(config.redis.url).toBe('redis://redis:6379/0');
    expect(config.s3_proxy.enabled).toBe(true);
    const [backend] = config.backends;
    expect(backend).toMatchObject({
      id: 'local-seaweedfs',
      endpoint: 'http://seaweedfs:8333',
      path_style: true,
      kind: 'seaweedfs',
    });
    // The credentials Stowage reads are the identity SeaweedFS is given.
    const seaweedMount = mounts(services.seaweedfs).find((m: Obj) => m.target === '/etc/seaweedfs/s3.json');
    expect(services.seaweedfs.command).toContain(`-s3.config=${seaweedMount.target}`);
    const identities = JSON.parse(readFileSync(join(ROOT, seaweedMount.source), 'utf8')).identities as Obj[];
    expect(identities.flatMap((i) => i.credentials)).toContainEqual({
      accessKey: env[backend.access_key_env],
      secretKey: env[backend.secret_key_env],
    });
    expect(identities[0].actions).toEqual(expect.arrayContaining(['Admin', 'Read', 'Write', 'List']));
  });

  it('runs Stowage on a read-only root filesystem with /tmp as its only scratch space', () => {
    expect(services.stowage.read_only).toBe(true);
    expect(services.stowage.tmpfs).toEqual(['/tmp']);
  });
});
