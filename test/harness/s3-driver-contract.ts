import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { S3Driver, S3DriverConfig } from '../../src/storage-backends/drivers';
import { localDriver } from './local-upstream';
import { bytesOf, failure, MiB, sha256Of, streamedBody, text } from './streams';

/** What the contract needs of the file that runs it; each getter is read once its `beforeAll` ran. */
export interface DriverContractFixture {
  /** The driver under test. */
  driver(): S3Driver;
  /** Its configuration, to build a driver with a wrong secret against the same upstream. */
  config(): S3DriverConfig;
  /** A bucket name no other test (nor an earlier run against a reused upstream) uses. */
  bucketName(): string;
  /** Creates a bucket of its own for one test and remembers it for the file's clean-up. */
  newBucket(): Promise<string>;
}

/**
 * The S3 driver contract: what every S3-compatible upstream must do through `S3Driver` (buckets,
 * streamed bodies, ranges, conditions, listing, copies, bulk delete, multipart, tags, CORS, error
 * mapping, presigned URLs). Runs against s3rver (test/e2e/s3-driver.e2e-spec.ts) and Ceph RGW
 * (test/s3-compat/s3-driver.spec.ts); what only one upstream does stays in that file.
 */
export function describeDriverContract(upstream: string, fx: DriverContractFixture): void {
  describe(`S3 driver contract (${upstream})`, () => {
    const put = (bucket: string, key: string, value: string) =>
      fx.driver().putObject({ bucket, key, body: text(value), size: Buffer.byteLength(value) });

    it('probes the upstream', async () => {
      await expect(fx.driver().probe(5000)).resolves.toBeUndefined();
    });

    it('creates, lists, heads and deletes buckets; refuses a duplicate and a non-empty delete', async () => {
      const driver = fx.driver();
      const name = fx.bucketName();
      await driver.createBucket(name);
      try {
        const listed = await driver.listBuckets();
        expect(listed.map((b) => b.name)).toContain(name);
        expect(listed.find((b) => b.name === name)?.createdAt).toBeInstanceOf(Date);
        await expect(driver.headBucket(name)).resolves.toBeUndefined();
        // RGW (like AWS in us-east-1) answers 200 to re-creating one's own bucket; the driver looks first.
        expect((await failure(driver.createBucket(name))).code).toBe('conflict');

        await put(name, 'keep.txt', 'x');
        const notEmpty = await failure(driver.deleteBucket(name));
        expect(notEmpty.code).toBe('conflict');
        expect(notEmpty.detail).toMatch(/^BucketNotEmpty: /);
        await driver.deleteObject(name, 'keep.txt');
      } finally {
        await driver.deleteBucket(name);
      }
      expect((await failure(driver.headBucket(name))).code).toBe('not_found');
      expect((await driver.listBuckets()).map((b) => b.name)).not.toContain(name);
    });

    it('streams a 5 MiB body up and down unchanged', async () => {
      const driver = fx.driver();
      const bucket = await fx.newBucket();
      const size = 5 * MiB + 7;
      const upload = streamedBody(size);
      const stored = await driver.putObject({
        bucket,
        key: 'big/blob.bin',
        body: upload.body,
        size,
        contentType: 'application/x-test',
        metadata: { origin: 'contract' },
      });
      expect(stored).toMatchObject({ key: 'big/blob.bin', size, contentType: 'application/x-test' });
      expect(stored.etag).toMatch(/^"[0-9a-f]{32}"$/);

      const got = await driver.getObject(bucket, 'big/blob.bin');
      expect(got.contentLength).toBe(size);
      expect(got.contentRange).toBeUndefined();
      expect(got.info).toMatchObject({
        key: 'big/blob.bin',
        size,
        etag: stored.etag,
        contentType: 'application/x-test',
      });
      expect(got.info.metadata).toEqual({ origin: 'contract' });
      expect(got.body).toBeInstanceOf(Readable);
      expect(await sha256Of(got.body)).toEqual({ sha256: upload.sha256(), size });
    });

    it('serves byte ranges a-b and a-, and refuses unsatisfiable and reversed ones', async () => {
      const driver = fx.driver();
      const bucket = await fx.newBucket();
      const data = randomBytes(1000);
      await driver.putObject({ bucket, key: 'r.bin', body: Readable.from([data]), size: data.length });

      const mid = await driver.getObject(bucket, 'r.bin', { range: { start: 100, end: 199 } });
      expect(mid.contentLength).toBe(100);
      expect(mid.contentRange).toBe('bytes 100-199/1000');
      expect(mid.info.size).toBe(1000);
      expect((await bytesOf(mid.body)).equals(data.subarray(100, 200))).toBe(true);

      const tail = await driver.getObject(bucket, 'r.bin', { range: { start: 990 } });
      expect(tail.contentLength).toBe(10);
      expect(tail.contentRange).toBe('bytes 990-999/1000');
      expect((await bytesOf(tail.body)).equals(data.subarray(990))).toBe(true);

      const beyond = await failure(driver.getObject(bucket, 'r.bin', { range: { start: 5000, end: 6000 } }));
      expect(beyond.code).toBe('bad_range');
      expect((await failure(driver.getObject(bucket, 'r.bin', { range: { start: 10, end: 5 } }))).code).toBe(
        'bad_range',
      );
    });

    it('answers a matching If-None-Match with notModified and an empty body', async () => {
      const driver = fx.driver();
      const bucket = await fx.newBucket();
      const { etag } = await put(bucket, 'c.txt', 'cached');
      const res = await driver.getObject(bucket, 'c.txt', { ifNoneMatch: etag });
      expect(res.notModified).toBe(true);
      expect(res.contentLength).toBe(0);
      expect((await bytesOf(res.body)).length).toBe(0);

      const fresh = await driver.getObject(bucket, 'c.txt', { ifNoneMatch: '"0123456789abcdef0123456789abcdef"' });
      expect(fresh.notModified).toBeFalsy();
      expect((await bytesOf(fresh.body)).toString()).toBe('cached');
    });

    it('heads an object with its metadata', async () => {
      const driver = fx.driver();
      const bucket = await fx.newBucket();
      await driver.putObject({
        bucket,
        key: 'h.txt',
        body: text('hello'),
        size: 5,
        contentType: 'text/plain',
        metadata: { owner: 'ops', note: 'two words' },
      });
      const info = await driver.headObject(bucket, 'h.txt');
      expect(info).toMatchObject({ key: 'h.txt', size: 5, contentType: 'text/plain' });
      expect(info.etag).toMatch(/^"[0-9a-f]{32}"$/);
      expect(info.lastModified).toBeInstanceOf(Date);
      expect(info.metadata).toEqual({ owner: 'ops', note: 'two words' });
    });

    it('lists with prefix, delimiter and continuation tokens', async () => {
      const driver = fx.driver();
      const bucket = await fx.newBucket();
      const keys = ['a.txt', 'docs/1.txt', 'docs/2.txt', 'docs/sub/3.txt', 'img/x.png', 'img/y.png', 'z.txt'];
      for (const key of keys) await put(bucket, key, key);

      const all = await driver.listObjects({ bucket });
      expect(all.objects.map((o) => o.key)).toEqual(keys);
      expect(all.commonPrefixes).toEqual([]);
      expect(all.isTruncated).toBe(false);
      expect(all.nextContinuationToken).toBeUndefined();
      expect(all.objects[0]).toMatchObject({ key: 'a.txt', size: 5 });
      expect(all.objects[0].lastModified).toBeInstanceOf(Date);

      const top = await driver.listObjects({ bucket, delimiter: '/' });
      expect(top.objects.map((o) => o.key)).toEqual(['a.txt', 'z.txt']);
      expect(top.commonPrefixes).toEqual(['docs/', 'img/']);

      const docs = await driver.listObjects({ bucket, prefix: 'docs/', delimiter: '/' });
      expect(docs.objects.map((o) => o.key)).toEqual(['docs/1.txt', 'docs/2.txt']);
      expect(docs.commonPrefixes).toEqual(['docs/sub/']);

      const seen: string[] = [];
      let token: string | undefined;
      let pages = 0;
      do {
        const page = await driver.listObjects({ bucket, maxKeys: 3, continuationToken: token });
        pages++;
        expect(page.objects.length).toBeLessThanOrEqual(3);
        seen.push(...page.objects.map((o) => o.key));
        expect(page.isTruncated).toBe(page.nextContinuationToken !== undefined);
        token = page.nextContinuationToken;
      } while (token && pages < 10);
      expect(pages).toBe(3);
      expect(seen).toEqual(keys);
    });

    it('copies objects, replacing the metadata when asked and keeping the content type', async () => {
      const driver = fx.driver();
      const bucket = await fx.newBucket();
      await driver.putObject({
        bucket,
        key: 'src.txt',
        body: text('payload'),
        size: 7,
        contentType: 'text/markdown',
        metadata: { a: '1' },
      });

      await driver.copyObject({ bucket, key: 'src.txt' }, { bucket, key: 'same.txt' });
      expect(await driver.headObject(bucket, 'same.txt')).toMatchObject({
        size: 7,
        contentType: 'text/markdown',
        metadata: { a: '1' },
      });

      await driver.copyObject({ bucket, key: 'src.txt' }, { bucket, key: 'new.txt' }, { metadata: { b: '2' } });
      const copied = await driver.headObject(bucket, 'new.txt');
      expect(copied).toMatchObject({ size: 7, contentType: 'text/markdown' });
      expect(copied.metadata).toEqual({ b: '2' });
      expect((await bytesOf((await driver.getObject(bucket, 'new.txt')).body)).toString()).toBe('payload');

      await driver.updateObjectMetadata(bucket, 'src.txt', { c: '3' });
      expect(await driver.headObject(bucket, 'src.txt')).toMatchObject({
        contentType: 'text/markdown',
        metadata: { c: '3' },
      });

      const other = await fx.newBucket();
      await driver.copyObject({ bucket, key: 'src.txt' }, { bucket: other, key: 'dir/copy.txt' });
      expect((await driver.headObject(other, 'dir/copy.txt')).size).toBe(7);

      expect((await failure(driver.copyObject({ bucket, key: 'nope' }, { bucket, key: 'x' }))).code).toBe('not_found');
    });

    it('deletes many objects at once', async () => {
      const driver = fx.driver();
      const bucket = await fx.newBucket();
      for (const key of ['d/1', 'd/2', 'd/3', 'keep']) await put(bucket, key, key);
      const res = await driver.deleteObjects(bucket, [{ key: 'd/1' }, { key: 'd/2' }, { key: 'd/3' }]);
      expect(res.errors).toEqual([]);
      expect(res.deleted.map((d) => d.key).sort()).toEqual(['d/1', 'd/2', 'd/3']);
      expect((await driver.listObjects({ bucket })).objects.map((o) => o.key)).toEqual(['keep']);
      expect(await driver.deleteObjects(bucket, [])).toEqual({ deleted: [], errors: [] });
    });

    it('uploads 12 MiB in three streamed parts, completed from parts in any order', async () => {
      const driver = fx.driver();
      const bucket = await fx.newBucket();
      const key = 'mp/twelve.bin';
      const uploadId = await driver.createMultipart(bucket, key, {
        contentType: 'application/x-parts',
        metadata: { kind: 'multipart' },
      });
      expect(uploadId).toBeTruthy();

      const whole = createHash('sha256');
      const parts = [];
      for (const [i, size] of [5 * MiB, 5 * MiB, 2 * MiB].entries()) {
        const data = randomBytes(size);
        whole.update(data);
        // A stream of 64 KiB chunks, like a request body.
        const body = Readable.from(
          (function* () {
            for (let at = 0; at < data.length; at += 64 * 1024) yield data.subarray(at, at + 64 * 1024);
          })(),
        );
        const etag = await driver.uploadPart(bucket, key, uploadId, i + 1, body, size);
        // RGW answers a part copy's ETag without quotes.
        expect(etag).toMatch(/^"?[0-9a-f]{32}"?$/);
        parts.push({ partNumber: i + 1, etag });
      }

      const info = await driver.completeMultipart(bucket, key, uploadId, [...parts].reverse());
      expect(info).toMatchObject({ key, size: 12 * MiB, contentType: 'application/x-parts' });
      expect(info.etag).toBeTruthy();
      expect(info.metadata).toEqual({ kind: 'multipart' });

      const got = await driver.getObject(bucket, key);
      expect(await sha256Of(got.body)).toEqual({ sha256: whole.digest('hex'), size: 12 * MiB });

      expect((await failure(driver.uploadPart(bucket, key, uploadId, 0, text('x'), 1))).code).toBe('bad_request');
    });

    it('keeps keys with spaces, unicode and percent signs through every object operation', async () => {
      const driver = fx.driver();
      const bucket = await fx.newBucket();
      const keys = ['dir/sp ace.txt', 'per%25cent%', 'é😀/ünï.txt'];
      for (const key of keys) {
        await put(bucket, key, `v:${key}`);
        expect((await driver.headObject(bucket, key)).size).toBe(Buffer.byteLength(`v:${key}`));
        expect((await bytesOf((await driver.getObject(bucket, key)).body)).toString()).toBe(`v:${key}`);
        await driver.setObjectTagging(bucket, key, { 'k é': 'v+%' });
        expect(await driver.getObjectTagging(bucket, key)).toEqual({ 'k é': 'v+%' });
        await driver.copyObject({ bucket, key }, { bucket, key: `${key}.copy` }, { metadata: { from: 'copy' } });
        expect((await driver.headObject(bucket, `${key}.copy`)).metadata).toEqual({ from: 'copy' });
      }
      const listed = (await driver.listObjects({ bucket })).objects.map((o) => o.key);
      expect(listed.sort()).toEqual([...keys, ...keys.map((k) => `${k}.copy`)].sort());
      const gone = await driver.deleteObjects(
        bucket,
        listed.map((key) => ({ key })),
      );
      expect(gone.errors).toEqual([]);
      expect(gone.deleted.map((d) => d.key).sort()).toEqual([...listed].sort());
      expect((await driver.listObjects({ bucket })).objects).toEqual([]);
    });

    it('deletes many objects at once whose keys need escaping in the request body', async () => {
      const driver = fx.driver();
      const bucket = await fx.newBucket();
      const keys = ['a&b <c> "d"', "it's", 'x>y', 'sp ace/é'];
      for (const key of keys) await put(bucket, key, 'x');
      const res = await driver.deleteObjects(
        bucket,
        keys.map((key) => ({ key })),
      );
      expect(res.errors).toEqual([]);
      // s3rver escapes the keys of its answer twice; what counts is that every key went.
      expect(res.deleted).toHaveLength(keys.length);
      expect((await driver.listObjects({ bucket })).objects).toEqual([]);
    });

    it('copies byte ranges of an object into the parts of a multipart upload', async () => {
      const driver = fx.driver();
      const bucket = await fx.newBucket();
      const data = randomBytes(6 * MiB + 3);
      await driver.putObject({ bucket, key: 'src/whole.bin', body: Readable.from([data]), size: data.length });
      const key = 'dst/ranged copy.bin';
      const uploadId = await driver.createMultipart(bucket, key, { contentType: 'application/x-copied' });
      const ranges = [
        { start: 0, end: 5 * MiB - 1 },
        { start: 5 * MiB, end: data.length - 1 },
      ];
      const parts = [];
      for (const [i, range] of ranges.entries()) {
        const etag = await driver.uploadPartCopy({
          source: { bucket, key: 'src/whole.bin' },
          range,
          bucket,
          key,
          uploadId,
          partNumber: i + 1,
        });
        // RGW answers a part copy's ETag without quotes.
        expect(etag).toMatch(/^"?[0-9a-f]{32}"?$/);
        parts.push({ partNumber: i + 1, etag });
      }
      const info = await driver.completeMultipart(bucket, key, uploadId, parts);
      expect(info).toMatchObject({ key, size: data.length, contentType: 'application/x-copied' });
      expect((await bytesOf((await driver.getObject(bucket, key)).body)).equals(data)).toBe(true);
    });

    it('puts, reads and clears object tags', async () => {
      const driver = fx.driver();
      const bucket = await fx.newBucket();
      await put(bucket, 't.txt', 'tagged');
      expect(await driver.getObjectTagging(bucket, 't.txt')).toEqual({});
      await driver.setObjectTagging(bucket, 't.txt', { team: 'storage', 'cost center': 'a&b=c' });
      expect(await driver.getObjectTagging(bucket, 't.txt')).toEqual({ team: 'storage', 'cost center': 'a&b=c' });
      await driver.setObjectTagging(bucket, 't.txt', {});
      expect(await driver.getObjectTagging(bucket, 't.txt')).toEqual({});

      await driver.putObject({ bucket, key: 'u.txt', body: text('u'), size: 1, tags: { at: 'upload', 'a b': 'c&d' } });
      expect(await driver.getObjectTagging(bucket, 'u.txt')).toEqual({ at: 'upload', 'a b': 'c&d' });
    });

    it('keeps CORS rules', async () => {
      const driver = fx.driver();
      const bucket = await fx.newBucket();
      expect(await driver.getBucketCors(bucket)).toEqual([]);
      const rules = [
        {
          allowed_origins: ['https://app.example'],
          allowed_methods: ['GET', 'PUT'],
          allowed_headers: ['*'],
          expose_headers: ['ETag'],
          max_age_seconds: 600,
        },
      ];
      await driver.setBucketCors(bucket, rules);
      expect(await driver.getBucketCors(bucket)).toEqual(rules);
    });

    it('answers not_found 404 for missing buckets and keys', async () => {
      const driver = fx.driver();
      const bucket = await fx.newBucket();
      const missing = `${bucket}-gone`;
      const cases: [() => Promise<unknown>, RegExp][] = [
        [() => driver.getObject(bucket, 'absent'), /^NoSuchKey: /],
        [() => driver.headObject(bucket, 'absent'), /^NotFound: /],
        [() => driver.getObject(missing, 'absent'), /^NoSuchBucket: /],
        [() => driver.headBucket(missing), /^NotFound: /],
        [() => driver.deleteBucket(missing), /^NoSuchBucket: /],
        [() => driver.listObjects({ bucket: missing }), /^NoSuchBucket: /],
        [() => driver.putObject({ bucket: missing, key: 'k', body: text('x'), size: 1 }), /^NoSuchBucket: /],
      ];
      for (const [call, detail] of cases) {
        const err = await failure(call());
        expect(err.code).toBe('not_found');
        expect(err.status).toBe(404);
        expect(err.detail).toMatch(detail);
      }
    });

    it('refuses to overwrite an existing key when ifNoneMatch is set', async () => {
      const driver = fx.driver();
      const bucket = await fx.newBucket();
      await put(bucket, 'once.txt', 'first');
      const err = await failure(
        driver.putObject({ bucket, key: 'once.txt', body: text('second'), size: 6, ifNoneMatch: true }),
      );
      expect(err.code).toBe('object_exists');
      expect(err.status).toBe(409);
      expect((await bytesOf((await driver.getObject(bucket, 'once.txt')).body)).toString()).toBe('first');

      const fresh = await driver.putObject({ bucket, key: 'new.txt', body: text('n'), size: 1, ifNoneMatch: true });
      expect(fresh.size).toBe(1);
    });

    it('presigns GET and PUT URLs that the upstream honours', async () => {
      const driver = fx.driver();
      const bucket = await fx.newBucket();
      const putUrl = await driver.presignPut(bucket, 'signed.txt', 60, 'text/plain');
      const wrongType = await fetch(putUrl, { method: 'PUT', body: 'x', headers: { 'content-type': 'image/png' } });
      expect(wrongType.status).toBe(403);
      const up = await fetch(putUrl, { method: 'PUT', body: 'via url', headers: { 'content-type': 'text/plain' } });
      expect(up.status).toBe(200);
      expect((await driver.headObject(bucket, 'signed.txt')).contentType).toBe('text/plain');

      const getUrl = await driver.presignGet(bucket, 'signed.txt', 60);
      expect(getUrl).toContain('X-Amz-Expires=60');
      const down = await fetch(getUrl);
      expect(down.status).toBe(200);
      expect(await down.text()).toBe('via url');

      expect((await failure(driver.presignGet(bucket, 'signed.txt', 0))).code).toBe('bad_request');
    });

    it('reports a wrong secret as backend_error 502 without repeating it', async () => {
      const config = fx.config();
      const wrongSecret = `${config.secretKey.slice(0, -1)}${config.secretKey.endsWith('x') ? 'y' : 'x'}`;
      const { driver: wrong, close } = localDriver(config.endpoint, config.kind, {
        ...config,
        id: 'wrong',
        name: 'wrong',
        secretKey: wrongSecret,
      });
      const bucket = await fx.newBucket();
      try {
        const calls = [
          () => wrong.listBuckets(),
          () => wrong.probe(5000),
          () => wrong.headObject(bucket, 'k'),
          () => wrong.listObjects({ bucket }),
          () => wrong.copyObject({ bucket, key: 'a' }, { bucket, key: 'b' }),
        ];
        for (const call of calls) {
          const err = await failure(call());
          expect(err.code).toBe('backend_error');
          expect(err.status).toBe(502);
          // A HEAD answer has no body to name the refusal: its status speaks for it.
          expect(err.detail).toMatch(/^(SignatureDoesNotMatch: |Forbidden: HTTP 403)/);
          expect(err.detail).not.toContain(wrongSecret);
        }
      } finally {
        await close();
      }
    });

    it('reports an unreachable upstream as backend_error 502', async () => {
      const { driver: dead, close } = localDriver('http://127.0.0.1:9', fx.config().kind);
      try {
        for (const call of [
          () => dead.probe(3000),
          () => dead.headObject('b', 'k'),
          () => dead.createMultipart('b', 'k'),
        ]) {
          const err = await failure(call());
          expect(err.code).toBe('backend_error');
          expect(err.status).toBe(502);
        }
      } finally {
        await close();
      }
    });
  });
}
