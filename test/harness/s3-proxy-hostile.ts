import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { request } from 'node:http';
import { dirname } from 'node:path';
import { tmpdir } from 'node:os';
import { Readable } from 'node:stream';
import { escapeXml } from '@stowage/s3-xml';
import { buildCanonicalRequest, buildStringToSign, deriveSigningKey, formatAmzDate, signString } from '@stowage/sigv4';
import type { Backend } from '../../src/storage-backends/backend';
import type { VirtualKeys } from './s3-proxy';

/**
 * Object keys that try to leave their bucket, as a client would put them in a request path
 * (`raw`, exactly as sent) and in a DeleteObjects body (`xml`, XML text). `refused` ones must be
 * answered 400 InvalidArgument; the others are harmless literal keys that must stay in bucket a.
 * `{b}` is replaced by bucket b and `TOKEN` by a name unique to the run, so a file written outside the S3 server's
 * directory can be found.
 */
export interface HostileKey {
  readonly name: string;
  readonly raw: string;
  readonly xml: string;
  readonly refused: boolean;
}

export const HOSTILE_KEYS: readonly HostileKey[] = [
  { name: 'dot-dot', raw: '../{b}/secret.txt', xml: '../{b}/secret.txt', refused: true },
  { name: 'encoded dots', raw: '%2E%2E/{b}/secret.txt', xml: '&#46;&#46;/{b}/secret.txt', refused: true },
  { name: 'lower-case encoded', raw: '%2e%2e%2f{b}%2fsecret.txt', xml: '..&#x2f;{b}/secret.txt', refused: true },
  { name: 'encoded slash', raw: '..%2F{b}/secret.txt', xml: '..//{b}/secret.txt', refused: true },
  { name: 'deeper', raw: 'x/../../{b}/secret.txt', xml: 'x/../../{b}/secret.txt', refused: true },
  { name: 'mixed dot', raw: '.%2e/{b}/secret.txt', xml: '.&#x2E;/{b}/secret.txt', refused: true },
  {
    name: 'out of the data directory',
    raw: '../../../../../../TOKEN/x',
    xml: '../../../../../../TOKEN/x',
    refused: true,
  },
  { name: 'out of the temp directory', raw: '../../TOKEN/x', xml: '../../TOKEN/x', refused: true },
  { name: 'backslashes', raw: '..%5C{b}%5Csecret.txt', xml: '..\\{b}\\secret.txt', refused: true },
  { name: 'raw backslashes', raw: '..\\{b}\\secret.txt', xml: ' ..\\{b}\\secret.txt', refused: true },
  { name: 'trailing dot-dot', raw: 'x/..', xml: 'x/..', refused: true },
  { name: 'single dot', raw: './x', xml: './x', refused: true },
  { name: 'empty first segment', raw: '/../{b}/secret.txt', xml: '/../{b}/secret.txt', refused: true },
  { name: 'NUL', raw: 'x%00y', xml: 'x&#0;y', refused: true },
  { name: 'newline', raw: 'x%0A..%2F{b}', xml: 'x&#10;../{b}', refused: true },
  { name: 'double-encoded dots', raw: '%252e%252e/{b}/secret.txt', xml: '%2e%2e/{b}/secret.txt', refused: false },
  {
    name: 'one-dot leader',
    raw: '%E2%80%A4%E2%80%A4/{b}/secret.txt',
    xml: '\u2024\u2024/{b}/secret.txt',
    refused: false,
  },
  {
    name: 'fullwidth stops',
    raw: '%EF%BC%8E%EF%BC%8E/{b}/secret.txt',
    xml: '\uff0e\uff0e/{b}/secret.txt',
    refused: false,
  },
];

