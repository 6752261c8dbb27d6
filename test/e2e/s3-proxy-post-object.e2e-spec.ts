import { createHmac } from 'node:crypto';
import { request } from 'node:http';
import { GetObjectCommand, HeadObjectCommand, S3ServiceException } from '@aws-sdk/client-s3';
import { DataSource } from 'typeorm';
import { deriveSigningKey, formatAmzDate, signString } from '@stowage/sigv4';
import { TestStack } from '../harness/app';
import {
  bootWithProxy,
  createBucket,
  mintCredential,
  proxyClient,
  ProxyFixture,
  VirtualKeys,
} from '../harness/s3-proxy';

const bucket = 'post-a';
const codeOf = (text: string) => /<Code>([^<]*)<\/Code>/.exec(text)?.[1];

/** The fields of a browser upload form signed with SigV4 (or SigV2), as an S3 SDK's presigned POST makes them. */
function signedForm(
  keys: VirtualKeys,
  options: {
    key?: string;
    conditions?: unknown[];
    expiresInSeconds?: number;
    extra?: Record<string, string>;
    v2?: boolean;
    secret?: string;
  } = {},
): Record<string, string> {
  const amzDate = formatAmzDate(Date.now());
  const credential = `${keys.accessKeyId}/${amzDate.slice(0, 8)}/us-east-1/s3/aws4_request`;
  const v4Fields: Record<string, string> = options.v2
    ? {}
    : { 'x-amz-algorithm': 'AWS4-HMAC-SHA256', 'x-amz-credential': credential, 'x-amz-date': amzDate };
  const policy = Buffer.from(
    JSON.stringify({
      expiration: new Date(Date.now() + (options.expiresInSeconds ?? 300) * 1000).toISOString(),
      conditions: options.conditions ?? [
        { bucket },
        ['starts-with', '$key', 'uploads/'],
        ['starts-with', '$Content-Type', 'text/'],
        ['content-length-range', 0, 1024],
        ...Object.entries(v4Fields).map(([k, v]) => ({ [k]: v })),
      ],
    }),
  ).toString('base64');
  const secret = options.secret ?? keys.secretAccessKey;
  const signature: Record<string, string> = options.v2
    ? { AWSAccessKeyId: keys.accessKeyId, signature: createHmac('sha1', secret).update(policy).digest('base64') }
    : { 'x-amz-signature': signString(deriveSigningKey(secret, amzDate.slice(0, 8), 'us-east-1', 's3'), policy) };
  return {
    key: options.key ?? 'uploads/${filename}',
    'Content-Type': 'text/plain',
    ...v4Fields,
    policy,
    ...signature,
    ...(options.extra ?? {}),
  };
}

async function post(endpoint: string, fields: Record<string, string>, file = 'hello from a form', name = 'hello.txt') {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  form.append('file', new Blob([file], { type: 'text/plain' }), name);
  const res = await fetch(`${endpoint}/${bucket}`, { method: 'POST', body: form, redirect: 'manual' });
  const text = await res.text();
  return { status: res.status, text, code: codeOf(text), headers: res.headers };
}

