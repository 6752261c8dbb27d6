import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectsCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { DataSource } from 'typeorm';
import { QuotaStore } from '../../src/quotas/quota-store';
import { BackendRegistry } from '../../src/storage-backends/backend-registry.service';
import { TestApp, TestStack } from '../harness/app';
import { runTs } from '../harness/child';
import { TEST_REDIS_URL } from '../harness/redis';
import { mintCredential, proxyClient, proxyEndpoint, ROOT_KEY } from '../harness/s3-proxy';
import { s3rverBackend, startS3rver, TestS3 } from '../harness/s3rver';
import { login, seedUser, Session } from '../harness/session';

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const MiB = 1024 * 1024;

describe('quotas and size tracking', () => {
  let stack: TestStack;
  let remoteS3: TestS3;
  let a: TestApp;
  let b: TestApp;
  let admin: Session;
  let user: Session;
  let reader: Session;
  const bucketPath = (name: string, backend = 'local') => `/api/backends/${backend}/buckets/${name}`;

  const configFor = () => {
    const s3 = stack.s3!;
    return {
      ratelimit: { login_per_ip: 0, api_per_minute: 0 },
      // Room for the 20 concurrent uploads of the race on a slow machine: a starved pool answers
      // 503, which says nothing of what fits.
      db: { pool_size: 12 },
      // Live reservations are renewed every third of this: long enough that a loaded machine never
      // lets one expire under a write still running (the killed replica's child has its own 2s).
      quotas: { reservation_ttl: '15s', scan_interval: '-1s' },
      s3_proxy: { enabled: true, listen: '127.0.0.1:0' },
      backends: [s3rverBackend('local', s3), s3rverBackend('remote', remoteS3, { keyEnv: 'K2', secretEnv: 'S2' })],
    };
  };
  const envFor = () => ({
    K: stack.s3!.accessKey,
    S: stack.s3!.secretKey,
    K2: remoteS3.accessKey,
    S2: remoteS3.secretKey,
    STOWAGE_SECRET_KEY: ROOT_KEY,
  });

  beforeAll(async () => {
    [stack, remoteS3] = await Promise.all([TestStack.start(), startS3rver()]);
    [a, b] = await Promise.all([
      stack.boot({ config: configFor(), env: envFor() }),
      stack.boot({ config: configFor(), env: envFor() }),
    ]);
    [admin, user, reader] = await Promise.all(
      (['admin', 'user', 'readonly'] as const).map(async (role) => login(a, (await seedUser(a, { role })).username)),
    );
  }, 60_000);
  afterAll(async () => {
    await stack?.stop();
    await remoteS3?.close();
  });

  const createBucket = async (name: string, backend = 'local') => {
    const res = await admin.request(`/api/backends/${backend}/buckets`, { method: 'POST', body: { name } });
    expect(res.status).toBe(201);
  };
  const setQuota = async (name: string, body: Record<string, unknown>, backend = 'local') => {
    const res = await admin.request(`${bucketPath(name, backend)}/quota`, { method: 'PUT', body });
    expect(res.status).toBe(200);
    return res.body;
  };
  const getQuota = async (name: string, backend = 'local') =>
    (await admin.request(`${bucketPath(name, backend)}/quota`)).body;
  const upload = (session: Session, name: string, key: string, data: Buffer | string, backend = 'local') =>
    session.request(`${bucketPath(name, backend)}/object?key=${encodeURIComponent(key)}`, {
      method: 'POST',
      body: data,
      headers: { 'content-type': 'application/octet-stream' },
    });
  const exists = async (name: string, key: string, backend = 'local') =>
    (await user.request(`${bucketPath(name, backend)}/object/info?key=${encodeURIComponent(key)}`)).status === 200;
  const auditRows = (action: string, bucket: string) =>
    a.app
      .get(DataSource)
      .query(`SELECT detail FROM audit_events WHERE action = $1 AND bucket = $2 ORDER BY id`, [action, bucket]);
  /** Waits until the usage the API reports satisfies `check` (settling after the proxy answers is asynchronous). */
  const usageSettles = async (name: string, check: (q: Record<string, number>) => boolean) => {
    for (let i = 0; i < 50; i++) {
      const q = await getQuota(name);
      if (check(q)) return q;
      await sleep(100);
    }
    return getQuota(name);
  };

  /** Waits until the bucket's first count (the scan a new quota starts) is done. */
  const firstCount = async (name: string, backend = 'local') => {
    for (let i = 0; i < 300; i++) {
      const q = await getQuota(name, backend);
      if (q.computed_at && !q.scan_running) return q;
      await sleep(100);
    }
    throw new Error(`${name} was never counted`);
  };

  describe('routes', () => {
    beforeAll(() => createBucket('q-routes'));

    it('answers 200 configured:false for a bucket without a quota, to any signed-in role', async () => {
      const res = await reader.request(`${bucketPath('q-routes')}/quota`);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        configured: false,
        has_usage: false,
        soft_exceeded: false,
        hard_exceeded: false,
      });
    });

    it.each([
      ['soft above hard', { soft_bytes: 10, hard_bytes: 5 }],
      ['a negative number', { hard_bytes: -1 }],
      ['a negative size', { hard_bytes: '-8Gi' }],
      ['a fraction of a byte', { hard_bytes: 1.5 }],
      ['text', { hard_bytes: 'lots' }],
      ['an unknown unit', { hard_bytes: '8Gx' }],
      ['a number past 2^53', { hard_bytes: 2 ** 53 }],
      ['a size past 2^53', { hard_bytes: '16Ei' }],
      ['twenty digits', { hard_bytes: '99999999999999999999' }],
      ['a dot segment', { hard_bytes: '../8Gi' }],
      ['a boolean', { hard_bytes: true }],
      ['an object', { hard_bytes: { a: 1 } }],
      ['an array', { soft_bytes: [1] }],
      ['nothing at all', {}],
      ['both null', { soft_bytes: null, hard_bytes: null }],
    ])('refuses %s with invalid_quota and changes nothing', async (_name, body) => {
      const res = await admin.request(`${bucketPath('q-routes')}/quota`, { method: 'PUT', body });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('invalid_quota');
      expect((await getQuota('q-routes')).configured).toBe(false);
    });

    it('refuses unknown fields, deep JSON and wrong roles without a 500', async () => {
      const unknown = await admin.request(`${bucketPath('q-routes')}/quota`, {
        method: 'PUT',
        body: { hard_bytes: 1, extra: 1 },
      });
      expect(unknown.status).toBe(400);
      let deep: unknown = 1;
      for (let i = 0; i < 100; i++) deep = { x: deep };
      const nested = await admin.request(`${bucketPath('q-routes')}/quota`, {
        method: 'PUT',
        body: { hard_bytes: deep },
      });
      expect(nested.status).toBe(400);
      const nul = await admin.request(`${bucketPath('q-routes')}/quota`, {
        method: 'PUT',
        body: { hard_bytes: '8\u0000Gi' },
      });
      expect(nul.status).toBe(400);
      const asUser = await user.request(`${bucketPath('q-routes')}/quota`, { method: 'PUT', body: { hard_bytes: 1 } });
      expect(asUser.status).toBe(403);
      const badBucket = await admin.request(`/api/backends/local/buckets/..%2F..%2Fx/quota`, {
        method: 'PUT',
        body: { hard_bytes: 1 },
      });
      expect(badBucket.status).toBe(400);
      const noBackend = await admin.request(`/api/backends/nope/buckets/q-routes/quota`);
      expect(noBackend.status).toBe(404);
      const noBucket = await admin.request(`${bucketPath('q-missing')}/quota`, {
        method: 'PUT',
        body: { hard_bytes: 1 },
      });
      expect(noBucket.status).toBe(404);
    });

    it('sets a quota in human sizes, shows it, audits quota.set and quota.delete', async () => {
      const set = await setQuota('q-routes', { soft_bytes: '4Gi', hard_bytes: '8Gi' });
      expect(set).toMatchObject({ configured: true, soft_bytes: 4 * 2 ** 30, hard_bytes: 8 * 2 ** 30 });
      const got = await getQuota('q-routes');
      expect(got).toMatchObject({ configured: true, soft_bytes: 4 * 2 ** 30, hard_bytes: 8 * 2 ** 30 });
      const list = await reader.request('/api/backends/local/buckets');
      const row = list.body.buckets.find((x: { name: string }) => x.name === 'q-routes');
      expect(row.quota).toEqual({
        soft_bytes: 4 * 2 ** 30,
        hard_bytes: 8 * 2 ** 30,
        soft_exceeded: false,
        hard_exceeded: false,
      });
      expect(await auditRows('quota.set', 'q-routes')).toEqual([
        { detail: { soft_bytes: 4 * 2 ** 30, hard_bytes: 8 * 2 ** 30 } },
      ]);
      expect((await admin.request(`${bucketPath('q-routes')}/quota`, { method: 'DELETE' })).status).toBe(204);
      expect((await getQuota('q-routes')).configured).toBe(false);
      expect(await auditRows('quota.delete', 'q-routes')).toHaveLength(1);
      const again = await admin.request(`${bucketPath('q-routes')}/quota`, { method: 'DELETE' });
      expect(again.status).toBe(404);
    });

    it('switches size tracking, audits it, and prefix-size answers 409 size_tracking_disabled while off', async () => {
      await upload(user, 'q-routes', 'docs/a.txt', 'aaaa');
      await upload(user, 'q-routes', 'docs/sub/b.txt', 'bbbbbb');
      await upload(user, 'q-routes', 'other.txt', 'c');
      expect((await reader.request(`${bucketPath('q-routes')}/size-tracking`)).body).toEqual({ enabled: true });
      const off = await admin.request(`${bucketPath('q-routes')}/size-tracking`, {
        method: 'PUT',
        body: { enabled: false },
      });
      expect(off.status).toBe(200);
      expect(off.body.enabled).toBe(false);
      expect(await auditRows('bucket.size_tracking.set', 'q-routes')).toEqual([{ detail: { enabled: false } }]);
      const refused = await reader.request(`${bucketPath('q-routes')}/prefix-size?prefix=docs/`);
      expect(refused.status).toBe(409);
      expect(refused.body.error.code).toBe('size_tracking_disabled');
      const list = await reader.request('/api/backends/local/buckets');
      expect(list.body.buckets.find((x: { name: string }) => x.name === 'q-routes').size_tracked).toBe(false);
      const wrongType = await admin.request(`${bucketPath('q-routes')}/size-tracking`, {
        method: 'PUT',
        body: { enabled: 'yes' },
      });
      expect(wrongType.status).toBe(400);
      await admin.request(`${bucketPath('q-routes')}/size-tracking`, { method: 'PUT', body: { enabled: true } });
      const sized = await reader.request(`${bucketPath('q-routes')}/prefix-size?prefix=docs/`);
      expect(sized.status).toBe(200);
      expect(sized.body).toMatchObject({ prefix: 'docs/', bytes: 10, count: 2 });
      expect(Date.parse(sized.body.computed_at)).toBeGreaterThan(0);
      const whole = await reader.request(`${bucketPath('q-routes')}/prefix-size`);
      expect(whole.body).toMatchObject({ prefix: '', bytes: 11, count: 3 });
    });

    it('answers concurrent prefix-size calls on both replicas from one walk, and refuses hostile prefixes', async () => {
      const answers = await Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          (i % 2 ? reader.on(b) : reader).request(`${bucketPath('q-routes')}/prefix-size?prefix=docs/sub/`),
        ),
      );
      for (const res of answers) expect(res.body).toMatchObject({ bytes: 6, count: 1 });
      expect(new Set(answers.map((r) => r.body.computed_at)).size).toBe(1);
      for (const prefix of ['../', 'a/../b', '%00', 'a%0Ab', `${'x'.repeat(1100)}`]) {
        const res = await reader.request(`${bucketPath('q-routes')}/prefix-size?prefix=${prefix}`);
        expect(res.status).toBe(400);
      }
    });
  });

  describe('the hard cap', () => {
    it('refuses an upload that would pass it (507 quota_exceeded) and stores nothing; an overwrite frees the old size', async () => {
      await createBucket('q-upload');
      await setQuota('q-upload', { hard_bytes: 1000 });
      expect((await upload(user, 'q-upload', 'one.bin', Buffer.alloc(600))).status).toBe(201);
      const refused = await upload(user, 'q-upload', 'two.bin', Buffer.alloc(600));
      expect(refused.status).toBe(507);
      expect(refused.body.error.code).toBe('quota_exceeded');
      expect(await exists('q-upload', 'two.bin')).toBe(false);
      expect(await getQuota('q-upload')).toMatchObject({ usage_bytes: 600, object_count: 1, reserved_bytes: 0 });
      expect((await upload(user, 'q-upload', 'one.bin', Buffer.alloc(300))).status).toBe(201);
      expect(await getQuota('q-upload')).toMatchObject({ usage_bytes: 300, object_count: 1 });
      expect((await upload(user, 'q-upload', 'two.bin', Buffer.alloc(700))).status).toBe(201);
      expect(await getQuota('q-upload')).toMatchObject({ usage_bytes: 1000, object_count: 2, hard_exceeded: true });
      const del = await user.request(`${bucketPath('q-upload')}/object?key=two.bin`, { method: 'DELETE' });
      expect(del.status).toBe(204);
      expect(await getQuota('q-upload')).toMatchObject({ usage_bytes: 300, object_count: 1 });
    });

    it('refuses a form upload past it, leaving nothing staged', async () => {
      await createBucket('q-form');
      await setQuota('q-form', { hard_bytes: 1000 });
      const fd = new FormData();
      fd.append('key', 'big.bin');
      fd.append('file', new Blob([Buffer.alloc(2000)]), 'big.bin');
      const res = await fetch(`${a.url}${bucketPath('q-form')}/object`, {
        method: 'POST',
        body: fd,
        headers: { cookie: user.cookie, 'x-csrf-token': user.csrf },
      });
      expect(res.status).toBe(507);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('quota_exceeded');
      const listing = await a.app.get(BackendRegistry).get('local').listObjects({ bucket: 'q-form' });
      expect(listing.objects).toEqual([]);
      expect(await getQuota('q-form')).toMatchObject({ reserved_bytes: 0 });
    });

    it('refuses a multipart part past it', async () => {
      await createBucket('q-multipart');
      await setQuota('q-multipart', { hard_bytes: 6 * MiB });
      const q = (key: string, id?: string) => `key=${key}${id ? `&upload_id=${encodeURIComponent(id)}` : ''}`;
      const init = await user.request(`${bucketPath('q-multipart')}/multipart/?${q('big')}`, {
        method: 'POST',
        body: {},
      });
      expect(init.status).toBe(201);
      const id = init.body.upload_id as string;
      const part = (n: number) =>
        user.request(`${bucketPath('q-multipart')}/multipart/parts/${n}?${q('big', id)}`, {
          method: 'PUT',
          body: Buffer.alloc(5 * MiB),
          headers: { 'content-type': 'application/octet-stream' },
        });
      expect((await part(1)).status).toBe(200);
      const refused = await part(2);
      expect(refused.status).toBe(507);
      expect(refused.body.error.code).toBe('quota_exceeded');
      expect(await getQuota('q-multipart')).toMatchObject({ usage_bytes: 5 * MiB, reserved_bytes: 0 });
      // A part that fits after the refusal still goes through.
      expect(
        (
          await user.request(`${bucketPath('q-multipart')}/multipart/parts/2?${q('big', id)}`, {
            method: 'PUT',
            body: Buffer.alloc(MiB),
            headers: { 'content-type': 'application/octet-stream' },
          })
        ).status,
      ).toBe(200);
      expect(await getQuota('q-multipart')).toMatchObject({ usage_bytes: 6 * MiB, reserved_bytes: 0 });
    });

    it('refuses a copy across backends past the destination cap, copying nothing', async () => {
      await createBucket('q-src');
      await createBucket('q-remote', 'remote');
      await setQuota('q-remote', { hard_bytes: 100 }, 'remote');
      expect((await upload(user, 'q-src', 'doc.bin', Buffer.alloc(600))).status).toBe(201);
      const res = await user.request(`${bucketPath('q-src')}/object/copy`, {
        method: 'POST',
        body: { src_key: 'doc.bin', dst_key: 'doc.bin', dst_backend: 'remote', dst_bucket: 'q-remote' },
      });
      expect(res.status).toBe(507);
      expect(res.body.error.code).toBe('quota_exceeded');
      expect(await exists('q-remote', 'doc.bin', 'remote')).toBe(false);
      expect(await getQuota('q-remote', 'remote')).toMatchObject({ reserved_bytes: 0 });
    });

    it('refuses each copy-prefix object past it, reported in the NDJSON stream', async () => {
      await createBucket('q-prefix-dst');
      await setQuota('q-prefix-dst', { hard_bytes: 1000 });
      for (const key of ['set/1.bin', 'set/2.bin', 'set/3.bin']) {
        expect((await upload(user, 'q-src', key, Buffer.alloc(400))).status).toBe(201);
      }
      const res = await user.request(`${bucketPath('q-src')}/objects/copy-prefix`, {
        method: 'POST',
        body: { src_prefix: 'set/', dst_prefix: 'set/', dst_bucket: 'q-prefix-dst' },
      });
      expect(res.status).toBe(200);
      const events = res.text
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(events.at(-1)).toMatchObject({ event: 'done', copied: 2, failed: 1, bytes: 800 });
      expect(events.filter((e) => e.event === 'error')).toEqual([
        expect.objectContaining({ event: 'error', code: 'quota_exceeded' }),
      ]);
      expect(await getQuota('q-prefix-dst')).toMatchObject({ usage_bytes: 800, object_count: 2, reserved_bytes: 0 });
    });

    it('refuses a PutObject through the S3 proxy with 507 EntityTooLarge (aws CLI)', async () => {
      await createBucket('q-proxy');
      await setQuota('q-proxy', { hard_bytes: 4096 });
      const keys = await mintCredential(user, [{ backend_id: 'local', bucket: 'q-proxy' }]);
      const dir = mkdtempSync(join(tmpdir(), 'stowage-quota-'));
      writeFileSync(join(dir, 'small.bin'), Buffer.alloc(3000, 1));
      writeFileSync(join(dir, 'big.bin'), Buffer.alloc(2000, 2));
      const aws = (...args: string[]) =>
        run('aws', ['--endpoint-url', proxyEndpoint(a), '--region', 'us-east-1', ...args], {
          env: {
            PATH: process.env.PATH,
            HOME: dir,
            AWS_ACCESS_KEY_ID: keys.accessKeyId,
            AWS_SECRET_ACCESS_KEY: keys.secretAccessKey,
            AWS_CONFIG_FILE: join(dir, 'none'),
            AWS_SHARED_CREDENTIALS_FILE: join(dir, 'none'),
            AWS_EC2_METADATA_DISABLED: 'true',
            AWS_MAX_ATTEMPTS: '1',
          },
        });
      await aws('s3', 'cp', join(dir, 'small.bin'), 's3://q-proxy/small.bin');
      const failure = await aws('s3', 'cp', join(dir, 'big.bin'), 's3://q-proxy/big.bin').then(
        () => undefined,
        (err: { stderr: string; code: number }) => err,
      );
      expect(failure).toBeDefined();
      expect(failure!.stderr).toMatch(/EntityTooLarge|507|quota/i);
      expect(await exists('q-proxy', 'big.bin')).toBe(false);
      const q = await usageSettles('q-proxy', (x) => x.usage_bytes === 3000 && x.reserved_bytes === 0);
      expect(q).toMatchObject({ usage_bytes: 3000, object_count: 1, reserved_bytes: 0 });
      const rows = await a.app
        .get(DataSource)
        .query(
          `SELECT detail FROM audit_events WHERE action = 's3.proxy.putobject' AND bucket = 'q-proxy' ORDER BY id`,
        );
      expect(rows.map((r: { detail: { http_status: number } }) => r.detail.http_status)).toContain(507);
    }, 60_000);
  });

  describe('the S3 proxy', () => {
    const MiB5 = 5 * MiB;
    let s3: S3Client;
    beforeAll(async () => {
      await createBucket('q-proxy-sdk');
      await createBucket('q-proxy-src');
      const keys = await mintCredential(user, [
        { backend_id: 'local', bucket: 'q-proxy-sdk' },
        { backend_id: 'local', bucket: 'q-proxy-src' },
      ]);
      s3 = proxyClient(proxyEndpoint(a), keys);
    });
    afterAll(() => s3?.destroy());
    const put = (key: string, size: number, bucket = 'q-proxy-sdk') =>
      s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: Buffer.alloc(size, key.length) }));
    const refusal = (promise: Promise<unknown>) =>
      promise.then(
        () => undefined,
        (err: { name: string; $metadata?: { httpStatusCode?: number } }) => ({
          name: err.name,
          status: err.$metadata?.httpStatusCode,
        }),
      );
    const refusalsCounted = async (plane: string) => {
      const text = await (await fetch(`${a.url}/metrics`)).text();
      const line = text
        .split('\n')
        .find((l) => l.startsWith(`stowage_quota_refusals_total{plane="${plane}",backend="local"}`));
      return line ? Number(line.split(' ').pop()) : 0;
    };

    it('DeleteObjects frees the usage of what it deleted (verbose and quiet), nothing for what was not there', async () => {
      await setQuota('q-proxy-sdk', { hard_bytes: 10_000 });
      await firstCount('q-proxy-sdk');
      await put('a.bin', 1000);
      await put('b.bin', 2000);
      await put('c.bin', 3000);
      await put('keep.bin', 500);
      expect(await usageSettles('q-proxy-sdk', (q) => q.usage_bytes === 6500)).toMatchObject({
        usage_bytes: 6500,
        object_count: 4,
      });
      const verbose = await s3.send(
        new DeleteObjectsCommand({
          Bucket: 'q-proxy-sdk',
          Delete: { Objects: [{ Key: 'a.bin' }, { Key: 'b.bin' }, { Key: 'missing.bin' }] },
        }),
      );
      expect((verbose.Deleted ?? []).map((d) => d.Key).sort()).toEqual(['a.bin', 'b.bin', 'missing.bin']);
      expect(await usageSettles('q-proxy-sdk', (q) => q.usage_bytes === 3500)).toMatchObject({
        usage_bytes: 3500,
        object_count: 2,
        reserved_bytes: 0,
      });
      await s3.send(
        new DeleteObjectsCommand({ Bucket: 'q-proxy-sdk', Delete: { Objects: [{ Key: 'c.bin' }], Quiet: true } }),
      );
      expect(await usageSettles('q-proxy-sdk', (q) => q.usage_bytes === 500)).toMatchObject({
        usage_bytes: 500,
        object_count: 1,
      });
      // The room freed is usable: 9,500 more bytes fit, one more does not.
      await put('big.bin', 9500);
      expect(await usageSettles('q-proxy-sdk', (q) => q.usage_bytes === 10_000)).toMatchObject({ usage_bytes: 10_000 });
      expect(await refusal(put('one-more.bin', 1))).toEqual({ name: 'EntityTooLarge', status: 507 });
    });

    it('counts every refusal in stowage_quota_refusals_total, by plane (API and proxy)', async () => {
      const [s3Before, apiBefore] = [await refusalsCounted('s3'), await refusalsCounted('dashboard')];
      expect(await refusal(put('over.bin', 100))).toEqual({ name: 'EntityTooLarge', status: 507 });
      expect(await refusal(put('over-2.bin', 100))).toEqual({ name: 'EntityTooLarge', status: 507 });
      const api = await upload(user, 'q-proxy-sdk', 'over-3.bin', Buffer.alloc(100));
      expect(api.status).toBe(507);
      expect(await refusalsCounted('s3')).toBe(s3Before + 2);
      expect(await refusalsCounted('dashboard')).toBe(apiBefore + 1);
    });

    it('refuses a CompleteMultipartUpload while the bucket is past its cap (507 EntityTooLarge), leaving no object', async () => {
      await setQuota('q-proxy-sdk', { hard_bytes: 100 * MiB });
      const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'q-proxy-sdk', Key: 'mp.bin' }));
      const part = await s3.send(
        new UploadPartCommand({
          Bucket: 'q-proxy-sdk',
          Key: 'mp.bin',
          UploadId,
          PartNumber: 1,
          Body: Buffer.alloc(MiB5, 7),
        }),
      );
      await usageSettles('q-proxy-sdk', (q) => q.usage_bytes === 10_000 + MiB5);
      // The cap is lowered under what the bucket holds (its parts count): completing is refused.
      await setQuota('q-proxy-sdk', { hard_bytes: MiB });
      const complete = () =>
        s3.send(
          new CompleteMultipartUploadCommand({
            Bucket: 'q-proxy-sdk',
            Key: 'mp.bin',
            UploadId,
            MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
          }),
        );
      expect(await refusal(complete())).toEqual({ name: 'EntityTooLarge', status: 507 });
      expect(await exists('q-proxy-sdk', 'mp.bin')).toBe(false);
      expect(await getQuota('q-proxy-sdk')).toMatchObject({ usage_bytes: 10_000 + MiB5, reserved_bytes: 0 });
      // Under the cap again, it completes; the parts already counted are not counted twice.
      await setQuota('q-proxy-sdk', { hard_bytes: 100 * MiB });
      await complete();
      expect(await exists('q-proxy-sdk', 'mp.bin')).toBe(true);
      expect(
        await usageSettles('q-proxy-sdk', (q) => q.object_count === 3 && q.usage_bytes === 10_000 + MiB5),
      ).toMatchObject({ usage_bytes: 10_000 + MiB5, object_count: 3, reserved_bytes: 0 });
    });

    it('refuses an UploadPartCopy past the cap (507 EntityTooLarge); a range that fits is held and counted', async () => {
      const used = 10_000 + MiB5;
      await setQuota('q-proxy-sdk', { hard_bytes: used + MiB });
      await put('src.bin', 2 * MiB, 'q-proxy-src');
      const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'q-proxy-sdk', Key: 'pc.bin' }));
      const copyPart = (range?: string) =>
        s3.send(
          new UploadPartCopyCommand({
            Bucket: 'q-proxy-sdk',
            Key: 'pc.bin',
            UploadId,
            PartNumber: 1,
            CopySource: 'q-proxy-src/src.bin',
            ...(range ? { CopySourceRange: range } : {}),
          }),
        );
      expect(await refusal(copyPart())).toEqual({ name: 'EntityTooLarge', status: 507 });
      expect(await getQuota('q-proxy-sdk')).toMatchObject({ usage_bytes: used, reserved_bytes: 0 });
      await copyPart(`bytes=0-${MiB / 2 - 1}`);
      expect(await usageSettles('q-proxy-sdk', (q) => q.usage_bytes === used + MiB / 2)).toMatchObject({
        usage_bytes: used + MiB / 2,
        reserved_bytes: 0,
      });
      // (s3rver answers AbortMultipartUpload with 405: freeing aborted parts is the s3-compat tier's.)
    });
  });

  describe('the soft cap and scans', () => {
    it('flags a bucket past its soft cap and audits the crossing once', async () => {
      await createBucket('q-soft');
      await setQuota('q-soft', { soft_bytes: 100, hard_bytes: 10_000 });
      expect((await upload(user, 'q-soft', 'a.bin', Buffer.alloc(80))).status).toBe(201);
      expect((await getQuota('q-soft')).soft_exceeded).toBe(false);
      expect((await upload(user, 'q-soft', 'b.bin', Buffer.alloc(80))).status).toBe(201);
      expect((await upload(user, 'q-soft', 'c.bin', Buffer.alloc(80))).status).toBe(201);
      const q = await getQuota('q-soft');
      expect(q).toMatchObject({ soft_exceeded: true, usage_bytes: 240 });
      const list = await reader.request('/api/backends/local/buckets');
      expect(list.body.buckets.find((x: { name: string }) => x.name === 'q-soft').quota.soft_exceeded).toBe(true);
      await sleep(200);
      const rows = await auditRows('quota.soft_exceeded', 'q-soft');
      expect(rows).toHaveLength(1);
      expect(rows[0].detail).toMatchObject({ used_bytes: 160, soft_bytes: 100, via: 'api' });
    });

    it('recompute corrects the counter after writes made directly upstream', async () => {
      await createBucket('q-drift');
      await setQuota('q-drift', { hard_bytes: 100_000 });
      expect((await upload(user, 'q-drift', 'seen.bin', Buffer.alloc(1000))).status).toBe(201);
      const backend = a.app.get(BackendRegistry).get('local');
      for (let i = 0; i < 3; i++) {
        const data = Buffer.alloc(2000 + i);
        await backend.putObject({
          bucket: 'q-drift',
          key: `behind/${i}`,
          body: Readable.from([data]),
          size: data.length,
        });
      }
      expect(await getQuota('q-drift')).toMatchObject({ usage_bytes: 1000, object_count: 1 });
      const res = await admin.request(`${bucketPath('q-drift')}/quota/recompute`, { method: 'POST' });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ usage_bytes: 1000 + 6003, object_count: 4, configured: true });
      expect(Date.parse(res.body.computed_at)).toBeGreaterThan(Date.now() - 60_000);
      const list = await reader.request('/api/backends/local/buckets');
      expect(list.body.buckets.find((x: { name: string }) => x.name === 'q-drift')).toMatchObject({
        size_bytes: 7003,
        object_count: 4,
      });
    });
    it('keeps what was settled while a scan ran: growth is added to its count, never lost', async () => {
      await createBucket('q-scan-delta');
      await setQuota('q-scan-delta', { hard_bytes: 100_000 });
      await firstCount('q-scan-delta');
      expect((await upload(user, 'q-scan-delta', 'old.bin', Buffer.alloc(300))).status).toBe(201);
      const store = a.app.get(QuotaStore);
      const ref = { backendId: 'local', bucket: 'q-scan-delta' };
      // A scan starts (the worker's first step) and its listing sees old.bin but not what follows.
      await store.beginScan(ref, 60_000);
      expect((await upload(user.on(b), 'q-scan-delta', 'during.bin', Buffer.alloc(700))).status).toBe(201);
      expect((await upload(user, 'q-scan-delta', 'during-2.bin', Buffer.alloc(50))).status).toBe(201);
      const del = await user.request(`${bucketPath('q-scan-delta')}/object?key=old.bin`, { method: 'DELETE' });
      expect(del.status).toBe(204);
      expect(await getQuota('q-scan-delta')).toMatchObject({ usage_bytes: 750, object_count: 2 });
      await store.finishScan(ref, 300, 1, 10);
      // The uploads settled during the scan survive it; the delete is left to the listing, which
      // saw old.bin: counted until the next scan (never less than what is stored).
      expect(await getQuota('q-scan-delta')).toMatchObject({ usage_bytes: 1050, object_count: 3 });
      // Settled after the scan: counted once, not kept for the next scan.
      expect((await upload(user, 'q-scan-delta', 'after.bin', Buffer.alloc(5))).status).toBe(201);
      const recount = await admin.request(`${bucketPath('q-scan-delta')}/quota/recompute`, { method: 'POST' });
      expect(recount.body).toMatchObject({ usage_bytes: 755, object_count: 3 });
      const [row] = await a.app
        .get(DataSource)
        .query(`SELECT scan_delta_bytes, scan_delta_objects FROM bucket_usage WHERE bucket = 'q-scan-delta'`);
      expect(row).toEqual({ scan_delta_bytes: '0', scan_delta_objects: '0' });
    });

    it('a real scan with uploads settling while it pages never counts less than what is stored', async () => {
      await createBucket('q-scan-busy');
      await setQuota('q-scan-busy', { hard_bytes: 10 * MiB });
      await firstCount('q-scan-busy');
      const backend = a.app.get(BackendRegistry).get('local');
      const keys = Array.from({ length: 2100 }, (_, i) => `fill/${String(i).padStart(5, '0')}`);
      for (let i = 0; i < keys.length; i += 50) {
        await Promise.all(
          keys
            .slice(i, i + 50)
            .map((key) =>
              backend.putObject({ bucket: 'q-scan-busy', key, body: Readable.from([Buffer.alloc(10)]), size: 10 }),
            ),
        );
      }
      const recount = admin.request(`${bucketPath('q-scan-busy')}/quota/recompute`, { method: 'POST' });
      const uploads: Array<Promise<{ status: number }>> = [];
      for (let i = 0; i < 10; i++) {
        uploads.push(upload(i % 2 ? user.on(b) : user, 'q-scan-busy', `a/${i}`, Buffer.alloc(1000)));
        await sleep(20);
      }
      expect((await Promise.all(uploads)).map((r) => r.status)).toEqual(Array(10).fill(201));
      expect((await recount).status).toBe(200);
      const q = await firstCount('q-scan-busy');
      expect(q.usage_bytes).toBeGreaterThanOrEqual(21_000 + 10_000);
      expect(q.object_count).toBeGreaterThanOrEqual(2110);
      // A scan with nothing settling beside it counts exactly.
      const exact = await admin.request(`${bucketPath('q-scan-busy')}/quota/recompute`, { method: 'POST' });
      expect(exact.body).toMatchObject({ usage_bytes: 31_000, object_count: 2110 });
    }, 120_000);
  });

  describe('replicas', () => {
    it('lets exactly the writes that fit through when 20 concurrent uploads on two instances exceed the cap', async () => {
      await createBucket('q-race');
      await setQuota('q-race', { hard_bytes: 1000 });
      // The count the new quota started is done first: a scan running beside the uploads may
      // count some twice (it never undercounts), and the race is about reservations.
      await firstCount('q-race');
      // A 503 (a pool starved on a loaded machine) is neither "fits" nor "refused": asked again.
      const uploadAnswered = async (session: Session, key: string) => {
        for (let attempt = 0; ; attempt++) {
          const res = await upload(session, 'q-race', key, Buffer.alloc(100));
          if (res.status !== 503 || attempt === 5) return res;
          await sleep(200 * (attempt + 1));
        }
      };
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => uploadAnswered(i % 2 ? user.on(b) : user, `r/${i}`)),
      );
      const statuses = results.map((r) => r.status);
      expect(statuses.filter((s) => s !== 201 && s !== 507)).toEqual([]);
      expect(statuses.filter((s) => s === 201)).toHaveLength(10);
      expect(statuses.filter((s) => s === 507)).toHaveLength(10);
      const stored = await a.app.get(BackendRegistry).get('local').listObjects({ bucket: 'q-race', prefix: 'r/' });
      expect(stored.objects.reduce((sum, o) => sum + o.size, 0)).toBe(1000);
      expect(await getQuota('q-race')).toMatchObject({ usage_bytes: 1000, object_count: 10, reserved_bytes: 0 });
    });

    it('releases the reservations of a replica killed mid-upload once they expire', async () => {
      await createBucket('q-killed');
      await setQuota('q-killed', { hard_bytes: 1000 });
      const dir = mkdtempSync(join(tmpdir(), 'stowage-killed-'));
      const file = join(dir, 'stowage.yaml');
      const s3 = stack.s3!;
      writeFileSync(
        file,
        [
          'server: { listen: "127.0.0.1:0", shutdown_timeout: 5s }',
          `db: { url: "${stack.db.url}", pool_size: 3 }`,
          `redis: { url: "${TEST_REDIS_URL}", key_prefix: "${stack.redisPrefix}" }`,
          'quotas: { reservation_ttl: 2s, scan_interval: -1s }',
          'workers: { enabled: false }',
          `backends: [{ id: local, endpoint: "${s3.endpoint}", access_key_env: K, secret_key_env: S, path_style: true, kind: s3rver }]`,
        ].join('\n'),
      );
      const child = runTs('src/main.ts', ['serve', '--config', file], {
        K: s3.accessKey,
        S: s3.secretKey,
        STOWAGE_CONFIG: '',
      });
      try {
        const line = await child.waitForLog(/listening/, 60_000);
        const port = Number(String(line.listen).split(':').pop());
        // 900 bytes declared, 10 sent: the child holds a 900-byte reservation when it dies.
        const req = httpRequest({
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: `${bucketPath('q-killed')}/object?key=stuck.bin`,
          headers: {
            cookie: user.cookie,
            'x-csrf-token': user.csrf,
            'content-type': 'application/octet-stream',
            'content-length': '900',
          },
        });
        req.on('error', () => undefined);
        req.write(Buffer.alloc(10));
        let held = 0;
        for (let i = 0; i < 300 && held === 0; i++) {
          await sleep(50);
          held = (await getQuota('q-killed')).reserved_bytes ?? 0;
        }
        if (held !== 900) console.log(child.stdout.slice(-20), child.stderr.slice(-20));
        expect(held).toBe(900);
        child.process.kill('SIGKILL');
        await child.exit;
        req.destroy();
        const refused = await upload(user, 'q-killed', 'next.bin', Buffer.alloc(200));
        expect(refused.status).toBe(507);
        await sleep(2500);
        const accepted = await upload(user, 'q-killed', 'next.bin', Buffer.alloc(200));
        expect(accepted.status).toBe(201);
        expect(await getQuota('q-killed')).toMatchObject({ usage_bytes: 200, reserved_bytes: 0 });
        expect(await exists('q-killed', 'stuck.bin')).toBe(false);
      } finally {
        child.process.kill('SIGKILL');
      }
    }, 90_000);
  });

  it('logged no error for any of these requests', () => {
    for (const app of [a, b]) expect(app.logs.filter((l) => JSON.parse(l).level === 'error')).toEqual([]);
  });
});
