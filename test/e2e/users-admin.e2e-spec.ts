import { DataSource } from 'typeorm';
import { TestApp, TestStack } from '../harness/app';
import { login, loginRequest, PASSWORD, seedUser, Session } from '../harness/session';

describe('users administration: /api/admin/users', () => {
  let stack: TestStack;
  let app: TestApp;
  let admin: Session;
  let adminId: string;

  beforeAll(async () => {
    stack = await TestStack.start({ s3: false });
    app = await stack.boot({ config: { ratelimit: { login_per_ip: 0, api_per_minute: 0 } } });
    const seeded = await seedUser(app, { role: 'admin', username: 'root-admin' });
    adminId = seeded.id;
    admin = await login(app, seeded.username);
  });
  afterAll(() => stack.stop());

  const create = (body: Record<string, unknown>) => admin.request('/api/admin/users', { method: 'POST', body });

  describe('create', () => {
    it('creates a local user who must change the password by default', async () => {
      const res = await create({ username: 'Carol', email: 'Carol@Example.com', password: PASSWORD, role: 'user' });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({
        username: 'carol',
        email: 'carol@example.com',
        role: 'user',
        identity_source: 'local',
        enabled: true,
        must_change_pw: true,
        failed_attempts: 0,
      });
      expect(res.body).not.toHaveProperty('password_hash');
      expect(JSON.stringify(res.body)).not.toContain('argon2');
      expect((await loginRequest(app, 'carol')).body.must_change_pw).toBe(true);
    });

    it.each([
      [{ username: 'carol', password: PASSWORD, role: 'user' }, 409, 'username_taken'],
      [{ username: 'carol2', email: 'carol@example.com', password: PASSWORD, role: 'user' }, 409, 'email_taken'],
      [{ username: 'dave', password: 'short', role: 'user' }, 400, 'weak_password'],
      [{ username: 'dave', password: PASSWORD, role: 'root' }, 400, 'bad_request'],
      [{ username: 'x', password: PASSWORD, role: 'user' }, 400, 'bad_request'],
      [{ username: 'has space', password: PASSWORD, role: 'user' }, 400, 'bad_request'],
      [{ username: 'dave', email: 'not-an-email', password: PASSWORD, role: 'user' }, 400, 'bad_request'],
      [{ username: 'dave', password: PASSWORD, role: 'user', is_admin: true }, 400, 'bad_request'],
    ])('refuses %p with %p %p and changes nothing', async (body, status, code) => {
      const before = await app.app.get(DataSource).query('SELECT count(*)::int AS n FROM users');
      const res = await create(body);
      expect(res.status).toBe(status);
      expect(res.body.error.code).toBe(code);
      expect(await app.app.get(DataSource).query('SELECT count(*)::int AS n FROM users')).toEqual(before);
    });
  });

  describe('list and get', () => {
    it('answers the collection with or without a trailing slash', async () => {
      expect((await admin.request('/api/admin/users/')).status).toBe(200);
      expect((await admin.request('/api/me/', {})).status).toBe(200);
    });

    it('lists users with filters', async () => {
      await seedUser(app, { username: 'list-reader', role: 'readonly' });
      const all = await admin.request('/api/admin/users');
      expect(all.body.users.map((u: { username: string }) => u.username)).toEqual(
        expect.arrayContaining(['root-admin', 'list-reader']),
      );
      const readonly = await admin.request('/api/admin/users?role=readonly');
      expect(readonly.body.users.every((u: { role: string }) => u.role === 'readonly')).toBe(true);
      const query = await admin.request('/api/admin/users?query=list-');
      expect(query.body.users.map((u: { username: string }) => u.username)).toEqual(['list-reader']);
      const paged = await admin.request('/api/admin/users?limit=1&offset=0');
      expect(paged.body.users).toHaveLength(1);
    });

    it.each(['role=root', 'limit=0', 'limit=9999', 'enabled=maybe', 'source=ldap', 'unknown=1'])(
      'refuses the query %p',
      async (q) => {
        const res = await admin.request(`/api/admin/users?${q}`);
        expect(res.status).toBe(400);
        expect(res.body.error.code).toBe('bad_request');
      },
    );

    it('answers not_found for an unknown id and bad_request for a malformed one', async () => {
      const missing = await admin.request('/api/admin/users/00000000-0000-4000-8000-000000000000');
      expect(missing.status).toBe(404);
      expect(missing.body.error.code).toBe('not_found');
      const malformed = await admin.request('/api/admin/users/not-a-uuid');
      expect(malformed.status).toBe(400);
      expect(malformed.body.error.code).toBe('bad_request');
    });
  });

  describe('patch', () => {
    it('refuses to change your own role', async () => {
      const res = await admin.request(`/api/admin/users/${adminId}`, { method: 'PATCH', body: { role: 'user' } });
      expect(res.status).toBe(403);
      expect(res.body.error.code).toBe('self_role_change');
    });

    it('refuses to disable the last enabled admin', async () => {
      const res = await admin.request(`/api/admin/users/${adminId}`, { method: 'PATCH', body: { enabled: false } });
      expect(res.status).toBe(409);
      expect(res.body.error.code).toBe('last_admin');
    });

    it('refuses an email another user has', async () => {
      const a = await seedUser(app, { email: 'taken@example.com' });
      const b = await seedUser(app);
      const res = await admin.request(`/api/admin/users/${b.id}`, {
        method: 'PATCH',
        body: { email: 'TAKEN@example.com' },
      });
      expect(res.status).toBe(409);
      expect(res.body.error.code).toBe('email_taken');
      expect(
        (await admin.request(`/api/admin/users/${a.id}`, { method: 'PATCH', body: { email: '' } })).body,
      ).not.toHaveProperty('email');
    });

    it('ends the sessions of a user it disables, at once', async () => {
      const user = await seedUser(app);
      const session = await login(app, user.username);
      expect((await session.request('/api/me')).status).toBe(200);
      const res = await admin.request(`/api/admin/users/${user.id}`, { method: 'PATCH', body: { enabled: false } });
      expect(res.body.enabled).toBe(false);
      expect((await session.request('/api/me')).status).toBe(401);
    });

    it('audits the change', async () => {
      const user = await seedUser(app, { role: 'readonly' });
      await admin.request(`/api/admin/users/${user.id}`, { method: 'PATCH', body: { role: 'user' } });
      const rows = await app.app
        .get(DataSource)
        .query("SELECT * FROM audit_events WHERE action = 'user.update' AND detail->>'target_id' = $1", [user.id]);
      expect(rows[0]).toMatchObject({
        user_id: adminId,
        status: 'ok',
        detail: expect.objectContaining({ role_from: 'readonly', role_to: 'user' }),
      });
    });
  });

  describe('reset-password', () => {
    it('sets a new password, ends the user’s sessions and asks for a change at next sign-in', async () => {
      const user = await seedUser(app);
      const session = await login(app, user.username);
      const res = await admin.request(`/api/admin/users/${user.id}/reset-password`, {
        method: 'POST',
        body: { new_password: 'admin chosen passphrase' },
      });
      expect(res.status).toBe(200);
      expect((await session.request('/api/me')).status).toBe(401);
      expect((await loginRequest(app, user.username, 'admin chosen passphrase')).body.must_change_pw).toBe(true);
    });

    it.each([
      [{ new_password: 'short' }, 400, 'weak_password'],
      [{}, 400, 'bad_request'],
    ])('refuses %p', async (body, status, code) => {
      const user = await seedUser(app);
      const res = await admin.request(`/api/admin/users/${user.id}/reset-password`, { method: 'POST', body });
      expect(res.status).toBe(status);
      expect(res.body.error.code).toBe(code);
    });

    it('answers not_local for an account from another identity source, and not_found for nobody', async () => {
      const user = await seedUser(app);
      await app.app.get(DataSource).query("UPDATE users SET identity_source = 'oidc' WHERE id = $1", [user.id]);
      const res = await admin.request(`/api/admin/users/${user.id}/reset-password`, {
        method: 'POST',
        body: { new_password: 'x'.repeat(20) },
      });
      expect(res.body.error.code).toBe('not_local');
      const missing = await admin.request('/api/admin/users/00000000-0000-4000-8000-000000000000/reset-password', {
        method: 'POST',
        body: { new_password: 'x'.repeat(20) },
      });
      expect(missing.body.error.code).toBe('not_found');
    });
  });

  describe('delete', () => {
    it('refuses to delete yourself', async () => {
      const res = await admin.request(`/api/admin/users/${adminId}`, { method: 'DELETE' });
      expect(res.status).toBe(403);
      expect(res.body.error.code).toBe('self_delete');
    });

    it('deletes a user, ends their sessions, and audits it', async () => {
      const user = await seedUser(app);
      const session = await login(app, user.username);
      const res = await admin.request(`/api/admin/users/${user.id}`, { method: 'DELETE' });
      expect(res.status).toBe(204);
      expect((await session.request('/api/me')).status).toBe(401);
      expect((await admin.request(`/api/admin/users/${user.id}`)).status).toBe(404);
      const rows = await app.app
        .get(DataSource)
        .query("SELECT * FROM audit_events WHERE action = 'user.delete' AND detail->>'target_id' = $1", [user.id]);
      expect(rows).toHaveLength(1);
    });

    it('keeps one admin when two admins delete each other at the same moment', async () => {
      const race = await TestStack.start({ s3: false });
      try {
        const one = await race.boot({ config: { ratelimit: { login_per_ip: 0 } } });
        const two = await race.boot({ config: { ratelimit: { login_per_ip: 0 } } });
        const a = await seedUser(one, { role: 'admin', username: 'admin-a' });
        const b = await seedUser(one, { role: 'admin', username: 'admin-b' });
        const sa = await login(one, a.username);
        const sb = await login(two, b.username);
        const [ra, rb] = await Promise.all([
          sa.request(`/api/admin/users/${b.id}`, { method: 'DELETE' }),
          sb.request(`/api/admin/users/${a.id}`, { method: 'DELETE' }),
        ]);
        const statuses = [ra.status, rb.status].sort();
        expect(statuses.filter((s) => s === 204)).toHaveLength(1);
        const loser = ra.status === 204 ? rb : ra;
        expect(['last_admin', 'unauthorized']).toContain(loser.body.error.code);
        const [{ n }] = await one.app
          .get(DataSource)
          .query("SELECT count(*)::int AS n FROM users WHERE role = 'admin' AND enabled");
        expect(n).toBe(1);
      } finally {
        await race.stop();
      }
    });
  });

  it('is for admins only', async () => {
    for (const role of ['user', 'readonly'] as const) {
      const session = await login(app, (await seedUser(app, { role })).username);
      const res = await session.request('/api/admin/users');
      expect(res.status).toBe(403);
      expect(res.body.error.code).toBe('forbidden');
    }
  });
});
