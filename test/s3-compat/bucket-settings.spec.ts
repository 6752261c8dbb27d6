import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { TestApp, TestStack } from '../harness/app';
import { bootWithBackend } from '../harness/storage';
import { Session } from '../harness/session';

describe('bucket settings against Ceph RGW', () => {
  let stack: TestStack;
  let app: TestApp;
  let admin: Session;
  let base: string;
  const bucket = `stowage-set-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;

  beforeAll(async () => {
    stack = await TestStack.start({ s3: 'ceph' });
    ({ app, admin } = await bootWithBackend(stack, { id: 'ceph', kind: 'ceph', bucket }));
    base = `/api/backends/ceph/buckets/${bucket}`;
  });
  afterAll(async () => {
    await admin?.request(base, { method: 'DELETE' }).catch(() => undefined);
    await stack?.stop();
  });

  const actions = async () =>
    (
      await app.app
        .get(DataSource)
        .query('SELECT action FROM audit_events WHERE backend_id = $1 AND bucket = $2 ORDER BY id', ['ceph', bucket])
    ).map((r: { action: string }) => r.action);

  it('enables and suspends versioning', async () => {
    expect((await admin.request(`${base}/versioning`)).body).toEqual({ enabled: false });
    const on = await admin.request(`${base}/versioning`, { method: 'PUT', body: { enabled: true } });
    expect(on.status).toBe(200);
    expect(on.body).toEqual({ enabled: true });
    expect((await admin.request(`${base}/versioning`)).body).toEqual({ enabled: true });
    await admin.request(`${base}/versioning`, { method: 'PUT', body: { enabled: false } });
    expect((await admin.request(`${base}/versioning`)).body).toEqual({ enabled: false });
  });

  it('sets, reads and deletes a bucket policy', async () => {
    expect((await admin.request(`${base}/policy`)).body).toEqual({ policy: '' });
    const policy = JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'PublicRead',
          Effect: 'Allow',
          Principal: '*',
          Action: ['s3:GetObject'],
          Resource: [`arn:aws:s3:::${bucket}/*`],
        },
      ],
    });
    const set = await admin.request(`${base}/policy`, { method: 'PUT', body: { policy } });
    expect(set.status).toBe(200);
    const read = await admin.request(`${base}/policy`);
    expect(JSON.parse(read.body.policy)).toMatchObject({
      Statement: [expect.objectContaining({ Effect: 'Allow', Action: ['s3:GetObject'] })],
    });
    expect((await admin.request(`${base}/policy`, { method: 'DELETE' })).status).toBe(204);
    expect((await admin.request(`${base}/policy`)).body).toEqual({ policy: '' });
  });

  it('answers invalid_policy when the upstream refuses a policy', async () => {
    const policy = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Perhaps', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/*` }],
    });
    const res = await admin.request(`${base}/policy`, { method: 'PUT', body: { policy } });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_policy');
  });

  it('sets, reads and clears lifecycle rules', async () => {
    expect((await admin.request(`${base}/lifecycle`)).body).toEqual({ rules: [] });
    const rules = [
      { id: 'expire-tmp', prefix: 'tmp/', enabled: true, expiration_days: 7 },
      { id: 'abort-uploads', enabled: true, abort_incomplete_days: 3 },
    ];
    const set = await admin.request(`${base}/lifecycle`, { method: 'PUT', body: { rules } });
    expect(set.status).toBe(200);
    const read = await admin.request(`${base}/lifecycle`);
    expect(read.body.rules).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ id: 'expire-tmp', prefix: 'tmp/', enabled: true, expiration_days: 7 }),
        expect.objectContaining({ id: 'abort-uploads', enabled: true, abort_incomplete_days: 3 }),
      ]),
    );
    expect(read.body.rules).toHaveLength(2);
    expect((await admin.request(`${base}/lifecycle`, { method: 'PUT', body: { rules: [] } })).status).toBe(200);
    expect((await admin.request(`${base}/lifecycle`)).body).toEqual({ rules: [] });
  });

  it('sets, reads and clears CORS rules, keeping the proxy copy in step', async () => {
    const rules = [
      {
        allowed_origins: ['https://app.example.com'],
        allowed_methods: ['GET', 'PUT'],
        allowed_headers: ['Authorization'],
        expose_headers: ['ETag'],
        max_age_seconds: 600,
      },
    ];
    const set = await admin.request(`${base}/cors`, { method: 'PUT', body: { rules } });
    expect(set.status).toBe(200);
    expect(set.body).toEqual({ rules });
    expect((await admin.request(`${base}/cors`)).body).toEqual({ rules });
    const stored = await app.app
      .get(DataSource)
      .query('SELECT rules FROM s3_bucket_cors WHERE backend_id = $1 AND bucket = $2', ['ceph', bucket]);
    expect(stored).toEqual([{ rules }]);
    expect((await admin.request(`${base}/cors`, { method: 'PUT', body: { rules: [] } })).status).toBe(200);
    expect((await admin.request(`${base}/cors`)).body).toEqual({ rules: [] });
  });

  it('audits every change', async () => {
    expect(await actions()).toEqual(
      expect.arrayContaining([
        'bucket.versioning.set',
        'bucket.policy.set',
        'bucket.policy.delete',
        'bucket.lifecycle.set',
        'bucket.cors.set',
      ]),
    );
  });
});
