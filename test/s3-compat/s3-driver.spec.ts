import { randomBytes } from 'node:crypto';
import { lookup } from 'node:dns';
import { Readable } from 'node:stream';
import { capabilitiesFor, S3Driver, S3DriverConfig } from '../../src/storage-backends/drivers';
import type { EndpointPolicy } from '../../src/storage-backends/endpoint-policy.service';
import { UpstreamClient } from '../../src/storage-backends/upstream/upstream-client';
import { cephS3 } from '../harness/ceph';
import { describeDriverContract } from '../harness/s3-driver-contract';
import { bytesOf, failure, MiB, text } from '../harness/streams';

describe('S3Driver against Ceph RGW', () => {
  const s3 = cephS3();
  const config: S3DriverConfig = {
    id: 'ceph',
    name: 'Ceph RGW',
    endpoint: s3.endpoint,
    region: s3.region,
    accessKey: s3.accessKey,
    secretKey: s3.secretKey,
    pathStyle: true,
    kind: 'ceph',
    checksums: 'when_required',
  };
  // Object reads go through the lean signed client, as the backend factory builds drivers.
  const reader = new UpstreamClient({ lookup } as unknown as EndpointPolicy);
  const driver = new S3Driver(config, reader);
  const buckets: string[] = [];

  /** A bucket name no other test (nor an earlier run against a reused RGW) uses. */
  const bucketName = () => `stowage-drv-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
  const newBucket = async () => {
    const name = bucketName();
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
    await reader.onApplicationShutdown();
    const failed = results.filter((r) => r.status === 'rejected');
    if (failed.length) throw (failed[0] as PromiseRejectedResult).reason;
  });

  describeDriverContract('Ceph RGW', { driver: () => driver, config: () => config, bucketName, newBucket });

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
  });

  it('serves suffix ranges -N and the one-byte range 0-0', async () => {
    const bucket = await newBucket();
    const data = randomBytes(1000);
    await driver.putObject({ bucket, key: 'r.bin', body: Readable.from([data]), size: data.length });
    const suffix = await driver.getObject(bucket, 'r.bin', { range: { suffixLength: 10 } });
    expect(suffix.contentLength).toBe(10);
    expect(suffix.contentRange).toBe('bytes 990-999/1000');
    expect((await bytesOf(suffix.body)).equals(data.subarray(990))).toBe(true);

    // s3rver does not serve bytes=0-0 as the first byte alone; RGW does.
    const first = await driver.getObject(bucket, 'r.bin', { range: { start: 0, end: 0 } });
    expect((await bytesOf(first.body)).equals(data.subarray(0, 1))).toBe(true);
  });

  it('passes If-Modified-Since and If-Match through', async () => {
    const bucket = await newBucket();
    const { etag } = await put(bucket, 'c.txt', 'cached');
    const since = await driver.getObject(bucket, 'c.txt', { ifModifiedSince: new Date(Date.now() + 60_000) });
    expect(since.notModified).toBe(true);

    const matched = await driver.getObject(bucket, 'c.txt', { ifMatch: etag });
    expect((await bytesOf(matched.body)).toString()).toBe('cached');
    const mismatch = await failure(
      driver.getObject(bucket, 'c.txt', { ifMatch: '"00000000000000000000000000000000"' }),
    );
    expect(mismatch.detail).toMatch(/^PreconditionFailed: /);
  });

  it('copies keys with characters that need encoding in x-amz-copy-source', async () => {
    const bucket = await newBucket();
    const odd = 'dir/with space+plus&amp=eq?q#h é.txt';
    await put(bucket, odd, 'odd');
    await driver.copyObject({ bucket, key: odd }, { bucket, key: 'odd-copy.txt' });
    expect((await bytesOf((await driver.getObject(bucket, 'odd-copy.txt')).body)).toString()).toBe('odd');
  });

  it('lists keys with control characters, spaces, plus signs and non-ASCII intact (url-encoded listing)', async () => {
    const bucket = await newBucket();
    const keys = ['odd/bell\u0007key', 'odd/tab\there', 'odd/plus+and space', 'odd/é😀', 'odd/amp&lt<gt>'];
    for (const key of keys) await put(bucket, key, 'x');
    await put(bucket, 'odd/sub\u0001dir/inner', 'x');
    const out = await driver.listObjects({ bucket, prefix: 'odd/', delimiter: '/' });
    expect(out.objects.map((o) => o.key).sort()).toEqual([...keys].sort());
    expect(out.commonPrefixes).toEqual(['odd/sub\u0001dir/']);
    const paged: string[] = [];
    let token: string | undefined;
    do {
      const page = await driver.listObjects({ bucket, prefix: 'odd/b', maxKeys: 1, continuationToken: token });
      paged.push(...page.objects.map((o) => o.key));
      token = page.nextContinuationToken;
    } while (token);
    expect(paged).toEqual(['odd/bell\u0007key']);
    // A DeleteObjects body cannot carry these keys (XML 1.0 has no control characters): one by one.
    for (const key of [...keys, 'odd/sub\u0001dir/inner']) await driver.deleteObject(bucket, key);
  });

  it('reads the real multipart ETag back where the CompleteMultipartUpload answer has none', async () => {
    const bucket = await newBucket();
    const key = 'mp/three.bin';
    const uploadId = await driver.createMultipart(bucket, key);
    const parts = [];
    for (const [i, size] of [5 * MiB, 5 * MiB, 1].entries()) {
      const etag = await driver.uploadPart(bucket, key, uploadId, i + 1, Readable.from([randomBytes(size)]), size);
      parts.push({ partNumber: i + 1, etag });
    }
    const info = await driver.completeMultipart(bucket, key, uploadId, parts);
    // RGW's CompleteMultipartUpload answer has an empty ETag; the driver reads the real one.
    expect(info.etag).toMatch(/^"[0-9a-f]{32}-3"$/);
    expect(info.size).toBe(10 * MiB + 1);
  });

  it('reports a completion naming a part that was never uploaded as InvalidPart, then completes with a conditional part copy', async () => {
    const bucket = await newBucket();
    const data = randomBytes(5 * MiB);
    const { etag } = await driver.putObject({ bucket, key: 'src.bin', body: Readable.from([data]), size: data.length });
    const key = 'mp/bad parts.bin';
    const uploadId = await driver.createMultipart(bucket, key);
    const part = await driver.uploadPart(bucket, key, uploadId, 1, Readable.from([data]), data.length);
    const bad = await failure(
      driver.completeMultipart(bucket, key, uploadId, [
        { partNumber: 1, etag: part },
        { partNumber: 2, etag: '"00000000000000000000000000000000"' },
      ]),
    );
    expect(bad).toMatchObject({ code: 'backend_error', status: 502 });
    expect(bad.detail).toMatch(/^InvalidPart: /);

    const range = { start: 0, end: 1023 };
    const source = { bucket, key: 'src.bin' };
    const copied = await driver.uploadPartCopy({ source, range, ifMatch: etag, bucket, key, uploadId, partNumber: 2 });
    expect(copied).toMatch(/^"?[0-9a-f]{32}"?$/);
    // RGW copies a part whatever x-amz-copy-source-if-match says; the 412 mapping is a wire test.
    const info = await driver.completeMultipart(bucket, key, uploadId, [
      { partNumber: 1, etag: part },
      { partNumber: 2, etag: copied },
    ]);
    expect(info.size).toBe(5 * MiB + 1024);
  });

  it('names every escaped key a DeleteObjects answer reports, and deletes keys XML cannot carry one by one', async () => {
    const bucket = await newBucket();
    const keys = ['a&b <c> "d"', "it's", 'x>y', 'plus+sign', 'bell\u0007key'];
    for (const key of keys) await put(bucket, key, 'x');
    const res = await driver.deleteObjects(
      bucket,
      keys.map((key) => ({ key })),
    );
    expect(res.errors).toEqual([]);
    expect(res.deleted.map((d) => d.key).sort()).toEqual([...keys].sort());
    expect((await driver.listObjects({ bucket })).objects).toEqual([]);
  });

  it('lists pending uploads and their parts, then aborts one', async () => {
    const bucket = await newBucket();
    const key = 'pending/up load+%.bin';
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

    const odd = 'odd dir/é+%.txt';
    const oddFirst = await put(bucket, odd, 'one');
    await put(bucket, odd, 'two');
    const oddVersions = await driver.listObjectVersions(bucket, 'odd dir/');
    expect(oddVersions.map((v) => v.key)).toEqual([odd, odd]);
    expect(oddVersions[1].versionId).toBe(oddFirst.versionId);
    await driver.copyObject({ bucket, key: odd, versionId: oddFirst.versionId }, { bucket, key: 'restored.txt' });
    expect((await bytesOf((await driver.getObject(bucket, 'restored.txt')).body)).toString()).toBe('one');

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

  it('removes CORS rules with an empty list', async () => {
    const bucket = await newBucket();
    const rules = [{ allowed_origins: ['https://app.example'], allowed_methods: ['GET'] }];
    await driver.setBucketCors(bucket, rules);
    expect(await driver.getBucketCors(bucket)).toHaveLength(1);
    await driver.setBucketCors(bucket, []);
    expect(await driver.getBucketCors(bucket)).toEqual([]);
  });

  it('answers not_found for the policy of a missing bucket', async () => {
    const err = await failure(driver.getBucketPolicy(`${await newBucket()}-gone`));
    expect(err.code).toBe('not_found');
    expect(err.detail).toMatch(/^NoSuchBucket: /);
  });
});
