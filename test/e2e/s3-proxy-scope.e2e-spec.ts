import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3ServiceException } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { TestStack } from '../harness/app';
import {
  bootWithProxy,
  createBucket,
  mintCredential,
  proxyClient,
  ProxyFixture,
  VirtualKeys,
} from '../harness/s3-proxy';
import { describeHostileTargets, signedRaw } from '../harness/s3-proxy-hostile';
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

describe('the S3 proxy reads DeleteObjects bodies strictly', () => {
  let stack: TestStack;
  let fx: ProxyFixture;
  let keys: VirtualKeys;
  const bucket = 'delete-a';

  beforeAll(async () => {
    stack = await TestStack.start();
    fx = await bootWithProxy(stack);
    await createBucket(fx.admin, 'local', bucket);
    keys = await mintCredential(fx.user, [{ backend_id: 'local', bucket }]);
    await proxyClient(fx.endpoint, keys).send(new PutObjectCommand({ Bucket: bucket, Key: 'kept', Body: 'v' }));
  }, 60_000);

  afterAll(async () => stack?.stop());

  const post = (body: string) => signedRaw(fx.endpoint, keys, 'POST', `/${bucket}?delete`, { body });

  it('refuses a body another XML parser could read differently with MalformedXML, deleting nothing', async () => {
    for (const body of [
      '<Delete><Object><Key>kept</Key></Object><Object><Key><![CDATA[../x]]></Key></Object></Delete>',
      '<!DOCTYPE d [<!ENTITY e "kept">]><Delete><Object><Key>&e;</Key></Object></Delete>',
      '<Delete><Object><Key>kept</Key></Object>',
      '',
    ]) {
      expect(await post(body)).toMatchObject({ status: 400, code: 'MalformedXML' });
    }
    const head = await proxyClient(fx.endpoint, keys).send(new HeadObjectCommand({ Bucket: bucket, Key: 'kept' }));
    expect(head.$metadata.httpStatusCode).toBe(200);
  });

  it('refuses a body larger than any DeleteObjects of 1,000 keys needs', async () => {
    const big = `<Delete>${'<Object><Key>x</Key></Object>'.repeat(80_000)}</Delete>`;
    expect(await post(big)).toMatchObject({ status: 400, code: 'InvalidRequest' });
  });

  it('deletes the keys of a well-formed body', async () => {
    const res = await post('<Delete><Object><Key>kept</Key></Object><Quiet>true</Quiet></Delete>');
    expect(res.status).toBe(200);
    const err = await proxyClient(fx.endpoint, keys)
      .send(new HeadObjectCommand({ Bucket: bucket, Key: 'kept' }))
      .catch((e: S3ServiceException) => e);
    expect(err).toMatchObject({ $metadata: { httpStatusCode: 404 } });
  });
});

describe('the S3 proxy checks how requests are signed', () => {
  let stack: TestStack;
  let fx: ProxyFixture;
  let keys: VirtualKeys;
  const bucket = 'regions-a';

  beforeAll(async () => {
    stack = await TestStack.start();
    fx = await bootWithProxy(stack);
    await createBucket(fx.admin, 'local', bucket);
    keys = await mintCredential(fx.user, [{ backend_id: 'local', bucket }]);
    await proxyClient(fx.endpoint, keys).send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'v' }));
  }, 60_000);

  afterAll(async () => stack?.stop());

  const codeOf = (text: string) => /<Code>([^<]*)<\/Code>/.exec(text)?.[1];

  it('refuses a header signed for a region no backend serves with AuthorizationHeaderMalformed', async () => {
    const client = proxyClient(fx.endpoint, keys, { config: { region: 'ap-nowhere-9' } });
    const err = await client
      .send(new GetObjectCommand({ Bucket: bucket, Key: 'k' }))
      .catch((e: S3ServiceException) => e);
    expect(err).toMatchObject({ name: 'AuthorizationHeaderMalformed', $metadata: { httpStatusCode: 400 } });
    const ok = await proxyClient(fx.endpoint, keys).send(new GetObjectCommand({ Bucket: bucket, Key: 'k' }));
    expect(ok.$metadata.httpStatusCode).toBe(200);
  });

  it('refuses a URL presigned for a region no backend serves, as S3 does (400)', async () => {
    const client = proxyClient(fx.endpoint, keys, { config: { region: 'ap-nowhere-9' } });
    const url = await getSignedUrl(client, new GetObjectCommand({ Bucket: bucket, Key: 'k' }), { expiresIn: 60 });
    const res = await fetch(url);
    expect([res.status, codeOf(await res.text())]).toEqual([400, 'AuthorizationQueryParametersError']);
    const good = await getSignedUrl(proxyClient(fx.endpoint, keys), new GetObjectCommand({ Bucket: bucket, Key: 'k' }));
    expect((await fetch(good)).status).toBe(200);
  });

  it('accepts only the configured s3_proxy.regions when they are set', async () => {
    const other = await bootWithProxy(stack, { config: { s3_proxy: { regions: ['eu-west-1'] } } });
    try {
      const east = proxyClient(other.endpoint, keys);
      const err = await east
        .send(new GetObjectCommand({ Bucket: bucket, Key: 'k' }))
        .catch((e: S3ServiceException) => e);
      expect(err).toMatchObject({ name: 'AuthorizationHeaderMalformed', $metadata: { httpStatusCode: 400 } });
      const west = proxyClient(other.endpoint, keys, { config: { region: 'eu-west-1' } });
      expect((await west.send(new GetObjectCommand({ Bucket: bucket, Key: 'k' }))).$metadata.httpStatusCode).toBe(200);
    } finally {
      await other.app.close();
    }
  });

  it('answers a SigV2 presigned URL with InvalidRequest naming SigV4, not as anonymous', async () => {
    const res = await fetch(
      `${fx.endpoint}/${bucket}/k?AWSAccessKeyId=${keys.accessKeyId}&Expires=${Math.floor(Date.now() / 1000) + 60}&Signature=abc%3D`,
    );
    const text = await res.text();
    expect([res.status, codeOf(text)]).toEqual([400, 'InvalidRequest']);
    expect(text).toContain('SigV4');
  });

  it('answers a SigV2 Authorization header with InvalidRequest naming SigV4', async () => {
    const res = await fetch(`${fx.endpoint}/${bucket}/k`, {
      headers: { authorization: `AWS ${keys.accessKeyId}:c2lnbmF0dXJl`, date: new Date().toUTCString() },
    });
    const text = await res.text();
    expect([res.status, codeOf(text)]).toEqual([400, 'InvalidRequest']);
    expect(text).toContain('SigV4');
  });
});