export interface HostileTarget {
  endpoint: () => string;
  keys: () => VirtualKeys;
  /** Bucket a: the credential is scoped to it. */
  bucket: string;
  /** Bucket b: out of the credential's scope; holds `secret.txt`. */
  foreignBucket: string;
  /** The upstream behind both buckets, to look at b without the proxy. */
  backend: () => Backend;
  /** A host suffix the proxy serves virtual-hosted requests under (`<bucket>.<suffix>`). */
  hostSuffix: string;
  /** The S3 server's data directory, when it keeps one (s3rver): nothing may appear around it. */
  dataDirectory?: () => string | undefined;
  /**
   * The key prefix the credential is confined to in bucket a (`home/alice/`): every hostile key
   * then starts with it, so its dot segments try to climb out of the prefix as well.
   */
  keyPrefix?: string;
}

export interface RawResponse {
  status: number;
  code?: string;
  text: string;
}

/**
 * Sends a request signed for exactly the raw path and query given, through node:http, which
 * sends the path as it is (fetch and the SDKs would resolve or re-encode dot segments).
 */
export function signedRaw(
  endpoint: string,
  keys: VirtualKeys,
  method: string,
  target: string,
  options: { headers?: Record<string, string>; body?: Buffer | string; host?: string } = {},
): Promise<RawResponse> {
  const url = new URL(endpoint);
  const body = options.body === undefined ? Buffer.alloc(0) : Buffer.from(options.body);
  const q = target.indexOf('?');
  const path = q === -1 ? target : target.slice(0, q);
  const query = q === -1 ? '' : target.slice(q + 1);
  const amzDate = formatAmzDate(Date.now());
  const date = amzDate.slice(0, 8);
  const scope = `${date}/us-east-1/s3/aws4_request`;
  const payloadHash = createHash('sha256').update(body).digest('hex');
  const headers: Record<string, string> = {
    host: options.host ?? url.host,
    'x-amz-content-sha256': payloadHash,
    'x-amz-date': amzDate,
    ...(options.headers ?? {}),
  };
  if (body.length > 0 || method === 'PUT' || method === 'POST') headers['content-length'] = String(body.length);
  const signedHeaders = Object.keys(headers).sort();
  const canonical = buildCanonicalRequest({ method, path, query, headers, signedHeaders, payloadHash });
  const signingKey = deriveSigningKey(keys.secretAccessKey, date, 'us-east-1', 's3');
  const signature = signString(signingKey, buildStringToSign(amzDate, scope, canonical));
  headers.authorization = `AWS4-HMAC-SHA256 Credential=${keys.accessKeyId}/${scope}, SignedHeaders=${signedHeaders.join(';')}, Signature=${signature}`;
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, method, path: target, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, code: /<Code>([^<]*)<\/Code>/.exec(text)?.[1], text });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Every object of a bucket with a hash of its bytes, straight from the upstream. */
export async function bucketState(backend: Backend, bucket: string): Promise<Record<string, string>> {
  const state: Record<string, string> = {};
  let continuationToken: string | undefined;
  do {
    const page = await backend.listObjects({ bucket, maxKeys: 1000, continuationToken });
    for (const object of page.objects) {
      const { body } = await backend.getObject(bucket, object.key);
      const hash = createHash('sha256');
      for await (const chunk of body) hash.update(chunk as Buffer);
      state[object.key] = hash.digest('hex');
    }
    continuationToken = page.nextContinuationToken;
  } while (continuationToken);
  return state;
}

/** Entries named after `token` where a resolved `..` could have put them, around `directory`. */
export function strayEntries(directory: string, token: string): string[] {
  const found: string[] = [];
  for (const dir of new Set(['/', tmpdir(), dirname(directory), directory, dirname(dirname(directory))])) {
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir)) if (name.includes(token)) found.push(`${dir}/${name}`);
  }
  return found;
}

const md5 = (text: string) => createHash('md5').update(text).digest('base64');
const deleteBody = (xmlKey: string, keyPrefix = '') =>
  `<Delete><Object><Key>${keyPrefix}harmless</Key></Object><Object><Key>${xmlKey}</Key></Object></Delete>`;

const TAGGING = '<Tagging><TagSet><Tag><Key>owned</Key><Value>yes</Value></Tag></TagSet></Tagging>';

