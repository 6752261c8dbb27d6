import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { capabilitiesFor, S3Driver } from '../../src/storage-backends/drivers';
import { cephS3 } from '../harness/ceph';
import { bytesOf, failure, MiB, sha256Of, streamedBody, text } from '../harness/streams';

describe('S3Driver against Ceph RGW', () => {
  const s3 = cephS3();
  const driver = new S3Driver({
    id: 'ceph',
    name: 'Ceph RGW',
    endpoint: s3.endpoint,
    region: s3.region,
    accessKey: s3.accessKey,
    secretKey: s3.secretKey,
    pathStyle: true,
    kind: 'ceph',
    checksums: 'when_required',
  });
  const buckets: string[] = [];

  /** A bucket no other test (nor an earlier run against a reused RGW) uses. */
  const newBucket = async () => {
    const name = `stowage-drv-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
    await driver.createBucket(name);
    buckets.push(name);
    return name;
  };

  const put = (bucket: string, key: string, value: string) =>
    driver.putObject({ bucket, key, body: text(value), size: Buffer.byteLength(value) });

  /** Empties a bucket of versions, delete markers and pending uploads, then deletes it. */
  async function removeBucket(bucket: string): Promise<void> {
    for (const u of await driver.listMultipartUploads(bucket)) await driver.abortMultipart(bucket, u.key, u.uploadId);
    const versions = await driver.listObjectVersions(bucket, '');
    await driver.deleteObjects(
      bucket,
      versions.map((v) => ({ key: v.key, versionId: v.versionId })),
    );
    await driver.deleteBucket(bucket);
  }

  afterAll(async () => {
    const results = await Promise.allSettled(buckets.map((b) => removeBucket(b)));
    driver.close();
    const failed = results.filter((r) => r.status === 'rejected');
    if (failed.length) throw (failed[0] as PromiseRejectedResult).reason;
  });

  it('advertises every capability for a Ceph upstream', async () => {
    expect(driver.capabilities).toEqual(capabilitiesFor('ceph'));
    expect(driver.capabilities).toMatchObject({
      versioning: true,
      lifecycle: true,
      bucket_policy: true,
      multipart_management: true,
      suffix_ranges: true,
      admin_api: '',
      max_multipart_parts: 10_000,
    });
    await expect(driver.probe(5000)).resolves.toBeUndefined();
  });

  it('creates, lists, heads and deletes buckets; refuses a duplicate and a non-empty delete', async () => {
    const name = `stowage-drv-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
    await driver.createBucket(name);
    try {
      expect((await driver.listBuckets()).map((b) => b.name)).toContain(name);
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
    const bucket = await newBucket();
    const size = 5 * MiB + 7;
    const upload = streamedBody(size);
    const put = await driver.putObject({
      bucket,
      key: 'big/blob.bin',
      body: upload.body,
      size,
      contentType: 'application/x-test',
      metadata: { origin: 's3-compat' },
    });
    expect(put).toMatchObject({ key: 'big/blob.bin', size });

    const got = await driver.getObject(bucket, 'big/blob.bin');
    expect(got.contentLength).toBe(size);
    expect(got.info).toMatchObject({ size, etag: put.etag, contentType: 'application/x-test' });
    expect(got.info.metadata).toEqual({ origin: 's3-compat' });
    expect(await sha256Of(got.body)).toEqual({ sha256: upload.sha256(), size });
  });

  it('serves ranges a-b, a- and -N, and refuses unsatisfiable ones', async () => {
    const bucket = await newBucket();
    const data = randomBytes(1000);
    await driver.putObject({ bucket, key: 'r.bin', body: Readable.from([data]), size: data.length });

    const mid = await driver.getObject(bucket, 'r.bin', { range: { start: 100, end: 199 } });
    expect(mid.contentLength).toBe(100);
    expect(mid.contentRange).toBe('bytes 100-199/1000');
    expect(mid.info.size).toBe(1000);
    expect((await bytesOf(mid.body)).equals(data.subarray(100, 200))).toBe(true);

    const from = await driver.getObject(bucket, 'r.bin', { range: { start: 990 } });
    expect(from.contentRange).toBe('bytes 990-999/1000');
    expect((await bytesOf(from.body)).equals(data.subarray(990))).toBe(true);

    const suffix = await driver.getObject(bucket, 'r.bin', { range: { suffixLength: 10 } });
    expect(suffix.contentLength).toBe(10);
    expect(suffix.contentRange).toBe('bytes 990-999/1000');
    expect((await bytesOf(suffix.body)).equals(data.subarray(990))).toBe(true);

    const first = await driver.getObject(bucket, 'r.bin', { range: { start: 0, end: 0 } });
    expect((await bytesOf(first.body)).equals(data.subarray(0, 1))).toBe(true);

    expect((await failure(driver.getObject(bucket, 'r.bin', { range: { start: 5000, end: 6000 } }))).code).toBe(
      'bad_range',
    );
  });

  it('passes conditional headers through: 304 becomes notModified', async () => {
    const bucket = await newBucket();
    const { etag } = await put(bucket, 'c.txt', 'cached');
    const res = await driver.getObject(bucket, 'c.txt', { ifNoneMatch: etag });
    expect(res.notModified).toBe(true);
    expect(res.contentLength).toBe(0);
    expect((await bytesOf(res.body)).length).toBe(0);

    const since = await driver.getObject(bucket, 'c.txt', { ifModifiedSince: new Date(Date.now() + 60_000) });
    expect(since.notModified).toBe(true);

    const matched = await driver.getObject(bucket, 'c.txt', { ifMatch: etag });
    expect((await bytesOf(matched.body)).toString()).toBe('cached');
    const mismatch = await failure(
      driver.getObject(bucket, 'c.txt', { ifMatch: '"00000000000000000000000000000000"' }),
    );
    expect(mismatch.detail).toMatch(/^PreconditionFailed: /);
  });

  it('heads an object with its metadata', async () => {
    const bucket = await newBucket();
    await driver.putObject({
      bucket,
      key: 'h.txt',
      body: text('hello'),
      size: 5,
      contentType: 'text/plain',
      metadata: { owner: 'ops' },
    });
    const info = await driver.headObject(bucket, 'h.txt');
    expect(info).toMatchObject({ key: 'h.txt', size: 5, contentType: 'text/plain', metadata: { owner: 'ops' } });
    expect(info.lastModified).toBeInstanceOf(Date);
  });

  it('lists with prefix, delimiter and continuation tokens', async () => {
    const bucket = await newBucket();
    const keys = ['a.txt', 'docs/1.txt', 'docs/2.txt', 'docs/sub/3.txt', 'img/x.png', 'img/y.png', 'z.txt'];
    for (const key of keys) await put(bucket, key, key);

    const all = await driver.listObjects({ bucket });
    expect(all.objects.map((o) => o.key)).toEqual(keys);
    expect(all.isTruncated).toBe(false);

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
      seen.push(...page.objects.map((o) => o.key));
      token = page.nextContinuationToken;
    } while (token && pages < 10);
    expect(pages).toBe(3);
    expect(seen).toEqual(keys);
  });

  it('copies objects, replacing the metadata when asked and keeping the content type', async () => {
    const bucket = await newBucket();
    await driver.putObject({
      bucket,
      key: 'src.txt',
      body: text('payload'),
      size: 7,
      contentType: 'text/markdown',
      metadata: { a: '1' },
    });
    await driver.copyObject({ bucket, key: 'src.txt' }, { bucket, key: 'new.txt' }, { metadata: { b: '2' } });
    const copied = await driver.headObject(bucket, 'new.txt');
    expect(copied).toMatchObject({ size: 7, contentType: 'text/markdown' });
    expect(copied.metadata).toEqual({ b: '2' });

    await driver.updateObjectMetadata(bucket, 'src.txt', { c: '3' });
    expect(await driver.headObject(bucket, 'src.txt')).toMatchObject({
      contentType: 'text/markdown',
      metadata: { c: '3' },
    });

    // Keys with characters that need encoding in x-amz-copy-source.
    const odd = 'dir/with space+plus&amp=eq?q#h é.txt';
    await put(bucket, odd, 'odd');
    await driver.copyObject({ bucket, key: odd }, { bucket, key: 'odd-copy.txt' });
    expect((await bytesOf((await driver.getObject(bucket, 'odd-copy.txt')).body)).toString()).toBe('odd');
  });

  it('deletes many objects at once', async () => {
    const bucket = await newBucket();
    for (const key of ['d/1', 'd/2', 'd/3', 'keep']) await put(bucket, key, key);
    const res = await driver.deleteObjects(bucket, [{ key: 'd/1' }, { key: 'd/2' }, { key: 'd/3' }]);
    expect(res.errors).toEqual([]);
    expect(res.deleted.map((d) => d.key).sort()).toEqual(['d/1', 'd/2', 'd/3']);
    expect((await driver.listObjects({ bucket })).objects.map((o) => o.key)).toEqual(['keep']);
  });

  it('uploads 12 MiB in three streamed parts, with an S3 multipart ETag', async () => {
    const bucket = await newBucket();
    const key = 'mp/twelve.bin';
    const uploadId = await driver.createMultipart(bucket, key, { contentType: 'application/x-parts' });
    const whole = createHash('sha256');
    const parts = [];
    for (const [i, size] of [5 * MiB, 5 * MiB, 2 * MiB].entries()) {
      const data = randomBytes(size);
      whole.update(data);
      const body = Readable.from(
        (function* () {
          for (let at = 0; at < data.length; at += 64 * 1024) yield data.subarray(at, at + 64 * 1024);
        })(),
      );
      parts.push({ partNumber: i + 1, etag: await driver.uploadPart(bucket, key, uploadId, i + 1, body, size) });
    }
    const info = await driver.completeMultipart(bucket, key, uploadId, parts);
    expect(info).toMatchObject({ key, size: 12 * MiB, contentType: 'application/x-parts' });
    // RGW's CompleteMultipartUpload answer has an empty ETag; the driver reads the real one.
    expect(info.etag).toMatch(/^"[0-9a-f]{32}-3"$/);

    const got = await driver.getObject(bucket, key);
    expect(await sha256Of(got.body)).toEqual({ sha256: whole.digest('hex'), size: 12 * MiB });
  });

  it('lists pending uploads and their parts, then aborts one', async () => {
    const bucket = await newBucket();
    const key = 'pending/upload.bin';
    const uploadId = await driver.createMultipart(bucket, key);
    const other = await driver.createMultipart(bucket, 'elsewhere/x.bin');
    const sizes = [5 * MiB, 1024];
    const etags: string[] = [];
    for (const [i, size] of sizes.entries()) {
      etags.push(await driver.uploadPart(bucket, key, uploadId, i + 1, Readable.from([randomBytes(size)]), size));
    }

    const parts = await driver.listParts(bucket, key, uploadId);
    expect(parts.map((p) => [p.partNumber, p.size, p.etag])).toEqual([
      [1, sizes[0], etags[0]],
      [2, sizes[1], etags[1]],
    ]);
    expect(parts[0].lastModified).toBeInstanceOf(Date);

    const all = await driver.listMultipartUploads(bucket);
    expect(all.map((u) => [u.key, u.uploadId]).sort()).toEqual(
      [
        ['elsewhere/x.bin', other],
        [key, uploadId],
      ].sort(),
    );
    const filtered = await driver.listMultipartUploads(bucket, 'pending/');
    expect(filtered.map((u) => u.uploadId)).toEqual([uploadId]);
    expect(filtered[0].initiated).toBeInstanceOf(Date);

    await driver.abortMultipart(bucket, key, uploadId);
    await driver.abortMultipart(bucket, 'elsewhere/x.bin', other);
    expect(await driver.listMultipartUploads(bucket)).toEqual([]);
    expect((await failure(driver.listParts(bucket, key, uploadId))).code).toBe('not_found');
    expect((await failure(driver.abortMultipart(bucket, key, uploadId))).code).toBe('not_found');
    expect((await driver.listObjects({ bucket })).objects).toEqual([]);
  });

  it('puts, reads and clears object tags', async () => {
    const bucket = await newBucket();
    await put(bucket, 't.txt', 'tagged');
    expect(await driver.getObjectTagging(bucket, 't.txt')).toEqual({});
    await driver.setObjectTagging(bucket, 't.txt', { team: 'storage', 'cost center': 'a&b=c' });
    expect(await driver.getObjectTagging(bucket, 't.txt')).toEqual({ team: 'storage', 'cost center': 'a&b=c' });
    await driver.setObjectTagging(bucket, 't.txt', {});
    expect(await driver.getObjectTagging(bucket, 't.txt')).toEqual({});

    await driver.putObject({ bucket, key: 'u.txt', body: text('u'), size: 1, tags: { at: 'upload', 'a b': 'c&d' } });
    expect(await driver.getObjectTagging(bucket, 'u.txt')).toEqual({ at: 'upload', 'a b': 'c&d' });
  });

  it('keeps versions once versioning is on, and lists them with delete markers', async () => {
    const bucket = await newBucket();
    expect(await driver.getBucketVersioning(bucket)).toBe(false);
    await driver.setBucketVersioning(bucket, true);
    expect(await driver.getBucketVersioning(bucket)).toBe(true);

    const first = await put(bucket, 'doc.txt', 'version one');
    const second = await put(bucket, 'doc.txt', 'version two');
    expect(first.versionId).toBeTruthy();
    expect(second.versionId).toBeTruthy();
    expect(second.versionId).not.toBe(first.versionId);
    await put(bucket, 'other.txt', 'x');
    await driver.deleteObject(bucket, 'doc.txt');

    const versions = await driver.listObjectVersions(bucket, 'doc');
    expect(versions.map((v) => [v.key, v.isDeleteMarker, v.isLatest])).toEqual([
      ['doc.txt', true, true],
      ['doc.txt', false, false],
      ['doc.txt', false, false],
    ]);
    expect(versions.slice(1).map((v) => v.versionId)).toEqual([second.versionId, first.versionId]);
    expect(versions[1]).toMatchObject({ size: 11, etag: second.etag });

    const old = await driver.getObject(bucket, 'doc.txt', { versionId: first.versionId });
    expect(old.info.versionId).toBe(first.versionId);
    expect((await bytesOf(old.body)).toString()).toBe('version one');
    expect((await driver.headObject(bucket, 'doc.txt', second.versionId)).size).toBe(11);
    expect((await failure(driver.getObject(bucket, 'doc.txt'))).code).toBe('not_found');

    await driver.setBucketVersioning(bucket, false);
    expect(await driver.getBucketVersioning(bucket)).toBe(false);
  });

  it('sets, reads and removes lifecycle rules', async () => {
    const bucket = await newBucket();
    expect(await driver.getBucketLifecycle(bucket)).toEqual([]);
    const rules = [
      { id: 'logs', prefix: 'logs/', enabled: true, expiration_days: 30, abort_incomplete_days: 7 },
      { id: 'old-versions', enabled: false, noncurrent_expire_days: 90 },
    ];
    await driver.setBucketLifecycle(bucket, rules);
    expect(await driver.getBucketLifecycle(bucket)).toEqual(rules);
    await driver.setBucketLifecycle(bucket, []);
    expect(await driver.getBucketLifecycle(bucket)).toEqual([]);
  });

  it('sets, reads and deletes a bucket policy that the upstream enforces', async () => {
    const bucket = await newBucket();
    await put(bucket, 'public.txt', 'for everyone');
    expect(await driver.getBucketPolicy(bucket)).toBe('');
    const anonymous = await fetch(`${s3.endpoint}/${bucket}/public.txt`);
    expect(anonymous.status).toBe(403);

    const policy = JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'PublicRead',
          Effect: 'Allow',
          Principal: '*',
          Action: ['s3:GetObject'],
          Resource: [`arn:aws:s3:::${bucket}/*`],
        },
      ],
    });
    await driver.setBucketPolicy(bucket, policy);
    expect(JSON.parse(await driver.getBucketPolicy(bucket))).toEqual(JSON.parse(policy));
    const allowed = await fetch(`${s3.endpoint}/${bucket}/public.txt`);
    expect(allowed.status).toBe(200);
    expect(await allowed.text()).toBe('for everyone');

    await driver.deleteBucketPolicy(bucket);
    expect(await driver.getBucketPolicy(bucket)).toBe('');
  });

  it('keeps CORS rules and removes them with an empty list', async () => {
    const bucket = await newBucket();
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
    await driver.setBucketCors(bucket, []);
    expect(await driver.getBucketCors(bucket)).toEqual([]);
  });

  it('answers not_found for missing buckets, keys and versions', async () => {
    const bucket = await newBucket();
    const missing = `${bucket}-gone`;
    const cases: [() => Promise<unknown>, RegExp][] = [
      [() => driver.getObject(bucket, 'absent'), /^NoSuchKey: /],
      [() => driver.headObject(bucket, 'absent'), /^NotFound: /],
      [() => driver.getObject(missing, 'absent'), /^NoSuchBucket: /],
      [() => driver.headBucket(missing), /^NotFound: /],
      [() => driver.deleteBucket(missing), /^NoSuchBucket: /],
      [() => driver.listObjects({ bucket: missing }), /^NoSuchBucket: /],
      [() => driver.getBucketPolicy(missing), /^NoSuchBucket: /],
    ];
    for (const [call, detail] of cases) {
      const err = await failure(call());
      expect(err.code).toBe('not_found');
      expect(err.detail).toMatch(detail);
    }
  });

  it('refuses to overwrite an existing key when ifNoneMatch is set', async () => {
    const bucket = await newBucket();
    await put(bucket, 'once.txt', 'first');
    const err = await failure(
      driver.putObject({ bucket, key: 'once.txt', body: text('second'), size: 6, ifNoneMatch: true }),
    );
    expect(err.code).toBe('object_exists');
    expect((await bytesOf((await driver.getObject(bucket, 'once.txt')).body)).toString()).toBe('first');
    await expect(
      driver.putObject({ bucket, key: 'fresh.txt', body: text('n'), size: 1, ifNoneMatch: true }),
    ).resolves.toMatchObject({ size: 1 });
  });

  it('presigns GET and PUT URLs that RGW honours', async () => {
    const bucket = await newBucket();
    const putUrl = await driver.presignPut(bucket, 'signed.txt', 60, 'text/plain');
    const wrongType = await fetch(putUrl, { method: 'PUT', body: 'x', headers: { 'content-type': 'image/png' } });
    expect(wrongType.status).toBe(403);
    const up = await fetch(putUrl, { method: 'PUT', body: 'via url', headers: { 'content-type': 'text/plain' } });
    expect(up.status).toBe(200);
    expect((await driver.headObject(bucket, 'signed.txt')).contentType).toBe('text/plain');
    const down = await fetch(await driver.presignGet(bucket, 'signed.txt', 60));
    expect(down.status).toBe(200);
    expect(await down.text()).toBe('via url');
  });

  it('reports a wrong secret as backend_error without repeating it', async () => {
    const wrongSecret = `${s3.secretKey.slice(0, -1)}${s3.secretKey.endsWith('x') ? 'y' : 'x'}`;
    const wrong = new S3Driver({
      id: 'wrong',
      name: 'wrong',
      endpoint: s3.endpoint,
      region: s3.region,
      accessKey: s3.accessKey,
      secretKey: wrongSecret,
      pathStyle: true,
      kind: 'ceph',
      checksums: 'when_required',
    });
    try {
      const err = await failure(wrong.probe(5000));
      expect(err.code).toBe('backend_error');
      expect(err.status).toBe(502);
      expect(err.detail).toMatch(/^SignatureDoesNotMatch: /);
      expect(err.detail).not.toContain(wrongSecret);
    } finally {
      wrong.close();
    }
  });
});
