import { createServer, Server } from 'node:http';
import { createServer as createTcpServer, AddressInfo } from 'node:net';
import { DataSource } from 'typeorm';
import { TestApp, TestStack } from '../harness/app';
import { HeadBucketCommand } from '@aws-sdk/client-s3';
import { mintCredential, proxyClient, proxyEndpoint } from '../harness/s3-proxy';
import { login, seedUser, Session } from '../harness/session';

const ROOT_KEY = 'ab'.repeat(32);

/** A port nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const server = createTcpServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('backend endpoints: network policy, neutral errors, no credentials in URLs', () => {
  let stack: TestStack;
  let app: TestApp;
  let strict: TestApp;
  let admin: Session;
  let reader: Session;
  let web: Server;
  let hangup: Server;
  const urls: Record<string, string> = {};

  beforeAll(async () => {
    stack = await TestStack.start();
    const common = { ratelimit: { login_per_ip: 0, api_per_minute: 0 } };
    app = await stack.boot({ config: common, env: { STOWAGE_SECRET_KEY: ROOT_KEY } });
    strict = await stack.boot({
      config: { ...common, backend_endpoints: { deny_networks: ['127.0.0.0/8', '::1/128'] } },
      env: { STOWAGE_SECRET_KEY: ROOT_KEY },
    });
    admin = await login(app, (await seedUser(app, { role: 'admin' })).username);
    reader = await login(app, (await seedUser(app, { role: 'readonly' })).username);
    // An HTTP server that is not S3, and one that hangs up on every request.
    web = createServer((_req, res) => res.writeHead(404, { 'content-type': 'text/html' }).end('<h1>nope</h1>'));
    hangup = createServer((req) => req.socket.destroy());
    for (const s of [web, hangup]) await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
    urls.closed = `http://127.0.0.1:${await closedPort()}`;
    urls.web = `http://127.0.0.1:${(web.address() as AddressInfo).port}`;
    urls.hangup = `http://127.0.0.1:${(hangup.address() as AddressInfo).port}`;
    urls.s3 = stack.s3!.endpoint;
  });
  afterAll(async () => {
    for (const s of [web, hangup]) s?.closeAllConnections();
    await Promise.all([web, hangup].map((s) => s && new Promise((resolve) => s.close(resolve))));
    await stack.stop();
  });

  const body = (endpoint: string, extra: Record<string, unknown> = {}) => ({
    endpoint,
    access_key: stack.s3!.accessKey,
    secret_key: stack.s3!.secretKey,
    path_style: true,
    kind: 's3rver',
    ...extra,
  });
  const test = (session: Session, endpoint: string) =>
    session.request('/api/admin/backends/test', { method: 'POST', body: body(endpoint) });

  it('answers the same neutral error for a closed port, a non-S3 HTTP port and a server that hangs up', async () => {
    const answers = await Promise.all([urls.closed, urls.web, urls.hangup].map((u) => test(admin, u)));
    for (const res of answers) {
      expect(res.status).toBe(200);
      expect(res.body.healthy).toBe(false);
    }
    const errors = new Set(answers.map((r) => r.body.error));
    expect(errors.size).toBe(1);
    const [error] = errors;
    expect(error).not.toMatch(/ECONN|hang up|socket|404|refused|EPIPE|html|UnknownError/i);
    const audit = await app.app.get(DataSource).query("SELECT detail FROM audit_events WHERE action = 'backend.test'");
    // The endpoints themselves are left out: a random port may hold the digits 404.
    const details = audit.map(({ detail }: { detail: Record<string, unknown> }) => ({
      ...detail,
      endpoint: undefined,
    }));
    expect(JSON.stringify(details)).not.toMatch(/ECONN|hang up|404|UnknownError/i);
    // A real S3 server still answers healthy.
    expect((await test(admin, urls.s3)).body).toMatchObject({ healthy: true });
  });

  it('records the same neutral error in the health history a readonly user can read', async () => {
    const created = await admin.request('/api/admin/backends', {
      method: 'POST',
      body: { id: 'web', ...body(urls.web) },
    });
    expect(created.status).toBe(201);
    const health = await reader.request('/api/backends/web/health');
    expect(health.status).toBe(200);
    expect(health.body.healthy).toBe(false);
    expect(health.body.last_error).toBe((await test(admin, urls.closed)).body.error);
    expect((await admin.request('/api/admin/backends/web', { method: 'DELETE' })).status).toBe(204);
  });

  it.each([
    'http://169.254.169.254/latest/meta-data/',
    'http://169.254.10.1:9000',
    'http://[fe80::1]:9000',
    'http://[::ffff:169.254.169.254]/',
    'http://[fd00:ec2::254]/',
  ])('refuses the denied address %s on test, create and update with 400, storing nothing', async (endpoint) => {
    expect((await test(admin, endpoint)).body.error.code).toBe('bad_request');
    const create = await admin.request('/api/admin/backends', {
      method: 'POST',
      body: { id: 'meta', ...body(endpoint) },
    });
    expect([create.status, create.body.error?.code]).toEqual([400, 'bad_request']);
    const ok = await admin.request('/api/admin/backends', { method: 'POST', body: { id: 'okay', ...body(urls.s3) } });
    expect(ok.status).toBe(201);
    const patch = await admin.request('/api/admin/backends/okay', { method: 'PATCH', body: { endpoint } });
    expect([patch.status, patch.body.error?.code]).toEqual([400, 'bad_request']);
    expect((await admin.request('/api/admin/backends/okay')).body.endpoint).toBe(urls.s3);
    expect((await admin.request('/api/admin/backends/okay', { method: 'DELETE' })).status).toBe(204);
    expect(await app.app.get(DataSource).query('SELECT id FROM backends WHERE endpoint = $1', [endpoint])).toEqual([]);
  });

  it('checks every address a name resolves to (localhost, with loopback denied)', async () => {
    const strictAdmin = admin.on(strict);
    const port = new URL(urls.s3).port;
    for (const endpoint of [`http://localhost:${port}`, `http://127.0.0.1:${port}`, `http://[::1]:${port}`]) {
      const res = await test(strictAdmin, endpoint);
      expect([res.status, res.body.error?.code]).toEqual([400, 'bad_request']);
    }
  });

  it.each(['http://minio:hunter2@127.0.0.1:9000', 'http://minio@127.0.0.1:9000'])(
    'refuses credentials in the URL %s with 400 and never stores, returns or audits them',
    async (endpoint) => {
      expect((await test(admin, endpoint)).status).toBe(400);
      const create = await admin.request('/api/admin/backends', {
        method: 'POST',
        body: { id: 'creds', ...body(endpoint) },
      });
      expect([create.status, create.body.error?.code]).toEqual([400, 'bad_request']);
      expect(create.text).not.toContain('hunter2');
      const ok = await admin.request('/api/admin/backends', {
        method: 'POST',
        body: { id: 'creds', ...body(urls.s3) },
      });
      expect(ok.status).toBe(201);
      const patch = await admin.request('/api/admin/backends/creds', { method: 'PATCH', body: { endpoint } });
      expect([patch.status, patch.body.error?.code]).toEqual([400, 'bad_request']);
      expect((await admin.request('/api/admin/backends/creds', { method: 'DELETE' })).status).toBe(204);
      const db = app.app.get(DataSource);
      expect(JSON.stringify(await db.query('SELECT * FROM backends'))).not.toContain('minio@');
      expect(JSON.stringify(await db.query('SELECT detail FROM audit_events'))).not.toContain('minio@');
    },
  );

  it('refuses at boot a YAML backend with credentials in its URL or a denied address, naming the key', async () => {
    await expect(
      stack.boot({ config: { backends: [{ id: 'y', endpoint: 'http://k:hunter2@127.0.0.1:9000' }] } }),
    ).rejects.toThrow(/backends\[0\]\.endpoint: must not contain user:password@/);
    await expect(
      stack.boot({ config: { backends: [{ id: 'y', endpoint: 'http://169.254.169.254' }] } }),
    ).rejects.toThrow(/backends\[0\]\.endpoint/);
  });
});

describe('backend endpoints: the S3 proxy connects only where the policy allows', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await TestStack.start();
  });
  afterAll(() => stack.stop());

  /** An app whose backend `named` reaches the stack's s3rver through the name `localhost`. */
  async function bootNamed(deny: string[]) {
    const s3 = stack.s3!;
    const app = await stack.boot({
      config: {
        ratelimit: { login_per_ip: 0, api_per_minute: 0 },
        s3_proxy: { enabled: true, listen: '127.0.0.1:0' },
        backend_endpoints: { deny_networks: deny },
        backends: [
          {
            id: 'named',
            endpoint: `http://localhost:${new URL(s3.endpoint).port}`,
            access_key_env: 'K',
            secret_key_env: 'S',
            path_style: true,
            kind: 's3rver',
          },
        ],
      },
      env: { K: s3.accessKey, S: s3.secretKey, STOWAGE_SECRET_KEY: ROOT_KEY },
    });
    const user = await login(app, (await seedUser(app, { role: 'user' })).username);
    const keys = await mintCredential(user, [{ backend_id: 'named', bucket: 'policy-proxy' }]);
    return proxyClient(proxyEndpoint(app), keys, { checksums: 'when_required' });
  }

  it('refuses to connect to a backend whose name resolves to a denied address (503), and connects when allowed', async () => {
    const denied = await bootNamed(['127.0.0.0/8', '::1/128']);
    const refused = await denied.send(new HeadBucketCommand({ Bucket: 'policy-proxy' })).catch((err: unknown) => err);
    expect((refused as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode).toBe(503);
    const allowed = await bootNamed([]);
    const answer = await allowed.send(new HeadBucketCommand({ Bucket: 'policy-proxy' })).catch((err: unknown) => err);
    // The upstream was reached: s3rver says the bucket does not exist.
    expect((answer as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode).toBe(404);
  });
});
