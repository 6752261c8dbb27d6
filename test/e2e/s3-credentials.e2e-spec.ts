import { request as httpRequest } from 'node:http';
import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { parseRootKey, Sealer } from '@stowage/crypto';
import { S3AccessDirectoryService } from '../../src/s3-proxy/access/s3-access-directory.service';
import { TestApp, TestStack } from '../harness/app';
import { s3rverBackend } from '../harness/s3rver';
import { HttpResult } from '../harness/http';
import { login, seedUser, Session } from '../harness/session';

const ROOT_KEY = randomBytes(32).toString('hex');
const AKID = /^STWG[A-Z0-9]{16}$/;
const SECRET = /^[A-Za-z0-9]{40}$/;

/** Polls `check` until it passes or `withinMs` is over; answers how long it took. */
async function within(withinMs: number, check: () => Promise<boolean>): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (await check()) return Date.now() - started;
    if (Date.now() - started > withinMs) throw new Error(`not true within ${withinMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A GET with an arbitrary Host header (fetch sends its own). */
function withHost(app: TestApp, path: string, cookie: string, host: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${app.url}${path}`, { headers: { host, cookie } }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end();
  });
}

const expectError = (res: HttpResult, status: number, code: string) =>
  expect([res.status, res.body?.error?.code]).toEqual([status, code]);

