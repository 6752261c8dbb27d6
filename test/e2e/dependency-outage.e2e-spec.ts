import { ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { GetObjectCommand, PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import Redis from 'ioredis';
import { Client } from 'pg';
import { TestStack } from '../harness/app';
import { http, HttpResult } from '../harness/http';
import {
  bootWithProxy,
  createBucket,
  mintCredential,
  proxyClient,
  ProxyFixture,
  VirtualKeys,
} from '../harness/s3-proxy';
import { loginRequest, seedUser } from '../harness/session';
import { freePort } from '../harness/ports';

/*
 * PostgreSQL and Redis of this file's own (a throwaway cluster and redis-server on free ports), each
 * stopped and started again while dashboard and S3-proxy traffic flows through one app instance.
 */

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it returns something truthy; fails after `timeoutMs`. */
async function until<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await sleep(100);
  }
}

class OwnRedis {
  private process?: ChildProcess;
  constructor(readonly port: number) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}/0`;
  }

  async start(): Promise<void> {
    if (this.process && this.process.exitCode === null && this.process.signalCode === null) return;
    const child = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: 'ignore' },
    );
    this.process = child;
    // Never outlive the test run, whatever happens to it.
    const reap = () => child.kill('SIGKILL');
    process.once('exit', reap);
    child.once('exit', () => process.removeListener('exit', reap));
    await until('redis to answer', () => this.ping());
  }

  /** Freezes the server: connections stay open but nothing answers (a network partition, a hung host). */
  pause(): void {
    this.process?.kill('SIGSTOP');
  }

  resume(): void {
    this.process?.kill('SIGCONT');
  }

  async stop(): Promise<void> {
    this.resume();
    const child = this.process;
    this.process = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }

  private async ping(): Promise<boolean> {
    const client = new Redis(this.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on('error', () => undefined);
    try {
      await client.connect();
      return (await client.ping()) === 'PONG';
    } finally {
      client.disconnect();
    }
  }
}

class OwnPostgres {
  readonly name = `stowage_outage_${process.pid}_${randomBytes(3).toString('hex')}`;
  private created = false;
  constructor(readonly port: number) {}

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  async create(): Promise<void> {
    this.created = true;
    await run('pg_createcluster', ['15', this.name, '-p', String(this.port), '--', '--auth=trust']);
    await this.start();
  }

  async start(): Promise<void> {
    await run('pg_ctlcluster', ['15', this.name, 'start']);
    await until('postgres to answer', () => this.ping());
  }

  async stop(): Promise<void> {
    await run('pg_ctlcluster', ['15', this.name, 'stop', '-m', 'fast']);
  }

  async drop(): Promise<void> {
    if (!this.created) return;
    await run('pg_dropcluster', ['--stop', '15', this.name]);
  }

  private async ping(): Promise<boolean> {
    const client = new Client({ connectionString: this.url, connectionTimeoutMillis: 1000 });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.query('SELECT 1');
      return true;
    } finally {
      await client.end().catch(() => undefined);
    }
  }
}

/** The S3 error a promise rejects with, or undefined when it succeeds. */
async function s3Outcome(promise: Promise<unknown>): Promise<{ status: number; name: string }> {
  try {
    await promise;
    return { status: 200, name: 'OK' };
  } catch (err) {
    const failure = err as S3ServiceException;
    return { status: failure.$metadata?.httpStatusCode ?? 0, name: failure.name };
  }
}

/** Generous for a loaded 2-core machine; the point is that nothing waits for the dependency to return. */
const FAIL_FAST_MS = 6_000;

/** The answer, and how long it took. */
async function timed(promise: Promise<HttpResult>): Promise<HttpResult & { ms: number }> {
  const started = Date.now();
  const result = await promise;
  return { ...result, ms: Date.now() - started };
}

async function expectOutage(promise: Promise<HttpResult>, code: string): Promise<void> {
  const res = await timed(promise);
  expect([res.status, res.body?.error?.code]).toEqual([503, code]);
  expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
  expect(res.ms).toBeLessThan(FAIL_FAST_MS);
}

async function expectServed(promise: Promise<HttpResult>): Promise<void> {
  const res = await timed(promise);
  expect(res.status).toBe(200);
  expect(res.ms).toBeLessThan(FAIL_FAST_MS);
}

const randomAccessKey = () =>
  'STWG' + Array.from(randomBytes(16), (b) => 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'[b % 36]).join('');

describe('dependency outages (PostgreSQL and Redis of the test own, stopped while traffic flows)', () => {
  let stack: TestStack | undefined;
  let redis: OwnRedis | undefined;
  let pg: OwnPostgres | undefined;
  let fx: ProxyFixture;
  let username: string;
  let userId: string;
  let keys: VirtualKeys;
  let client: S3Client;
  let disabledClient: S3Client;
  let announced: VirtualKeys;
  let announcedClient: S3Client;
  let expiringClient: S3Client;
  let expiresAt: number;
  const bucket = 'outage-data';
  const strangers: S3Client[] = [];

  // Everything the background traffic saw.
  const acked: Array<{ key: string; body: string }> = [];
  const unexpected: string[] = [];
  let flowing = false;
  let traffic: Promise<void> = Promise.resolve();

  async function flow(): Promise<void> {
    let i = 0;
    while (flowing) {
      const key = `flow/${i++}`;
      const body = randomBytes(32).toString('hex');
      const put = await s3Outcome(client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body })));
      if (put.status === 200) acked.push({ key, body });
      else if (put.status !== 503) unexpected.push(`PUT ${key}: ${put.status} ${put.name}`);
      for (const path of ['/api/me', '/api/me/s3-credentials']) {
        const res = await fx.user.request(path);
        if (res.status === 200) continue;
        if (res.status !== 503 || !res.headers.get('retry-after'))
          unexpected.push(`GET ${path}: ${res.status} ${res.text}`);
      }
      await sleep(20);
    }
  }

  beforeAll(async () => {
    const [redisPort, pgPort] = await Promise.all([freePort(), freePort()]);
    redis = new OwnRedis(redisPort);
    pg = new OwnPostgres(pgPort);
    await Promise.all([redis.start(), pg.create()]);
    stack = await TestStack.start();
    fx = await bootWithProxy(stack, { config: { db: { url: pg.url }, redis: { url: redis.url } } });
    ({ username, id: userId } = await seedUser(fx.app));
    await createBucket(fx.admin, fx.backendId, bucket);
    const scopes = [{ backend_id: fx.backendId, bucket }];
    keys = await mintCredential(fx.user, scopes);
    client = proxyClient(fx.endpoint, keys);
    const disabled = await mintCredential(fx.user, scopes);
    disabledClient = proxyClient(fx.endpoint, disabled);
    announced = await mintCredential(fx.user, scopes);
    announcedClient = proxyClient(fx.endpoint, announced);
    expiresAt = Date.now() + 10_000;
    expiringClient = proxyClient(
      fx.endpoint,
      await mintCredential(fx.user, scopes, { expires_at: new Date(expiresAt).toISOString() }),
    );
    for (const c of [client, disabledClient, expiringClient, announcedClient]) {
      expect(await s3Outcome(c.send(new PutObjectCommand({ Bucket: bucket, Key: 'seed', Body: 'seed' })))).toEqual({
        status: 200,
        name: 'OK',
      });
    }
    // Disabled before the outage: the proxy hears of it (and looks the credential up again) at once.
    const patch = await fx.user.request(`/api/me/s3-credentials/${disabled.accessKeyId}`, {
      method: 'PATCH',
      body: { enabled: false },
    });
    expect(patch.status).toBe(200);
    expect(await s3Outcome(disabledClient.send(new GetObjectCommand({ Bucket: bucket, Key: 'seed' })))).toMatchObject({
      status: 403,
    });
    flowing = true;
    traffic = flow();
  }, 90_000);

  afterAll(async () => {
    flowing = false;
    await traffic.catch(() => undefined);
    for (const c of [client, disabledClient, expiringClient, announcedClient, ...strangers]) c?.destroy();
    // Both servers up again so the app closes cleanly, then everything of ours goes away.
    await redis?.start().catch(() => undefined);
    await pg?.start().catch(() => undefined);
    await stack?.stop();
    await redis?.stop().catch(() => undefined);
    await pg?.drop();
  }, 60_000);

  it('through a PostgreSQL outage: sign-in and database routes answer 503 with Retry-After, signed-in reads and recently verified S3 credentials keep working; all recovers without a restart', async () => {
    await pg!.stop();
    const stoppedAt = Date.now();

    await expectOutage(loginRequest(fx.app, username), 'session_error');
    await expectOutage(fx.user.request('/api/me/s3-credentials'), 'store_unavailable');
    await expectOutage(
      fx.user.request('/api/me/s3-credentials', {
        method: 'POST',
        body: { scopes: [{ backend_id: fx.backendId, bucket }] },
      }),
      'store_unavailable',
    );
    await expectServed(fx.user.request('/api/me'));
    expect((await http(fx.app.url, '/readyz')).status).toBe(503);

    // Well past the directory's one-second lifetime: answers now come from the grace.
    await until('the cached credential to be older than its lifetime', async () => Date.now() - stoppedAt > 2_500);
    const get = await client.send(new GetObjectCommand({ Bucket: bucket, Key: 'seed' }));
    expect(await get.Body?.transformToString()).toBe('seed');
    // A write cannot have its audit row stored: refused with 503 rather than acknowledged unaudited.
    const during = `during-pg-outage-${randomBytes(4).toString('hex')}`;
    expect(
      await s3Outcome(
        client.send(new PutObjectCommand({ Bucket: bucket, Key: during, Body: 'written while PostgreSQL was down' })),
      ),
    ).toEqual({ status: 503, name: 'ServiceUnavailable' });

    // A credential never verified cannot be checked; a disabled one stays disabled.
    const stranger = proxyClient(fx.endpoint, { accessKeyId: randomAccessKey(), secretAccessKey: 'x'.repeat(40) });
    strangers.push(stranger);
    expect(await s3Outcome(stranger.send(new GetObjectCommand({ Bucket: bucket, Key: 'seed' })))).toEqual({
      status: 503,
      name: 'ServiceUnavailable',
    });
    expect(
      await s3Outcome(disabledClient.send(new GetObjectCommand({ Bucket: bucket, Key: 'seed' }))),
    ).not.toMatchObject({
      status: 200,
    });
    // A change announced over Redis (as another replica does) still removes a credential from the grace.
    expect(await s3Outcome(announcedClient.send(new GetObjectCommand({ Bucket: bucket, Key: 'seed' })))).toMatchObject({
      status: 200,
    });
    const publisher = new Redis(redis!.url, { maxRetriesPerRequest: 1 });
    try {
      await publisher.publish(
        `${stack!.redisPrefix}s3-access:changed`,
        JSON.stringify({ from: 'another-replica', change: { kind: 'credential', accessKey: announced.accessKeyId } }),
      );
    } finally {
      publisher.disconnect();
    }
    await until('the announced change to apply', async () => {
      const outcome = await s3Outcome(announcedClient.send(new GetObjectCommand({ Bucket: bucket, Key: 'seed' })));
      return outcome.status !== 200 && outcome;
    });
    expect(await s3Outcome(announcedClient.send(new GetObjectCommand({ Bucket: bucket, Key: 'seed' })))).toEqual({
      status: 503,
      name: 'ServiceUnavailable',
    });
    // An expiry passing during the outage still applies.
    await until('the expiring credential to expire', async () => Date.now() > expiresAt + 200);
    expect(await s3Outcome(expiringClient.send(new GetObjectCommand({ Bucket: bucket, Key: 'seed' })))).toMatchObject({
      status: 403,
    });
    expect(await s3Outcome(client.send(new GetObjectCommand({ Bucket: bucket, Key: 'seed' })))).toMatchObject({
      status: 200,
    });

    await pg!.start();
    await until('sign-in to work again', async () => (await loginRequest(fx.app, username)).status === 200);
    expect((await fx.user.request('/api/me/s3-credentials')).status).toBe(200);
    expect(await s3Outcome(stranger.send(new GetObjectCommand({ Bucket: bucket, Key: 'seed' })))).toMatchObject({
      status: 403,
      name: 'InvalidAccessKeyId',
    });
  }, 60_000);

  it('through a Redis outage: sign-in and cache-backed routes answer 503 with Retry-After, signed-in sessions and the S3 proxy keep working; all recovers without a restart', async () => {
    await redis!.stop();

    await expectOutage(loginRequest(fx.app, username), 'session_error');
    // Clearing a lockout is a Redis write.
    await expectOutage(fx.admin.request(`/api/admin/users/${userId}/unlock`, { method: 'POST' }), 'store_unavailable');
    await expectServed(fx.user.request('/api/me'));
    await expectServed(fx.user.request('/api/me/s3-credentials'));
    expect((await http(fx.app.url, '/readyz')).status).toBe(503);
    const during = `during-redis-outage-${randomBytes(4).toString('hex')}`;
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: during, Body: 'written while Redis was down' }));
    acked.push({ key: during, body: 'written while Redis was down' });

    await redis!.start();
    await until('sign-in to work again', async () => (await loginRequest(fx.app, username)).status === 200);
    expect((await fx.admin.request(`/api/admin/users/${userId}/unlock`, { method: 'POST' })).status).toBe(200);
    expect((await fx.user.request('/api/me')).status).toBe(200);
  }, 60_000);

  it('through a Redis that stops answering (frozen, connections left open): requests fail or fall back within seconds instead of hanging', async () => {
    redis!.pause();
    try {
      // Again and again: requests must not queue up behind the unanswered ones.
      for (let i = 0; i < 4; i++) await expectOutage(loginRequest(fx.app, username), 'session_error');
      await expectOutage(
        fx.admin.request(`/api/admin/users/${userId}/unlock`, { method: 'POST' }),
        'store_unavailable',
      );
      await expectServed(fx.user.request('/api/me'));
      const during = `during-redis-stall-${randomBytes(4).toString('hex')}`;
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: during, Body: 'written while Redis hung' }));
      acked.push({ key: during, body: 'written while Redis hung' });
    } finally {
      redis!.resume();
    }
    await until('sign-in to work again', async () => (await loginRequest(fx.app, username)).status === 200);
    expect((await http(fx.app.url, '/readyz')).status).toBe(200);
  }, 60_000);

  it('lost no acknowledged write and never answered a 500', async () => {
    flowing = false;
    await traffic;
    expect(unexpected).toEqual([]);
    expect(acked.length).toBeGreaterThan(2);
    for (const { key, body } of acked) {
      const res = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      expect(await res.Body?.transformToString()).toBe(body);
    }
  }, 60_000);
});
