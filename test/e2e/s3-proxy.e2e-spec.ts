import { randomBytes } from 'node:crypto';
import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteBucketCommand,
  GetBucketPolicyCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  PutBucketCorsCommand,
  PutObjectAclCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { DataSource } from 'typeorm';
import { TestApp, TestStack } from '../harness/app';
import { http } from '../harness/http';
import {
  bootWithProxy,
  createBucket,
  mintCredential,
  proxyClient,
  proxyEndpoint,
  ProxyFixture,
  ROOT_KEY,
  VirtualKeys,
} from '../harness/s3-proxy';
import { login, seedUser } from '../harness/session';
import { bodyOf, describeProxyMatrix, sha256 } from '../harness/s3-proxy-matrix';

/** The S3 error a promise rejects with. */
async function s3Failure(promise: Promise<unknown>): Promise<S3ServiceException> {
  try {
    await promise;
  } catch (err) {
    return err as S3ServiceException;
  }
  throw new Error('expected the request to fail');
}

async function raw(endpoint: string, path: string, init: RequestInit & { headers?: Record<string, string> } = {}) {
  const res = await fetch(`${endpoint}${path}`, init);
  return { status: res.status, headers: res.headers, text: await res.text() };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * An app whose one backend is the S3 endpoint at `endpoint` (one that misbehaves, or none), with
 * the proxy on, and a client of an admin's credential scoped to `bucket` on it.
 */
async function bootOnEndpoint(
  stack: TestStack,
  endpoint: string,
  bucket: string,
): Promise<{ app: TestApp; client: S3Client }> {
  const app = await stack.boot({
    config: {
      ratelimit: { login_per_ip: 0, api_per_minute: 0 },
      backends: [
        { id: 'upstream', endpoint, region: 'us-east-1', access_key_env: 'K', secret_key_env: 'S', path_style: true },
      ],
      s3_proxy: { enabled: true, listen: '127.0.0.1:0' },
    },
    env: { K: 'k', S: 's', STOWAGE_SECRET_KEY: ROOT_KEY },
  });
  const admin = await login(app, (await seedUser(app, { role: 'admin' })).username);
  const keys = await mintCredential(admin, [{ backend_id: 'upstream', bucket }]);
  return { app, client: proxyClient(proxyEndpoint(app), keys) };
}

describe('the S3 proxy against s3rver', () => {
  let stack: TestStack;
  let fx: ProxyFixture;
  let keys: VirtualKeys;
  let mintedAfter: number;
  let mintedBefore: number;
  const bucket = 'tenant-a';
  const otherBucket = 'tenant-a-archive';
  const foreignBucket = 'tenant-b';

  beforeAll(async () => {
    stack = await TestStack.start();
    fx = await bootWithProxy(stack);
    for (const name of [bucket, otherBucket, foreignBucket]) await createBucket(fx.admin, 'local', name);
    mintedAfter = Date.now();
    keys = await mintCredential(fx.user, [
      { backend_id: 'local', bucket },
      { backend_id: 'local', bucket: otherBucket },
    ]);
    mintedBefore = Date.now();
  }, 60_000);

  afterAll(async () => stack?.stop());

  describeProxyMatrix({
    endpoint: () => fx.endpoint,
    keys: () => keys,
    bucket,
    otherBucket,
    payloadOf: async (key) => {
      await sleep(400);
      const [row] = await fx.app.app
        .get(DataSource)
        .query(
          `SELECT detail->>'payload' AS payload FROM audit_events WHERE action = 's3.proxy.putobject' AND object_key = $1 ORDER BY id DESC LIMIT 1`,
          [key],
        );
      return row?.payload;
    },
  });

  describe('authentication', () => {
    it('refuses a wrong secret with SignatureDoesNotMatch', async () => {
      const client = proxyClient(fx.endpoint, { ...keys, secretAccessKey: 'x'.repeat(40) });
      const err = await s3Failure(client.send(new GetObjectCommand({ Bucket: bucket, Key: 'nothing' })));
      expect(err.name).toBe('SignatureDoesNotMatch');
      expect(err.$metadata.httpStatusCode).toBe(403);
    });

    it('keeps the connection open after refusing a request without a body', async () => {
      const { port } = new URL(fx.endpoint);
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      const refuse = () =>
        new Promise<{ status: number; connection?: string; reused: boolean }>((resolve, reject) => {
          const req = request({
            host: '127.0.0.1',
            port,
            agent,
            path: `/${bucket}/nothing`,
            headers: {
              authorization: `AWS4-HMAC-SHA256 Credential=${keys.accessKeyId}/20260101/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=${'0'.repeat(64)}`,
              'x-amz-date': new Date()
                .toISOString()
                .replace(/[-:]/g, '')
                .replace(/\.\d{3}/, ''),
              'x-amz-content-sha256': 'UNSIGNED-PAYLOAD',
            },
          });
          req.on('response', (res) => {
            res.resume();
            res.on('end', () =>
              resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, reused: req.reusedSocket }),
            );
          });
          req.on('error', reject);
          req.end();
        });
      try {
        const first = await refuse();
        const second = await refuse();
        expect(first.status).toBeGreaterThanOrEqual(400);
        expect(first.connection).not.toBe('close');
        expect(second.reused).toBe(true);
      } finally {
        agent.destroy();
      }
    });

    it('refuses an unknown access key with InvalidAccessKeyId', async () => {
      const client = proxyClient(fx.endpoint, { accessKeyId: 'AKIAUNKNOWNKEY000000', secretAccessKey: 'y'.repeat(40) });
      const err = await s3Failure(client.send(new ListBucketsCommand({})));
      expect(err.name).toBe('InvalidAccessKeyId');
    });

    it('refuses a request dated outside the clock-skew window with RequestTimeTooSkewed', async () => {
      const client = proxyClient(fx.endpoint, keys, { config: { systemClockOffset: -20 * 60_000 } });
      const err = await s3Failure(client.send(new ListBucketsCommand({})));
      expect(err.name).toBe('RequestTimeTooSkewed');
    });

    it('honours a one-hour presigned URL in full: good at minute 20, refused after its expiry', async () => {
      const client = proxyClient(fx.endpoint, keys);
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'presign/hour.txt', Body: 'valid for an hour' }));
      const command = new GetObjectCommand({ Bucket: bucket, Key: 'presign/hour.txt' });
      const atMinute20 = await getSignedUrl(client, command, {
        expiresIn: 3600,
        signingDate: new Date(Date.now() - 20 * 60_000),
      });
      const fresh = await fetch(atMinute20);
      expect(fresh.status).toBe(200);
      expect(await fresh.text()).toBe('valid for an hour');

      const expired = await getSignedUrl(client, command, {
        expiresIn: 3600,
        signingDate: new Date(Date.now() - 61 * 60_000),
      });
      const late = await raw(expired, '');
      expect(late.status).toBe(403);
      expect(late.text).toContain('<Code>AccessDenied</Code>');
      expect(late.text).toContain('Request has expired');
    });

    it.each([
      ['604801', 'X-Amz-Expires must be less than a week (in seconds) that is; 7 days'],
      ['99999999999999999999', 'X-Amz-Expires must be less than a week (in seconds) that is; 7 days'],
      ['-1', 'X-Amz-Expires must be non-negative'],
      ['abc', 'X-Amz-Expires should be a number'],
      ['1e3', 'X-Amz-Expires should be a number'],
    ])(
      'refuses a presigned URL with X-Amz-Expires=%s with 400 AuthorizationQueryParametersError',
      async (expires, message) => {
        const client = proxyClient(fx.endpoint, keys);
        const url = new URL(
          await getSignedUrl(client, new GetObjectCommand({ Bucket: bucket, Key: 'presign/hour.txt' }), {
            expiresIn: 60,
          }),
        );
        url.searchParams.set('X-Amz-Expires', expires);
        const res = await raw(url.toString(), '');
        expect(res.status).toBe(400);
        expect(res.text).toContain('<Code>AuthorizationQueryParametersError</Code>');
        expect(res.text).toContain(`<Message>${message}</Message>`);
      },
    );

    it('refuses an x-amz-content-sha256 it does not know', async () => {
      const client = proxyClient(fx.endpoint, keys);
      client.middlewareStack.add(
        (next) => async (args) => {
          const request = args.request as { headers: Record<string, string> };
          request.headers['x-amz-content-sha256'] = 'STREAMING-SOMETHING-NEW';
          return next(args);
        },
        { step: 'finalizeRequest', priority: 'high', name: 'oddPayloadHash' },
      );
      const err = await s3Failure(client.send(new GetObjectCommand({ Bucket: bucket, Key: 'x' })));
      expect(err.name).toBe('InvalidArgument');
    });

    it('answers an unsigned request to a bucket without an anonymous binding with AccessDenied', async () => {
      const res = await raw(fx.endpoint, `/${bucket}/presign/hour.txt`);
      expect(res.status).toBe(403);
      expect(res.text).toMatch(/<Code>AccessDenied<\/Code>[\s\S]*<RequestId>[0-9A-F]{16}<\/RequestId>/);
      expect(res.headers.get('x-amz-request-id')).toMatch(/^[0-9A-F]{16}$/);
    });
  });

  describe('bucket scope', () => {
    let client: S3Client;
    beforeAll(() => {
      client = proxyClient(fx.endpoint, keys);
    });

    it('lists only the scoped buckets, without asking the upstream, dated from the credential', async () => {
      const listed = await client.send(new ListBucketsCommand({}));
      expect(listed.Buckets?.map((b) => b.Name)).toEqual([bucket, otherBucket].sort());
      for (const listedBucket of listed.Buckets ?? []) {
        expect(listedBucket.CreationDate!.getTime()).toBeGreaterThanOrEqual(mintedAfter - 1000);
        expect(listedBucket.CreationDate!.getTime()).toBeLessThanOrEqual(mintedBefore + 1000);
      }
    });

    it('refuses a bucket outside the scope', async () => {
      const err = await s3Failure(client.send(new GetObjectCommand({ Bucket: foreignBucket, Key: 'x' })));
      expect(err.name).toBe('AccessDenied');
      expect(err.$metadata.httpStatusCode).toBe(403);
    });

    it('refuses a copy whose source is outside the scope, and copies nothing', async () => {
      const err = await s3Failure(
        client.send(
          new CopyObjectCommand({ Bucket: bucket, Key: 'stolen.bin', CopySource: `${foreignBucket}/secret.bin` }),
        ),
      );
      expect(err.name).toBe('AccessDenied');
      const missing = await s3Failure(client.send(new HeadObjectCommand({ Bucket: bucket, Key: 'stolen.bin' })));
      expect(missing.$metadata.httpStatusCode).toBe(404);
    });

    it('refuses bucket creation, deletion and configuration', async () => {
      // A bucket in scope is the credential's already: S3's answer to its owner.
      const owned = await s3Failure(client.send(new CreateBucketCommand({ Bucket: bucket })));
      expect(owned.name).toBe('BucketAlreadyOwnedByYou');
      expect(owned.$metadata.httpStatusCode).toBe(409);
      for (const name of [foreignBucket, 'not-there-yet']) {
        expect((await s3Failure(client.send(new CreateBucketCommand({ Bucket: name })))).name).toBe('AccessDenied');
      }
      const listed = await fx.admin.request('/api/backends/local/buckets');
      expect(JSON.stringify(listed.body)).not.toContain('not-there-yet');
      expect((await s3Failure(client.send(new DeleteBucketCommand({ Bucket: bucket })))).name).toBe('AccessDenied');
      // A bucket's configuration: changing it is the admins' (403), reading it is not served here (501).
      const corsRules = { CORSRules: [{ AllowedMethods: ['GET'], AllowedOrigins: ['*'] }] };
      const corsWrite = await s3Failure(
        client.send(new PutBucketCorsCommand({ Bucket: bucket, CORSConfiguration: corsRules })),
      );
      expect(corsWrite.name).toBe('AccessDenied');
      const policyRead = await s3Failure(client.send(new GetBucketPolicyCommand({ Bucket: bucket })));
      expect([policyRead.name, policyRead.$metadata.httpStatusCode]).toEqual(['NotImplemented', 501]);
      // Setting an object's ACL is not served (501, which s3cmd's cp tolerates) and leaves the object as it was.
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'acl-target.txt', Body: 'original' }));
      const policy = {
        Owner: { ID: 'owner' },
        Grants: [
          {
            Grantee: { Type: 'Group' as const, URI: 'http://acs.amazonaws.com/groups/global/AllUsers' },
            Permission: 'READ' as const,
          },
        ],
      };
      const aclWrite = await s3Failure(
        client.send(new PutObjectAclCommand({ Bucket: bucket, Key: 'acl-target.txt', AccessControlPolicy: policy })),
      );
      expect(aclWrite.name).toBe('NotImplemented');
      expect(aclWrite.$metadata.httpStatusCode).toBe(501);
      expect((await bodyOf(client, bucket, 'acl-target.txt')).toString()).toBe('original');
      const acl = await s3Failure(
        client.send(new PutObjectCommand({ Bucket: bucket, Key: 'public.txt', Body: 'x', ACL: 'public-read' })),
      );
      expect(acl.name).toBe('AccessDenied');
    });

    it('stops a disabled credential and a revoked one within a second', async () => {
      const fresh = await mintCredential(fx.user, [{ backend_id: 'local', bucket }]);
      const freshClient = proxyClient(fx.endpoint, fresh);
      await freshClient.send(new ListBucketsCommand({}));

      const disable = await fx.user.request(`/api/me/s3-credentials/${fresh.accessKeyId}`, {
        method: 'PATCH',
        body: { enabled: false },
      });
      expect(disable.status).toBe(200);
      await sleep(1100);
      expect((await s3Failure(freshClient.send(new ListBucketsCommand({})))).name).toBe('AccessDenied');

      const revoke = await fx.user.request(`/api/me/s3-credentials/${fresh.accessKeyId}`, { method: 'DELETE' });
      expect(revoke.status).toBe(204);
      await sleep(1100);
      expect((await s3Failure(freshClient.send(new ListBucketsCommand({})))).name).toBe('InvalidAccessKeyId');
    });

    it("answers an upstream error with our request id in its body as in its header, the upstream's beside it", async () => {
      const client = proxyClient(fx.endpoint, keys);
      const url = await getSignedUrl(client, new GetObjectCommand({ Bucket: bucket, Key: 'never/written.txt' }));
      const res = await raw(url, '');
      expect(res.status).toBe(404);
      expect(res.text).toContain('<Code>NoSuchKey</Code>');
      const ours = res.headers.get('x-amz-request-id');
      expect(ours).toBeTruthy();
      expect(res.text).toContain(`<RequestId>${ours}</RequestId>`);
      expect(res.headers.get('content-length')).toBe(String(Buffer.byteLength(res.text)));
      expect(res.headers.get('x-stowage-upstream-request-id')).not.toBe(ours);
    });

    it('answers a malformed request target in XML', async () => {
      const res = await raw(fx.endpoint, '/bad%zzbucket/key', { headers: { authorization: 'AWS4-HMAC-SHA256 x' } });
      expect(res.status).toBe(400);
      expect(res.text).toContain('<Code>InvalidURI</Code>');
    });
  });

  describe('audit and metrics', () => {
    it('records writes with the access key and no secret; successful reads are not sampled by default', async () => {
      const client = proxyClient(fx.endpoint, keys);
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'audited.txt', Body: 'audit me' }));
      await bodyOf(client, bucket, 'audited.txt');
      await sleep(600);
      const rows: Array<{ action: string; status: string; detail: Record<string, unknown>; bucket: string }> =
        await fx.app.app
          .get(DataSource)
          .query(
            `SELECT action, status, detail, bucket FROM audit_events WHERE object_key = 'audited.txt' ORDER BY id`,
          );
      expect(rows.map((r) => r.action)).toEqual(['s3.proxy.putobject']);
      expect(rows[0].detail).toMatchObject({ access_key: keys.accessKeyId, http_status: 200 });
      const everything = JSON.stringify(await fx.app.app.get(DataSource).query('SELECT * FROM audit_events'));
      expect(everything).not.toContain(keys.secretAccessKey);
    });

    it('folds repeated signature failures into few rows', async () => {
      const bad = proxyClient(fx.endpoint, { ...keys, secretAccessKey: 'z'.repeat(40) });
      await Promise.all(Array.from({ length: 30 }, () => s3Failure(bad.send(new ListBucketsCommand({})))));
      await sleep(1600);
      const [{ count }] = await fx.app.app
        .get(DataSource)
        .query(
          `SELECT count(*)::int AS count FROM audit_events WHERE action = 's3.proxy.listbuckets' AND detail->>'reason' = 'bad_signature'`,
        );
      expect(count).toBeGreaterThanOrEqual(1);
      expect(count).toBeLessThanOrEqual(4);
    });

    it('exposes proxy metrics', async () => {
      const res = await http(fx.app.url, '/metrics');
      expect(res.text).toMatch(/stowage_s3_request_total\{[^}]*operation="PutObject"[^}]*\} \d+/);
      expect(res.text).toMatch(/stowage_s3_auth_failure_total\{reason="bad_signature"\} \d+/);
      expect(res.text).toContain('stowage_s3_scope_violation_total');
    });
  });

  describe('anonymous bindings, rate limits and CORS (two instances)', () => {
    let a: TestApp;
    let b: TestApp;
    const publicBucket = 'public-assets';

    beforeAll(async () => {
      await createBucket(fx.admin, 'local', publicBucket);
      const config = { s3_proxy: { anonymous_enabled: true, per_key_rps: 5 } };
      a = (await bootWithProxy(stack, { config })).app;
      b = (await bootWithProxy(stack, { config })).app;
      const bind = await fx.admin.request('/api/admin/s3-anonymous', {
        method: 'POST',
        body: { backend_id: 'local', bucket: publicBucket, per_source_ip_rps: 4 },
      });
      expect(bind.status).toBeLessThan(300);
      const cors = await fx.admin.request(`/api/backends/local/buckets/${publicBucket}/cors`, {
        method: 'PUT',
        body: {
          rules: [
            {
              allowed_origins: ['https://app.example.com'],
              allowed_methods: ['GET', 'HEAD'],
              allowed_headers: ['*'],
              max_age_seconds: 600,
            },
          ],
        },
      });
      expect(cors.status).toBe(200);
      const client = proxyClient(
        fx.endpoint,
        await mintCredential(fx.admin, [{ backend_id: 'local', bucket: publicBucket }]),
      );
      await client.send(new PutObjectCommand({ Bucket: publicBucket, Key: 'logo.txt', Body: 'public bytes' }));
      await sleep(1100);
    }, 60_000);

    it('refuses anonymous reads while the global switch is off', async () => {
      const res = await raw(fx.endpoint, `/${publicBucket}/logo.txt`);
      expect(res.status).toBe(403);
      expect(res.text).toContain('<Code>AccessDenied</Code>');
    });

    it('serves the read-only allowlist anonymously and refuses everything else', async () => {
      const endpoint = proxyEndpoint(a);
      const got = await raw(endpoint, `/${publicBucket}/logo.txt`);
      expect(got.status).toBe(200);
      expect(got.text).toBe('public bytes');
      expect((await raw(endpoint, `/${publicBucket}/logo.txt`, { method: 'HEAD' })).status).toBe(200);
      const listed = await raw(endpoint, `/${publicBucket}?list-type=2`);
      expect(listed.status).toBe(200);
      expect(listed.text).toContain('<Key>logo.txt</Key>');
      await sleep(1100);
      const put = await raw(endpoint, `/${publicBucket}/defaced.txt`, { method: 'PUT', body: 'x' });
      expect(put.status).toBe(403);
      const del = await raw(endpoint, `/${publicBucket}/logo.txt`, { method: 'DELETE' });
      expect(del.status).toBe(403);
      const uploads = await raw(endpoint, `/${publicBucket}?uploads`);
      expect(uploads.status).toBe(403);
      const unbound = await raw(endpoint, `/${bucket}/audited.txt`);
      expect(unbound.status).toBe(403);
      expect((await raw(endpoint, `/${publicBucket}/logo.txt`)).text).toBe('public bytes');
    });

    it('limits anonymous reads per client address across instances', async () => {
      await sleep(1100);
      const endpoints = [proxyEndpoint(a), proxyEndpoint(b)];
      const results = await Promise.all(
        Array.from({ length: 12 }, (_, i) => raw(endpoints[i % 2], `/${publicBucket}/logo.txt`)),
      );
      const ok = results.filter((r) => r.status === 200).length;
      const slowed = results.filter((r) => r.status === 429);
      expect(ok).toBeGreaterThanOrEqual(4);
      expect(ok).toBeLessThanOrEqual(5);
      expect(slowed.length).toBe(12 - ok);
      expect(slowed[0].text).toContain('<Code>SlowDown</Code>');
      expect(Number(slowed[0].headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    });

    it('limits a credential per second across instances', async () => {
      const limited = await mintCredential(fx.user, [{ backend_id: 'local', bucket }]);
      const clients = [proxyClient(proxyEndpoint(a), limited), proxyClient(proxyEndpoint(b), limited)];
      const results = await Promise.allSettled(
        Array.from({ length: 14 }, (_, i) => clients[i % 2].send(new ListBucketsCommand({}))),
      );
      const ok = results.filter((r) => r.status === 'fulfilled').length;
      expect(ok).toBeGreaterThanOrEqual(5);
      expect(ok).toBeLessThanOrEqual(6);
      const refused = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      expect((refused.reason as S3ServiceException).name).toBe('SlowDown');
    });

    it('answers CORS preflights from the bucket rules and marks allowed responses', async () => {
      await sleep(1100);
      const endpoint = proxyEndpoint(a);
      const allowed = await raw(endpoint, `/${publicBucket}/logo.txt`, {
        method: 'OPTIONS',
        headers: {
          origin: 'https://app.example.com',
          'access-control-request-method': 'GET',
          'access-control-request-headers': 'x-amz-date, authorization',
        },
      });
      expect(allowed.status).toBe(200);
      expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
      expect(allowed.headers.get('access-control-allow-methods')).toBe('GET, HEAD');
      expect(allowed.headers.get('access-control-max-age')).toBe('600');

      const wrongOrigin = await raw(endpoint, `/${publicBucket}/logo.txt`, {
        method: 'OPTIONS',
        headers: { origin: 'https://evil.example.net', 'access-control-request-method': 'GET' },
      });
      expect(wrongOrigin.status).toBe(403);
      const wrongMethod = await raw(endpoint, `/${publicBucket}/logo.txt`, {
        method: 'OPTIONS',
        headers: { origin: 'https://app.example.com', 'access-control-request-method': 'DELETE' },
      });
      expect(wrongMethod.status).toBe(403);

      const get = await raw(endpoint, `/${publicBucket}/logo.txt`, { headers: { origin: 'https://app.example.com' } });
      expect(get.status).toBe(200);
      expect(get.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    });
  });

  describe('failure handling', () => {
    it('answers 503 ServiceUnavailable in XML when the upstream does not answer', async () => {
      const { app: down, client } = await bootOnEndpoint(stack, 'http://127.0.0.1:1', 'somewhere');
      const err = await s3Failure(client.send(new GetObjectCommand({ Bucket: 'somewhere', Key: 'k' })));
      expect(err.name).toBe('ServiceUnavailable');
      expect(err.$metadata.httpStatusCode).toBe(503);
      await down.close();
    });

    it("relays an upstream's error bodies whatever they are: small ones with our request id, large, chunked and broken ones as they come", async () => {
      const small = '<?xml version="1.0"?><Error><Code>NoSuchKey</Code><RequestId>up-1</RequestId></Error>';
      const big = `<Error><Code>NoSuchKey</Code><RequestId>up-2</RequestId><Pad>${'x'.repeat(1024 * 1024)}</Pad></Error>`;
      const chunked = '<Error><Code>NoSuchKey</Code><RequestId>up-3</RequestId></Error>';
      const upstream = createServer((req, res) => {
        const path = (req.url ?? '').split('?')[0];
        req.resume();
        const error = (headers: Record<string, string> = {}) =>
          res.writeHead(404, { 'content-type': 'application/xml', 'x-amz-request-id': 'up', ...headers });
        if (path === '/odd/small') {
          error({ 'content-length': String(Buffer.byteLength(small)) });
          res.end(small);
        } else if (path === '/odd/big') {
          error({ 'content-length': String(Buffer.byteLength(big)) });
          res.end(big);
        } else if (path === '/odd/chunked') {
          error();
          res.write(chunked.slice(0, 20));
          res.end(chunked.slice(20));
        } else if (path === '/odd/short') {
          // Promises more than it sends, then hangs up.
          error({ 'content-length': '500' });
          res.write(small.slice(0, 30));
          setTimeout(() => res.destroy(), 20);
        } else {
          res.writeHead(200, { 'content-length': '0' });
          res.end();
        }
      });
      await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
      const port = (upstream.address() as AddressInfo).port;
      const { app: odd, client } = await bootOnEndpoint(stack, `http://127.0.0.1:${port}`, 'odd');
      try {
        const get = async (key: string) =>
          raw(await getSignedUrl(client, new GetObjectCommand({ Bucket: 'odd', Key: key })), '');

        const a = await get('small');
        expect(a.status).toBe(404);
        expect(a.text).toBe(small.replace('up-1', a.headers.get('x-amz-request-id') ?? '?'));
        expect(a.headers.get('x-stowage-upstream-request-id')).toBe('up');

        const b = await get('big');
        expect([b.status, b.text.length, b.text === big]).toEqual([404, big.length, true]);

        const c = await get('chunked');
        expect([c.status, c.text]).toEqual([404, chunked]);

        await expect(get('short')).rejects.toThrow();
        // The proxy is none the worse for it.
        expect((await get('small')).status).toBe(404);
      } finally {
        await odd.close();
        await new Promise((resolve) => upstream.close(resolve));
      }
    });

    it('survives clients that hang up mid-download and mid-upload', async () => {
      const client = proxyClient(fx.endpoint, keys);
      const data = randomBytes(8 * 1024 * 1024);
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'abort/big.bin', Body: data }));
      const controller = new AbortController();
      const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: 'abort/big.bin' }), {
        abortSignal: controller.signal,
      });
      const reader = (got.Body as NodeJS.ReadableStream)[Symbol.asyncIterator]();
      await reader.next();
      controller.abort();
      (got.Body as unknown as { destroy(): void }).destroy();

      const upload = new AbortController();
      const slow = new Readable({ read() {} });
      slow.push(randomBytes(64 * 1024));
      const pending = client
        .send(
          new PutObjectCommand({ Bucket: bucket, Key: 'abort/partial.bin', Body: slow, ContentLength: 1024 * 1024 }),
          {
            abortSignal: upload.signal,
          },
        )
        .catch((err: Error) => err);
      await sleep(300);
      upload.abort();
      await pending;
      await sleep(300);

      expect(sha256(await bodyOf(client, bucket, 'abort/big.bin'))).toBe(sha256(data));
      const metrics = await http(fx.app.url, '/metrics');
      expect(metrics.text).toMatch(/stowage_s3_inflight_requests 0/);
    });

    it('refuses an upload before its body is sent when the client waits for 100-continue', async () => {
      const { port } = new URL(fx.endpoint);
      const answer = await new Promise<{ status: number; connection?: string; continued: boolean; body: string }>(
        (resolve, reject) => {
          let continued = false;
          const req = request({
            host: '127.0.0.1',
            port,
            method: 'PUT',
            path: `/${bucket}/unsigned.bin`,
            headers: { expect: '100-continue', 'content-length': String(2 * 1024 * 1024) },
          });
          req.on('continue', () => {
            continued = true;
          });
          req.on('response', (res) => {
            let body = '';
            res.setEncoding('utf8');
            res.on('data', (chunk: string) => (body += chunk));
            res.on('end', () =>
              resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, continued, body }),
            );
          });
          req.on('error', reject);
          req.flushHeaders();
        },
      );
      expect(answer.continued).toBe(false);
      expect(answer.status).toBe(403);
      expect(answer.connection).toBe('close');
      expect(answer.body).toContain('<Code>AccessDenied</Code>');
    });
  });

  describe('virtual-hosted-style addressing', () => {
    it('reads the bucket from the Host header under a configured suffix', async () => {
      const hosted = await bootWithProxy(stack, { config: { s3_proxy: { host_suffixes: ['s3.stowage.test'] } } });
      const port = new URL(hosted.endpoint).port;
      // Every *.s3.stowage.test name resolves to the loopback listener.
      const lookup = (_host: string, options: { all?: boolean }, done: (...args: unknown[]) => void) =>
        options.all ? done(null, [{ address: '127.0.0.1', family: 4 }]) : done(null, '127.0.0.1', 4);
      const client = new S3Client({
        endpoint: `http://s3.stowage.test:${port}`,
        region: 'us-east-1',
        credentials: keys,
        maxAttempts: 1,
        requestHandler: new NodeHttpHandler({ httpAgent: new Agent({ lookup: lookup as never }) }),
      });
      const data = randomBytes(2048);
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'hosted/style.bin', Body: data }));
      const pathStyle = proxyClient(hosted.endpoint, keys);
      expect(sha256(await bodyOf(pathStyle, bucket, 'hosted/style.bin'))).toBe(sha256(data));
    });
  });
});
