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
import { AWS_CLI_V1, S3Cli } from '../harness/s3-proxy-matrix';
import { signV2, stringToSignV2 } from '@stowage/sigv4';
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

  describe('SigV2', () => {
    const v2Headers = (
      method: string,
      path: string,
      secret = keys.secretAccessKey,
      extra: Record<string, string> = {},
    ) => {
      const date = new Date().toUTCString();
      const sts = stringToSignV2({
        method,
        headers: { date, ...extra },
        dateOrExpires: date,
        resource: path,
      });
      return { date, authorization: `AWS ${keys.accessKeyId}:${signV2(secret, sts)}`, ...extra };
    };
    const presigned = (method: string, path: string, expires: number, secret = keys.secretAccessKey) => {
      const sts = stringToSignV2({ method, headers: {}, dateOrExpires: String(expires), resource: path });
      return `${fx.endpoint}${path}?AWSAccessKeyId=${keys.accessKeyId}&Expires=${expires}&Signature=${encodeURIComponent(signV2(secret, sts))}`;
    };

    it('serves GET, HEAD, PUT, DELETE and listings signed in the header', async () => {
      const put = await fetch(`${fx.endpoint}/${bucket}/v2.txt`, {
        method: 'PUT',
        body: 'signed v2',
        headers: v2Headers('PUT', `/${bucket}/v2.txt`, keys.secretAccessKey, { 'content-type': 'text/plain' }),
      });
      expect(put.status).toBe(200);
      const get = await fetch(`${fx.endpoint}/${bucket}/v2.txt`, { headers: v2Headers('GET', `/${bucket}/v2.txt`) });
      expect([get.status, await get.text()]).toEqual([200, 'signed v2']);
      const head = await fetch(`${fx.endpoint}/${bucket}/v2.txt`, {
        method: 'HEAD',
        headers: v2Headers('HEAD', `/${bucket}/v2.txt`),
      });
      expect(head.status).toBe(200);
      const list = await fetch(`${fx.endpoint}/${bucket}?prefix=v2`, { headers: v2Headers('GET', `/${bucket}`) });
      expect([list.status, (await list.text()).includes('<Key>v2.txt</Key>')]).toEqual([200, true]);
      const del = await fetch(`${fx.endpoint}/${bucket}/v2.txt`, {
        method: 'DELETE',
        headers: v2Headers('DELETE', `/${bucket}/v2.txt`),
      });
      expect(del.status).toBe(204);
    });

    it('serves a presigned URL until it expires and refuses it after', async () => {
      const good = await fetch(presigned('GET', `/${bucket}/k`, Math.floor(Date.now() / 1000) + 60));
      expect([good.status, await good.text()]).toEqual([200, 'v']);
      const expired = await fetch(presigned('GET', `/${bucket}/k`, Math.floor(Date.now() / 1000) - 1));
      expect([expired.status, codeOf(await expired.text())]).toEqual([403, 'AccessDenied']);
    });

    it('refuses a wrong secret, an unknown key and a bucket outside the scope', async () => {
      const wrong = await fetch(`${fx.endpoint}/${bucket}/k`, {
        headers: v2Headers('GET', `/${bucket}/k`, 'x'.repeat(40)),
      });
      expect([wrong.status, codeOf(await wrong.text())]).toEqual([403, 'SignatureDoesNotMatch']);
      const forged = await fetch(
        `${fx.endpoint}/${bucket}/k?AWSAccessKeyId=${keys.accessKeyId}&Expires=${Math.floor(Date.now() / 1000) + 60}&Signature=abc%3D`,
      );
      expect([forged.status, codeOf(await forged.text())]).toEqual([403, 'SignatureDoesNotMatch']);
      const unknown = await fetch(`${fx.endpoint}/${bucket}/k`, {
        headers: {
          ...v2Headers('GET', `/${bucket}/k`),
          authorization: 'AWS STWGUNKNOWNKEY00000:c2lnbmF0dXJlc2lnbmF0dXJlc2lnbj0=',
        },
      });
      expect([unknown.status, codeOf(await unknown.text())]).toEqual([403, 'InvalidAccessKeyId']);
      const outside = await fetch(`${fx.endpoint}/elsewhere/k`, { headers: v2Headers('GET', '/elsewhere/k') });
      expect([outside.status, codeOf(await outside.text())]).toEqual([403, 'AccessDenied']);
    });

    (AWS_CLI_V1 ? it : it.skip)(
      'aws CLI v1 `s3 presign` (SigV2) gives a URL that works through the proxy',
      async () => {
        const cli = S3Cli.aws(fx.endpoint, keys, { defaults: true, v1: true });
        try {
          const url = (await cli.ok('s3', 'presign', `s3://${bucket}/k`, '--expires-in', '60')).trim();
          expect(url).toContain('AWSAccessKeyId=');
          const res = await fetch(url);
          expect([res.status, await res.text()]).toEqual([200, 'v']);
        } finally {
          cli.close();
        }
      },
    );

    it('answers SigV2 with InvalidRequest naming SigV4 when s3_proxy.sigv2_enabled is off', async () => {
      const off = await bootWithProxy(stack, { config: { s3_proxy: { sigv2_enabled: false } } });
      try {
        const res = await fetch(
          `${off.endpoint}/${bucket}/k?AWSAccessKeyId=${keys.accessKeyId}&Expires=${Math.floor(Date.now() / 1000) + 60}&Signature=abc%3D`,
        );
        const text = await res.text();
        expect([res.status, codeOf(text)]).toEqual([400, 'InvalidRequest']);
        expect(text).toContain('SigV4');
        const header = await fetch(`${off.endpoint}/${bucket}/k`, { headers: v2Headers('GET', `/${bucket}/k`) });
        const headerText = await header.text();
        expect([header.status, codeOf(headerText)]).toEqual([400, 'InvalidRequest']);
        expect(headerText).toContain('SigV4');
      } finally {
        await off.app.close();
      }
    });
  });
});