interface Operation {
  readonly name: string;
  /** The request for a key given as raw path text (and as XML text, for DeleteObjects). */
  readonly send: (t: HostileTarget, rawKey: string, xmlKey: string) => Promise<RawResponse>;
}

/** Operations that take a key from the request path, the copy source or the body. */
export const HOSTILE_OPERATIONS: readonly Operation[] = [
  { name: 'GetObject', send: (t, k) => signedRaw(t.endpoint(), t.keys(), 'GET', `/${t.bucket}/${k}`) },
  { name: 'HeadObject', send: (t, k) => signedRaw(t.endpoint(), t.keys(), 'HEAD', `/${t.bucket}/${k}`) },
  {
    name: 'PutObject',
    send: (t, k) => signedRaw(t.endpoint(), t.keys(), 'PUT', `/${t.bucket}/${k}`, { body: 'overwritten' }),
  },
  { name: 'DeleteObject', send: (t, k) => signedRaw(t.endpoint(), t.keys(), 'DELETE', `/${t.bucket}/${k}`) },
  {
    name: 'GetObjectTagging',
    send: (t, k) => signedRaw(t.endpoint(), t.keys(), 'GET', `/${t.bucket}/${k}?tagging`),
  },
  {
    name: 'PutObjectTagging',
    send: (t, k) => signedRaw(t.endpoint(), t.keys(), 'PUT', `/${t.bucket}/${k}?tagging`, { body: TAGGING }),
  },
  {
    name: 'CopyObject source',
    send: (t, k) =>
      signedRaw(t.endpoint(), t.keys(), 'PUT', `/${t.bucket}/${t.keyPrefix ?? ''}hostile-copy-target`, {
        headers: { 'x-amz-copy-source': `${t.bucket}/${k}` },
      }),
  },
  {
    name: 'UploadPart',
    send: (t, k) =>
      signedRaw(t.endpoint(), t.keys(), 'PUT', `/${t.bucket}/${k}?partNumber=1&uploadId=nonexistent`, {
        body: 'part',
      }),
  },
  {
    name: 'DeleteObjects body',
    send: (t, _k, x) =>
      signedRaw(t.endpoint(), t.keys(), 'POST', `/${t.bucket}?delete`, {
        body: deleteBody(x, t.keyPrefix),
        headers: { 'content-md5': md5(deleteBody(x, t.keyPrefix)) },
      }),
  },
  {
    name: 'GetObject, virtual-hosted',
    send: (t, k) =>
      signedRaw(t.endpoint(), t.keys(), 'GET', `/${k}`, {
        host: `${t.bucket}.${t.hostSuffix}:${new URL(t.endpoint()).port}`,
      }),
  },
  {
    name: 'PutObject, virtual-hosted',
    send: (t, k) =>
      signedRaw(t.endpoint(), t.keys(), 'PUT', `/${k}`, {
        host: `${t.bucket}.${t.hostSuffix}:${new URL(t.endpoint()).port}`,
        body: 'overwritten',
      }),
  },
];

/** Query parameters that name upstream state, with values that try to leave it. */
export const HOSTILE_QUERIES: ReadonlyArray<{ method: string; query: string }> = [
  { method: 'PUT', query: 'partNumber=1&uploadId=..%2F..%2F..%2FTOKEN%2Fp' },
  { method: 'PUT', query: 'partNumber=1&uploadId=..%2F..%2F..%2F..%2F..%2FTOKEN' },
  { method: 'PUT', query: 'partNumber=1&uploadId=..' },
  { method: 'PUT', query: 'partNumber=1&uploadId=a%5C..%5C..%5CTOKEN' },
  { method: 'PUT', query: 'partNumber=0&uploadId=u' },
  { method: 'PUT', query: 'partNumber=10001&uploadId=u' },
  { method: 'PUT', query: 'partNumber=1e3&uploadId=u' },
  { method: 'POST', query: 'uploadId=..%2F..%2F..%2FTOKEN' },
  { method: 'DELETE', query: 'uploadId=..%2F..%2F..%2FTOKEN' },
  { method: 'GET', query: 'uploadId=..%2F..%2F..%2FTOKEN' },
  { method: 'GET', query: 'versionId=..%2F..%2F..%2FTOKEN' },
  { method: 'GET', query: 'versionId=x%00' },
];

