import { createHash, randomBytes } from 'node:crypto';
import { Global, Module } from '@nestjs/common';
import {
  CreateBucketCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { SERVER_SIDE_COPY_LIMITS, ServerSideCopyLimits } from '../../src/objects/object-copier';
import { BackendRegistry } from '../../src/storage-backends/backend-registry.service';
import { TestStack } from '../harness/app';
import { bootWithBackend, StorageFixture } from '../harness/storage';

const MiB = 1024 * 1024;
/** 5 MiB is the smallest part RGW accepts but the last; 13 MiB makes parts of 5, 5 and 3 MiB. */
const SIZE = 13 * MiB;

/** Copies above 5 MiB take the UploadPartCopy path, in 5 MiB parts, so a small object exercises it. */
@Global()
@Module({
  providers: [
    {
      provide: SERVER_SIDE_COPY_LIMITS,
      useValue: { maxSingleCopyBytes: 5 * MiB, partCopyBytes: 5 * MiB } satisfies ServerSideCopyLimits,
    },
  ],
  exports: [SERVER_SIDE_COPY_LIMITS],
})
class SmallServerSideCopies {}

const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

describe('same-backend copies beyond one CopyObject, against Ceph RGW (UploadPartCopy)', () => {
  let stack: TestStack;
  let fx: StorageFixture;
  let s3: S3Client;
  const suffix = `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  const bucket = `stowage-partcopy-${suffix}`;
  const other = `stowage-partcopy-b-${suffix}`;
  const data = randomBytes(SIZE);
  const api = `/api/backends/local/buckets/${bucket}`;

  const objectOf = async (b: string, key: string) => {
    const out = await s3.send(new GetObjectCommand({ Bucket: b, Key: key }));
    return Buffer.from(await out.Body!.transformToByteArray());
  };

  beforeAll(async () => {
    stack = await TestStack.start({ s3: 'ceph' });
    fx = await bootWithBackend(stack, { bucket, kind: 'ceph', imports: [SmallServerSideCopies] });
    const c = stack.s3!;
    s3 = new S3Client({
      endpoint: c.endpoint,
      region: c.region,
      forcePathStyle: true,
      credentials: { accessKeyId: c.accessKey, secretAccessKey: c.secretKey },
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      maxAttempts: 1,
    });
    await s3.send(new CreateBucketCommand({ Bucket: other }));
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: 'big/source.bin',
        Body: data,
        ContentType: 'application/x-test',
        Metadata: { origin: 'source' },
      }),
    );
  });

  afterAll(async () => {
    try {
      const backend = fx?.app.app.get(BackendRegistry).get('local');
      for (const b of [bucket, other]) {
        const listed = await s3.send(new ListObjectsV2Command({ Bucket: b })).catch(() => undefined);
        const keys = (listed?.Contents ?? []).map((o) => ({ Key: o.Key! }));
        if (keys.length) await s3.send(new DeleteObjectsCommand({ Bucket: b, Delete: { Objects: keys } }));
        await backend?.deleteBucket(b).catch(() => undefined);
      }
    } finally {
      s3?.destroy();
      await stack?.stop();
    }
  });

  it('copies within a bucket part by part on the server: same bytes, type and metadata', async () => {
    const res = await fx.user.request(`${api}/object/copy`, {
      method: 'POST',
      body: { src_key: 'big/source.bin', dst_key: 'big/copy.bin' },
    });
    expect(res.status).toBe(200);
    expect(res.body.object).toMatchObject({ key: 'big/copy.bin', size: SIZE, content_type: 'application/x-test' });
    expect(res.body.object.metadata).toEqual({ origin: 'source' });
    // A multipart object's ETag ends in its part count: the copy went through UploadPartCopy.
    expect(res.body.object.etag).toMatch(/-3"$/);
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'big/copy.bin' }));
    expect(head.ContentLength).toBe(SIZE);
    expect(sha256(await objectOf(bucket, 'big/copy.bin'))).toBe(sha256(data));
  });

  it('copies to another bucket replacing the metadata, and moves', async () => {
    const res = await fx.user.request(`${api}/object/copy`, {
      method: 'POST',
      body: { src_key: 'big/copy.bin', dst_bucket: other, dst_key: 'moved.bin', move: true, metadata: { k: 'v' } },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ bucket: other, key: 'moved.bin' });
    expect(res.body.object.metadata).toEqual({ k: 'v' });
    expect(res.body.object.etag).toMatch(/-3"$/);
    expect(sha256(await objectOf(other, 'moved.bin'))).toBe(sha256(data));
    const gone = await fx.user.request(`${api}/object/info?key=${encodeURIComponent('big/copy.bin')}`);
    expect(gone.status).toBe(404);
    // Nothing is left half-done upstream.
    const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket: other }));
    expect(uploads.Uploads ?? []).toEqual([]);
  });

  it('keeps CopyObject for objects at or below the limit', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'small.bin', Body: data.subarray(0, 5 * MiB) }));
    const res = await fx.user.request(`${api}/object/copy`, {
      method: 'POST',
      body: { src_key: 'small.bin', dst_key: 'small-copy.bin' },
    });
    expect(res.status).toBe(200);
    expect(res.body.object.etag).not.toMatch(/-\d+"$/);
    expect(sha256(await objectOf(bucket, 'small-copy.bin'))).toBe(sha256(data.subarray(0, 5 * MiB)));
  });
});
