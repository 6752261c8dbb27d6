import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { FAILED_UNLOCK_DELAY_MS } from '../../src/shares/share-access.service';
import { TestApp, TestStack } from '../harness/app';
import { http, HttpOptions, HttpResult } from '../harness/http';
import { cookiesOf, login, seedUser, Session } from '../harness/session';
import { bootWithBackend } from '../harness/storage';

const BUCKET = 'shared-files';
const CONTENT = 'The quick brown fox jumps over the lazy dog.\n';
const SHARE_PASSWORD = 'open sesame, please';

let ipCounter = 0;
/** A fresh client address per test, so per-address limits never leak between tests. */
const freshIp = () => `198.51.100.${++ipCounter}`;

interface Visit extends HttpOptions {
  ip?: string;
  cookie?: string;
}

function visit(app: TestApp, path: string, options: Visit = {}): Promise<HttpResult> {
  const headers: Record<string, string> = {
    'x-forwarded-for': options.ip ?? '203.0.113.1',
    ...(options.headers ?? {}),
  };
  if (options.cookie) headers.cookie = options.cookie;
  return http(app.url, path, { ...options, headers });
}

/** `name=value` of the share's unlock cookie, as a browser would send it back. */
function unlockCookie(res: HttpResult, code: string): string {
  const value = cookiesOf(res)[`stowage_unlock_${code}`];
  if (!value) throw new Error(`no unlock cookie in ${res.status} ${res.text}`);
  return `stowage_unlock_${code}=${value}`;
}

