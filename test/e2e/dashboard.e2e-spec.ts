import { Client } from 'pg';
import { TestApp, TestStack } from '../harness/app';
import { freePort } from '../harness/child-app';
import { login, seedUser, Session } from '../harness/session';

interface Dashboard {
  requests: {
    total_24h: number;
    errors_24h: number;
    hourly: Array<{ unix_hour: number; requests: number; errors: number }>;
    by_backend: Record<string, number>;
    recent_errors: Array<{
      when: string;
      method: string;
      path: string;
      status: number;
      user_id?: string;
      backend?: string;
    }>;
  };
  storage: { by_backend: unknown[]; top_buckets: Array<{ backend_id: string; bucket: string; bytes: number }> };
}

/** The admin dashboard counts the requests of every replica: either one shows the sum. */
describe('admin dashboard across replicas', () => {
  let stack: TestStack;
  let a: TestApp;
  let b: TestApp;
  let admin: Session;

  beforeAll(async () => {
    stack = await TestStack.start({ s3: false });
    // A backend at a port nobody listens on: every call to it fails, a server error (5xx).
    const closed = await freePort();
    const options = {
      config: {
        ratelimit: { login_per_ip: 0, api_per_minute: 0 },
        backends: [
          {
            id: 'down',
            endpoint: `http://127.0.0.1:${closed}`,
            region: 'us-east-1',
            access_key_env: 'K',
            secret_key_env: 'S',
            path_style: true,
          },
        ],
      },
      env: { K: 'key', S: 'secret' },
    };
    [a, b] = [await stack.boot(options), await stack.boot(options)];
    admin = await login(a, (await seedUser(a, { role: 'admin' })).username);
  });
  afterAll(() => stack.stop());

  const dashboard = async (app: TestApp) => {
    const res = await admin.on(app).request('/api/admin/dashboard');
    expect(res.status).toBe(200);
    return res.body as Dashboard;
  };

  it('shows on either instance the requests of both', async () => {
    const before = (await dashboard(a)).requests.total_24h;
    for (let i = 0; i < 7; i++) expect((await admin.on(a).request('/api/me')).status).toBe(200);
    for (let i = 0; i < 5; i++) expect((await admin.on(b).request('/api/me')).status).toBe(200);
    // Each replica adds its counts to the shared ones every second: within that, both show the sum.
    const sumOn = async (app: TestApp) => {
      for (let tries = 0; ; tries++) {
        const d = await dashboard(app);
        if (d.requests.total_24h >= before + 12 || tries > 30) return d;
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    const seen = await sumOn(b);
    const fromA = await sumOn(a);
    expect(seen.requests.total_24h).toBeGreaterThanOrEqual(before + 12);
    expect(fromA.requests.total_24h).toBeGreaterThanOrEqual(before + 12);
    expect(seen.requests.hourly).toHaveLength(24);
    expect(seen.requests.hourly[23].requests).toBeGreaterThanOrEqual(12);
    expect(seen.requests.hourly.reduce((n, p) => n + p.requests, 0)).toBe(seen.requests.total_24h);
  });

  it('lists a server error met on one instance in the recent errors of the other', async () => {
    const me = (await admin.on(a).request('/api/me')).body as { id: string };
    const started = new Date().toISOString();
    const failed = await admin.on(a).request('/api/backends/down/buckets?probe=recent-errors');
    expect(failed.status).toBeGreaterThanOrEqual(500);
    let listed: Dashboard['requests']['recent_errors'] = [];
    for (let tries = 0; tries < 40; tries++) {
      listed = (await dashboard(b)).requests.recent_errors.filter((e) => e.path === '/api/backends/down/buckets');
      if (listed.length > 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    // The path without its query, the caller, the backend, the status it was answered with.
    expect(listed).toEqual([
      {
        when: expect.any(String),
        method: 'GET',
        path: '/api/backends/down/buckets',
        status: failed.status,
        user_id: me.id,
        backend: 'down',
      },
    ]);
    expect(listed[0].when >= started.slice(0, 19)).toBe(true);
    expect((await dashboard(b)).requests.errors_24h).toBeGreaterThanOrEqual(1);
    // Newest first, across both instances: a second failure, on b this time, comes before it.
    const again = await admin.on(b).request('/api/backends/down/buckets');
    expect(again.status).toBe(failed.status);
    for (let tries = 0; tries < 40; tries++) {
      listed = (await dashboard(a)).requests.recent_errors.filter((e) => e.path === '/api/backends/down/buckets');
      if (listed.length > 1) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(listed).toHaveLength(2);
    expect(listed[0].when >= listed[1].when).toBe(true);
  });

  it('lists storage from the measured bucket sizes, largest first (empty when nothing was measured)', async () => {
    const empty = await dashboard(a);
    expect(empty.storage).toEqual({ by_backend: [], top_buckets: [] });
    const db = new Client({ connectionString: stack.db.url });
    await db.connect();
    try {
      await db.query(
        `INSERT INTO bucket_usage (backend_id, bucket, bytes, objects) VALUES ('x', 'small', 10, 1), ('x', 'big', 1000, 3), ('y', 'mid', 100, 2)`,
      );
    } finally {
      await db.end();
    }
    const filled = await dashboard(b);
    expect(filled.storage.by_backend).toEqual([
      { backend_id: 'x', bytes: 1010, objects: 4, buckets: 2 },
      { backend_id: 'y', bytes: 100, objects: 2, buckets: 1 },
    ]);
    expect(filled.storage.top_buckets.map((t) => t.bucket)).toEqual(['big', 'mid', 'small']);
  });

  it('is for admins only', async () => {
    const user = await login(a, (await seedUser(a, { role: 'user' })).username);
    expect((await user.request('/api/admin/dashboard')).status).toBe(403);
  });
});
