import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestApp, TestStack } from '../harness/app';
import { http, HttpOptions, HttpResult } from '../harness/http';
import { cookiesOf, login, seedUser, Session } from '../harness/session';
import { bootWithBackend } from '../harness/storage';

const BUCKET = 'creator-files';
const SHARE_PASSWORD = 'open sesame, please';

const visit = (app: TestApp, path: string, options: HttpOptions & { cookie?: string } = {}): Promise<HttpResult> =>
  http(app.url, path, { ...options, headers: { ...(options.cookie ? { cookie: options.cookie } : {}) } });

describe('share links of a disabled or deleted creator', () => {
  let stack: TestStack;
  let keyDir: string;
  let a: TestApp;
  let b: TestApp;
  let admin: Session;

  beforeAll(async () => {
    stack = await TestStack.start();
    keyDir = mkdtempSync(join(tmpdir(), 'stowage-share-creator-'));
    const keyFile = join(keyDir, 'root.key');
    const config = {
      server: { secret_key_file: keyFile },
      ratelimit: { login_per_ip: 0, api_per_minute: 0, share_per_ip: 0 },
    };
    ({ app: a, admin } = await bootWithBackend(stack, { bucket: BUCKET, config }));
    ({ app: b } = await bootWithBackend(stack, { config }));
  });
  afterAll(async () => {
    await stack.stop();
    rmSync(keyDir, { recursive: true, force: true });
  });

  /** A new user with one plain share and one password share of an object they uploaded. */
  async function creatorWithShares() {
    const user = await seedUser(a);
    const session = await login(a, user.username);
    const put = await session.request(`/api/backends/local/buckets/${BUCKET}/object?key=${user.username}.txt`, {
      method: 'POST',
      body: 'hello from the creator',
      headers: { 'content-type': 'text/plain' },
    });
    expect(put.status).toBe(201);
    const make = async (extra: Record<string, unknown>) => {
      const res = await session.request('/api/shares', {
        method: 'POST',
        body: { backend_id: 'local', bucket: BUCKET, key: `${user.username}.txt`, ...extra },
      });
      expect(res.status).toBe(201);
      return res.body.code as string;
    };
    return { user, plain: await make({}), locked: await make({ password: SHARE_PASSWORD }) };
  }

  /** Every recipient path of both shares, on both replicas, with and without a session cookie. */
  async function answers(plain: string, locked: string, cookies: { plain: string; locked: string }) {
    const out: [string, number, string | undefined][] = [];
    for (const [name, app] of [['a', a] as const, ['b', b] as const]) {
      const probes: [string, Promise<HttpResult>][] = [
        ['info', visit(app, `/s/${plain}/info`)],
        ['info+cookie', visit(app, `/s/${plain}/info`, { cookie: cookies.plain })],
        ['raw', visit(app, `/s/${plain}/raw`)],
        ['raw+cookie', visit(app, `/s/${plain}/raw`, { cookie: cookies.plain })],
        ['preview', visit(app, `/s/${plain}/raw?inline=1`, { cookie: cookies.plain })],
        ['unlock', visit(app, `/s/${locked}/unlock`, { method: 'POST', body: { password: SHARE_PASSWORD } })],
        ['locked raw+cookie', visit(app, `/s/${locked}/raw`, { cookie: cookies.locked })],
      ];
      for (const [probe, pending] of probes) {
        const res = await pending;
        out.push([`${name} ${probe}`, res.status, res.body?.error?.code]);
      }
    }
    return out;
  }

  const allAre = (rows: [string, number, string | undefined][], status: number, code?: string) =>
    expect(rows).toEqual(rows.map(([probe]) => [probe, status, code]));

  it('disabling the creator suspends every path of their links on every replica; enabling restores them', async () => {
    const { user, plain, locked } = await creatorWithShares();
    const info = await visit(a, `/s/${plain}/info`);
    expect(info.status).toBe(200);
    const unlocked = await visit(a, `/s/${locked}/unlock`, { method: 'POST', body: { password: SHARE_PASSWORD } });
    expect(unlocked.status).toBe(200);
    const cookies = {
      plain: `stowage_unlock_${plain}=${cookiesOf(info)[`stowage_unlock_${plain}`]}`,
      locked: `stowage_unlock_${locked}=${cookiesOf(unlocked)[`stowage_unlock_${locked}`]}`,
    };
    expect((await visit(b, `/s/${plain}/raw`, { cookie: cookies.plain })).status).toBe(200);

    const off = await admin.request(`/api/admin/users/${user.id}`, { method: 'PATCH', body: { enabled: false } });
    expect(off.status).toBe(200);
    allAre(await answers(plain, locked, cookies), 410, 'revoked');
    allAre(await answers(plain, locked, cookies), 410, 'revoked');

    const on = await admin.request(`/api/admin/users/${user.id}`, { method: 'PATCH', body: { enabled: true } });
    expect(on.status).toBe(200);
    const back = await answers(plain, locked, cookies);
    expect(back.map(([probe, status]) => [probe, status])).toEqual(back.map(([probe]) => [probe, 200]));
  });

  it('deleting the creator revokes their links for good', async () => {
    const { user, plain, locked } = await creatorWithShares();
    expect((await visit(a, `/s/${plain}/info`)).status).toBe(200);
    expect((await admin.request(`/api/admin/users/${user.id}`, { method: 'DELETE' })).status).toBe(204);
    const rows = await answers(plain, locked, { plain: '', locked: '' });
    expect(
      rows.every(
        ([, status, code]) => (status === 404 && code === 'not_found') || (status === 410 && code === 'revoked'),
      ),
    ).toBe(true);
  });
});