describe('share links', () => {
  let stack: TestStack;
  let keyDir: string;
  let a: TestApp;
  let b: TestApp;
  let alice: Session;
  let admin: Session;
  let reader: Session;
  let bob: Session;
  let db: DataSource;

  const config = (keyFile: string | undefined, ratelimit: Record<string, unknown> = {}) => ({
    server: { trusted_proxies: ['127.0.0.1'], ...(keyFile ? { secret_key_file: keyFile } : {}) },
    ratelimit: {
      login_per_ip: 0,
      api_per_minute: 0,
      share_per_ip: 10_000,
      share_unlock_per_ip: 4,
      share_unlock_window: '1m',
      ...ratelimit,
    },
  });

  const put = (key: string, body: string, type = 'text/plain') =>
    alice.request(`/api/backends/local/buckets/${BUCKET}/object?key=${encodeURIComponent(key)}`, {
      method: 'POST',
      body,
      headers: { 'content-type': type },
    });

  const create = (session: Session, body: Record<string, unknown>) =>
    session.request('/api/shares', { method: 'POST', body: { backend_id: 'local', bucket: BUCKET, ...body } });

  async function share(body: Record<string, unknown> = {}) {
    const res = await create(alice, { key: 'report.txt', ...body });
    if (res.status !== 201) throw new Error(`share creation failed: ${res.status} ${res.text}`);
    return res.body as { id: string; code: string; url: string };
  }

  const countOf = async (id: string) =>
    Number((await db.query('SELECT download_count FROM shares WHERE id = $1', [id]))[0].download_count);
  const shareCount = async () => Number((await db.query('SELECT count(*)::int AS n FROM shares'))[0].n);
  const accessRows = async (id: string) =>
    (await db.query(
      "SELECT status, detail FROM audit_events WHERE action = 'share.access' AND detail->>'share_id' = $1 ORDER BY id",
      [id],
    )) as { status: string; detail: Record<string, unknown> }[];

  beforeAll(async () => {
    stack = await TestStack.start();
    keyDir = mkdtempSync(join(tmpdir(), 'stowage-share-key-'));
    const keyFile = join(keyDir, 'root.key');
    ({
      app: a,
      user: alice,
      admin,
      reader,
    } = await bootWithBackend(stack, { bucket: BUCKET, config: config(keyFile) }));
    ({ app: b } = await bootWithBackend(stack, { config: config(keyFile) }));
    bob = await login(a, (await seedUser(a, { role: 'user' })).username);
    db = a.app.get(DataSource);
    expect((await put('report.txt', CONTENT)).status).toBe(201);
    expect((await put('docs/page.html', '<script>alert(1)</script>', 'text/html')).status).toBe(201);
  });
  afterAll(async () => {
    await stack.stop();
    rmSync(keyDir, { recursive: true, force: true });
  });

  describe('POST/GET/DELETE /api/shares', () => {
    it('creates a share with the reference fields and a 14-character code', async () => {
      const expires = new Date(Date.now() + 3_600_000).toISOString();
      const res = await create(alice, {
        key: 'report.txt',
        expires_at: expires,
        password: SHARE_PASSWORD,
        max_downloads: 5,
        disposition: 'inline',
      });
      expect(res.status).toBe(201);
      expect(res.body).toEqual({
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        code: expect.stringMatching(/^[A-Za-z0-9_-]{14}$/),
        url: `/s/${res.body.code}`,
        backend_id: 'local',
        bucket: BUCKET,
        key: 'report.txt',
        created_by: expect.any(String),
        created_at: expect.any(String),
        expires_at: expires,
        has_password: true,
        max_downloads: 5,
        download_count: 0,
        revoked: false,
        disposition: 'inline',
      });
      expect(res.text).not.toContain('argon2');
      expect(res.text).not.toContain(SHARE_PASSWORD);
      const [row] = await db.query('SELECT password_hash FROM shares WHERE id = $1', [res.body.id]);
      expect(row.password_hash).toMatch(/^\$argon2id\$v=19\$m=65536,p=2,t=3\$/);
      const audit = await db.query(
        "SELECT username, object_key, detail FROM audit_events WHERE action = 'share.create' AND detail->>'share_id' = $1",
        [res.body.id],
      );
      expect(audit).toHaveLength(1);
      expect(audit[0].object_key).toBe('report.txt');
      expect(audit[0].detail).toMatchObject({ has_password: true, max_downloads: 5 });
      expect(JSON.stringify(audit[0])).not.toContain(SHARE_PASSWORD);
    });

    it('defaults to attachment, no password, no cap and no expiry', async () => {
      const res = await create(alice, { key: 'report.txt' });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ has_password: false, download_count: 0, disposition: 'attachment' });
      expect(res.body).not.toHaveProperty('expires_at');
      expect(res.body).not.toHaveProperty('max_downloads');
      // The dialog's "no limit" (0) and "no password" (null) mean the same.
      const zero = await create(alice, { key: 'report.txt', max_downloads: 0, password: null, expires_at: null });
      expect(zero.status).toBe(201);
      expect(zero.body).not.toHaveProperty('max_downloads');
      expect(zero.body.has_password).toBe(false);
    });

    it.each([
      ['1h', 3_600_000],
      ['1d', 86_400_000],
      ['7d', 7 * 86_400_000],
      ['30d', 30 * 86_400_000],
    ])('accepts the expiry preset %s', async (preset, ms) => {
      const before = Date.now();
      const res = await create(alice, { key: 'report.txt', expires_in: preset });
      expect(res.status).toBe(201);
      const at = Date.parse(res.body.expires_at);
      expect(at).toBeGreaterThanOrEqual(before + ms - 1000);
      expect(at).toBeLessThanOrEqual(Date.now() + ms + 1000);
    });

    it('accepts the preset never as no expiry', async () => {
      const res = await create(alice, { key: 'report.txt', expires_in: 'never' });
      expect(res.status).toBe(201);
      expect(res.body).not.toHaveProperty('expires_at');
    });

    it.each([
      [{ key: 'report.txt', expires_at: new Date(Date.now() - 60_000).toISOString() }, 400, 'bad_request'],
      [{ key: 'report.txt', expires_at: 'tomorrow' }, 400, 'bad_request'],
      [{ key: 'report.txt', expires_in: '2h' }, 400, 'bad_request'],
      [
        { key: 'report.txt', expires_in: '1h', expires_at: new Date(Date.now() + 7_200_000).toISOString() },
        400,
        'bad_request',
      ],
      [{ key: 'report.txt', max_downloads: -1 }, 400, 'bad_request'],
      [{ key: 'report.txt', max_downloads: 1.5 }, 400, 'bad_request'],
      [{ key: 'report.txt', disposition: 'download' }, 400, 'bad_request'],
      [{ key: 'report.txt', password: '' }, 400, 'bad_request'],
      [{ key: 'report.txt', password: 'x'.repeat(1025) }, 400, 'bad_request'],
      [{ key: 'report.txt', surprise: true }, 400, 'bad_request'],
      [{ key: 'missing.txt' }, 404, 'not_found'],
      [{ key: 'report.txt', backend_id: 'nope' }, 404, 'not_found'],
      [{ key: 'report.txt', bucket: 'Bad_Bucket' }, 400, 'invalid_bucket'],
      [{ key: '/leading-slash' }, 400, 'invalid_key'],
    ])('refuses %p with %i %s and creates nothing', async (body, status, code) => {
      const before = await shareCount();
      const res = await create(alice, body);
      expect([res.status, res.body?.error?.code]).toEqual([status, code]);
      expect(await shareCount()).toBe(before);
    });

    it('refuses readonly users, missing CSRF and missing sessions, and creates nothing', async () => {
      const before = await shareCount();
      const ro = await create(reader, { key: 'report.txt' });
      expect([ro.status, ro.body.error.code]).toEqual([403, 'forbidden']);
      const csrf = await alice.request('/api/shares', {
        method: 'POST',
        csrf: false,
        body: { backend_id: 'local', bucket: BUCKET, key: 'report.txt' },
      });
      expect([csrf.status, csrf.body.error.code]).toEqual([403, 'csrf_invalid']);
      const anon = await http(a.url, '/api/shares', {
        method: 'POST',
        body: { backend_id: 'local', bucket: BUCKET, key: 'report.txt' },
      });
      expect([anon.status, anon.body.error.code]).toEqual([401, 'unauthorized']);
      expect(await shareCount()).toBe(before);
    });

    it('lists only your own shares; admins may ask for all, users may not', async () => {
      const mine = await share({ password: SHARE_PASSWORD });
      const bobs = (await create(bob, { key: 'report.txt' })).body;
      const aliceList = await alice.request('/api/shares');
      expect(aliceList.status).toBe(200);
      const ids = aliceList.body.shares.map((s: { id: string }) => s.id);
      expect(ids).toContain(mine.id);
      expect(ids).not.toContain(bobs.id);
      expect(aliceList.body.shares.find((s: { id: string }) => s.id === mine.id).has_password).toBe(true);
      expect(aliceList.text).not.toContain('argon2');
      const all = await admin.request('/api/shares?scope=all');
      expect(all.status).toBe(200);
      expect(all.body.shares.map((s: { id: string }) => s.id)).toEqual(expect.arrayContaining([mine.id, bobs.id]));
      const adminOwn = await admin.request('/api/shares');
      expect(adminOwn.body.shares.map((s: { id: string }) => s.id)).not.toContain(mine.id);
      const refused = await alice.request('/api/shares?scope=all');
      expect([refused.status, refused.body.error.code]).toEqual([403, 'forbidden']);
      const bad = await alice.request('/api/shares?scope=everything');
      expect([bad.status, bad.body.error.code]).toEqual([400, 'bad_request']);
      expect((await reader.request('/api/shares')).status).toBe(200);
    });

    it('lets the creator revoke; another user gets not_found and changes nothing', async () => {
      const s = await share();
      const other = await bob.request(`/api/shares/${s.id}`, { method: 'DELETE' });
      expect([other.status, other.body.error.code]).toEqual([404, 'not_found']);
      expect((await visit(a, `/s/${s.code}/info`)).status).toBe(200);
      expect((await alice.request(`/api/shares/${s.id}`, { method: 'DELETE' })).status).toBe(204);
      const listed = (await alice.request('/api/shares')).body.shares.find((x: { id: string }) => x.id === s.id);
      expect(listed).toMatchObject({ revoked: true, revoked_at: expect.any(String) });
      // Revoking again is a no-op: still 204, no second audit row.
      expect((await alice.request(`/api/shares/${s.id}`, { method: 'DELETE' })).status).toBe(204);
      const rows = await db.query(
        "SELECT username FROM audit_events WHERE action = 'share.revoke' AND detail->>'share_id' = $1",
        [s.id],
      );
      expect(rows).toHaveLength(1);
    });

    it('lets an admin revoke anyone’s share', async () => {
      const s = await share();
      expect((await admin.request(`/api/shares/${s.id}`, { method: 'DELETE' })).status).toBe(204);
      expect((await visit(a, `/s/${s.code}/info`)).body.error.code).toBe('revoked');
    });

    it('refuses a malformed or unknown id, readonly users and missing CSRF', async () => {
      const s = await share();
      const bad = await alice.request('/api/shares/not-a-uuid', { method: 'DELETE' });
      expect([bad.status, bad.body.error.code]).toEqual([400, 'bad_request']);
      const unknown = await alice.request('/api/shares/00000000-0000-4000-8000-000000000000', { method: 'DELETE' });
      expect([unknown.status, unknown.body.error.code]).toEqual([404, 'not_found']);
      const ro = await reader.request(`/api/shares/${s.id}`, { method: 'DELETE' });
      expect([ro.status, ro.body.error.code]).toEqual([403, 'forbidden']);
      const csrf = await alice.request(`/api/shares/${s.id}`, { method: 'DELETE', csrf: false });
      expect([csrf.status, csrf.body.error.code]).toEqual([403, 'csrf_invalid']);
      expect((await visit(a, `/s/${s.code}/info`)).status).toBe(200);
    });
  });

  describe('recipient endpoints', () => {
    it('describes an open share and starts a recipient session', async () => {
      const s = await share({ max_downloads: 3 });
      const res = await visit(a, `/s/${s.code}/info`);
      expect(res.status).toBe(200);
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(res.body).toEqual({
        code: s.code,
        name: 'report.txt',
        size: CONTENT.length,
        content_type: expect.stringContaining('text/plain'),
        etag: expect.any(String),
        last_modified: expect.any(String),
        has_password: false,
        max_downloads: 3,
        download_count: 0,
        downloads_left: 3,
        disposition: 'attachment',
        preview_kind: 'text',
        raw_url: `/s/${s.code}/raw`,
      });
      const setCookie = res.headers.getSetCookie().join('\n');
      expect(setCookie).toContain(`stowage_unlock_${s.code}=`);
      expect(setCookie).toMatch(new RegExp(`Path=/s/${s.code}`));
      expect(setCookie).toContain('HttpOnly');
      expect(setCookie).toContain('SameSite=Lax');
      expect(await countOf(s.id)).toBe(0);
    });

    it.each(['AAAAAAAAAAAAAA', 'short', 'has.a.dot.1234', 'x'.repeat(100)])(
      'answers not_found for the code %p on every endpoint',
      async (code) => {
        expect((await visit(a, `/s/${code}/info`)).body.error.code).toBe('not_found');
        expect((await visit(a, `/s/${code}/raw`)).body.error.code).toBe('not_found');
        const unlock = await visit(a, `/s/${code}/unlock`, { method: 'POST', body: { password: 'x' } });
        expect([unlock.status, unlock.body.error.code]).toEqual([404, 'not_found']);
      },
    );

    it('hides everything about a password share until it is unlocked', async () => {
      const s = await share({ password: SHARE_PASSWORD });
      const info = await visit(a, `/s/${s.code}/info`);
      expect([info.status, info.body.error.code]).toEqual([401, 'password_required']);
      expect(info.text).not.toContain('report');
      expect(info.headers.getSetCookie()).toEqual([]);
      const raw = await visit(a, `/s/${s.code}/raw`);
      expect([raw.status, raw.body.error.code]).toEqual([401, 'password_required']);
      expect(await countOf(s.id)).toBe(0);
    });

    it('unlocks with the right password, on either instance, and serves the file', async () => {
      const s = await share({ password: SHARE_PASSWORD });
      const ip = freshIp();
      const unlocked = await visit(a, `/s/${s.code}/unlock`, {
        method: 'POST',
        body: { password: SHARE_PASSWORD },
        ip,
      });
      expect(unlocked.status).toBe(200);
      expect(unlocked.body).toMatchObject({ name: 'report.txt', size: CONTENT.length, has_password: true });
      expect(unlocked.text).not.toContain('argon2');
      const line = unlocked.headers.getSetCookie().find((c) => c.startsWith(`stowage_unlock_${s.code}=`))!;
      expect(line).toMatch(/Max-Age=1800/);
      expect(line).toContain('HttpOnly');
      const cookie = unlockCookie(unlocked, s.code);
      // The cookie minted on one instance opens the share on the other.
      expect((await visit(b, `/s/${s.code}/info`, { cookie })).status).toBe(200);
      const raw = await visit(b, `/s/${s.code}/raw`, { cookie });
      expect(raw.status).toBe(200);
      expect(raw.text).toBe(CONTENT);
      expect(await countOf(s.id)).toBe(1);
    });

    it('refuses a wrong password slowly with password_mismatch, and sets no cookie', async () => {
      const s = await share({ password: SHARE_PASSWORD });
      const started = Date.now();
      const res = await visit(a, `/s/${s.code}/unlock`, { method: 'POST', body: { password: 'guess' }, ip: freshIp() });
      expect([res.status, res.body.error.code]).toEqual([401, 'password_mismatch']);
      expect(Date.now() - started).toBeGreaterThanOrEqual(FAILED_UNLOCK_DELAY_MS);
      expect(res.headers.getSetCookie()).toEqual([]);
      const malformed = await visit(a, `/s/${s.code}/unlock`, { method: 'POST', body: { pass: SHARE_PASSWORD } });
      expect([malformed.status, malformed.body.error.code]).toEqual([400, 'bad_request']);
    });

    it('caps wrong passwords per address across both instances, and the right one is then refused too', async () => {
      const s = await share({ password: SHARE_PASSWORD });
      const other = await share({ password: SHARE_PASSWORD });
      const ip = freshIp();
      // A right password gives its slot back: it does not count against the address.
      expect(
        (await visit(a, `/s/${s.code}/unlock`, { method: 'POST', body: { password: SHARE_PASSWORD }, ip })).status,
      ).toBe(200);
      const attempts = await Promise.all(
        [a, b, a, b, a, b].map((app) =>
          visit(app, `/s/${s.code}/unlock`, { method: 'POST', body: { password: 'guess' }, ip }),
        ),
      );
      const codes = attempts.map((r) => r.body.error.code).sort();
      expect(codes).toEqual([
        'password_mismatch',
        'password_mismatch',
        'password_mismatch',
        'password_mismatch',
        'rate_limited',
        'rate_limited',
      ]);
      for (const target of [s.code, other.code]) {
        const res = await visit(b, `/s/${target}/unlock`, { method: 'POST', body: { password: SHARE_PASSWORD }, ip });
        expect([res.status, res.body.error.code]).toEqual([429, 'rate_limited']);
        expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
        expect(res.headers.getSetCookie()).toEqual([]);
      }
      // Another address is unaffected.
      expect(
        (await visit(a, `/s/${s.code}/unlock`, { method: 'POST', body: { password: SHARE_PASSWORD }, ip: freshIp() }))
          .status,
      ).toBe(200);
    });

    it('refuses a cookie minted for another share, and any tampered cookie', async () => {
      const s = await share({ password: SHARE_PASSWORD });
      const t = await share({ password: SHARE_PASSWORD });
      const unlocked = await visit(a, `/s/${s.code}/unlock`, {
        method: 'POST',
        body: { password: SHARE_PASSWORD },
        ip: freshIp(),
      });
      const value = cookiesOf(unlocked)[`stowage_unlock_${s.code}`];
      expect((await visit(a, `/s/${s.code}/raw`, { cookie: `stowage_unlock_${s.code}=${value}` })).status).toBe(200);
      const [exp, sid, mac] = value.split('.');
      const flip = (text: string) => (text[0] === 'A' ? 'B' : 'A') + text.slice(1);
      const forged = [
        `stowage_unlock_${t.code}=${value}`,
        `stowage_unlock_${s.code}=${exp}.${sid}.${flip(mac)}`,
        `stowage_unlock_${s.code}=${Number(exp) + 3600}.${sid}.${mac}`,
        `stowage_unlock_${s.code}=${exp}.${flip(sid)}.${mac}`,
        `stowage_unlock_${s.code}=${Math.floor(Date.now() / 1000) - 10}.${sid}.${mac}`,
        `stowage_unlock_${s.code}=garbage`,
      ];
      const before = await countOf(t.id);
      for (const cookie of forged) {
        const target = cookie.startsWith(`stowage_unlock_${t.code}`) ? t.code : s.code;
        for (const endpoint of ['info', 'raw']) {
          const res = await visit(b, `/s/${target}/${endpoint}`, { cookie });
          expect([cookie, endpoint, res.status, res.body?.error?.code]).toEqual([
            cookie,
            endpoint,
            401,
            'password_required',
          ]);
        }
      }
      expect(await countOf(t.id)).toBe(before);
    });

    it('answers expired on every endpoint once the share has expired', async () => {
      const s = await share({ password: SHARE_PASSWORD });
      const unlocked = await visit(a, `/s/${s.code}/unlock`, {
        method: 'POST',
        body: { password: SHARE_PASSWORD },
        ip: freshIp(),
      });
      const cookie = unlockCookie(unlocked, s.code);
      await db.query("UPDATE shares SET expires_at = now() - interval '1 second' WHERE id = $1", [s.id]);
      for (const [method, endpoint] of [
        ['GET', 'info'],
        ['POST', 'unlock'],
        ['GET', 'raw'],
      ]) {
        const res = await visit(a, `/s/${s.code}/${endpoint}`, {
          method,
          cookie,
          body: method === 'POST' ? { password: SHARE_PASSWORD } : undefined,
        });
        expect([endpoint, res.status, res.body.error.code]).toEqual([endpoint, 410, 'expired']);
      }
      expect(await countOf(s.id)).toBe(0);
    });

    it('never lets an unlock cookie outlive its share', async () => {
      const s = await share({ password: SHARE_PASSWORD, expires_at: new Date(Date.now() + 120_000).toISOString() });
      const unlocked = await visit(a, `/s/${s.code}/unlock`, {
        method: 'POST',
        body: { password: SHARE_PASSWORD },
        ip: freshIp(),
      });
      const maxAge = Number(/Max-Age=(\d+)/.exec(unlocked.headers.getSetCookie().join(';'))![1]);
      expect(maxAge).toBeLessThanOrEqual(120);
    });

    it('answers revoked on every endpoint after a revoke, even with a valid cookie', async () => {
      const s = await share({ password: SHARE_PASSWORD });
      const unlocked = await visit(a, `/s/${s.code}/unlock`, {
        method: 'POST',
        body: { password: SHARE_PASSWORD },
        ip: freshIp(),
      });
      const cookie = unlockCookie(unlocked, s.code);
      await alice.request(`/api/shares/${s.id}`, { method: 'DELETE' });
      for (const [method, endpoint] of [
        ['GET', 'info'],
        ['POST', 'unlock'],
        ['GET', 'raw'],
      ]) {
        const res = await visit(b, `/s/${s.code}/${endpoint}`, {
          method,
          cookie,
          body: method === 'POST' ? { password: SHARE_PASSWORD } : undefined,
        });
        expect([endpoint, res.status, res.body.error.code]).toEqual([endpoint, 410, 'revoked']);
      }
    });

    it('serves Range requests with 206 and refuses a bad range without counting', async () => {
      const s = await share({ max_downloads: 2 });
      const part = await visit(a, `/s/${s.code}/raw`, { headers: { range: 'bytes=4-8' } });
      expect(part.status).toBe(206);
      expect(part.text).toBe(CONTENT.slice(4, 9));
      expect(part.headers.get('content-range')).toBe(`bytes 4-8/${CONTENT.length}`);
      expect(part.headers.get('accept-ranges')).toBe('bytes');
      const suffix = await visit(a, `/s/${s.code}/raw`, {
        headers: { range: 'bytes=-4' },
        cookie: unlockCookie(part, s.code),
      });
      expect([suffix.status, suffix.text]).toEqual([206, CONTENT.slice(-4)]);
      expect(await countOf(s.id)).toBe(1);
      for (const range of ['bytes=9-4', 'lines=1-2', 'bytes=0-1,3-4']) {
        const bad = await visit(a, `/s/${s.code}/raw`, { headers: { range } });
        expect([range, bad.status, bad.body.error.code]).toEqual([range, 400, 'bad_range']);
      }
      const head = await visit(a, `/s/${s.code}/raw`, { method: 'HEAD' });
      expect([head.status, head.text, head.headers.get('content-disposition')]).toEqual([
        200,
        '',
        `attachment; filename="report.txt"; filename*=UTF-8''report.txt`,
      ]);
      const beyond = await visit(a, `/s/${s.code}/raw`, { headers: { range: 'bytes=1000-' } });
      expect(beyond.body.error.code).toBe('bad_range');
      expect(await countOf(s.id)).toBe(1);
    });

    it('sets Content-Disposition per share, and never inline for active content', async () => {
      const attachment = await share();
      const res = await visit(a, `/s/${attachment.code}/raw`);
      expect(res.headers.get('content-disposition')).toBe(
        `attachment; filename="report.txt"; filename*=UTF-8''report.txt`,
      );
      expect(res.headers.get('content-security-policy')).toMatch(/^sandbox/);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect((await visit(a, `/s/${attachment.code}/raw?inline=1`)).headers.get('content-disposition')).toMatch(
        /^inline;/,
      );
      const inline = await share({ disposition: 'inline' });
      expect((await visit(a, `/s/${inline.code}/raw`)).headers.get('content-disposition')).toMatch(
        /^inline; filename="report.txt"/,
      );
      const html = await share({ key: 'docs/page.html', disposition: 'inline' });
      expect((await visit(a, `/s/${html.code}/info`)).body.preview_kind).toBe('none');
      expect((await visit(a, `/s/${html.code}/raw?inline=1`)).headers.get('content-disposition')).toMatch(
        /^attachment; filename="page.html"/,
      );
      const bad = await visit(a, `/s/${inline.code}/raw?inline=yes`);
      expect([bad.status, bad.body.error.code]).toEqual([400, 'bad_request']);
    });
  });

  describe('download counting', () => {
    it('counts once per recipient session: preview, resume and download of one visit cost one', async () => {
      const s = await share({ max_downloads: 2 });
      const info = await visit(a, `/s/${s.code}/info`);
      const cookie = unlockCookie(info, s.code);
      // Preview, parallel range requests and the download button, across both instances.
      const responses = await Promise.all([
        visit(a, `/s/${s.code}/raw?inline=1`, { cookie }),
        visit(b, `/s/${s.code}/raw`, { cookie, headers: { range: 'bytes=0-9' } }),
        visit(a, `/s/${s.code}/raw`, { cookie, headers: { range: 'bytes=10-' } }),
        visit(b, `/s/${s.code}/raw`, { cookie }),
      ]);
      expect(responses.map((r) => r.status).sort()).toEqual([200, 200, 206, 206]);
      expect(await countOf(s.id)).toBe(1);
      // A client without the cookie pays for every request.
      const stranger = await visit(b, `/s/${s.code}/raw`);
      expect(stranger.status).toBe(200);
      expect(await countOf(s.id)).toBe(2);
      const late = await visit(a, `/s/${s.code}/raw`);
      expect([late.status, late.body.error.code]).toEqual([410, 'exhausted']);
      expect((await visit(a, `/s/${s.code}/info`)).body.error.code).toBe('exhausted');
      // The sessions that were counted can still finish (resume) their download.
      const resumed = await visit(b, `/s/${s.code}/raw`, { cookie, headers: { range: 'bytes=20-' } });
      expect([resumed.status, resumed.text]).toEqual([206, CONTENT.slice(20)]);
      expect((await visit(a, `/s/${s.code}/info`, { cookie })).body.downloads_left).toBe(0);
      expect(await countOf(s.id)).toBe(2);
      const rows = await accessRows(s.id);
      expect(rows.filter((r) => r.detail.endpoint === 'raw' && r.detail.counted === true)).toHaveLength(2);
    });

    it('a password share counts once per unlock', async () => {
      const s = await share({ password: SHARE_PASSWORD, max_downloads: 3 });
      const unlock = () =>
        visit(a, `/s/${s.code}/unlock`, { method: 'POST', body: { password: SHARE_PASSWORD }, ip: freshIp() });
      const first = unlockCookie(await unlock(), s.code);
      for (let i = 0; i < 3; i++) expect((await visit(b, `/s/${s.code}/raw`, { cookie: first })).status).toBe(200);
      expect(await countOf(s.id)).toBe(1);
      const second = unlockCookie(await unlock(), s.code);
      expect((await visit(a, `/s/${s.code}/raw`, { cookie: second })).status).toBe(200);
      expect(await countOf(s.id)).toBe(2);
    });

    it('50 concurrent downloads split across two instances give exactly 5 for a cap of 5', async () => {
      const s = await share({ max_downloads: 5 });
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) => visit(i % 2 ? a : b, `/s/${s.code}/raw`, { ip: freshIp() })),
      );
      const ok = results.filter((r) => r.status === 200);
      const gone = results.filter((r) => r.status === 410);
      expect(ok).toHaveLength(5);
      expect(ok.every((r) => r.text === CONTENT)).toBe(true);
      expect(gone).toHaveLength(45);
      expect(gone.every((r) => r.body.error.code === 'exhausted')).toBe(true);
      expect(await countOf(s.id)).toBe(5);
    });

    it('the same holds for 50 unlocked sessions of a password share', async () => {
      const s = await share({ password: SHARE_PASSWORD, max_downloads: 5 });
      const unlocked = await visit(a, `/s/${s.code}/unlock`, {
        method: 'POST',
        body: { password: SHARE_PASSWORD },
        ip: freshIp(),
      });
      const value = cookiesOf(unlocked)[`stowage_unlock_${s.code}`];
      // 50 distinct sessions: unlock once per recipient (an unlock is cheap to repeat with the right password).
      const cookies = [`stowage_unlock_${s.code}=${value}`];
      // In batches: argon2id runs are bounded per instance (auth.hashing), on purpose.
      while (cookies.length < 50) {
        const batch = await Promise.all(
          Array.from({ length: Math.min(8, 50 - cookies.length) }, (_, i) =>
            visit(i % 2 ? a : b, `/s/${s.code}/unlock`, {
              method: 'POST',
              body: { password: SHARE_PASSWORD },
              ip: freshIp(),
            }),
          ),
        );
        cookies.push(...batch.map((res) => unlockCookie(res, s.code)));
      }
      const results = await Promise.all(
        cookies.map((cookie, i) => visit(i % 2 ? a : b, `/s/${s.code}/raw`, { cookie })),
      );
      expect(results.filter((r) => r.status === 200)).toHaveLength(5);
      expect(results.filter((r) => r.status === 410 && r.body.error.code === 'exhausted')).toHaveLength(45);
      expect(await countOf(s.id)).toBe(5);
    });
  });

  describe('audit and limits', () => {
    it('records share.access for every outcome, without secrets', async () => {
      const s = await share({ password: SHARE_PASSWORD, max_downloads: 1 });
      const ip = freshIp();
      await visit(a, `/s/${s.code}/info`, { ip });
      await visit(a, `/s/${s.code}/unlock`, { method: 'POST', body: { password: 'nope' }, ip });
      const unlocked = await visit(a, `/s/${s.code}/unlock`, {
        method: 'POST',
        body: { password: SHARE_PASSWORD },
        ip,
      });
      await visit(a, `/s/${s.code}/raw`, { cookie: unlockCookie(unlocked, s.code), ip });
      await visit(a, `/s/${s.code}/raw`, { ip });
      const rows = await accessRows(s.id);
      expect(rows.map((r) => [r.detail.endpoint, r.detail.result, r.status])).toEqual([
        ['info', 'password_required', 'error'],
        ['unlock', 'password_mismatch', 'error'],
        ['unlock', 'ok', 'ok'],
        ['raw', 'ok', 'ok'],
        ['raw', 'exhausted', 'error'],
      ]);
      const [ipRow] = await db.query(
        "SELECT ip, object_key FROM audit_events WHERE action = 'share.access' AND detail->>'share_id' = $1 LIMIT 1",
        [s.id],
      );
      expect(ipRow).toEqual({ ip, object_key: 'report.txt' });
      const all = JSON.stringify(await db.query("SELECT * FROM audit_events WHERE action LIKE 'share.%'"));
      expect(all).not.toContain(SHARE_PASSWORD);
      expect(all).not.toContain('nope');
      expect(all).not.toContain('argon2');
    });

    it('limits requests per address to /s/* across two instances (rate_limited + Retry-After)', async () => {
      const keyFile = join(keyDir, 'root.key');
      const limited = config(keyFile, { share_per_ip: 4, share_window: '1m' });
      const [{ app: x }, { app: y }] = await Promise.all([
        bootWithBackend(stack, { config: limited }),
        bootWithBackend(stack, { config: limited }),
      ]);
      const s = await share();
      const ip = freshIp();
      for (const app of [x, y, x, y]) expect((await visit(app, `/s/${s.code}/info`, { ip })).status).toBe(200);
      for (const path of [`/s/${s.code}/info`, `/s/${s.code}/raw`, `/s/${s.code}`]) {
        const res = await visit(y, path, { ip });
        expect([path, res.status, res.body?.error?.code]).toEqual([path, 429, 'rate_limited']);
        expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
      }
      expect((await visit(x, `/s/${s.code}/info`, { ip: freshIp() })).status).toBe(200);
      expect(await countOf(s.id)).toBe(0);
    });

    it('without a root key: unlock answers secret_key_unset, open shares still work', async () => {
      const { app: nokey } = await bootWithBackend(stack, { config: config(undefined) });
      const locked = await share({ password: SHARE_PASSWORD });
      const res = await visit(nokey, `/s/${locked.code}/unlock`, {
        method: 'POST',
        body: { password: SHARE_PASSWORD },
        ip: freshIp(),
      });
      expect([res.status, res.body.error.code]).toEqual([503, 'secret_key_unset']);
      expect((await visit(nokey, `/s/${locked.code}/info`)).body.error.code).toBe('password_required');
      const open = await share({ max_downloads: 2 });
      const info = await visit(nokey, `/s/${open.code}/info`);
      expect(info.status).toBe(200);
      // Every request counts without a session, so no preview is offered on a capped share.
      expect(info.body.preview_kind).toBe('none');
      expect(info.headers.getSetCookie()).toEqual([]);
      expect((await visit(nokey, `/s/${open.code}/raw`)).status).toBe(200);
      expect((await visit(nokey, `/s/${open.code}/raw`)).status).toBe(200);
      expect((await visit(nokey, `/s/${open.code}/raw`)).body.error.code).toBe('exhausted');
    });
  });
});
