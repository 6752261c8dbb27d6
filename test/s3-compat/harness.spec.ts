import { createHash, randomBytes } from 'node:crypto';
import {
  AbortMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  GetObjectCommandOutput,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  ListPartsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { TestStack } from '../harness/app';
import { cephS3, RGW_ENV } from '../harness/ceph';
import { http } from '../harness/http';
import type { TestS3 } from '../harness/s3rver';

const MiB = 1024 * 1024;

function clientFor(s3: TestS3, secretKey = s3.secretKey): S3Client {
  return new S3Client({
    endpoint: s3.endpoint,
    region: s3.region,
    forcePathStyle: true,
    credentials: { accessKeyId: s3.accessKey, secretAccessKey: secretKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 1,
  });
}

const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

async function bodyOf(res: GetObjectCommandOutput): Promise<Buffer> {
  if (!res.Body) throw new Error('GetObject answered without a body');
  return Buffer.from(await res.Body.transformToByteArray());
}

/** Deletes a bucket with everything in it: versions, delete markers, unfinished uploads. */
async function removeBucket(client: S3Client, bucket: string): Promise<void> {
  const uploads = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
  for (const u of uploads.Uploads ?? []) {
    await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: u.Key, UploadId: u.UploadId }));
  }
  let keyMarker: string | undefined;
  let versionIdMarker: string | undefined;
  for (;;) {
    const page = await client.send(
      new ListObjectVersionsCommand({ Bucket: bucket, KeyMarker: keyMarker, VersionIdMarker: versionIdMarker }),
    );
    const objects = [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])].map((v) => ({
      Key: v.Key,
      VersionId: v.VersionId,
    }));
    if (objects.length) await client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: objects } }));
    if (!page.IsTruncated) break;
    keyMarker = page.NextKeyMarker;
    versionIdMarker = page.NextVersionIdMarker;
  }
  await client.send(new DeleteBucketCommand({ Bucket: bucket }));
}

