import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { Readable } from 'node:stream';
import { getQueueToken } from '@nestjs/bullmq';
import { Queue } from 'bullmq';
import { DataSource } from 'typeorm';
import { SIZE_SCAN_QUEUE, SizeScanJob } from '../../src/quotas/size-scan.jobs';
import { BackendRegistry } from '../../src/storage-backends/backend-registry.service';
import { TestApp, TestStack } from '../harness/app';
import { mintAs } from '../harness/s3-proxy-namespaces';
import { proxyClient, proxyEndpoint, ROOT_KEY, VirtualKeys } from '../harness/s3-proxy';
import { s3rverBackend } from '../harness/s3rver';
import { login, seedUser, Session } from '../harness/session';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The S3 error of a refused SDK call (or fails the test when it went through). */
async function refusal(promise: Promise<unknown>): Promise<S3ServiceException & { Namespace?: string }> {
  try {
    await promise;
  } catch (err) {
    return err as S3ServiceException & { Namespace?: string };
  }
  throw new Error('the request went through');
}

describe('namespace quotas', () => {
  let stack: TestStack;
  let a: TestApp;
  let b: TestApp;
  let admin: Session;
  let user: Session;
  const clients: S3Client[] = [];
  const tag = `${process.pid % 1000}${Date.now() % 10_000}`;
  const quotaPath = (prefix: string, backend = 'local') => `/api/admin/namespaces/${backend}/${prefix}/quota`;

  const configFor = () => {
    const s3 = stack.s3!;
    return {
      ratelimit: { login_per_ip: 0, api_per_minute: 0 },
      db: { pool_size: 12 },
      quotas: { reservation_ttl: '15s', scan_interval: '-1s' },
      s3_proxy: { enabled: true, listen: '127.0.0.1:0' },
      backends: [s3rverBackend('local', s3)],
    };
  };

  beforeAll(async () => {
    stack = await TestStack.start();
    const env = { K: stack.s3!.accessKey, S: stack.s3!.secretKey, STOWAGE_SECRET_KEY: ROOT_KEY };
    [a, b] = await Promise.all([stack.boot({ config: configFor(), env }), stack.boot({ config: configFor(), env })]);
    [admin, user] = await Promise.all(
      (['admin', 'user'] as const).map(async (role) => login(a, (await seedUser(a, { role })).username)),
    );
  }, 60_000);
  afterAll(async () => {
    for (const c of clients) c.destroy();
    await stack?.stop();
  });

  /** A namespace credential (minted by the admin) and SDK clients on both instances. */
  const namespaceClients = async (prefix: string): Promise<{ keys: VirtualKeys; onA: S3Client; onB: S3Client }> => {
    const minted = await mintAs(admin, '/api/admin/s3-credentials', [{ backend_id: 'local', bucket_prefix: prefix }]);
    expect(minted.status).toBe(201);
    const keys = minted.keys!;
    const onA = proxyClient(proxyEndpoint(a), keys);
    const onB = proxyClient(proxyEndpoint(b), keys);
    clients.push(onA, onB);
    return { keys, onA, onB };
  };
  const setQuota = async (prefix: string, body: Record<string, unknown>) => {
    const res = await admin.request(quotaPath(prefix), { method: 'PUT', body });
    expect(res.status).toBe(200);
    return res.body as Record<string, unknown>;
  };
  const getQuota = async (prefix: string) => (await admin.request(quotaPath(prefix))).body as Record<string, number>;
  const createBucket = async (name: string) => {
    const res = await admin.request('/api/backends/local/buckets', { method: 'POST', body: { name } });
    expect(res.status).toBe(201);
  };
  const upload = (session: Session, bucket: string, key: string, data: Buffer) =>
    session.request(`/api/backends/local/buckets/${bucket}/object?key=${encodeURIComponent(key)}`, {
      method: 'POST',
      body: data,
      headers: { 'content-type': 'application/octet-stream' },
    });
  const put = (client: S3Client, bucket: string, key: string, bytes: number) =>
    client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: Buffer.alloc(bytes) }));
  /** Waits until the namespace's usage satisfies `check` (settling after the proxy answers is asynchronous). */
  const settles = async (prefix: string, check: (q: Record<string, number>) => boolean) => {
    for (let i = 0; i < 50; i++) {
      const q = await getQuota(prefix);
      if (check(q)) return q;
      await sleep(100);
    }
    return getQuota(prefix);
  };
  const auditRows = (action: string) =>
    a.app
      .get(DataSource)
      .query(`SELECT user_id, backend_id, bucket, status, detail FROM audit_events WHERE action = $1 ORDER BY id`, [
        action,
      ]) as Promise<
      Array<{ user_id: string | null; backend_id: string; bucket: string | null; detail: Record<string, unknown> }>
    >;

  describe('routes', () => {
    const prefix = `nr${tag}-`;

    it('answers configured: false, then sets, reads and deletes a quota (sizes as bucket quotas take them)', async () => {
      expect(await getQuota(prefix)).toMatchObject({
        backend_id: 'local',
        bucket_prefix: prefix,
        configured: false,
        usage_bytes: 0,
        reserved_bytes: 0,
        soft_exceeded: false,
        hard_exceeded: false,
      });
      expect(await setQuota(prefix, { soft_bytes: '8Gi', hard_bytes: '10Gi', max_buckets: 5 })).toMatchObject({
        configured: true,
        soft_bytes: 8 * 1024 ** 3,
        hard_bytes: 10 * 1024 ** 3,
        max_buckets: 5,
        bucket_count: 0,
      });
      expect(await getQuota(prefix)).toMatchObject({ configured: true, max_buckets: 5 });
      // max_buckets alone is a quota too.
      expect(await setQuota(prefix, { max_buckets: 0 })).toMatchObject({ configured: true, max_buckets: 0 });
      expect((await getQuota(prefix)).hard_bytes).toBeUndefined();
      expect((await admin.request(quotaPath(prefix), { method: 'DELETE' })).status).toBe(204);
      const again = await admin.request(quotaPath(prefix), { method: 'DELETE' });
      expect([again.status, again.body?.error?.code]).toEqual([404, 'not_found']);
      expect(await getQuota(prefix)).toMatchObject({ configured: false });
      const set = await auditRows('namespace_quota.set');
      expect(set.filter((r) => r.detail.bucket_prefix === prefix)).toHaveLength(2);
      expect((await auditRows('namespace_quota.delete')).filter((r) => r.detail.bucket_prefix === prefix)).toHaveLength(
        1,
      );
    });

    it.each([
      ['soft above hard', { soft_bytes: 2000, hard_bytes: 1000 }],
      ['negative', { hard_bytes: -1 }],
      ['non-numeric', { hard_bytes: 'lots' }],
      ['fractional bytes', { hard_bytes: 10.5 }],
      ['overflow', { hard_bytes: 2 ** 60 }],
      ['overflowing size', { hard_bytes: '99999999Ei' }],
      ['a huge digit string', { hard_bytes: '9'.repeat(400) }],
      ['an object', { hard_bytes: { $gt: 0 } }],
      ['an array', { soft_bytes: [1] }],
      ['a boolean', { hard_bytes: true }],
      ['nothing at all', {}],
      ['all null', { soft_bytes: null, hard_bytes: null, max_buckets: null }],
      ['max_buckets negative', { max_buckets: -1 }],
      ['max_buckets fractional', { max_buckets: 1.5 }],
      ['max_buckets a string', { max_buckets: '3' }],
      ['max_buckets huge', { max_buckets: 2 ** 53 }],
      ['max_buckets past int4', { max_buckets: 2 ** 31 }],
      ['max_buckets a boolean', { max_buckets: true }],
    ])('refuses %s with 400 invalid_quota and changes nothing', async (_name, body) => {
      const res = await admin.request(quotaPath(prefix), { method: 'PUT', body });
      expect([res.status, res.body?.error?.code]).toEqual([400, 'invalid_quota']);
      expect(await getQuota(prefix)).toMatchObject({ configured: false });
    });

    it('refuses deep JSON without a 500', async () => {
      const deep = `{"hard_bytes":${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}}`;
      const res = await admin.request(quotaPath(prefix), {
        method: 'PUT',
        body: deep,
        headers: { 'content-type': 'application/json' },
      });
      expect(res.status).toBe(400);
      expect(await getQuota(prefix)).toMatchObject({ configured: false });
    });

    it.each([
      ['adjacent dots', 'te..am-'],
      ['encoded dots', '%2e%2e-'],
      ['encoded dots inside', 'te%2e%2eam-'],
      ['a NUL', 'team%00-'],
      ['a control character', 'team%0a-'],
      ['a slash', 'team%2fa-'],
      ['upper case', 'Team-a-'],
      ['no trailing hyphen', 'team-a'],
      ['one character', 'a'],
      ['over 50 characters', `${'a'.repeat(50)}-`],
      ['a reserved prefix', 'xn--'],
      ['unicode', 't%C3%A9am-'],
    ])('refuses a prefix with %s (400 invalid_prefix) on every route', async (_name, raw) => {
      for (const method of ['GET', 'PUT', 'DELETE'] as const) {
        const res = await admin.request(`/api/admin/namespaces/local/${raw}/quota`, {
          method,
          ...(method === 'PUT' ? { body: { hard_bytes: 1000 } } : {}),
        });
        expect([method, res.status, res.body?.error?.code]).toEqual([method, 400, 'invalid_prefix']);
      }
    });

    it('refuses an over-long prefix parameter and an unknown backend', async () => {
      const long = await admin.request(`/api/admin/namespaces/local/${'a'.repeat(5000)}-/quota`);
      expect(long.status).toBe(400);
      const unknown = await admin.request(quotaPath(prefix, 'nosuch'), { method: 'PUT', body: { hard_bytes: 1 } });
      expect([unknown.status, unknown.body?.error?.code]).toEqual([404, 'not_found']);
      expect((await admin.request(quotaPath(prefix, 'nosuch'))).status).toBe(404);
      const badBackend = await admin.request(quotaPath(prefix, 'BAD%00'));
      expect(badBackend.status).toBe(400);
    });

    it('is for admins only, and needs the CSRF token', async () => {
      expect((await user.request(quotaPath(prefix))).status).toBe(403);
      expect((await user.request('/api/admin/namespaces')).status).toBe(403);
      expect((await user.request(quotaPath(prefix), { method: 'PUT', body: { hard_bytes: 1 } })).status).toBe(403);
      const noCsrf = await admin.request(quotaPath(prefix), { method: 'PUT', body: { hard_bytes: 1 }, csrf: false });
      expect(noCsrf.status).toBe(403);
      expect(await getQuota(prefix)).toMatchObject({ configured: false });
    });

    it('refuses a quota overlapping another namespace quota of the backend with 409 conflict', async () => {
      const outer = `no${tag}-`;
      const inner = `no${tag}-in-`;
      await setQuota(inner, { hard_bytes: 1000 });
      for (const body of [{ hard_bytes: 5000 }, { max_buckets: 2 }]) {
        const res = await admin.request(quotaPath(outer), { method: 'PUT', body });
        expect([res.status, res.body?.error?.code]).toEqual([409, 'conflict']);
      }
      // Two admins racing with overlapping quotas on two instances: exactly one wins.
      await admin.request(quotaPath(inner), { method: 'DELETE' });
      const raced = await Promise.all([
        admin.request(quotaPath(outer), { method: 'PUT', body: { hard_bytes: 5000 } }),
        admin.on(b).request(quotaPath(inner), { method: 'PUT', body: { hard_bytes: 1000 } }),
      ]);
      expect(raced.map((r) => r.status).sort()).toEqual([200, 409]);
      await admin.request(quotaPath(outer), { method: 'DELETE' });
      await admin.request(quotaPath(inner), { method: 'DELETE' });
    });
  });

  describe('bytes', () => {
    it('refuses a proxy PUT and a dashboard upload into a second bucket when the first holds the bytes', async () => {
      const prefix = `nb${tag}-`;
      const { onA } = await namespaceClients(prefix);
      await onA.send(new CreateBucketCommand({ Bucket: `${prefix}one` }));
      await onA.send(new CreateBucketCommand({ Bucket: `${prefix}two` }));
      await setQuota(prefix, { hard_bytes: 1000 });
      await put(onA, `${prefix}one`, 'a.bin', 800);
      await settles(prefix, (q) => q.usage_bytes === 800);

      const refused = await refusal(put(onA, `${prefix}two`, 'b.bin', 300));
      expect([refused.name, refused.$metadata.httpStatusCode]).toEqual(['EntityTooLarge', 507]);
      expect(refused.Namespace).toBe(prefix);
      const dashboard = await upload(admin, `${prefix}two`, 'b.bin', Buffer.alloc(300));
      expect([dashboard.status, dashboard.body?.error?.code]).toEqual([507, 'quota_exceeded']);
      expect(dashboard.body.error.detail).toContain(`namespace ${prefix}`);
      const stored = await a.app
        .get(BackendRegistry)
        .get('local')
        .listObjects({ bucket: `${prefix}two` });
      expect(stored.objects).toEqual([]);

      // What fits goes through, on either plane.
      await put(onA, `${prefix}two`, 'c.bin', 100);
      expect((await upload(admin, `${prefix}two`, 'd.bin', Buffer.alloc(100))).status).toBe(201);
      expect(await settles(prefix, (q) => q.usage_bytes === 1000)).toMatchObject({
        usage_bytes: 1000,
        reserved_bytes: 0,
        hard_exceeded: true,
      });
      // A delete frees room for the namespace.
      const del = await admin.request(`/api/backends/local/buckets/${prefix}one/object?key=a.bin`, {
        method: 'DELETE',
      });
      expect(del.status).toBe(204);
      await settles(prefix, (q) => q.usage_bytes === 200);
      await put(onA, `${prefix}two`, 'e.bin', 700);

      // The admin view lists the namespace with its holder and usage.
      const list = await admin.request('/api/admin/namespaces');
      expect(list.status).toBe(200);
      const row = (list.body.namespaces as Array<Record<string, unknown>>).find((n) => n.bucket_prefix === prefix);
      expect(row).toMatchObject({ backend_id: 'local', configured: true, hard_bytes: 1000, bucket_count: 2 });
      expect(row!.credentials).toHaveLength(1);
      expect(JSON.stringify(list.body)).not.toMatch(/secret/i);

      // A bucket deleted through the proxy no longer counts towards the namespace.
      for (const key of ['c.bin', 'd.bin', 'e.bin']) {
        await onA.send(new DeleteObjectCommand({ Bucket: `${prefix}two`, Key: key }));
      }
      await onA.send(new DeleteBucketCommand({ Bucket: `${prefix}two` }));
      const db = a.app.get(DataSource);
      const usageRows = async () =>
        (
          (await db.query(`SELECT 1 FROM bucket_usage WHERE backend_id = 'local' AND bucket = $1`, [
            `${prefix}two`,
          ])) as unknown[]
        ).length;
      for (let i = 0; i < 30 && (await usageRows()) > 0; i++) await sleep(100);
      expect(await usageRows()).toBe(0);
      expect(await getQuota(prefix)).toMatchObject({ usage_bytes: 0, reserved_bytes: 0, bucket_count: 1 });
    });

    it('stops a form upload (reserved as it streams) at the namespace cap, leaving nothing staged', async () => {
      const prefix = `nu${tag}-`;
      await createBucket(`${prefix}full`);
      await createBucket(`${prefix}form`);
      await setQuota(prefix, { hard_bytes: 3000 });
      expect((await upload(admin, `${prefix}full`, 'a.bin', Buffer.alloc(2000))).status).toBe(201);
      const fd = new FormData();
      fd.append('key', 'big.bin');
      fd.append('file', new Blob([Buffer.alloc(2000)]), 'big.bin');
      const res = await fetch(`${a.url}/api/backends/local/buckets/${prefix}form/object`, {
        method: 'POST',
        body: fd,
        headers: { cookie: admin.cookie, 'x-csrf-token': admin.csrf },
      });
      const body = (await res.json()) as { error: { code: string; detail: string } };
      expect([res.status, body.error.code]).toEqual([507, 'quota_exceeded']);
      expect(body.error.detail).toContain(`namespace ${prefix}`);
      const listing = await a.app
        .get(BackendRegistry)
        .get('local')
        .listObjects({ bucket: `${prefix}form` });
      expect(listing.objects).toEqual([]);
      expect(await settles(prefix, (q) => q.reserved_bytes === 0)).toMatchObject({
        usage_bytes: 2000,
        reserved_bytes: 0,
      });
    });

    it('never lets concurrent PUTs on two instances past the cap', async () => {
      const prefix = `nc${tag}-`;
      const { onA, onB } = await namespaceClients(prefix);
      await onA.send(new CreateBucketCommand({ Bucket: `${prefix}x` }));
      await onA.send(new CreateBucketCommand({ Bucket: `${prefix}y` }));
      await setQuota(prefix, { hard_bytes: 1000 });
      const results = await Promise.allSettled(
        Array.from({ length: 20 }, (_, i) =>
          put(i % 2 ? onB : onA, `${prefix}${i % 4 < 2 ? 'x' : 'y'}`, `r/${i}`, 100),
        ),
      );
      const refused = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
      for (const r of refused) expect((r.reason as S3ServiceException).name).toBe('EntityTooLarge');
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(10);
      const backend = a.app.get(BackendRegistry).get('local');
      let stored = 0;
      for (const bucket of [`${prefix}x`, `${prefix}y`]) {
        stored += (await backend.listObjects({ bucket, prefix: 'r/' })).objects.reduce((sum, o) => sum + o.size, 0);
      }
      expect(stored).toBe(1000);
      expect(await settles(prefix, (q) => q.reserved_bytes === 0 && q.usage_bytes === 1000)).toMatchObject({
        usage_bytes: 1000,
        reserved_bytes: 0,
      });
    });

    it('flags and audits the soft cap crossing once', async () => {
      const prefix = `ns${tag}-`;
      const { onA } = await namespaceClients(prefix);
      await onA.send(new CreateBucketCommand({ Bucket: `${prefix}p` }));
      await onA.send(new CreateBucketCommand({ Bucket: `${prefix}q` }));
      await setQuota(prefix, { soft_bytes: 500 });
      await put(onA, `${prefix}p`, 'a', 300);
      await put(onA, `${prefix}q`, 'b', 300);
      await put(onA, `${prefix}q`, 'c', 300);
      expect(await settles(prefix, (q) => q.usage_bytes === 900)).toMatchObject({ soft_exceeded: true });
      await sleep(300);
      const rows = (await auditRows('namespace_quota.soft_exceeded')).filter((r) => r.detail.bucket_prefix === prefix);
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ backend_id: 'local', detail: { soft_bytes: 500, via: 's3' } });
    });
    it('flags a soft crossing a scan finds (bytes written behind its back) and audits it once', async () => {
      const prefix = `nz${tag}-`;
      await createBucket(`${prefix}drift`);
      await setQuota(prefix, { soft_bytes: 1000 });
      const backend = a.app.get(BackendRegistry).get('local');
      const data = Buffer.alloc(1500);
      await backend.putObject({
        bucket: `${prefix}drift`,
        key: 'behind',
        body: Readable.from([data]),
        size: data.length,
      });
      expect(await getQuota(prefix)).toMatchObject({ usage_bytes: 0, soft_exceeded: false });
      for (let i = 0; i < 2; i++) {
        const res = await admin.request(`/api/backends/local/buckets/${prefix}drift/quota/recompute`, {
          method: 'POST',
        });
        expect(res.body).toMatchObject({ usage_bytes: 1500 });
      }
      expect(await getQuota(prefix)).toMatchObject({ usage_bytes: 1500, soft_exceeded: true });
      await sleep(300);
      const rows = (await auditRows('namespace_quota.soft_exceeded')).filter((r) => r.detail.bucket_prefix === prefix);
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ detail: { used_bytes: 1500, soft_bytes: 1000, via: 'scan' } });
    });
  });

  describe('bucket count', () => {
    it('refuses CreateBucket past max_buckets with TooManyBuckets and frees the slot on DeleteBucket', async () => {
      const prefix = `nk${tag}-`;
      await createBucket(`${prefix}existing`);
      const { onA, onB } = await namespaceClients(prefix);
      // The count starts from what the upstream holds.
      expect(await setQuota(prefix, { max_buckets: 2 })).toMatchObject({ bucket_count: 1, max_buckets: 2 });
      await onA.send(new CreateBucketCommand({ Bucket: `${prefix}second` }));
      const refused = await refusal(onB.send(new CreateBucketCommand({ Bucket: `${prefix}third` })));
      expect([refused.name, refused.$metadata.httpStatusCode]).toEqual(['TooManyBuckets', 400]);
      expect(await a.app.get(BackendRegistry).get('local').listBuckets()).not.toContainEqual(
        expect.objectContaining({ name: `${prefix}third` }),
      );
      expect(await getQuota(prefix)).toMatchObject({ bucket_count: 2 });
      await onB.send(new DeleteBucketCommand({ Bucket: `${prefix}second` }));
      expect(await getQuota(prefix)).toMatchObject({ bucket_count: 1 });
      await onB.send(new CreateBucketCommand({ Bucket: `${prefix}third` }));
      expect(await getQuota(prefix)).toMatchObject({ bucket_count: 2 });
    });

    it('counts the creates and deletes of the dashboard (never refused for admins)', async () => {
      const prefix = `nd${tag}-`;
      const { onA } = await namespaceClients(prefix);
      await setQuota(prefix, { max_buckets: 1 });
      await createBucket(`${prefix}admin1`);
      await createBucket(`${prefix}admin2`);
      expect(await getQuota(prefix)).toMatchObject({ bucket_count: 2 });
      const refused = await refusal(onA.send(new CreateBucketCommand({ Bucket: `${prefix}tenant` })));
      expect(refused.name).toBe('TooManyBuckets');
      for (const name of ['admin1', 'admin2']) {
        expect((await admin.request(`/api/backends/local/buckets/${prefix}${name}`, { method: 'DELETE' })).status).toBe(
          204,
        );
      }
      expect(await getQuota(prefix)).toMatchObject({ bucket_count: 0 });
      await onA.send(new CreateBucketCommand({ Bucket: `${prefix}tenant` }));
      expect(await getQuota(prefix)).toMatchObject({ bucket_count: 1 });
    });

    it('recounts from the upstream at the scheduled size scan', async () => {
      const prefix = `ny${tag}-`;
      await setQuota(prefix, { max_buckets: 5 });
      const backend = a.app.get(BackendRegistry).get('local');
      await backend.createBucket(`${prefix}behind1`);
      await backend.createBucket(`${prefix}behind2`);
      expect(await getQuota(prefix)).toMatchObject({ bucket_count: 0 });
      const queue = a.app.get<Queue>(getQueueToken(SIZE_SCAN_QUEUE));
      await queue.add(SizeScanJob.ScanAll, {}, { removeOnComplete: true, removeOnFail: true });
      for (let i = 0; i < 100 && (await getQuota(prefix)).bucket_count !== 2; i++) await sleep(100);
      expect(await getQuota(prefix)).toMatchObject({ bucket_count: 2 });
    });

    it('lets exactly the free slots through when creates race on two instances', async () => {
      const prefix = `nw${tag}-`;
      const { onA, onB } = await namespaceClients(prefix);
      await setQuota(prefix, { max_buckets: 3 });
      const results = await Promise.allSettled(
        Array.from({ length: 10 }, (_, i) =>
          (i % 2 ? onB : onA).send(new CreateBucketCommand({ Bucket: `${prefix}b${i}` })),
        ),
      );
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(3);
      for (const r of results.filter((x) => x.status === 'rejected') as PromiseRejectedResult[]) {
        expect((r.reason as S3ServiceException).name).toBe('TooManyBuckets');
      }
      const names = (await a.app.get(BackendRegistry).get('local').listBuckets()).map((x) => x.name);
      expect(names.filter((n) => n.startsWith(prefix))).toHaveLength(3);
      expect(await getQuota(prefix)).toMatchObject({ bucket_count: 3 });
    });

    it('gives the slot back when the upstream refuses the create', async () => {
      const prefix = `nf${tag}-`;
      await createBucket(`${prefix}taken`);
      const { onA } = await namespaceClients(prefix);
      await setQuota(prefix, { max_buckets: 3 });
      expect(await getQuota(prefix)).toMatchObject({ bucket_count: 1 });
      // s3rver refuses a bucket that exists; the slot taken before the forward goes back.
      for (let i = 0; i < 3; i++)
        await onA.send(new CreateBucketCommand({ Bucket: `${prefix}taken` })).catch(() => undefined);
      for (let i = 0; i < 30 && (await getQuota(prefix)).bucket_count !== 1; i++) await sleep(100);
      expect(await getQuota(prefix)).toMatchObject({ bucket_count: 1 });
      await onA.send(new CreateBucketCommand({ Bucket: `${prefix}new` }));
      expect(await getQuota(prefix)).toMatchObject({ bucket_count: 2 });
    });
  });

  it('logged no error for any of these requests', () => {
    for (const app of [a, b]) expect(app.logs.filter((l) => JSON.parse(l).level === 'error')).toEqual([]);
  });
});
