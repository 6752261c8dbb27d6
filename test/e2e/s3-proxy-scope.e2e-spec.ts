import { TestStack } from '../harness/app';
import { bootWithProxy, createBucket, mintCredential, ProxyFixture, VirtualKeys } from '../harness/s3-proxy';
import { describeHostileTargets } from '../harness/s3-proxy-hostile';
import { BackendRegistry } from '../../src/storage-backends/backend-registry.service';

const HOST_SUFFIX = 's3.stowage.test';

describe('the S3 proxy keeps a credential inside its buckets (s3rver)', () => {
  let stack: TestStack;
  let fx: ProxyFixture;
  let keys: VirtualKeys;
  const bucket = 'scope-a';
  const foreignBucket = 'scope-b';

  beforeAll(async () => {
    stack = await TestStack.start();
    fx = await bootWithProxy(stack, { config: { s3_proxy: { host_suffixes: [HOST_SUFFIX] } } });
    for (const name of [bucket, foreignBucket]) await createBucket(fx.admin, 'local', name);
    keys = await mintCredential(fx.user, [{ backend_id: 'local', bucket }]);
  }, 60_000);

  afterAll(async () => stack?.stop());

  describeHostileTargets({
    endpoint: () => fx.endpoint,
    keys: () => keys,
    bucket,
    foreignBucket,
    backend: () => fx.app.app.get(BackendRegistry).get('local'),
    hostSuffix: HOST_SUFFIX,
    dataDirectory: () => stack.s3?.directory,
  });
});
