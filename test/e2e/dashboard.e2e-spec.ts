import { Client } from 'pg';
import { TestApp, TestStack } from '../harness/app';
import { login, seedUser, Session } from '../harness/session';

interface Dashboard {
  requests: {
    total_24h: number;
    errors_24h: number;
    hourly: Array<{ unix_hour: number; requests: number; errors: number }>;
    by_backend: Record<string, number>;
    recent_errors: Array<{ when: string; method: string; path: string; status: number; user_id?: string }>;
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
    const config = { ratelimit: { login_per_ip: 0, api_per_minute: 0 } };
    [a, b] = [await stack.boot({ config }), await stack.boot({ config })];
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
