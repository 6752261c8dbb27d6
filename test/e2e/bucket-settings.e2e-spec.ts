import { DataSource } from 'typeorm';
import { TestApp, TestStack } from '../harness/app';
import { bootWithBackend } from '../harness/storage';
import { Session } from '../harness/session';

describe('bucket settings: /api/backends/{bid}/buckets/{bucket}/{versioning,cors,policy,lifecycle}', () => {
  let stack: TestStack;
  let app: TestApp;
  let admin: Session;
  let user: Session;
  const base = '/api/backends/local/buckets/settings-test';

  beforeAll(async () => {
    stack = await TestStack.start();
    ({ app, admin, user } = await bootWithBackend(stack, { bucket: 'settings-test' }));
  });
  afterAll(() => stack.stop());

  const put = (path: string, body: unknown) => admin.request(`${base}/${path}`, { method: 'PUT', body });
  const expectError = (res: { status: number; body: { error?: { code?: string } } }, status: number, code: string) =>
    expect([res.status, res.body.error?.code]).toEqual([status, code]);

  const validPolicy = JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::settings-test/*' }],
  });

  describe('CORS', () => {
    const rules = [
      {
        allowed_origins: ['https://app.example.com', 'https://*.example.org'],
        allowed_methods: ['GET', 'HEAD'],
        allowed_headers: ['Authorization', 'Range'],
        expose_headers: ['ETag'],
        max_age_seconds: 3600,
      },
      { allowed_origins: ['*'], allowed_methods: ['PUT'] },
    ];

    it('answers no rules for a bucket without CORS', async () => {
      const res = await admin.request(`${base}/cors`);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ rules: [] });
    });

    it('round-trips the rules, stores them for the S3 proxy and audits the change', async () => {
      const set = await put('cors', { rules });
      expect(set.status).toBe(200);
      expect(set.body).toEqual({ rules });
      const read = await admin.request(`${base}/cors`);
      expect(read.body).toEqual({ rules });
      const db = app.app.get(DataSource);
      const stored = await db.query("SELECT rules, updated_by FROM s3_bucket_cors WHERE bucket = 'settings-test'");
      expect(stored).toEqual([{ rules, updated_by: expect.any(String) }]);
      const audit = await db.query(
        "SELECT action, backend_id FROM audit_events WHERE action = 'bucket.cors.set' AND bucket = 'settings-test'",
      );
      expect(audit).toEqual([{ action: 'bucket.cors.set', backend_id: 'local' }]);
    });

    it('normalises method case', async () => {
      const set = await put('cors', { rules: [{ allowed_origins: ['*'], allowed_methods: ['get'] }] });
      expect(set.body).toEqual({ rules: [{ allowed_origins: ['*'], allowed_methods: ['GET'] }] });
    });

    it('removes the rules (upstream and proxy copy) with an empty list', async () => {
      await put('cors', { rules });
      expect((await put('cors', { rules: [] })).status).toBe(200);
      expect((await admin.request(`${base}/cors`)).body).toEqual({ rules: [] });
      const stored = await app.app.get(DataSource).query("SELECT 1 FROM s3_bucket_cors WHERE bucket = 'settings-test'");
      expect(stored).toEqual([]);
    });

    it.each([
      ['no origin', { allowed_origins: [], allowed_methods: ['GET'] }],
      ['no method', { allowed_origins: ['*'], allowed_methods: [] }],
      ['an unknown method', { allowed_origins: ['*'], allowed_methods: ['PATCH'] }],
      ['two wildcards in an origin', { allowed_origins: ['https://*.*.example.com'], allowed_methods: ['GET'] }],
      ['an empty header', { allowed_origins: ['*'], allowed_methods: ['GET'], allowed_headers: [''] }],
    ])('refuses a rule with %s as invalid_cors', async (_name, rule) => {
      expectError(await put('cors', { rules: [rule] }), 400, 'invalid_cors');
    });

    it.each([
      ['no rules field', {}],
      ['rules that are not a list', { rules: 'GET' }],
      ['a rule that is not an object', { rules: ['GET'] }],
      ['origins that are not strings', { rules: [{ allowed_origins: [1], allowed_methods: ['GET'] }] }],
      ['a negative max age', { rules: [{ allowed_origins: ['*'], allowed_methods: ['GET'], max_age_seconds: -1 }] }],
      ['an unknown field', { rules: [{ allowed_origins: ['*'], allowed_methods: ['GET'], extra: true }] }],
    ])('refuses %s as bad_request', async (_name, body) => {
      expectError(await put('cors', body), 400, 'bad_request');
    });
  });

  describe('features s3rver lacks', () => {
    it.each([
      ['GET', 'versioning', undefined],
      ['PUT', 'versioning', { enabled: true }],
      ['GET', 'policy', undefined],
      ['PUT', 'policy', { policy: validPolicy }],
      ['DELETE', 'policy', undefined],
      ['GET', 'lifecycle', undefined],
      ['PUT', 'lifecycle', { rules: [{ enabled: true, expiration_days: 30 }] }],
    ])('answers %s %s with not_supported', async (method, path, body) => {
      expectError(await admin.request(`${base}/${path}`, { method, body }), 400, 'not_supported');
    });
  });

  describe('validation', () => {
    it.each([
      ['text that is not JSON', 'not json'],
      ['a JSON array', '[]'],
      ['a JSON string', '"policy"'],
      ['an object without Statement', '{"Version":"2012-10-17"}'],
      ['a Statement that is not a list', '{"Statement":{"Effect":"Allow"}}'],
    ])('refuses a policy that is %s as invalid_policy', async (_name, policy) => {
      expectError(await put('policy', { policy }), 400, 'invalid_policy');
    });

    it.each([[{}], [{ policy: 42 }], [{ policy: { Statement: [] } }]])(
      'refuses the policy body %p as bad_request',
      async (body) => {
        expectError(await put('policy', body), 400, 'bad_request');
      },
    );

    it.each([
      ['no action', { enabled: true }],
      ['zero expiration days', { enabled: true, expiration_days: 0 }],
      ['a transition without a storage class', { enabled: true, transition_days: 30 }],
      ['a storage class without transition days', { enabled: true, transition_storage_class: 'GLACIER' }],
    ])('refuses a lifecycle rule with %s as invalid_lifecycle', async (_name, rule) => {
      expectError(await put('lifecycle', { rules: [rule] }), 400, 'invalid_lifecycle');
    });

    it('refuses two lifecycle rules with the same id as invalid_lifecycle', async () => {
      const rule = { id: 'same', enabled: true, expiration_days: 1 };
      expectError(await put('lifecycle', { rules: [rule, rule] }), 400, 'invalid_lifecycle');
    });

    it.each([
      ['no rules field', {}],
      ['a rule without enabled', { rules: [{ expiration_days: 3 }] }],
      ['fractional days', { rules: [{ enabled: true, expiration_days: 1.5 }] }],
    ])('refuses a lifecycle body with %s as bad_request', async (_name, body) => {
      expectError(await put('lifecycle', body), 400, 'bad_request');
    });

    it.each([[{}], [{ enabled: 'yes' }]])('refuses the versioning body %p as bad_request', async (body) => {
      expectError(await put('versioning', body), 400, 'bad_request');
    });
  });

  it('answers not_found for an unknown backend and invalid_bucket for a malformed bucket', async () => {
    expectError(await admin.request('/api/backends/nope/buckets/settings-test/cors'), 404, 'not_found');
    expectError(await admin.request('/api/backends/local/buckets/Bad_Name/cors'), 400, 'invalid_bucket');
  });

  it('answers not_found for a missing bucket', async () => {
    expectError(await admin.request('/api/backends/local/buckets/no-such-bucket/cors'), 404, 'not_found');
  });

  it('is for admins only', async () => {
    expectError(await user.request(`${base}/cors`), 403, 'forbidden');
    expectError(await user.request(`${base}/cors`, { method: 'PUT', body: { rules: [] } }), 403, 'forbidden');
  });
});