describe('s3-compat harness: a real Ceph RGW', () => {
  const s3 = cephS3();
  const client = clientFor(s3);
  const buckets: string[] = [];

  /** Creates a bucket no other test (nor an earlier run against a reused RGW) uses. */
  async function newBucket(using = client): Promise<string> {
    const name = `stowage-t-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
    await using.send(new CreateBucketCommand({ Bucket: name }));
    buckets.push(name);
    return name;
  }

  afterAll(async () => {
    await Promise.allSettled(buckets.map((b) => removeBucket(client, b)));
    client.destroy();
  });

  it('publishes the endpoint and credentials through process.env', () => {
    expect(s3.endpoint).toBe(process.env[RGW_ENV.endpoint]);
    expect(s3.endpoint).toMatch(/^http:\/\/[^/]+:\d+$/);
    expect(s3.accessKey).toBe(process.env[RGW_ENV.accessKey]);
    expect(s3.secretKey).toBe(process.env[RGW_ENV.secretKey]);
  });

  it('stores and returns an object byte for byte', async () => {
    const bucket = await newBucket();
    const data = randomBytes(MiB + 123);
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'dir/blob.bin', Body: data }));

    const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: 'dir/blob.bin' }));
    expect(head.ContentLength).toBe(data.length);
    const got = await bodyOf(await client.send(new GetObjectCommand({ Bucket: bucket, Key: 'dir/blob.bin' })));
    expect(got.length).toBe(data.length);
    expect(sha256(got)).toBe(sha256(data));
  });

  it('keeps every version once versioning is enabled', async () => {
    const bucket = await newBucket();
    await client.send(
      new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }),
    );
    expect((await client.send(new GetBucketVersioningCommand({ Bucket: bucket }))).Status).toBe('Enabled');

    const first = await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'doc.txt', Body: 'version one' }));
    const second = await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'doc.txt', Body: 'version two' }));
    expect(first.VersionId).toBeTruthy();
    expect(second.VersionId).toBeTruthy();
    expect(second.VersionId).not.toBe(first.VersionId);

    const listed = await client.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: 'doc.txt' }));
    const versions = listed.Versions ?? [];
    expect(versions.map((v) => v.VersionId).sort()).toEqual([first.VersionId, second.VersionId].sort());
    expect(versions.find((v) => v.IsLatest)?.VersionId).toBe(second.VersionId);

    const old = await client.send(new GetObjectCommand({ Bucket: bucket, Key: 'doc.txt', VersionId: first.VersionId }));
    expect((await bodyOf(old)).toString('utf8')).toBe('version one');
  });

  it('answers a suffix range with the last bytes of the object', async () => {
    const bucket = await newBucket();
    const data = randomBytes(100);
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'ranged', Body: data }));

    const res = await client.send(new GetObjectCommand({ Bucket: bucket, Key: 'ranged', Range: 'bytes=-10' }));
    expect(res.$metadata.httpStatusCode).toBe(206);
    expect(res.ContentRange).toBe('bytes 90-99/100');
    expect((await bodyOf(res)).equals(data.subarray(90))).toBe(true);
  });

  it('lists the parts and the pending uploads of a multipart upload, then aborts it', async () => {
    const bucket = await newBucket();
    const key = 'big/upload.bin';
    const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
    expect(UploadId).toBeTruthy();

    const parts = [randomBytes(5 * MiB), randomBytes(1024)];
    const etags: string[] = [];
    for (const [i, part] of parts.entries()) {
      const res = await client.send(
        new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: i + 1, Body: part }),
      );
      etags.push(res.ETag ?? '');
    }

    const listed = await client.send(new ListPartsCommand({ Bucket: bucket, Key: key, UploadId }));
    expect((listed.Parts ?? []).map((p) => [p.PartNumber, p.Size, p.ETag])).toEqual([
      [1, parts[0].length, etags[0]],
      [2, parts[1].length, etags[1]],
    ]);

    const pending = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
    expect((pending.Uploads ?? []).map((u) => [u.Key, u.UploadId])).toEqual([[key, UploadId]]);

    await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId }));
    const after = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
    expect(after.Uploads ?? []).toEqual([]);
    // The upload is gone: 404 (RGW names it NoSuchKey where AWS says NoSuchUpload).
    await expect(client.send(new ListPartsCommand({ Bucket: bucket, Key: key, UploadId }))).rejects.toMatchObject({
      $metadata: { httpStatusCode: 404 },
    });
    const objects = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
    expect(objects.KeyCount).toBe(0);
  });

  it('refuses a request signed with the wrong secret', async () => {
    const bucket = await newBucket();
    const wrong = clientFor(s3, `${s3.secretKey.slice(0, -1)}${s3.secretKey.endsWith('x') ? 'y' : 'x'}`);
    try {
      await expect(wrong.send(new ListObjectsV2Command({ Bucket: bucket }))).rejects.toMatchObject({
        name: 'SignatureDoesNotMatch',
        $metadata: { httpStatusCode: 403 },
      });
      await expect(wrong.send(new PutObjectCommand({ Bucket: bucket, Key: 'nope', Body: 'x' }))).rejects.toMatchObject({
        name: 'SignatureDoesNotMatch',
      });
    } finally {
      wrong.destroy();
    }
    expect((await client.send(new ListObjectsV2Command({ Bucket: bucket }))).KeyCount).toBe(0);
  });

  it("boots the app on a stack whose S3 is the suite's Ceph RGW", async () => {
    const stack = await TestStack.start({ s3: 'ceph' });
    try {
      expect(stack.s3).toMatchObject({ endpoint: s3.endpoint, accessKey: s3.accessKey, secretKey: s3.secretKey });
      const app = await stack.boot();
      const ready = await http(app.url, '/readyz');
      expect(ready.status).toBe(200);
      expect(ready.body).toMatchObject({ status: 'ready' });

      // The stack's credentials reach the same RGW.
      const stackClient = clientFor(stack.s3!);
      try {
        const name = await newBucket(stackClient);
        await stackClient.send(new PutObjectCommand({ Bucket: name, Key: 'hello.txt', Body: 'hello' }));
        const got = await client.send(new GetObjectCommand({ Bucket: name, Key: 'hello.txt' }));
        expect((await bodyOf(got)).toString('utf8')).toBe('hello');
      } finally {
        stackClient.destroy();
      }
    } finally {
      await stack.stop();
    }
  });
});
