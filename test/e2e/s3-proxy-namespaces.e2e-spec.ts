import { randomBytes } from 'node:crypto';
import { TestStack } from '../harness/app';
import { bootWithProxy, createBucket, ProxyFixture, VirtualKeys } from '../harness/s3-proxy';
import { describeHostileTargets } from '../harness/s3-proxy-hostile';
import { describeNamespaces, mintAs } from '../harness/s3-proxy-namespaces';
import { BackendRegistry } from '../../src/storage-backends/backend-registry.service';

const HOST_SUFFIX = 's3.stowage.test';

describe('tenant namespaces on the S3 proxy (s3rver)', () => {
  let stack: TestStack;
  let fx: ProxyFixture;

  beforeAll(async () => {
    stack = await TestStack.start();
    fx = await bootWithProxy(stack, { config: { s3_proxy: { host_suffixes: [HOST_SUFFIX] } } });
  }, 60_000);

  afterAll(async () => stack?.stop());

  describeNamespaces({
    endpoint: () => fx.endpoint,
    admin: () => fx.admin,
    user: () => fx.user,
    backendId: 'local',
    backend: () => fx.app.app.get(BackendRegistry).get('local'),
    tag: randomBytes(3).toString('hex'),
    versioning: false,
  });

  describe('a namespace credential', () => {
    let keys: VirtualKeys;
    // The stem of the namespace (`hns-a`) is a bucket outside it: dot segments must not reach it.
    const prefix = 'hns-a-';
    beforeAll(async () => {
      await createBucket(fx.admin, 'local', 'hns-a-inside');
      await createBucket(fx.admin, 'local', 'hns-a');
      const minted = await mintAs(fx.admin, '/api/admin/s3-credentials', [
        { backend_id: 'local', bucket_prefix: prefix },
      ]);
      keys = minted.keys as VirtualKeys;
    });

    describeHostileTargets({
      endpoint: () => fx.endpoint,
      keys: () => keys,
      bucket: 'hns-a-inside',
      foreignBucket: 'hns-a',
      backend: () => fx.app.app.get(BackendRegistry).get('local'),
      hostSuffix: HOST_SUFFIX,
      dataDirectory: () => stack.s3?.directory,
    });
  });

  describe('a key-prefix credential', () => {
    let keys: VirtualKeys;
    beforeAll(async () => {
      await createBucket(fx.admin, 'local', 'hkp-shared');
      await createBucket(fx.admin, 'local', 'hkp-foreign');
      const minted = await mintAs(fx.user, '/api/me/s3-credentials', [
        { backend_id: 'local', bucket: 'hkp-shared', key_prefix: 'home/alice/' },
      ]);
      keys = minted.keys as VirtualKeys;
    });

    describeHostileTargets({
      endpoint: () => fx.endpoint,
      keys: () => keys,
      bucket: 'hkp-shared',
      foreignBucket: 'hkp-foreign',
      backend: () => fx.app.app.get(BackendRegistry).get('local'),
      hostSuffix: HOST_SUFFIX,
      dataDirectory: () => stack.s3?.directory,
      keyPrefix: 'home/alice/',
    });
  });
});
