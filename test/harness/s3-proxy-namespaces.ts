import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteBucketCorsCommand,
  GetBucketLoggingCommand,
  GetBucketCorsCommand,
  PutBucketCorsCommand,
  DeleteObjectsCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  GetBucketTaggingCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  PutBucketTaggingCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { mkdirSync, writeFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import type { Backend } from '../../src/storage-backends/backend';
import type { Session } from './session';
import { proxyClient, VirtualKeys } from './s3-proxy';
import { AWS_CLI_V1, S3Cli } from './s3-proxy-matrix';

/**
 * A credential that owns a bucket-name prefix (a namespace) or a key prefix in a shared bucket,
 * driven through the proxy by the SDK v3 in its default configuration and by the aws CLI,
 * rclone and s3cmd. Used on s3rver (test/e2e) and on Ceph RGW (test/s3-compat).
 */
export interface NamespaceTarget {
  endpoint: () => string;
  admin: () => Session;
  user: () => Session;
  backendId: string;
  /** The upstream, to look without the proxy and to clean up. */
  backend: () => Backend;
  /** Unique to the run, lower-case: namespaces are `ns<tag>-`, buckets inside `ns<tag>-…`. */
  tag: string;
  /** Whether the upstream keeps versioning and bucket tags (Ceph does; s3rver keeps only CORS). */
  versioning: boolean;
}

export async function mintAs(
  session: Session,
  path: '/api/admin/s3-credentials' | '/api/me/s3-credentials',
  scopes: unknown[],
): Promise<{ status: number; code?: string; keys?: VirtualKeys; body: unknown }> {
  const res = await session.request(path, { method: 'POST', body: { scopes } });
  const body = res.body as { access_key?: string; secret_key?: string; error?: { code: string } };
  return {
    status: res.status,
    code: body?.error?.code,
    body,
    keys: body?.access_key ? { accessKeyId: body.access_key, secretAccessKey: body.secret_key as string } : undefined,
  };
}

async function failure(promise: Promise<unknown>): Promise<S3ServiceException> {
  try {
    await promise;
  } catch (err) {
    return err as S3ServiceException;
  }
  throw new Error('expected the request to fail');
}

/** Deletes every object and the bucket itself, straight on the upstream; quiet when it is gone. */
export async function dropBucket(backend: Backend, bucket: string): Promise<void> {
  try {
    for (;;) {
      const page = await backend.listObjects({ bucket, maxKeys: 1000 });
      if (page.objects.length === 0) break;
      await backend.deleteObjects(
        bucket,
        page.objects.map((o) => ({ key: o.key })),
      );
    }
    await backend.deleteBucket(bucket);
  } catch {
    // already gone
  }
}

export function describeNamespaces(t: NamespaceTarget): void {
  describe('namespaces and key prefixes', () => describeNamespacesIn(t));
}

function describeNamespacesIn(t: NamespaceTarget): void {
  const prefix = `ns${t.tag}-`;
  const made: string[] = [];
  const name = (suffix: string) => {
    const bucket = `${prefix}${suffix}`;
    made.push(bucket);
    return bucket;
  };
  let keys: VirtualKeys;

  beforeAll(async () => {
    const minted = await mintAs(t.admin(), '/api/admin/s3-credentials', [
      { backend_id: t.backendId, bucket_prefix: prefix },
    ]);
    if (!minted.keys) throw new Error(`could not mint a namespace credential: ${JSON.stringify(minted.body)}`);
    keys = minted.keys;
  });

  afterAll(async () => {
    for (const bucket of made) await dropBucket(t.backend(), bucket);
  });

  describe('granting namespaces', () => {
    it('shows the namespace on the credential, for admins and its owner', async () => {
      const list = await t.admin().request('/api/admin/s3-credentials');
      const mine = (list.body as { credentials: Array<Record<string, unknown>> }).credentials.find(
        (c) => c.access_key === keys.accessKeyId,
      );
      expect(mine).toMatchObject({
        namespaces: [prefix],
        buckets: [],
        scopes: [{ backend_id: t.backendId, bucket_prefix: prefix }],
      });
    });

    it('lets only an administrator grant a namespace', async () => {
      const own = await mintAs(t.user(), '/api/me/s3-credentials', [
        { backend_id: t.backendId, bucket_prefix: `${prefix}self-` },
      ]);
      expect([own.status, own.code]).toEqual([403, 'forbidden']);
    });

    it.each([
      ['a prefix without its trailing hyphen', [{ bucket_prefix: `ns${t.tag}` }], 400, 'invalid_bucket_name'],
      ['an upper-case prefix', [{ bucket_prefix: `NS${t.tag}-` }], 400, 'invalid_bucket_name'],
      ['dot segments in a prefix', [{ bucket_prefix: `../ns${t.tag}-` }], 400, 'invalid_bucket_name'],
      ['a NUL in a prefix', [{ bucket_prefix: `ns${t.tag}\u0000-` }], 400, 'bad_request'],
      ['bucket and bucket_prefix together', [{ bucket: `ns${t.tag}-x`, bucket_prefix: prefix }], 400, 'bad_request'],
      ['a key prefix with a namespace', [{ bucket_prefix: prefix, key_prefix: 'a/' }], 400, 'bad_request'],
      ['overlapping namespaces', [{ bucket_prefix: prefix }, { bucket_prefix: `${prefix}sub-` }], 400, 'bad_request'],
      ['a bucket inside a namespace', [{ bucket_prefix: prefix }, { bucket: `${prefix}one` }], 400, 'bad_request'],
      ['a key prefix with dot segments', [{ bucket: `${prefix}one`, key_prefix: 'a/../b/' }], 400, 'bad_request'],
      ['a key prefix without a trailing slash', [{ bucket: `${prefix}one`, key_prefix: 'home/a' }], 400, 'bad_request'],
      ['a prefix of the wrong type', [{ bucket_prefix: 42 }], 400, 'bad_request'],
    ])('refuses %s', async (_name, scopes, status, code) => {
      const res = await mintAs(
        t.admin(),
        '/api/admin/s3-credentials',
        (scopes as Array<Record<string, unknown>>).map((s) => ({ backend_id: t.backendId, ...s })),
      );
      expect([res.status, res.code]).toEqual([status, code]);
    });
  });

  describe('the SDK v3 in its default configuration', () => {
    it('creates, configures, lists, writes to and deletes buckets inside the namespace', async () => {
      const client = proxyClient(t.endpoint(), keys, { checksums: 'default' });
      const bucket = name('sdk');
      await client.send(new CreateBucketCommand({ Bucket: bucket }));
      const listed = await client.send(new ListBucketsCommand({}));
      expect(listed.Buckets?.map((b) => b.Name)).toEqual([bucket]);
      const rule = { AllowedMethods: ['GET'], AllowedOrigins: ['https://app.example'] };
      await client.send(new PutBucketCorsCommand({ Bucket: bucket, CORSConfiguration: { CORSRules: [rule] } }));
      expect((await client.send(new GetBucketCorsCommand({ Bucket: bucket }))).CORSRules).toMatchObject([rule]);
      // The proxy answers browsers from the rules the owner set (cached for at most a second).
      await new Promise((resolve) => setTimeout(resolve, 1100));
      const preflight = await fetch(`${t.endpoint()}/${bucket}/k`, {
        method: 'OPTIONS',
        headers: { origin: 'https://app.example', 'access-control-request-method': 'GET' },
      });
      expect([preflight.status, preflight.headers.get('access-control-allow-origin')]).toEqual([
        200,
        'https://app.example',
      ]);
      await client.send(new DeleteBucketCorsCommand({ Bucket: bucket }));
      // Configuration that reaches beyond the namespace (log delivery to another bucket) stays refused.
      const logging = await failure(client.send(new GetBucketLoggingCommand({ Bucket: bucket })));
      expect(logging.$metadata.httpStatusCode).toBe(501);
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'v' }));
      const body = await client.send(new GetObjectCommand({ Bucket: bucket, Key: 'k' }));
      expect(await body.Body?.transformToString()).toBe('v');
      await client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: [{ Key: 'k' }] } }));
      await client.send(new DeleteBucketCommand({ Bucket: bucket }));
      expect((await client.send(new ListBucketsCommand({}))).Buckets ?? []).toEqual([]);
      if (t.versioning) {
        // On a bucket of its own, left without objects (and versions) so it can be deleted.
        const bucket = name('sdk-versioned');
        await client.send(new CreateBucketCommand({ Bucket: bucket }));
        await client.send(
          new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }),
        );
        expect((await client.send(new GetBucketVersioningCommand({ Bucket: bucket }))).Status).toBe('Enabled');
        await client.send(
          new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Suspended' } }),
        );
        await client.send(
          new PutBucketTaggingCommand({ Bucket: bucket, Tagging: { TagSet: [{ Key: 'team', Value: 'a' }] } }),
        );
        expect((await client.send(new GetBucketTaggingCommand({ Bucket: bucket }))).TagSet).toEqual([
          { Key: 'team', Value: 'a' },
        ]);
        await client.send(new DeleteBucketCommand({ Bucket: bucket }));
      }
    });

    it('refuses buckets outside the namespace, its stem and its siblings', async () => {
      const client = proxyClient(t.endpoint(), keys);
      for (const bucket of [`ns${t.tag}`, `ns${t.tag}x-one`, `xns${t.tag}-one`]) {
        const err = await failure(client.send(new CreateBucketCommand({ Bucket: bucket })));
        expect([bucket, err.name, err.$metadata.httpStatusCode]).toEqual([bucket, 'AccessDenied', 403]);
      }
      const bare = await failure(client.send(new CreateBucketCommand({ Bucket: prefix })));
      expect([bare.name, bare.$metadata.httpStatusCode]).toEqual(['InvalidBucketName', 400]);
      const err = await failure(client.send(new CreateBucketCommand({ Bucket: `${prefix}Bad_Name` })));
      expect([err.name, err.$metadata.httpStatusCode]).toEqual(['InvalidBucketName', 400]);
    });

    it('records bucket creation and deletion in the audit log', async () => {
      const client = proxyClient(t.endpoint(), keys);
      const bucket = name('audited');
      await client.send(new CreateBucketCommand({ Bucket: bucket }));
      await client.send(new DeleteBucketCommand({ Bucket: bucket }));
      const res = await t.admin().request(`/api/admin/audit?bucket=${bucket}&limit=10`);
      expect(res.status).toBe(200);
      const actions = JSON.stringify(res.body);
      expect(actions).toContain('s3.proxy.putbucket');
      expect(actions).toContain('s3.proxy.deletebucket');
    });
  });

  describe('command-line clients', () => {
    it('aws CLI: s3 mb, cp, sync, ls, rb', async () => {
      const cli = S3Cli.aws(t.endpoint(), keys);
      try {
        const bucket = name('awscli');
        await cli.ok('s3', 'mb', `s3://${bucket}`);
        cli.file('one.txt', Buffer.from('one'));
        await cli.ok('s3', 'cp', cli.file('one.txt'), `s3://${bucket}/one.txt`);
        const dir = cli.file('tree');
        mkdirSync(dir, { recursive: true });
        writeFileSync(`${dir}/a.txt`, 'a');
        writeFileSync(`${dir}/b.txt`, 'b');
        await cli.ok('s3', 'sync', dir, `s3://${bucket}/tree/`);
        const ls = await cli.ok('s3', 'ls', `s3://${bucket}/tree/`);
        expect(ls).toContain('a.txt');
        expect(ls).toContain('b.txt');
        expect(await cli.ok('s3', 'ls')).toContain(bucket);
        // `s3 presign` in the aws CLI v1's default form (SigV2), of a bucket the credential made.
        if (AWS_CLI_V1) {
          const plain = S3Cli.aws(t.endpoint(), keys, { defaults: true, v1: true });
          try {
            const url = (await plain.ok('s3', 'presign', `s3://${bucket}/one.txt`)).trim();
            expect(url).toContain('AWSAccessKeyId=');
            const res = await fetch(url);
            expect([res.status, await res.text()]).toEqual([200, 'one']);
          } finally {
            plain.close();
          }
        }
        await cli.ok('s3', 'rb', '--force', `s3://${bucket}`);
        expect(await cli.ok('s3', 'ls')).not.toContain(bucket);
        const outside = await cli.run('s3', 'mb', `s3://ns${t.tag}`);
        expect(outside.code).not.toBe(0);
        expect(outside.stderr).toContain('AccessDenied');
      } finally {
        cli.close();
      }
    });

    it('rclone: mkdir, sync, purge', async () => {
      const cli = S3Cli.rclone(t.endpoint(), keys);
      try {
        const bucket = name('rclone');
        await cli.ok('mkdir', `proxy:${bucket}`);
        const dir = cli.file('tree');
        mkdirSync(dir, { recursive: true });
        writeFileSync(`${dir}/a.txt`, 'a');
        await cli.ok('sync', dir, `proxy:${bucket}/tree`);
        expect(await cli.ok('lsf', `proxy:${bucket}/tree`)).toContain('a.txt');
        await cli.ok('purge', `proxy:${bucket}`);
        const buckets = await cli.ok('lsd', 'proxy:');
        expect(buckets).not.toContain(bucket);
      } finally {
        cli.close();
      }
    });

    it.each([false, true])('s3cmd (signature_v2 = %s): mb, put, get, rb', async (v2) => {
      const cli = S3Cli.s3cmd(t.endpoint(), keys, { signatureV2: v2 });
      try {
        const bucket = name(v2 ? 's3cmd-v2' : 's3cmd-v4');
        await cli.ok('mb', `s3://${bucket}`);
        await cli.ok('put', cli.file('p.txt', Buffer.from('put by s3cmd')), `s3://${bucket}/p.txt`);
        await cli.ok('get', `s3://${bucket}/p.txt`, cli.file('got.txt'));
        expect(cli.read('got.txt').toString()).toBe('put by s3cmd');
        expect(await cli.ok('ls', `s3://${bucket}/`)).toContain('p.txt');
        await cli.ok('del', `s3://${bucket}/p.txt`);
        await cli.ok('rb', `s3://${bucket}`);
      } finally {
        cli.close();
      }
    });
  });

  describe('a key-prefix credential in a shared bucket', () => {
    let shared: string;
    let alice: VirtualKeys;
    let bob: VirtualKeys;

    beforeAll(async () => {
      shared = `sh${t.tag}`;
      made.push(shared);
      await t.backend().createBucket(shared);
      const put = (key: string) =>
        t.backend().putObject({ bucket: shared, key, body: Readable.from([Buffer.from(key)]), size: key.length });
      await put('home/alice/a.txt');
      await put('home/bob/secret.txt');
      await put('home/alice2/x.txt');
      const a = await mintAs(t.user(), '/api/me/s3-credentials', [
        { backend_id: t.backendId, bucket: shared, key_prefix: 'home/alice/' },
      ]);
      const b = await mintAs(t.user(), '/api/me/s3-credentials', [
        { backend_id: t.backendId, bucket: shared, key_prefix: 'home/bob/' },
      ]);
      if (!a.keys || !b.keys) throw new Error(`could not mint key-prefix credentials: ${JSON.stringify(a.body)}`);
      alice = a.keys;
      bob = b.keys;
    });

    it('reads, writes and lists under its own prefix', async () => {
      const client = proxyClient(t.endpoint(), alice);
      await client.send(new PutObjectCommand({ Bucket: shared, Key: 'home/alice/new.txt', Body: 'new' }));
      const listed = await client.send(new ListObjectsV2Command({ Bucket: shared, Prefix: 'home/alice/' }));
      expect(listed.Contents?.map((c) => c.Key)).toEqual(['home/alice/a.txt', 'home/alice/new.txt']);
      const got = await client.send(new GetObjectCommand({ Bucket: shared, Key: 'home/alice/a.txt' }));
      expect(await got.Body?.transformToString()).toBe('home/alice/a.txt');
    });

    it("cannot read, list, copy or delete a sibling's prefix", async () => {
      const client = proxyClient(t.endpoint(), alice);
      const denied = async (promise: Promise<unknown>) => {
        const err = await failure(promise);
        expect([err.name, err.$metadata.httpStatusCode]).toEqual(['AccessDenied', 403]);
      };
      await denied(client.send(new GetObjectCommand({ Bucket: shared, Key: 'home/bob/secret.txt' })));
      await denied(client.send(new GetObjectCommand({ Bucket: shared, Key: 'home/alice2/x.txt' })));
      await denied(client.send(new ListObjectsV2Command({ Bucket: shared, Prefix: 'home/bob/' })));
      await denied(client.send(new ListObjectsV2Command({ Bucket: shared, Prefix: 'home/' })));
      await denied(client.send(new ListObjectsV2Command({ Bucket: shared })));
      await denied(client.send(new ListObjectsV2Command({ Bucket: shared, Prefix: 'home/alice' })));
      await denied(
        client.send(
          new CopyObjectCommand({
            Bucket: shared,
            Key: 'home/alice/stolen.txt',
            CopySource: `${shared}/home/bob/secret.txt`,
          }),
        ),
      );
      await denied(
        client.send(
          new DeleteObjectsCommand({
            Bucket: shared,
            Delete: { Objects: [{ Key: 'home/alice/a.txt' }, { Key: 'home/bob/secret.txt' }] },
          }),
        ),
      );
      await denied(client.send(new PutObjectCommand({ Bucket: shared, Key: 'home/bob/planted.txt', Body: 'x' })));
      await denied(client.send(new DeleteBucketCommand({ Bucket: shared })));
      // Nothing of bob's changed, and alice's object survived the refused DeleteObjects.
      const b = proxyClient(t.endpoint(), bob);
      const secret = await b.send(new GetObjectCommand({ Bucket: shared, Key: 'home/bob/secret.txt' }));
      expect(await secret.Body?.transformToString()).toBe('home/bob/secret.txt');
      const own = await b.send(new ListObjectsV2Command({ Bucket: shared, Prefix: 'home/bob/' }));
      expect(own.Contents?.map((c) => c.Key)).toEqual(['home/bob/secret.txt']);
      const still = await client.send(new GetObjectCommand({ Bucket: shared, Key: 'home/alice/a.txt' }));
      expect(still.$metadata.httpStatusCode).toBe(200);
    });

    it('aws CLI: ls, cp and sync stay inside the prefix', async () => {
      const cli = S3Cli.aws(t.endpoint(), alice);
      try {
        expect(await cli.ok('s3', 'ls', `s3://${shared}/home/alice/`)).toContain('a.txt');
        const sibling = await cli.run('s3', 'ls', `s3://${shared}/home/bob/`);
        expect(sibling.code).not.toBe(0);
        expect(sibling.stderr).toContain('AccessDenied');
        const dir = cli.file('tree');
        mkdirSync(dir, { recursive: true });
        writeFileSync(`${dir}/s.txt`, 's');
        await cli.ok('s3', 'sync', dir, `s3://${shared}/home/alice/tree/`);
        expect(await cli.ok('s3', 'ls', `s3://${shared}/home/alice/tree/`)).toContain('s.txt');
        const stolen = await cli.run('s3', 'cp', `s3://${shared}/home/bob/secret.txt`, cli.file('stolen.txt'));
        expect(stolen.code).not.toBe(0);
      } finally {
        cli.close();
      }
    });
  });
}