/**
 * Hostile keys × operations through the proxy, with a credential scoped to bucket a only:
 * refused keys answer 400 InvalidArgument, harmless ones stay in a, and after all of them bucket
 * b holds exactly what it held before and nothing appeared outside the S3 server's directory.
 */
export function describeHostileTargets(t: HostileTarget): void {
  describe('hostile object keys and tokens (bucket scope escape)', () => {
    const token = `stowage-escape-${randomBytes(4).toString('hex')}`;
    const key = (text: string) => text.replace(/TOKEN/g, token).replace(/\{b\}/g, t.foreignBucket);
    const prefixed = (text: string) => (t.keyPrefix ?? '') + key(text);
    const escapeKey = (text: string) => {
      // Character references stay; everything else is escaped as XML text.
      const parts = key(text).split(/(&#x?[0-9A-Fa-f]+;)/);
      return parts.map((part, i) => (i % 2 === 1 ? part : escapeXml(part))).join('');
    };
    let before: Record<string, string>;

    beforeAll(async () => {
      const secret = Buffer.from('top secret');
      await t.backend().putObject({
        bucket: t.foreignBucket,
        key: 'secret.txt',
        body: Readable.from([secret]),
        size: secret.length,
      });
      before = await bucketState(t.backend(), t.foreignBucket);
      expect(Object.keys(before)).toContain('secret.txt');
    });

    const cases = HOSTILE_OPERATIONS.flatMap((operation) =>
      HOSTILE_KEYS.map((hostile) => [operation.name, hostile.name, operation, hostile] as const),
    );
    it.each(cases)('%s with a %s key', async (_op, _key, operation, hostile) => {
      // Behind a key prefix a leading space is no longer leading: the key's own form is tested.
      const xml = t.keyPrefix ? escapeXml(t.keyPrefix) + escapeKey(hostile.xml.trimStart()) : escapeKey(hostile.xml);
      const res = await operation.send(t, prefixed(hostile.raw), xml);
      if (hostile.refused) {
        expect([res.status, res.code]).toEqual([
          400,
          operation.name.startsWith('HeadObject') ? undefined : 'InvalidArgument',
        ]);
      } else {
        expect(res.status).toBeLessThan(500);
        expect(res.text).not.toContain('top secret');
      }
    });

    it.each(HOSTILE_QUERIES)('$method ?$query is refused with InvalidArgument', async ({ method, query }) => {
      const res = await signedRaw(t.endpoint(), t.keys(), method, `/${t.bucket}/k?${key(query)}`, {
        body: method === 'PUT' ? 'part' : undefined,
      });
      expect([res.status, method === 'HEAD' ? 'InvalidArgument' : res.code]).toEqual([400, 'InvalidArgument']);
    });

    it.each(['/../{b}/secret.txt', '/%2E%2E/{b}/secret.txt', '/{a}%2F..%2F{b}/secret.txt', '/{a}/..'])(
      'GET %s never reaches bucket b',
      async (path) => {
        const res = await signedRaw(t.endpoint(), t.keys(), 'GET', key(path).replace(/\{a\}/g, t.bucket));
        expect(res.status).toBeGreaterThanOrEqual(400);
        expect(res.status).toBeLessThan(500);
        expect(res.text).not.toContain('top secret');
      },
    );

    it('leaves bucket b exactly as it was and writes nothing outside the data directory', async () => {
      expect(await bucketState(t.backend(), t.foreignBucket)).toEqual(before);
      const directory = t.dataDirectory?.();
      if (directory) expect(strayEntries(directory, token)).toEqual([]);
    });
  });
}
