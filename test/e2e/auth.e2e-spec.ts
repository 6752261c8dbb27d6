import * as argon2 from 'argon2';
import { DataSource } from 'typeorm';
import { ARGON2_OPTIONS } from '../../src/auth/password-hasher.service';
import { UserCache } from '../../src/users/user-cache.service';
import { TestApp, TestStack } from '../harness/app';
import { http } from '../harness/http';
import { cookiesOf, login, loginRequest, PASSWORD, seedUser, Session } from '../harness/session';
import { TestRoutesModule } from '../harness/test-routes.module';

const auditRows = (app: TestApp, action: string) =>
  app.app.get(DataSource).query('SELECT * FROM audit_events WHERE action = $1 ORDER BY id', [action]);

describe('accounts: sign-in, sessions, CSRF, password rules', () => {
  let stack: TestStack;
  let app: TestApp;

  beforeAll(async () => {
    stack = await TestStack.start({ s3: false });
    app = await stack.boot({
      imports: [TestRoutesModule],
      config: { ratelimit: { login_per_ip: 0 }, auth: { local: { lockout: { max_attempts: 3 } } } },
    });
  });
  afterAll(() => stack.stop());

  describe('POST /auth/login/local', () => {
    it('signs in and sets the session and CSRF cookies', async () => {
      const user = await seedUser(app);
      const res = await loginRequest(app, user.username);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ status: 'ok', source: 'local', must_change_pw: false });
      const lines = res.headers.getSetCookie();
      const session = lines.find((l) => l.startsWith('stowage_session='))!;
      const csrf = lines.find((l) => l.startsWith('stowage_csrf='))!;
      expect(session).toMatch(/HttpOnly/);
      expect(session).toMatch(/SameSite=Lax/);
      expect(session).toMatch(/Path=\//);
      expect(session).not.toMatch(/Secure/);
      expect(csrf).not.toMatch(/HttpOnly/);
      const me = await new Session(app.url, cookiesOf(res).stowage_session, cookiesOf(res).stowage_csrf).request(
        '/api/me',
      );
      expect(me.status).toBe(200);
      expect(me.body).toEqual({
        id: user.id,
        username: user.username,
        role: 'user',
        identity_source: 'local',
        must_change_pw: false,
      });
    });

    it('is case-insensitive about the username', async () => {
      const user = await seedUser(app);
      expect((await loginRequest(app, user.username.toUpperCase())).status).toBe(200);
    });

    it('marks cookies Secure when a trusted proxy terminated TLS', async () => {
      const proxied = await stack.boot({
        config: { server: { trusted_proxies: ['127.0.0.1'] }, ratelimit: { login_per_ip: 0 } },
      });
      const user = await seedUser(app);
      const res = await loginRequest(proxied, user.username, PASSWORD, { 'x-forwarded-proto': 'https' });
      expect(res.headers.getSetCookie().every((l) => /; Secure/.test(l))).toBe(true);
      await proxied.close();
    });

    it('answers unknown user and wrong password identically, with similar timing', async () => {
      const user = await seedUser(app);
      const time = async (username: string) => {
        const started = process.hrtime.bigint();
        const res = await loginRequest(app, username, 'wrong password 123');
        return { res, ms: Number(process.hrtime.bigint() - started) / 1e6 };
      };
      const unknown = await time('nobody-here');
      const wrong = await time(user.username);
      expect(unknown.res.status).toBe(401);
      expect(wrong.res.status).toBe(401);
      expect(unknown.res.body).toEqual(wrong.res.body);
      expect(unknown.res.body.error.code).toBe('invalid_credentials');
      // Both paths run one argon2id verification; neither is an order of magnitude faster.
      expect(unknown.ms / wrong.ms).toBeGreaterThan(0.3);
      expect(unknown.ms / wrong.ms).toBeLessThan(3);
    });

    it.each([
      [{ username: 'a' }, /password/],
      [{ password: 'x' }, /username/],
      [{ username: '', password: 'x' }, /username/],
      [{ username: 'a', password: 'x', extra: 1 }, /extra: unknown field/],
    ])('refuses the malformed body %p with bad_request', async (body, detail) => {
      const res = await http(app.url, '/auth/login/local', { method: 'POST', body });
      expect(res.status).toBe(400);
      expect(res.body.error).toMatchObject({ code: 'bad_request', detail: expect.stringMatching(detail) });
    });

    it('refuses a disabled account like a wrong password', async () => {
      const user = await seedUser(app);
      const admin = await login(app, (await seedUser(app, { role: 'admin' })).username);
      expect(
        (await admin.request(`/api/admin/users/${user.id}`, { method: 'PATCH', body: { enabled: false } })).status,
      ).toBe(200);
      const res = await loginRequest(app, user.username);
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe('invalid_credentials');
    });

    it('locks the account after the configured failures, and an admin can unlock it', async () => {
      const user = await seedUser(app);
      for (let i = 0; i < 3; i++) expect((await loginRequest(app, user.username, 'nope nope nope')).status).toBe(401);
      const locked = await loginRequest(app, user.username);
      expect(locked.status).toBe(429);
      expect(locked.body.error.code).toBe('account_locked');
      expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);

      const admin = await login(app, (await seedUser(app, { role: 'admin' })).username);
      const detail = await admin.request(`/api/admin/users/${user.id}`);
      expect(detail.body.locked_until).toEqual(expect.any(String));
      expect((await admin.request(`/api/admin/users/${user.id}/unlock`, { method: 'POST' })).status).toBe(200);
      expect((await loginRequest(app, user.username)).status).toBe(200);
      expect(await auditRows(app, 'auth.unlock')).toHaveLength(1);
    });

    it('audits every attempt with its reason and never the password', async () => {
      const user = await seedUser(app);
      await loginRequest(app, user.username, 'a-secret-guess-4711');
      await loginRequest(app, 'ghost-user', 'a-secret-guess-4711');
      await loginRequest(app, user.username);
      const rows = await app.app
        .get(DataSource)
        .query("SELECT * FROM audit_events WHERE action = 'auth.login' AND username IN ($1, 'ghost-user')", [
          user.username,
        ]);
      expect(rows.map((r: { status: string; detail: unknown }) => [r.status, r.detail])).toEqual([
        ['error', { reason: 'bad_password', locked: false }],
        ['error', { reason: 'unknown_user' }],
        ['ok', { source: 'local' }],
      ]);
      expect(JSON.stringify(await app.app.get(DataSource).query('SELECT * FROM audit_events'))).not.toContain(
        'a-secret-guess-4711',
      );
    });
  });

  describe('sessions', () => {
    it('refuses requests without a session, and with an unknown one', async () => {
      for (const cookie of ['', 'stowage_session=nonsense', `stowage_session=${'A'.repeat(43)}`]) {
        const res = await http(app.url, '/api/me', { headers: cookie ? { cookie } : {} });
        expect(res.status).toBe(401);
        expect(res.body.error.code).toBe('unauthorized');
      }
    });

    it('ends a session on logout, and clears its cookies', async () => {
      const user = await seedUser(app);
      const session = await login(app, user.username);
      const res = await session.request('/auth/logout', { method: 'POST' });
      expect(res.status).toBe(200);
      expect(res.headers.getSetCookie().join('\n')).toMatch(/stowage_session=;.*Max-Age=0/);
      expect((await session.request('/api/me')).status).toBe(401);
      expect(await auditRows(app, 'auth.logout')).toEqual(
        expect.arrayContaining([expect.objectContaining({ user_id: user.id })]),
      );
    });

    it('needs CSRF to log out a live session, and nothing without one', async () => {
      const session = await login(app, (await seedUser(app)).username);
      const refused = await session.request('/auth/logout', { method: 'POST', csrf: false });
      expect(refused.status).toBe(403);
      expect(refused.body.error.code).toBe('csrf_invalid');
      expect((await session.request('/api/me')).status).toBe(200);
      expect((await http(app.url, '/auth/logout', { method: 'POST' })).status).toBe(200);
    });

    it('expires a session after the idle timeout and after its lifetime', async () => {
      const short = await stack.boot({
        imports: [TestRoutesModule],
        config: { auth: { session: { idle_timeout: '1500ms', lifetime: '3500ms' } }, ratelimit: { login_per_ip: 0 } },
      });
      const user = await seedUser(short);
      const idle = await login(short, user.username);
      const busy = await login(short, user.username);
      for (let t = 0; t < 5; t++) {
        await new Promise((r) => setTimeout(r, 600));
        expect((await busy.request('/api/me')).status).toBe(200);
      }
      expect((await idle.request('/api/me')).status).toBe(401);
      await new Promise((r) => setTimeout(r, 800));
      expect((await busy.request('/api/me')).status).toBe(401);
      await short.close();
    });
  });

  describe('CSRF', () => {
    it('refuses a mutation without the header, with a header that differs from the cookie, or with another session’s token', async () => {
      const a = await login(app, (await seedUser(app)).username);
      const b = await login(app, (await seedUser(app)).username);
      const cases = [
        a.request('/__test/user', { method: 'POST', csrf: false }),
        a.request('/__test/user', { method: 'POST', csrf: false, headers: { 'x-csrf-token': 'forged' } }),
        http(app.url, '/__test/user', {
          method: 'POST',
          headers: { cookie: `stowage_session=${a.token}; stowage_csrf=${b.csrf}`, 'x-csrf-token': b.csrf },
        }),
      ];
      for (const res of await Promise.all(cases)) {
        expect(res.status).toBe(403);
        expect(res.body.error.code).toBe('csrf_invalid');
      }
      expect((await a.request('/__test/user', { method: 'POST' })).status).toBe(201);
      // Reads never need it.
      expect((await a.request('/api/me', { csrf: false })).status).toBe(200);
    });
  });

  describe('roles and the password-change gate', () => {
    it('refuses a route that declares no access rule', async () => {
      const admin = await login(app, (await seedUser(app, { role: 'admin' })).username);
      const res = await admin.request('/__test/undeclared');
      expect(res.status).toBe(403);
      expect(res.body.error.code).toBe('forbidden');
    });

    it('applies a role change on the very next request', async () => {
      const user = await seedUser(app, { role: 'user' });
      const session = await login(app, user.username);
      expect((await session.request('/__test/user', { method: 'POST' })).status).toBe(201);
      const admin = await login(app, (await seedUser(app, { role: 'admin' })).username);
      expect(
        (await admin.request(`/api/admin/users/${user.id}`, { method: 'PATCH', body: { role: 'readonly' } })).status,
      ).toBe(200);
      const res = await session.request('/__test/user', { method: 'POST' });
      expect(res.status).toBe(403);
      expect(res.body.error.code).toBe('forbidden');
      expect((await session.request('/__test/readonly')).body).toEqual({ username: user.username, role: 'readonly' });
    });

    it('lets a user who must change their password only read /api/me and rotate it', async () => {
      const user = await seedUser(app, { mustChangePassword: true });
      const login1 = await loginRequest(app, user.username);
      expect(login1.body.must_change_pw).toBe(true);
      const session = new Session(app.url, cookiesOf(login1).stowage_session, cookiesOf(login1).stowage_csrf);
      expect((await session.request('/api/me')).body.must_change_pw).toBe(true);
      const blocked = await session.request('/__test/readonly');
      expect(blocked.status).toBe(403);
      expect(blocked.body.error.code).toBe('password_change_required');
      const rotated = await session.request('/api/me/password', {
        method: 'POST',
        body: { current_password: PASSWORD, new_password: 'a brand new passphrase' },
      });
      expect(rotated.status).toBe(200);
      expect((await session.request('/__test/readonly')).status).toBe(200);
      expect((await session.request('/api/me')).body.must_change_pw).toBe(false);
    });
  });

  describe('POST /api/me/password', () => {
    it('checks the current password', async () => {
      const session = await login(app, (await seedUser(app)).username);
      const res = await session.request('/api/me/password', {
        method: 'POST',
        body: { current_password: 'not my password', new_password: 'a brand new passphrase' },
      });
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe('password_mismatch');
    });

    it.each([
      ['short', /at least 12/],
      [PASSWORD, /differ/],
      [' '.repeat(20), /blank/],
    ])('refuses the weak new password %p', async (next, message) => {
      const session = await login(app, (await seedUser(app)).username);
      const res = await session.request('/api/me/password', {
        method: 'POST',
        body: { current_password: PASSWORD, new_password: next },
      });
      expect(res.status).toBe(400);
      expect(res.body.error).toMatchObject({ code: 'weak_password', message: expect.stringMatching(message) });
    });

    it('ends the user’s other sessions and keeps this one', async () => {
      const user = await seedUser(app);
      const here = await login(app, user.username);
      const elsewhere = await login(app, user.username);
      const res = await here.request('/api/me/password', {
        method: 'POST',
        body: { current_password: PASSWORD, new_password: 'another good passphrase' },
      });
      expect(res.status).toBe(200);
      expect((await here.request('/api/me')).status).toBe(200);
      expect((await elsewhere.request('/api/me')).status).toBe(401);
      expect((await loginRequest(app, user.username)).status).toBe(401);
      expect((await loginRequest(app, user.username, 'another good passphrase')).status).toBe(200);
    });

    it('answers not_local for accounts from another identity source', async () => {
      const oidc = await seedUser(app);
      const session = await login(app, oidc.username);
      // Stand-in for an account created by an OIDC sign-in.
      await app.app.get(DataSource).query("UPDATE users SET identity_source = 'oidc' WHERE id = $1", [oidc.id]);
      await app.app.get(UserCache).invalidate(oidc.id);
      const res = await session.request('/api/me/password', {
        method: 'POST',
        body: { current_password: PASSWORD, new_password: 'a brand new passphrase' },
      });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('not_local');
    });
  });

  it('GET /api/auth/config lists the sign-in methods', async () => {
    const res = await http(app.url, '/api/auth/config');
    expect(res.body).toEqual({ modes: ['local'], allow_self_registration: false });
  });

  describe('modes', () => {
    it('answers mode_disabled when no password sign-in is enabled', async () => {
      const off = await stack.boot({
        config: {
          auth: { modes: ['static'], static: { enabled: false, username: 'root', password_hash_env: 'ROOT_HASH' } },
        },
      });
      const res = await loginRequest(off, 'anyone');
      expect(res.status).toBe(403);
      expect(res.body.error.code).toBe('mode_disabled');
      expect((await http(off.url, '/api/auth/config')).body.modes).toEqual([]);
      await off.close();
    });

    it('signs in the static admin, which the API can never change', async () => {
      const hash = await argon2.hash('break glass password', ARGON2_OPTIONS);
      const withStatic = await stack.boot({
        config: {
          auth: {
            modes: ['local', 'static'],
            static: { enabled: true, username: 'Emergency', password_hash_env: 'ROOT_HASH' },
          },
          ratelimit: { login_per_ip: 0 },
        },
        env: { ROOT_HASH: hash },
      });
      expect((await loginRequest(withStatic, 'emergency', 'wrong')).body.error.code).toBe('invalid_credentials');
      const res = await loginRequest(withStatic, 'emergency', 'break glass password');
      expect(res.body).toEqual({ status: 'ok', source: 'static', must_change_pw: false });
      const root = new Session(withStatic.url, cookiesOf(res).stowage_session, cookiesOf(res).stowage_csrf);
      const me = await root.request('/api/me');
      expect(me.body).toMatchObject({ username: 'emergency', role: 'admin', identity_source: 'static' });
      const own = await root.request('/api/me/password', {
        method: 'POST',
        body: { current_password: 'x', new_password: 'y'.repeat(20) },
      });
      expect(own.body.error.code).toBe('static_user');

      const admin = await login(withStatic, (await seedUser(withStatic, { role: 'admin' })).username);
      for (const [method, path, body] of [
        ['PATCH', `/api/admin/users/${me.body.id}`, { role: 'user' }],
        ['POST', `/api/admin/users/${me.body.id}/reset-password`, { new_password: 'z'.repeat(20) }],
        ['DELETE', `/api/admin/users/${me.body.id}`, undefined],
      ] as const) {
        const r = await admin.request(path, { method, body });
        expect(r.status).toBe(403);
        expect(r.body.error.code).toBe('static_user');
      }
      await withStatic.close();
    });
  });

  it('applies the per-session API rate limit with Retry-After', async () => {
    const limited = await stack.boot({
      imports: [TestRoutesModule],
      config: { ratelimit: { api_per_minute: 5, login_per_ip: 0 } },
    });
    const session = await login(limited, (await seedUser(limited)).username);
    const statuses: number[] = [];
    let last;
    for (let i = 0; i < 7; i++) {
      last = await session.request('/api/me');
      statuses.push(last.status);
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429]);
    expect(last!.body.error.code).toBe('rate_limited');
    expect(Number(last!.headers.get('retry-after'))).toBeGreaterThan(0);
    // Another session has its own budget.
    expect((await (await login(limited, (await seedUser(limited)).username)).request('/api/me')).status).toBe(200);
    await limited.close();
  });

  it('limits failed sign-ins per client address, but not successful ones', async () => {
    const limited = await stack.boot({ config: { ratelimit: { login_per_ip: 3, login_window: '1m' } } });
    const user = await seedUser(limited);
    for (let i = 0; i < 5; i++) expect((await loginRequest(limited, user.username)).status).toBe(200);
    for (let i = 0; i < 3; i++) expect((await loginRequest(limited, 'nobody', 'x')).status).toBe(401);
    const res = await loginRequest(limited, user.username);
    expect(res.status).toBe(429);
    expect(res.body.error.code).toBe('rate_limited');
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    await limited.close();
  });
});
