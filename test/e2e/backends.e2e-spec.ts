import { DataSource } from 'typeorm';
import { TestApp, TestStack } from '../harness/app';
import { login, seedUser, Session } from '../harness/session';

const ROOT_KEY = 'cd'.repeat(32);

describe('backends, buckets and their administration', () => {
  let stack: TestStack;
  let a: TestApp;
  let b: TestApp;
  let admin: Session;
  let user: Session;

  beforeAll(async () => {
    stack = await TestStack.start();
    const s3 = stack.s3!;
    const boot = () =>
      stack.boot({
        config: {
          ratelimit: { login_per_ip: 0, api_per_minute: 0 },
          backends: [
            {
              id: 'local',
              name: 'Local',
              endpoint: s3.endpoint,
              access_key_env: 'LOCAL_KEY',
              secret_key_env: 'LOCAL_SECRET',
              path_style: true,
              kind: 's3rver',
            },
            {
              id: 'broken',
              endpoint: s3.endpoint,
              access_key_env: 'LOCAL_KEY',
              secret_key_env: 'WRONG_SECRET',
              path_style: true,
              kind: 's3rver',
            },
          ],
        },
        env: {
          LOCAL_KEY: s3.accessKey,
          LOCAL_SECRET: s3.secretKey,
          WRONG_SECRET: 'not-the-secret',
          STOWAGE_SECRET_KEY: ROOT_KEY,
        },
      });
    [a, b] = await Promise.all([boot(), boot()]);
    admin = await login(a, (await seedUser(a, { role: 'admin' })).username);
    user = await login(a, (await seedUser(a, { role: 'user' })).username);
  });
  afterAll(() => stack.stop());

  describe('/api/backends', () => {
    it('lists the configured backends with their capabilities', async () => {
      const res = await user.request('/api/backends');
      expect(res.status).toBe(200);
      expect(res.body.backends.map((x: { id: string }) => x.id)).toEqual(['broken', 'local']);
      const local = res.body.backends.find((x: { id: string }) => x.id === 'local');
      expect(local).toMatchObject({
        name: 'Local',
        capabilities: { versioning: false, bucket_policy: false, tagging: true },
      });
    });

    it('probes a backend on demand and records the history', async () => {
      const ok = await user.request('/api/backends/local/health');
      expect(ok.body).toMatchObject({ healthy: true, last_error: '' });
      const bad = await user.request('/api/backends/broken/health');
      expect(bad.body.healthy).toBe(false);
      expect(bad.body.last_error).toMatch(/SignatureDoesNotMatch|InvalidAccessKeyId|403/);
      expect(bad.text).not.toContain('not-the-secret');
      const history = await admin.request('/api/admin/backends/health');
      const local = history.body.backends.find((x: { id: string }) => x.id === 'local');
      expect(local.history.length).toBeGreaterThanOrEqual(1);
      // Every replica reads the same history.
      const fromB = await admin.on(b).request('/api/backends/local');
      expect(fromB.body.healthy).toBe(true);
    });

    it('answers not_found for an unknown backend and bad_request for a malformed id', async () => {
      expect((await user.request('/api/backends/nope')).body.error.code).toBe('not_found');
      const malformed = await user.request('/api/backends/NOT_VALID');
      expect(malformed.status).toBe(400);
      expect(malformed.body.error.code).toBe('bad_request');
    });
  });

  describe('buckets', () => {
    it('creates, lists and deletes a bucket (admin)', async () => {
      const created = await admin.request('/api/backends/local/buckets', {
        method: 'POST',
        body: { name: 'team-assets' },
      });
      expect(created.status).toBe(201);
      expect(created.body).toEqual({ name: 'team-assets' });
      const list = await user.request('/api/backends/local/buckets');
      expect(list.body.buckets).toEqual(
        expect.arrayContaining([expect.objectContaining({ name: 'team-assets', size_tracked: true })]),
      );
      const again = await admin.request('/api/backends/local/buckets', {
        method: 'POST',
        body: { name: 'team-assets' },
      });
      expect(again.status).toBe(409);
      expect((await admin.request('/api/backends/local/buckets/team-assets', { method: 'DELETE' })).status).toBe(204);
      const rows = await a.app
        .get(DataSource)
        .query("SELECT action FROM audit_events WHERE action LIKE 'bucket.%' AND bucket = 'team-assets'");
      expect(rows.map((r: { action: string }) => r.action)).toEqual(['bucket.create', 'bucket.delete']);
    });

    it.each(['ab', 'Upper', 'under_score', '192.168.0.1', 'x'.repeat(64)])(
      'refuses the bucket name %p',
      async (name) => {
        const res = await admin.request('/api/backends/local/buckets', { method: 'POST', body: { name } });
        expect(res.status).toBe(400);
        expect(res.body.error.code).toBe('invalid_bucket_name');
      },
    );

    it('refuses a malformed bucket in a path with invalid_bucket', async () => {
      const res = await admin.request('/api/backends/local/buckets/Bad_Name', { method: 'DELETE' });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('invalid_bucket');
    });

    it('lets only admins create and delete buckets', async () => {
      const res = await user.request('/api/backends/local/buckets', { method: 'POST', body: { name: 'not-mine' } });
      expect(res.status).toBe(403);
      expect(res.body.error.code).toBe('forbidden');
    });

    it('reports an upstream refusal as backend_error with the upstream message and no secret', async () => {
      const res = await user.request('/api/backends/broken/buckets');
      expect(res.status).toBe(502);
      expect(res.body.error.code).toBe('backend_error');
      expect(res.body.error.detail).toMatch(/SignatureDoesNotMatch|InvalidAccessKeyId/);
      expect(res.text).not.toContain('not-the-secret');
    });
  });

  describe('/api/admin/backends', () => {
    const endpoint = () => ({
      id: 'second',
      name: 'Second',
      endpoint: stack.s3!.endpoint,
      access_key: stack.s3!.accessKey,
      secret_key: stack.s3!.secretKey,
      path_style: true,
      kind: 's3rver',
    });

    it('adds a backend with a sealed secret, usable at once on every replica', async () => {
      const res = await admin.request('/api/admin/backends', { method: 'POST', body: endpoint() });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ id: 'second', source: 'db', secret_set: true, enabled: true, kind: 's3rver' });
      expect(res.text).not.toContain(stack.s3!.secretKey === 'S3RVER' ? '"secret_key"' : stack.s3!.secretKey);
      const [row] = await a.app.get(DataSource).query("SELECT secret_key_sealed FROM backends WHERE id = 'second'");
      expect(Buffer.from(row.secret_key_sealed).toString('utf8')).not.toContain(stack.s3!.secretKey);
      const fromB = await admin.on(b).request('/api/backends/second/buckets');
      expect(fromB.status).toBe(200);
      const dup = await admin.request('/api/admin/backends', { method: 'POST', body: endpoint() });
      expect(dup.body.error.code).toBe('id_taken');
      const clash = await admin.request('/api/admin/backends', {
        method: 'POST',
        body: { ...endpoint(), id: 'local' },
      });
      expect(clash.body.error.code).toBe('id_taken');
    });

    it('lists configuration and dashboard backends without secrets', async () => {
      const res = await admin.request('/api/admin/backends');
      expect(res.body.backends.map((x: { id: string; source: string }) => `${x.id}:${x.source}`)).toEqual(
        expect.arrayContaining(['local:config', 'broken:config', 'second:db']),
      );
      expect(res.text).not.toMatch(/secret_key"/);
    });

    it('refuses to change or delete a backend from the configuration file', async () => {
      const patch = await admin.request('/api/admin/backends/local', { method: 'PATCH', body: { name: 'x' } });
      expect(patch.status).toBe(409);
      expect(patch.body.error.code).toBe('yaml_managed');
      const del = await admin.request('/api/admin/backends/local', { method: 'DELETE' });
      expect(del.body.error.code).toBe('yaml_managed');
    });

    it('applies an update on every replica, and a delete everywhere', async () => {
      const patch = await admin.request('/api/admin/backends/second', {
        method: 'PATCH',
        body: { secret_key: 'wrong now' },
      });
      expect(patch.status).toBe(200);
      expect((await admin.on(b).request('/api/backends/second/buckets')).body.error.code).toBe('backend_error');
      await admin.request('/api/admin/backends/second', {
        method: 'PATCH',
        body: { secret_key: stack.s3!.secretKey, name: 'Renamed' },
      });
      const renamed = await admin.on(b).request('/api/backends/second');
      expect(renamed.body.name).toBe('Renamed');
      expect((await admin.request('/api/admin/backends/second', { method: 'DELETE' })).status).toBe(204);
      expect((await admin.on(b).request('/api/backends/second')).body.error.code).toBe('not_found');
      expect((await admin.request('/api/admin/backends/second')).body.error.code).toBe('not_found');
      const actions = await a.app
        .get(DataSource)
        .query("SELECT action FROM audit_events WHERE backend_id = 'second' ORDER BY id");
      expect(actions.map((r: { action: string }) => r.action)).toEqual([
        'backend.create',
        'backend.update',
        'backend.update',
        'backend.delete',
      ]);
    });

    it('tests credentials without saving them', async () => {
      const good = await admin.request('/api/admin/backends/test', {
        method: 'POST',
        body: { ...endpoint(), id: undefined },
      });
      expect(good.body).toMatchObject({ healthy: true });
      const bad = await admin.request('/api/admin/backends/test', {
        method: 'POST',
        body: { ...endpoint(), id: undefined, secret_key: 'nope' },
      });
      expect(bad.body.healthy).toBe(false);
      expect(bad.body.error).toMatch(/SignatureDoesNotMatch|InvalidAccessKeyId/);
    });

    it.each([
      [{ id: 'Bad Id', endpoint: 'http://x', access_key: 'a', secret_key: 'b' }, 'bad_request'],
      [{ id: 'ok', endpoint: 'ftp://x', access_key: 'a', secret_key: 'b' }, 'bad_request'],
      [{ id: 'ok', endpoint: 'http://x', access_key: 'a' }, 'bad_request'],
      [{ id: 'ok', endpoint: 'http://x', access_key: 'a', secret_key: 'b', kind: 'gcs' }, 'bad_request'],
    ])('refuses %p', async (body, code) => {
      const res = await admin.request('/api/admin/backends', { method: 'POST', body });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe(code);
    });

    it('answers secret_key_unset and store_unavailable without a root key', async () => {
      const keyless = await stack.boot({ config: { ratelimit: { login_per_ip: 0 } } });
      const session = await login(keyless, (await seedUser(keyless, { role: 'admin' })).username);
      const create = await session.request('/api/admin/backends', {
        method: 'POST',
        body: { ...endpoint(), id: 'third' },
      });
      expect(create.status).toBe(503);
      expect(create.body.error.code).toBe('secret_key_unset');
      const patch = await session.request('/api/admin/backends/anything', { method: 'PATCH', body: { name: 'x' } });
      expect(patch.status).toBe(503);
      expect(patch.body.error.code).toBe('store_unavailable');
      await keyless.close();
    });
  });
});
