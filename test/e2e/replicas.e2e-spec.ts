import { TestApp, TestStack } from '../harness/app';
import { login, loginRequest, seedUser } from '../harness/session';

describe('two replicas sharing PostgreSQL and Redis', () => {
  let stack: TestStack;
  let a: TestApp;
  let b: TestApp;

  beforeAll(async () => {
    stack = await TestStack.start({ s3: false });
    const config = { ratelimit: { login_per_ip: 0 }, auth: { local: { lockout: { max_attempts: 4 } } } };
    [a, b] = await Promise.all([stack.boot({ config }), stack.boot({ config })]);
  });
  afterAll(() => stack.stop());

  it('accepts a session made on one replica on the other', async () => {
    const user = await seedUser(a);
    const session = await login(a, user.username);
    const res = await session.on(b).request('/api/me');
    expect(res.status).toBe(200);
    expect(res.body.username).toBe(user.username);
  });

  it('ends a session everywhere when it logs out on one replica', async () => {
    const session = await login(a, (await seedUser(a)).username);
    expect((await session.on(b).request('/auth/logout', { method: 'POST' })).status).toBe(200);
    expect((await session.request('/api/me')).status).toBe(401);
    expect((await session.on(b).request('/api/me')).status).toBe(401);
  });

  it('ends a disabled user’s sessions on every replica at once', async () => {
    const user = await seedUser(a);
    const session = await login(a, user.username);
    const admin = await login(b, (await seedUser(b, { role: 'admin' })).username);
    await admin.request(`/api/admin/users/${user.id}`, { method: 'PATCH', body: { enabled: false } });
    expect((await session.request('/api/me')).status).toBe(401);
  });

  it('applies a role change made on one replica on the other at the next request', async () => {
    const user = await seedUser(a, { role: 'admin' });
    const session = await login(a, user.username);
    expect((await session.request('/api/admin/users')).status).toBe(200);
    const other = await login(b, (await seedUser(b, { role: 'admin' })).username);
    await other.request(`/api/admin/users/${user.id}`, { method: 'PATCH', body: { role: 'user' } });
    expect((await session.request('/api/admin/users')).status).toBe(403);
  });

  it('counts failed logins for the lockout across both replicas', async () => {
    const user = await seedUser(a);
    for (const app of [a, b, a, b])
      expect((await loginRequest(app, user.username, 'wrong password!')).status).toBe(401);
    for (const app of [a, b]) {
      const res = await loginRequest(app, user.username);
      expect(res.status).toBe(429);
      expect(res.body.error.code).toBe('account_locked');
    }
  });

  it('counts the per-address login limit across both replicas', async () => {
    const limitedStack = await TestStack.start({ s3: false });
    try {
      const config = { ratelimit: { login_per_ip: 4, login_window: '1m' } };
      const [x, y] = await Promise.all([limitedStack.boot({ config }), limitedStack.boot({ config })]);
      for (const app of [x, y, x, y]) expect((await loginRequest(app, 'nobody', 'wrong')).status).toBe(401);
      for (const app of [x, y]) {
        const res = await loginRequest(app, 'nobody', 'wrong');
        expect(res.status).toBe(429);
        expect(res.body.error.code).toBe('rate_limited');
        expect(res.headers.get('retry-after')).toBeTruthy();
      }
    } finally {
      await limitedStack.stop();
    }
  });
});