describe('S3 virtual credentials and anonymous bindings', () => {
  let stack: TestStack;
  let a: TestApp;
  let b: TestApp;
  let db: DataSource;
  let dirA: S3AccessDirectoryService;
  let dirB: S3AccessDirectoryService;
  let admin: Session;
  let user: Session;
  let userId: string;
  let other: Session;
  let reader: Session;

  const boot = (env: Record<string, string>) => {
    const s3 = stack.s3!;
    const backend = (id: string) => s3rverBackend(id, s3, { region: true });
    return stack.boot({
      config: {
        ratelimit: { login_per_ip: 0, api_per_minute: 0 },
        backends: [backend('local'), backend('other')],
        s3_proxy: { anonymous_rps: 7 },
      },
      env: { K: s3.accessKey, S: s3.secretKey, ...env },
    });
  };

  beforeAll(async () => {
    stack = await TestStack.start();
    [a, b] = await Promise.all([boot({ STOWAGE_SECRET_KEY: ROOT_KEY }), boot({ STOWAGE_SECRET_KEY: ROOT_KEY })]);
    db = a.app.get(DataSource);
    dirA = a.app.get(S3AccessDirectoryService);
    dirB = b.app.get(S3AccessDirectoryService);
    const alice = await seedUser(a, { role: 'user' });
    userId = alice.id;
    [admin, user, other, reader] = await Promise.all([
      seedUser(a, { role: 'admin' }).then((u) => login(a, u.username)),
      login(a, alice.username),
      seedUser(a, { role: 'user' }).then((u) => login(a, u.username)),
      seedUser(a, { role: 'readonly' }).then((u) => login(a, u.username)),
    ]);
  });
  afterAll(() => stack.stop());

  const mint = (session: Session, body: unknown, path = '/api/me/s3-credentials') =>
    session.request(path, { method: 'POST', body });
  const patch = (session: Session, akid: string, body: unknown, path = '/api/me/s3-credentials') =>
    session.request(`${path}/${akid}`, { method: 'PATCH', body });
  const count = async () => Number((await db.query('SELECT count(*) AS n FROM s3_credentials'))[0].n);
  const auditOf = (akid: string) =>
    db.query(`SELECT action, backend_id, detail FROM audit_events WHERE detail->>'access_key' = $1 ORDER BY id`, [
      akid,
    ]) as Promise<Array<{ action: string; backend_id: string | null; detail: Record<string, unknown> }>>;

  describe('self-service', () => {
    it('mints a credential whose secret is shown once and sealed at rest', async () => {
      const res = await mint(user, { backend_id: 'local', buckets: ['team-b', 'team-a'], description: 'ci' });
      expect(res.status).toBe(201);
      expect(res.body).toEqual({
        access_key: expect.stringMatching(AKID),
        secret_key: expect.stringMatching(SECRET),
        backend_id: 'local',
        buckets: ['team-a', 'team-b'],
        namespaces: [],
        scopes: [
          { backend_id: 'local', bucket: 'team-a' },
          { backend_id: 'local', bucket: 'team-b' },
        ],
        // No s3_proxy.public_url here: this request's host, on s3_proxy.listen's port.
        endpoint_url: 'http://127.0.0.1:8090',
        bucket_urls: [
          { backend_id: 'local', bucket: 'team-a', path_style: 'http://127.0.0.1:8090/team-a' },
          { backend_id: 'local', bucket: 'team-b', path_style: 'http://127.0.0.1:8090/team-b' },
        ],
        user_id: userId,
        description: 'ci',
        enabled: true,
        created_at: expect.any(String),
        created_by: userId,
        updated_at: expect.any(String),
        updated_by: userId,
      });
      const { access_key: akid, secret_key: secret } = res.body;

      const list = await user.request('/api/me/s3-credentials');
      expect(list.status).toBe(200);
      const { secret_key: _shown, ...withoutSecret } = res.body;
      expect(list.body).toEqual({ credentials: [withoutSecret] });
      for (const path of ['/api/me/s3-credentials', '/api/admin/s3-credentials', '/api/admin/s3-proxy/credentials']) {
        const text = (await (path.includes('admin') ? admin : user).request(path)).text;
        expect(text).toContain(akid);
        expect(text).not.toContain(secret);
      }
      // The endpoint follows the host the caller used, never echoing one that is not a host name.
      for (const [host, endpoint] of [
        ['files.lan:8080', 'http://files.lan:8090'],
        ['evil"<x>', 'http://localhost:8090'],
        ['a_b', 'http://localhost:8090'],
      ]) {
        const seen = await withHost(a, '/api/me/s3-credentials', user.cookie, host);
        if (seen.status !== 200) expect(seen.status).toBe(400);
        else expect(JSON.parse(seen.text).credentials[0].endpoint_url).toBe(endpoint);
      }
      const updated = await patch(user, akid, { description: 'ci runner' });
      expect(updated.status).toBe(200);
      expect(updated.body.secret_key).toBeUndefined();
      expect(updated.text).not.toContain(secret);

      const [row] = await db.query('SELECT secret_key_sealed FROM s3_credentials WHERE access_key = $1', [akid]);
      expect(Buffer.isBuffer(row.secret_key_sealed)).toBe(true);
      expect(row.secret_key_sealed.includes(Buffer.from(secret))).toBe(false);
      const audits = await auditOf(akid);
      expect(audits.map((r) => r.action)).toEqual(['s3_credential.create', 's3_credential.update']);
      expect(audits[0].backend_id).toBe('local');
      expect(JSON.stringify(audits)).not.toContain(secret);
      const logs = [...a.logs, ...b.logs].join('\n');
      expect(logs).not.toContain(secret);

      for (const dir of [dirA, dirB]) {
        expect(await dir.credential(akid)).toEqual({
          accessKey: akid,
          secretKey: secret,
          userId,
          enabled: true,
          expiresAt: null,
          createdAt: expect.any(Date),
          scopes: [
            { backendId: 'local', bucket: 'team-a' },
            { backendId: 'local', bucket: 'team-b' },
          ],
        });
      }
    });

    it('accepts scopes spanning backends and an expiry', async () => {
      const expires = new Date(Date.now() + 3_600_000).toISOString();
      const res = await mint(user, {
        scopes: [
          { backend_id: 'local', bucket: 'span-a' },
          { backend_id: 'other', bucket: 'span-b' },
        ],
        expires_at: expires,
      });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ backend_id: '', buckets: ['span-a', 'span-b'], expires_at: expires });
      expect((await dirB.credential(res.body.access_key))?.expiresAt?.toISOString()).toBe(expires);
    });

    it.each<[string, unknown, number, string]>([
      ['no scope at all', {}, 400, 'bad_request'],
      ['a backend without buckets', { backend_id: 'local' }, 400, 'bad_request'],
      ['buckets without a backend', { buckets: ['team-a'] }, 400, 'bad_request'],
      ['an empty bucket list', { backend_id: 'local', buckets: [] }, 400, 'bad_request'],
      ['a bucket twice', { backend_id: 'local', buckets: ['twice', 'twice'] }, 400, 'bad_request'],
      [
        'one bucket name on two backends',
        {
          scopes: [
            { backend_id: 'local', bucket: 'dup' },
            { backend_id: 'other', bucket: 'dup' },
          ],
        },
        400,
        'bad_request',
      ],
      [
        'scopes and buckets together',
        { backend_id: 'local', buckets: ['x-a'], scopes: [{ backend_id: 'local', bucket: 'x-b' }] },
        400,
        'bad_request',
      ],
      ['a malformed backend id', { backend_id: 'BAD ID', buckets: ['team-a'] }, 400, 'bad_request'],
      ['a bucket that is not a string', { backend_id: 'local', buckets: [7] }, 400, 'bad_request'],
      [
        'a past expiry',
        { backend_id: 'local', buckets: ['team-a'], expires_at: '2001-01-01T00:00:00Z' },
        400,
        'bad_request',
      ],
      ['a malformed expiry', { backend_id: 'local', buckets: ['team-a'], expires_at: 'tomorrow' }, 400, 'bad_request'],
      [
        'a long description',
        { backend_id: 'local', buckets: ['team-a'], description: 'x'.repeat(257) },
        400,
        'bad_request',
      ],
      [
        'an owner (admin only)',
        { backend_id: 'local', buckets: ['team-a'], user_id: '00000000-0000-4000-8000-000000000000' },
        400,
        'bad_request',
      ],
      ['a chosen secret', { backend_id: 'local', buckets: ['team-a'], secret_key: 'x'.repeat(40) }, 400, 'bad_request'],
      ['an invalid bucket name', { backend_id: 'local', buckets: ['Upper_Case'] }, 400, 'invalid_bucket_name'],
      ['an unknown backend', { backend_id: 'nope', buckets: ['team-a'] }, 404, 'not_found'],
    ])('refuses %s and creates nothing', async (_name, body, status, code) => {
      const before = await count();
      expectError(await mint(user, body), status, code);
      expect(await count()).toBe(before);
    });

    it('changes description, scopes, expiry and the enabled state, visible on the other replica within a second', async () => {
      const { access_key: akid } = (await mint(user, { backend_id: 'local', buckets: ['before'] })).body;
      expect((await dirB.credential(akid))?.enabled).toBe(true);

      const disabled = await patch(user, akid, { enabled: false });
      expect(disabled.status).toBe(200);
      expect(disabled.body.enabled).toBe(false);
      expect(await within(1000, async () => (await dirB.credential(akid))?.enabled === false)).toBeLessThanOrEqual(
        1000,
      );
      expect((await dirA.credential(akid))?.enabled).toBe(false);

      await patch(user, akid, { enabled: true });
      await within(1000, async () => (await dirB.credential(akid))?.enabled === true);

      const rescoped = await patch(user, akid, { buckets: ['after-a', 'after-b'] });
      expect(rescoped.body).toMatchObject({ backend_id: 'local', buckets: ['after-a', 'after-b'] });
      await within(
        1000,
        async () =>
          JSON.stringify((await dirB.credential(akid))?.scopes) ===
          JSON.stringify([
            { backendId: 'local', bucket: 'after-a' },
            { backendId: 'local', bucket: 'after-b' },
          ]),
      );

      const moved = await patch(user, akid, { backend_id: 'other', buckets: ['after-a'] });
      expect(moved.body).toMatchObject({ backend_id: 'other', buckets: ['after-a'] });

      const expires = new Date(Date.now() + 86_400_000).toISOString();
      expect((await patch(user, akid, { expires_at: expires })).body.expires_at).toBe(expires);
      await within(1000, async () => (await dirB.credential(akid))?.expiresAt?.toISOString() === expires);
      const cleared = await patch(user, akid, { expires_at: '' });
      expect(cleared.body.expires_at).toBeUndefined();
      await within(1000, async () => (await dirB.credential(akid))?.expiresAt === null);
      expect((await patch(user, akid, { expires_at: null })).status).toBe(200);
    });

    it.each<[string, unknown, number, string]>([
      ['an unknown field', { owner: 'me' }, 400, 'bad_request'],
      ['a non-boolean enabled', { enabled: 'no' }, 400, 'bad_request'],
      ['an empty bucket list', { buckets: [] }, 400, 'bad_request'],
      ['a bucket twice', { buckets: ['again', 'again'] }, 400, 'bad_request'],
      ['a backend without buckets', { backend_id: 'other' }, 400, 'bad_request'],
      ['a past expiry', { expires_at: '2001-01-01T00:00:00Z' }, 400, 'bad_request'],
      ['a long description', { description: 'x'.repeat(257) }, 400, 'bad_request'],
      ['an invalid bucket name', { buckets: ['no_underscores'] }, 400, 'invalid_bucket_name'],
      ['an unknown backend', { backend_id: 'nope', buckets: ['fine-name'] }, 404, 'not_found'],
    ])('refuses a change with %s and changes nothing', async (_name, body, status, code) => {
      const created = (await mint(user, { backend_id: 'local', buckets: ['steady'], description: 'steady' })).body;
      const { secret_key: _secret, ...before } = created;
      expectError(await patch(user, created.access_key, body), status, code);
      const after = (await user.request('/api/me/s3-credentials')).body.credentials.find(
        (c: { access_key: string }) => c.access_key === created.access_key,
      );
      expect(after).toEqual(before);
    });

    it('revokes a credential; it disappears from every replica within a second', async () => {
      const { access_key: akid } = (await mint(user, { backend_id: 'local', buckets: ['gone'] })).body;
      expect(await dirB.credential(akid)).toBeDefined();
      const res = await user.request(`/api/me/s3-credentials/${akid}`, { method: 'DELETE' });
      expect(res.status).toBe(204);
      await within(1000, async () => (await dirB.credential(akid)) === undefined);
      expect(await dirA.credential(akid)).toBeUndefined();
      expectError(await user.request(`/api/me/s3-credentials/${akid}`, { method: 'DELETE' }), 404, 'not_found');
      expect((await auditOf(akid)).map((r) => r.action)).toEqual(['s3_credential.create', 's3_credential.delete']);
    });

    it("hides other users' credentials: not listed, and not_found to change or revoke", async () => {
      const { access_key: akid } = (await mint(user, { backend_id: 'local', buckets: ['private'] })).body;
      const theirs = await other.request('/api/me/s3-credentials');
      expect(theirs.text).not.toContain(akid);
      expectError(await patch(other, akid, { enabled: false }), 404, 'not_found');
      expectError(await other.request(`/api/me/s3-credentials/${akid}`, { method: 'DELETE' }), 404, 'not_found');
      expectError(await patch(admin, akid, { enabled: false }), 404, 'not_found');
      expectError(await patch(user, 'STWGAAAAAAAAAAAAAAAA', { enabled: false }), 404, 'not_found');
      expectError(await patch(user, 'not-a-key!', { enabled: false }), 400, 'bad_request');
      expect((await dirA.credential(akid))?.enabled).toBe(true);
    });

    it('lets a readonly user list but not mint', async () => {
      const list = await reader.request('/api/me/s3-credentials');
      expect(list.status).toBe(200);
      expect(list.body).toEqual({ credentials: [] });
      const before = await count();
      expectError(await mint(reader, { backend_id: 'local', buckets: ['team-a'] }), 403, 'forbidden');
      expect(await count()).toBe(before);
    });
  });

  describe('admin', () => {
    const ADMIN = '/api/admin/s3-credentials';

    it('mints for a user or for nobody, and manages anyone’s credentials', async () => {
      const forUser = await mint(admin, { backend_id: 'local', buckets: ['ops'], user_id: userId }, ADMIN);
      expect(forUser.status).toBe(201);
      expect(forUser.body).toMatchObject({ user_id: userId, secret_key: expect.stringMatching(SECRET) });
      const mine = (await user.request('/api/me/s3-credentials')).body.credentials.map(
        (c: { access_key: string }) => c.access_key,
      );
      expect(mine).toContain(forUser.body.access_key);

      const service = await mint(admin, { backend_id: 'local', buckets: ['svc'] }, ADMIN);
      expect(service.status).toBe(201);
      expect(service.body.user_id).toBeUndefined();
      expect((await dirB.credential(service.body.access_key))?.userId).toBeNull();

      const list = await admin.request(ADMIN);
      expect(list.status).toBe(200);
      const keys = list.body.credentials.map((c: { access_key: string }) => c.access_key);
      expect(keys).toEqual(expect.arrayContaining([forUser.body.access_key, service.body.access_key]));
      expect(list.text).not.toContain(forUser.body.secret_key);

      const changed = await patch(admin, forUser.body.access_key, { enabled: false }, ADMIN);
      expect(changed.status).toBe(200);
      expect(changed.body).toMatchObject({ enabled: false, user_id: userId });
      expect((await admin.request(`${ADMIN}/${service.body.access_key}`, { method: 'DELETE' })).status).toBe(204);
      expectError(await admin.request(`${ADMIN}/${service.body.access_key}`, { method: 'DELETE' }), 404, 'not_found');
      const actions = (await auditOf(forUser.body.access_key)).map((r) => [r.action, r.detail.self, r.detail.owner_id]);
      expect(actions).toEqual([
        ['s3_credential.create', false, userId],
        ['s3_credential.update', false, userId],
      ]);
    });

    it('refuses an unknown or malformed owner and creates nothing', async () => {
      const before = await count();
      expectError(
        await mint(
          admin,
          { backend_id: 'local', buckets: ['ops'], user_id: '00000000-0000-4000-8000-000000000000' },
          ADMIN,
        ),
        404,
        'not_found',
      );
      expectError(
        await mint(admin, { backend_id: 'local', buckets: ['ops'], user_id: 'bob' }, ADMIN),
        400,
        'bad_request',
      );
      expect(await count()).toBe(before);
    });

    it('refuses non-admins', async () => {
      for (const session of [user, reader]) {
        expectError(await session.request(ADMIN), 403, 'forbidden');
        expectError(await mint(session, { backend_id: 'local', buckets: ['ops'] }, ADMIN), 403, 'forbidden');
        expectError(await session.request('/api/admin/s3-proxy/credentials'), 403, 'forbidden');
        expectError(await session.request('/api/admin/s3-anonymous'), 403, 'forbidden');
      }
    });

    it('lists every credential in the read-only proxy view with its source', async () => {
      const { access_key: akid } = (await mint(user, { backend_id: 'local', buckets: ['viewed'] })).body;
      const view = await admin.request('/api/admin/s3-proxy/credentials');
      expect(view.status).toBe(200);
      const row = view.body.credentials.find((c: { access_key: string }) => c.access_key === akid);
      expect(row).toMatchObject({ access_key: akid, source: 'db', buckets: ['viewed'], user_id: userId });
      expect(row.secret_key).toBeUndefined();
    });
  });

  describe('owners', () => {
    it('reports the credentials of a disabled user as disabled on every replica, and drops them with the user', async () => {
      const owner = await seedUser(a, { role: 'user' });
      const session = await login(a, owner.username);
      const { access_key: akid } = (await mint(session, { backend_id: 'local', buckets: ['owned'] })).body;
      expect((await dirB.credential(akid))?.enabled).toBe(true);

      const off = await admin.request(`/api/admin/users/${owner.id}`, { method: 'PATCH', body: { enabled: false } });
      expect(off.status).toBe(200);
      await within(1000, async () => (await dirB.credential(akid))?.enabled === false);
      expect((await dirA.credential(akid))?.enabled).toBe(false);

      await admin.request(`/api/admin/users/${owner.id}`, { method: 'PATCH', body: { enabled: true } });
      await within(1000, async () => (await dirB.credential(akid))?.enabled === true);

      expect((await admin.request(`/api/admin/users/${owner.id}`, { method: 'DELETE' })).status).toBe(204);
      await within(1000, async () => (await dirB.credential(akid)) === undefined);
      expect(await db.query('SELECT 1 FROM s3_credentials WHERE access_key = $1', [akid])).toEqual([]);
    });
  });

  describe('directory', () => {
    it('answers unknown and malformed keys with undefined', async () => {
      expect(await dirA.credential('STWG0000000000000000')).toBeUndefined();
      expect(await dirA.credential('AKIAIOSFODNN7EXAMPLE')).toBeUndefined();
      expect(await dirA.credential('')).toBeUndefined();
      expect(await dirA.anonymousBinding('no-such-binding')).toBeUndefined();
      expect(await dirA.anonymousBinding('Not A Bucket')).toBeUndefined();
      expect(await dirA.bucketCors('local', 'no-cors-here')).toBeUndefined();
    });

    it('heals within a second even when a change is never announced', async () => {
      const { access_key: akid } = (await mint(user, { backend_id: 'local', buckets: ['quiet'] })).body;
      expect((await dirB.credential(akid))?.enabled).toBe(true);
      await db.query('UPDATE s3_credentials SET enabled = false WHERE access_key = $1', [akid]);
      const took = await within(1500, async () => (await dirB.credential(akid))?.enabled === false);
      expect(took).toBeLessThanOrEqual(1100);
      // A key that appears without notice (after being asked for while unknown) shows up within a second too.
      const ghost = 'STWGGHOST00000000000';
      expect(await dirB.credential(ghost)).toBeUndefined();
      const sealed = new Sealer(parseRootKey(ROOT_KEY)).seal('g'.repeat(40), `s3-credential:${ghost}`);
      await db.query('INSERT INTO s3_credentials (access_key, secret_key_sealed, user_id) VALUES ($1, $2, $3)', [
        ghost,
        sealed,
        userId,
      ]);
      const appeared = await within(1500, async () => (await dirB.credential(ghost))?.secretKey === 'g'.repeat(40));
      expect(appeared).toBeLessThanOrEqual(1100);
    });

    it('renews a credential in steady use in the background: answered from memory for seconds on end, changes still within a second', async () => {
      const { access_key: akid } = (await mint(user, { backend_id: 'local', buckets: ['steady'] })).body;
      await dirB.credential(akid);
      let waited = 0;
      for (let i = 0; i < 50; i++) {
        await new Promise((resolve) => setTimeout(resolve, 60));
        if (dirB.credential(akid) instanceof Promise) waited++;
      }
      // Three seconds of use, three times the cache's lifetime, and not one lookup on the request path.
      expect(waited).toBe(0);
      await db.query('UPDATE s3_credentials SET enabled = false WHERE access_key = $1', [akid]);
      const took = await within(1500, async () => (await dirB.credential(akid))?.enabled === false);
      expect(took).toBeLessThanOrEqual(1100);
    });

    it('records use at most once a minute per key, without failing', async () => {
      const { access_key: akid } = (await mint(user, { backend_id: 'local', buckets: ['used'] })).body;
      dirA.touch(akid);
      dirB.touch(akid);
      dirA.touch('garbage');
      let first: Date | null = null;
      await within(1000, async () => {
        [{ last_used_at: first }] = await db.query('SELECT last_used_at FROM s3_credentials WHERE access_key = $1', [
          akid,
        ]);
        return first !== null;
      });
      dirB.touch(akid);
      await new Promise((resolve) => setTimeout(resolve, 200));
      const [{ last_used_at: second }] = await db.query(
        'SELECT last_used_at FROM s3_credentials WHERE access_key = $1',
        [akid],
      );
      expect(second).toEqual(first);
      const listed = (await user.request('/api/me/s3-credentials')).body.credentials.find(
        (c: { access_key: string }) => c.access_key === akid,
      );
      expect(listed.last_used_at).toBe((first as unknown as Date).toISOString());
    });

    it('announces CORS changes to the other replica', async () => {
      expect(
        (await admin.request('/api/backends/local/buckets', { method: 'POST', body: { name: 'cors-b' } })).status,
      ).toBe(201);
      expect(await dirB.bucketCors('local', 'cors-b')).toBeUndefined();
      const rules = [{ allowed_origins: ['https://app.example.com'], allowed_methods: ['GET'] }];
      const res = await admin.request('/api/backends/local/buckets/cors-b/cors', { method: 'PUT', body: { rules } });
      expect(res.status).toBe(200);
      await within(1000, async () => (await dirB.bucketCors('local', 'cors-b'))?.length === 1);
      expect(await dirB.bucketCors('local', 'cors-b')).toEqual(rules);
      await admin.request('/api/backends/local/buckets/cors-b/cors', { method: 'PUT', body: { rules: [] } });
      await within(1000, async () => (await dirB.bucketCors('local', 'cors-b')) === undefined);
    });
  });

  describe('anonymous bindings', () => {
    const ANON = '/api/admin/s3-anonymous';
    const upsert = (body: unknown) => admin.request(ANON, { method: 'POST', body });
    const bindings = async () => Number((await db.query('SELECT count(*) AS n FROM s3_anonymous_bindings'))[0].n);

    it('adds, updates, lists and removes a binding; every replica sees it within a second', async () => {
      expect(await dirB.anonymousBinding('public-assets')).toBeUndefined();
      const added = await upsert({ backend_id: 'local', bucket: 'public-assets' });
      expect(added.status).toBe(200);
      expect(added.body).toEqual({
        backend_id: 'local',
        bucket: 'public-assets',
        mode: 'ReadOnly',
        per_source_ip_rps: 7,
        created_at: expect.any(String),
        created_by: expect.any(String),
      });
      await within(1000, async () => (await dirB.anonymousBinding('public-assets')) !== undefined);
      expect(await dirB.anonymousBinding('public-assets')).toEqual({
        backendId: 'local',
        bucket: 'public-assets',
        mode: 'ReadOnly',
        perSourceIpRps: 7,
      });

      const updated = await upsert({ backend_id: 'local', bucket: 'public-assets', per_source_ip_rps: 50 });
      expect(updated.body).toMatchObject({ per_source_ip_rps: 50, created_at: added.body.created_at });
      await within(1000, async () => (await dirB.anonymousBinding('public-assets'))?.perSourceIpRps === 50);

      const list = await admin.request(ANON);
      expect(list.body.bindings).toEqual([updated.body]);
      const view = await admin.request('/api/admin/s3-proxy/anonymous');
      expect(view.body.bindings).toEqual([{ ...updated.body, source: 'db' }]);

      expect((await admin.request(`${ANON}/local/public-assets`, { method: 'DELETE' })).status).toBe(204);
      await within(1000, async () => (await dirB.anonymousBinding('public-assets')) === undefined);
      expectError(await admin.request(`${ANON}/local/public-assets`, { method: 'DELETE' }), 404, 'not_found');
      const audits = await db.query(
        "SELECT action, backend_id, bucket FROM audit_events WHERE action LIKE 's3_anonymous.%' ORDER BY id",
      );
      expect(audits).toEqual([
        { action: 's3_anonymous.upsert', backend_id: 'local', bucket: 'public-assets' },
        { action: 's3_anonymous.upsert', backend_id: 'local', bucket: 'public-assets' },
        { action: 's3_anonymous.delete', backend_id: 'local', bucket: 'public-assets' },
      ]);
    });

    it('binds a bucket name once across backends', async () => {
      expect((await upsert({ backend_id: 'local', bucket: 'only-once' })).status).toBe(200);
      const before = await bindings();
      expectError(await upsert({ backend_id: 'other', bucket: 'only-once' }), 409, 'conflict');
      expect(await bindings()).toBe(before);
      const racing = await Promise.all([
        upsert({ backend_id: 'local', bucket: 'raced' }),
        admin.on(b).request(ANON, { method: 'POST', body: { backend_id: 'other', bucket: 'raced' } }),
      ]);
      expect(racing.map((r) => r.status).sort()).toEqual([200, 409]);
      expect(await db.query("SELECT backend_id FROM s3_anonymous_bindings WHERE bucket = 'raced'")).toHaveLength(1);
    });

    it.each<[string, unknown, number, string]>([
      ['no bucket', { backend_id: 'local' }, 400, 'bad_request'],
      ['a write mode', { backend_id: 'local', bucket: 'modes', mode: 'ReadWrite' }, 400, 'bad_request'],
      ['a negative rate', { backend_id: 'local', bucket: 'rates', per_source_ip_rps: -1 }, 400, 'bad_request'],
      ['a fractional rate', { backend_id: 'local', bucket: 'rates', per_source_ip_rps: 1.5 }, 400, 'bad_request'],
      ['an unknown field', { backend_id: 'local', bucket: 'rates', public: true }, 400, 'bad_request'],
      ['an invalid bucket name', { backend_id: 'local', bucket: 'Bad_Name' }, 400, 'invalid_bucket_name'],
      ['an unknown backend', { backend_id: 'nope', bucket: 'fine-name' }, 404, 'not_found'],
    ])('refuses %s and binds nothing', async (_name, body, status, code) => {
      const before = await bindings();
      expectError(await upsert(body), status, code);
      expect(await bindings()).toBe(before);
    });
  });

  it('refuses to mint without a root key, and creates nothing', async () => {
    const keyless = await boot({});
    const session = await login(keyless, (await seedUser(keyless, { role: 'user' })).username);
    const before = await count();
    expectError(await mint(session, { backend_id: 'local', buckets: ['team-a'] }), 503, 'secret_key_unset');
    expect(await count()).toBe(before);
    expect((await session.request('/api/me/s3-credentials')).status).toBe(200);
    await keyless.close();
  });
});
