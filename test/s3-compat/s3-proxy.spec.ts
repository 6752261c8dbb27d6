import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { Backend } from '../../src/storage-backends/backend';
import { BackendRegistry } from '../../src/storage-backends/backend-registry.service';
import { TestStack } from '../harness/app';
import {
  bootWithProxy,
  createBucket,
  mintCredential,
  proxyClient,
  ProxyFixture,
  VirtualKeys,
} from '../harness/s3-proxy';
import { describeProxyMatrix } from '../harness/s3-proxy-matrix';
import { describeHostileTargets } from '../harness/s3-proxy-hostile';
import { describeNamespaces, dropBucket, mintAs } from '../harness/s3-proxy-namespaces';

const HOST_SUFFIX = 's3.stowage.test';

describe('the S3 proxy in front of Ceph RGW', () => {
  let stack: TestStack;
  let fx: ProxyFixture;
  let keys: VirtualKeys;
  let backend: Backend;
  const suffix = `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  const bucket = `stowage-px-${suffix}`;
  const otherBucket = `stowage-px2-${suffix}`;
  /** Out of the credential's scope: hostile keys must never reach it. */
  const foreignBucket = `stowage-px3-${suffix}`;

  beforeAll(async () => {
    stack = await TestStack.start({ s3: 'ceph' });
    fx = await bootWithProxy(stack, { kind: 'ceph', config: { s3_proxy: { host_suffixes: [HOST_SUFFIX] } } });
    backend = fx.app.app.get(BackendRegistry).get('local');
    for (const name of [bucket, otherBucket, foreignBucket]) await createBucket(fx.admin, 'local', name);
    keys = await mintCredential(fx.user, [
      { backend_id: 'local', bucket },
      { backend_id: 'local', bucket: otherBucket },
    ]);
  });

  afterAll(async () => {
    try {
      for (const name of [bucket, otherBucket, foreignBucket]) {
        for (const upload of await backend.listMultipartUploads(name)) {
          await backend.abortMultipart(name, upload.key, upload.uploadId);
        }
        for (;;) {
          const page = await backend.listObjects({ bucket: name, maxKeys: 1000 });
          if (page.objects.length === 0) break;
          await backend.deleteObjects(
            name,
            page.objects.map((o) => ({ key: o.key })),
          );
        }
        await backend.deleteBucket(name);
      }
    } finally {
      await stack.stop();
    }
  });

  describeProxyMatrix({ endpoint: () => fx.endpoint, keys: () => keys, bucket, otherBucket });

  describeHostileTargets({
    endpoint: () => fx.endpoint,
    keys: () => keys,
    bucket,
    foreignBucket,
    backend: () => backend,
    hostSuffix: HOST_SUFFIX,
  });

  describeNamespaces({
    endpoint: () => fx.endpoint,
    admin: () => fx.admin,
    user: () => fx.user,
    backendId: 'local',
    backend: () => backend,
    tag: suffix.replace(/[^a-z0-9]/g, '').slice(-10),
    versioning: true,
  });

  describe('a namespace credential on Ceph', () => {
    let nsKeys: VirtualKeys;
    // `stowage-px3-<suffix>` (out of scope) is the foreign bucket; the namespace is `stowage-pxn-<suffix>-`.
    const inside = `stowage-pxn-${suffix}-a`;
    beforeAll(async () => {
      const minted = await mintAs(fx.admin, '/api/admin/s3-credentials', [
        { backend_id: 'local', bucket_prefix: `stowage-pxn-${suffix}-` },
      ]);
      nsKeys = minted.keys as VirtualKeys;
      await createBucket(fx.admin, 'local', inside);
    });
    afterAll(async () => {
      await dropBucket(backend, inside);
    });

    describeHostileTargets({
      endpoint: () => fx.endpoint,
      keys: () => nsKeys,
      bucket: inside,
      foreignBucket,
      backend: () => backend,
      hostSuffix: HOST_SUFFIX,
    });
  });

  it('stores nothing when a client hangs up in the middle of an upload', async () => {
    const client = proxyClient(fx.endpoint, keys);
    const controller = new AbortController();
    const body = new Readable({ read() {} });
    body.push(randomBytes(256 * 1024));
    const pending = client
      .send(
        new PutObjectCommand({ Bucket: bucket, Key: 'abort/partial.bin', Body: body, ContentLength: 4 * 1024 * 1024 }),
        {
          abortSignal: controller.signal,
        },
      )
      .catch((err: Error) => err);
    await new Promise((resolve) => setTimeout(resolve, 300));
    controller.abort();
    expect(await pending).toBeInstanceOf(Error);
    await new Promise((resolve) => setTimeout(resolve, 500));
    await expect(
      client.send(new HeadObjectCommand({ Bucket: bucket, Key: 'abort/partial.bin' })),
    ).rejects.toMatchObject({
      $metadata: { httpStatusCode: 404 },
    });
    client.destroy();
  });
});