/** A raw multipart body, for forms a browser would never send. */
function rawPost(endpoint: string, body: string, boundary = 'XyZ'): Promise<{ status: number; text: string }> {
  const url = new URL(endpoint);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        method: 'POST',
        path: `/${bucket}`,
        headers: {
          'content-type': `multipart/form-data; boundary=${boundary}`,
          'content-length': Buffer.byteLength(body),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('PostObject: browser form uploads through the S3 proxy', () => {
  let stack: TestStack;
  let fx: ProxyFixture;
  let keys: VirtualKeys;
  let confined: VirtualKeys;

  beforeAll(async () => {
    stack = await TestStack.start();
    fx = await bootWithProxy(stack);
    await createBucket(fx.admin, 'local', bucket);
    keys = await mintCredential(fx.user, [{ backend_id: 'local', bucket }]);
    confined = await mintCredential(fx.user, [{ backend_id: 'local', bucket, key_prefix: 'uploads/alice/' }] as never);
  }, 60_000);

  afterAll(async () => stack?.stop());

  const exists = async (key: string) =>
    proxyClient(fx.endpoint, keys)
      .send(new HeadObjectCommand({ Bucket: bucket, Key: key }))
      .then(
        () => true,
        (err: S3ServiceException) => {
          if (err.$metadata.httpStatusCode === 404) return false;
          throw err;
        },
      );

  it('stores the file under the key the form names (SigV4), answering 204, and audits it', async () => {
    const res = await post(fx.endpoint, signedForm(keys));
    expect(res.status).toBe(204);
    expect(res.headers.get('etag')).toMatch(/^"/);
    const got = await proxyClient(fx.endpoint, keys).send(
      new GetObjectCommand({ Bucket: bucket, Key: 'uploads/hello.txt' }),
    );
    expect([await got.Body?.transformToString(), got.ContentType]).toEqual(['hello from a form', 'text/plain']);
    // One row, INSERTed as `pending` before the file went upstream, its outcome written over it.
    const read = (): Promise<Array<{ status: string; detail: Record<string, unknown> }>> =>
      fx.app.app
        .get(DataSource)
        .query(
          `SELECT status, detail FROM audit_events WHERE action = 's3.proxy.postobject' AND object_key = 'uploads/hello.txt'`,
        );
    let rows = await read();
    for (const until = Date.now() + 3000; rows[0]?.status === 'pending' && Date.now() < until; rows = await read()) {
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      status: 'ok',
      detail: { access_key: keys.accessKeyId, auth: 'post-policy', bytes_in: 17, http_status: 204 },
    });
  });

  it('answers 201 with a PostResponse, or a 303 to success_action_redirect', async () => {
    const created = await post(
      fx.endpoint,
      signedForm(keys, {
        key: 'uploads/created.txt',
        conditions: [
          { bucket },
          ['starts-with', '$key', 'uploads/'],
          ['starts-with', '$Content-Type', ''],
          { success_action_status: '201' },
        ],
        v2: true,
        extra: { success_action_status: '201' },
      }),
    );
    expect(created.status).toBe(201);
    expect(created.text).toContain('<Key>uploads/created.txt</Key>');
    const redirected = await post(
      fx.endpoint,
      signedForm(keys, {
        key: 'uploads/redirected.txt',
        conditions: [
          { bucket },
          ['starts-with', '$key', 'uploads/'],
          ['starts-with', '$Content-Type', ''],
          { success_action_redirect: 'https://app.example/done' },
        ],
        v2: true,
        extra: { success_action_redirect: 'https://app.example/done' },
      }),
    );
    expect(redirected.status).toBe(303);
    expect(redirected.headers.get('location')).toMatch(
      /^https:\/\/app\.example\/done\?bucket=post-a&key=uploads%2Fredirected\.txt&etag=/,
    );
  });

  it.each([
    ['an expired policy', () => signedForm(keys, { expiresInSeconds: -1 }), 403, 'AccessDenied'],
    ['a key outside the policy', () => signedForm(keys, { key: 'elsewhere/x.txt' }), 403, 'AccessDenied'],
    [
      'a content type outside the policy',
      () => ({ ...signedForm(keys), 'Content-Type': 'image/png' }),
      403,
      'AccessDenied',
    ],
    [
      'a field the policy does not name',
      () => signedForm(keys, { extra: { 'x-amz-meta-sneaky': 'x' } }),
      403,
      'AccessDenied',
    ],
    ['a wrong secret', () => signedForm(keys, { secret: 'x'.repeat(40) }), 403, 'SignatureDoesNotMatch'],
    [
      'a tampered policy',
      () => ({ ...signedForm(keys), policy: signedForm(keys, { expiresInSeconds: 900 }).policy }),
      403,
      'SignatureDoesNotMatch',
    ],
    [
      'no signature',
      () => ({ ...signedForm(keys), 'x-amz-signature': undefined as unknown as string }),
      400,
      'InvalidArgument',
    ],
    ['a key with dot segments', () => signedForm(keys, { key: 'uploads/../../post-b/x' }), 400, 'InvalidArgument'],
    ['a NUL in the key', () => signedForm(keys, { key: 'uploads/a\u0000b' }), 400, 'InvalidArgument'],
    [
      'a policy that is not JSON',
      () => ({ ...signedForm(keys), policy: 'bm90IGpzb24=' }),
      403,
      'SignatureDoesNotMatch',
    ],
  ])('refuses %s, storing nothing', async (_name, fields, status, code) => {
    const form = Object.fromEntries(Object.entries(fields()).filter(([, v]) => v !== undefined));
    const res = await post(fx.endpoint, form, 'refused', 'refused.txt');
    expect([res.status, res.code]).toEqual([status, code]);
    expect(await exists('uploads/refused.txt')).toBe(false);
  });

  it('refuses a file larger than content-length-range before storing anything', async () => {
    const res = await post(fx.endpoint, signedForm(keys), 'x'.repeat(2000), 'big.txt');
    expect([res.status, res.code]).toEqual([400, 'EntityTooLarge']);
    expect(await exists('uploads/big.txt')).toBe(false);
  });

  it("keeps a key-prefix credential's form inside its prefix", async () => {
    const outside = await post(fx.endpoint, signedForm(confined), 'x', 'escape.txt');
    expect([outside.status, outside.code]).toEqual([403, 'AccessDenied']);
    const inside = await post(
      fx.endpoint,
      signedForm(confined, { key: 'uploads/alice/${filename}' }),
      'mine',
      'mine.txt',
    );
    expect(inside.status).toBe(204);
    expect(await exists('uploads/alice/mine.txt')).toBe(true);
  });

  it('stores nothing when the form goes on after the file, or ends early', async () => {
    const fields = signedForm(keys, { key: 'uploads/trailing.txt' });
    const parts = Object.entries(fields).map(
      ([k, v]) => `--XyZ\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`,
    );
    const file = '--XyZ\r\nContent-Disposition: form-data; name="file"; filename="t.txt"\r\n\r\nabc\r\n';
    const trailing = await rawPost(
      fx.endpoint,
      `${parts.join('')}${file}--XyZ\r\nContent-Disposition: form-data; name="x"\r\n\r\ny\r\n--XyZ--\r\n`,
    );
    expect(trailing.status).toBe(400);
    const early = await rawPost(fx.endpoint, `${parts.join('')}--XyZ--\r\n`);
    expect([early.status, codeOf(early.text)]).toEqual([400, 'InvalidArgument']);
    const garbage = await rawPost(fx.endpoint, 'not a form at all');
    expect([garbage.status, codeOf(garbage.text)]).toEqual([400, 'InvalidArgument']);
    expect(await exists('uploads/trailing.txt')).toBe(false);
  });
});
