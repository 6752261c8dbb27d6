import { connect } from 'node:net';
import { DataSource } from 'typeorm';
import { TestApp, TestStack } from '../harness/app';
import { http } from '../harness/http';
import { login, loginRequest, PASSWORD, seedUser, Session } from '../harness/session';

const nested = (depth: number) => `{"username":${'['.repeat(depth)}${']'.repeat(depth)},"password":"x"}`;

const json = (body: string | Buffer) => ({
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body,
});

describe('input hardening of the dashboard API', () => {
  let stack: TestStack;
  let app: TestApp;
  let admin: Session;

  beforeAll(async () => {
    stack = await TestStack.start({ s3: false });
    app = await stack.boot({ config: { ratelimit: { login_per_ip: 0, api_per_minute: 0 } } });
    admin = await login(app, (await seedUser(app, { role: 'admin', username: 'hardening-admin' })).username);
    await seedUser(app, { username: 'alpha_one', email: 'alpha@example.com' });
    await seedUser(app, { username: 'alphaxone' });
  });
  afterAll(() => stack.stop());

  describe('JSON bodies', () => {
    it.each(['/auth/login/local', '/s/abcdefgh/unlock'])(
      'refuses JSON nested 3000 deep on %s with 400 bad_request (no stack overflow)',
      async (path) => {
        const res = await http(app.url, path, json(nested(3000)));
        expect([res.status, res.body?.error?.code]).toEqual([400, 'bad_request']);
      },
    );

    it('refuses deep nesting on an authenticated route too', async () => {
      const res = await admin.request('/api/admin/users', { ...json(nested(200)) });
      expect([res.status, res.body?.error?.code]).toEqual([400, 'bad_request']);
    });

    it('does not count brackets inside strings as nesting', async () => {
      const res = await http(
        app.url,
        '/auth/login/local',
        json(JSON.stringify({ username: '['.repeat(100), password: 'x' })),
      );
      expect([res.status, res.body?.error?.code]).toEqual([401, 'invalid_credentials']);
    });

    it('keeps prototype-poisoning protection: __proto__ and constructor.prototype keys are 400', async () => {
      for (const body of [
        '{"__proto__":{"x":1},"username":"a","password":"b"}',
        '{"constructor":{"prototype":{"x":1}}}',
      ]) {
        const res = await http(app.url, '/auth/login/local', json(body));
        expect([body, res.status, res.body?.error?.code]).toEqual([body, 400, 'bad_request']);
      }
    });

    it('keeps the answers for malformed, empty and too-large bodies', async () => {
      const malformed = await http(app.url, '/auth/login/local', json('{"username":'));
      expect([malformed.status, malformed.body?.error?.code]).toEqual([400, 'bad_request']);
      const empty = await http(app.url, '/auth/login/local', json(''));
      expect([empty.status, empty.body?.error?.code]).toEqual([400, 'bad_request']);
      const large = await http(
        app.url,
        '/auth/login/local',
        json(JSON.stringify({ username: 'a'.repeat(20_000), password: 'x' })),
      );
      expect([large.status, large.body?.error?.code]).toEqual([413, 'too_large']);
    });

    it('refuses a body that is not valid UTF-8 with 400 bad_request', async () => {
      const body = Buffer.concat([
        Buffer.from('{"username":"a'),
        Buffer.from([0xff, 0xfe]),
        Buffer.from('","password":"x"}'),
      ]);
      const res = await http(app.url, '/auth/login/local', json(body));
      expect([res.status, res.body?.error?.code]).toEqual([400, 'bad_request']);
    });
  });

  it('survives a client that hangs up in the middle of a JSON body, logging no error for it', async () => {
    const reqId = 'hangup-mid-body-0001';
    const { port } = new URL(app.url);
    await new Promise<void>((resolve) => {
      const socket = connect(Number(port), '127.0.0.1', () => {
        socket.write(
          `POST /auth/login/local HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n` +
            `Content-Length: 4000\r\nX-Request-Id: ${reqId}\r\n\r\n{"username":[[[[`,
        );
        setTimeout(() => socket.destroy(), 50);
      });
      socket.on('close', () => resolve());
      socket.on('error', () => resolve());
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const res = await loginRequest(app, 'nobody-at-all', PASSWORD);
    expect(res.status).toBe(401);
    const errors = app.logs.filter((line) => line.includes(reqId) && /"level":"(error|fatal)"|"stack"/.test(line));
    expect(errors).toEqual([]);
  });

  describe('strings PostgreSQL cannot store', () => {
    it('answers a login with NUL in the username 401 invalid_credentials after the usual hashing work', async () => {
      const started = Date.now();
      const res = await loginRequest(app, 'a\u0000b', PASSWORD);
      const nulMs = Date.now() - started;
      expect([res.status, res.body?.error?.code]).toEqual([401, 'invalid_credentials']);
      const unknownStarted = Date.now();
      await loginRequest(app, 'nobody-at-all', PASSWORD);
      const unknownMs = Date.now() - unknownStarted;
      // Same argon2 work: the NUL answer is not noticeably faster than an unknown user's.
      expect(nulMs).toBeGreaterThan(unknownMs / 4);
    });

    it.each([['hardening-admin\u0000'], ['\ud800abc']])(
      'answers login with %p 401 invalid_credentials',
      async (name) => {
        const res = await loginRequest(app, name, PASSWORD);
        expect([res.status, res.body?.error?.code]).toEqual([401, 'invalid_credentials']);
      },
    );

    it('answers a login with NUL in the password 401 invalid_credentials', async () => {
      const res = await loginRequest(app, 'hardening-admin', `${PASSWORD}\u0000`);
      expect([res.status, res.body?.error?.code]).toEqual([401, 'invalid_credentials']);
    });

    it.each([
      '/api/admin/users?query=a%00b',
      '/api/admin/users?query=%ED%A0%80',
      '/api/admin/users/a%00b',
      '/api/shares?scope=a%00',
    ])('refuses NUL or lone surrogates in GET %s with 400 bad_request', async (path) => {
      const res = await admin.request(path);
      expect([res.status, res.body?.error?.code]).toEqual([400, 'bad_request']);
    });

    it.each([
      { username: 'nul\u0000user', password: PASSWORD, role: 'user' },
      { username: 'okname', password: PASSWORD, role: 'user', email: 'a\u0000@example.com' },
      { username: 'okname', password: '\ud800 lone surrogate password', role: 'user' },
      { 'key\u0000': 1, username: 'okname', password: PASSWORD, role: 'user' },
    ])('refuses a JSON body with NUL or a lone surrogate in any string or key: %p', async (body) => {
      const count = () => app.app.get(DataSource).query('SELECT count(*)::int AS n FROM users');
      const before = await count();
      const res = await admin.request('/api/admin/users', { method: 'POST', body });
      expect([res.status, res.body?.error?.code]).toEqual([400, 'bad_request']);
      expect(await count()).toEqual(before);
    });

    it.each([
      ['GET', '/api/backends/local/buckets/b/object/info?key=a%00b', undefined, 'invalid_key'],
      ['GET', '/api/backends/local/buckets/b/objects?prefix=%00', undefined, 'invalid_prefix'],
      ['POST', '/api/shares', { backend_id: 'local', bucket: 'b', key: 'a\u0000b' }, 'invalid_key'],
      ['POST', '/api/backends/local/buckets/b/objects/delete', { keys: [{ key: 'x\ud800' }] }, 'invalid_key'],
      ['POST', '/api/backends/local/buckets/b/object/copy', { src_key: 'a', dst_key: '\u0000' }, 'invalid_key'],
    ])('keeps the object naming codes: %s %s → %s', async (method, path, body, code) => {
      const res = await admin.request(path, { method, body });
      expect([res.status, res.body?.error?.code]).toEqual([400, code]);
    });

    it('refuses NUL in a share code path parameter with 400 bad_request', async () => {
      const res = await http(app.url, '/s/abc%00def/info');
      expect([res.status, res.body?.error?.code]).toEqual([400, 'bad_request']);
    });
  });

  describe('bounded integers', () => {
    it.each([
      'offset=100000000000000000000',
      'offset=9223372036854775808',
      'offset=1e20',
      'offset=-1',
      'offset=',
      'offset=%20',
      'offset=0x10',
      'offset=1.5',
      'limit=100000000000000000000',
      'limit=0',
    ])('refuses GET /api/admin/users?%s with 400 bad_request', async (query) => {
      const res = await admin.request(`/api/admin/users?${query}`);
      expect([query, res.status, res.body?.error?.code]).toEqual([query, 400, 'bad_request']);
    });

    it('accepts in-range integers', async () => {
      const res = await admin.request('/api/admin/users?offset=1&limit=2');
      expect(res.status).toBe(200);
      expect(res.body.users).toHaveLength(2);
    });
  });

  describe('users search', () => {
    const search = async (query: string) =>
      (
        (await admin.request(`/api/admin/users?query=${encodeURIComponent(query)}`)).body.users as {
          username: string;
        }[]
      )
        .map((u) => u.username)
        .sort();

    it('matches LIKE wildcards literally', async () => {
      expect(await search('alpha_')).toEqual(['alpha_one']);
      expect(await search('%')).toEqual([]);
      expect(await search('_')).toEqual(['alpha_one']);
      expect(await search('\\')).toEqual([]);
      expect(await search('alpha')).toEqual(['alpha_one', 'alphaxone']);
    });
  });
});
