import { createHash, createHmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import { SigV4Error } from './errors';
import {
  buildCanonicalRequest,
  buildStringToSign,
  deriveSigningKey,
  HeaderMap,
  signString,
  SigningKeyCache,
} from './signing';
import { checkRequest, classifyPayload, SigV4RequestInput, verifyRequest, VerifyOptions } from './verify';

/**
 * S3-flavoured requests signed by the AWS SDK's own signer (`@smithy/signature-v4` with
 * `uriEscapePath: false`, as @aws-sdk/client-s3 configures it), verified by this library.
 */

const ACCESS_KEY = 'AKIASTOWAGETEST00001';
const SECRET = 'stowage/TestSecretKey+0123456789abcdefghij';
const HOST = 'stowage.test:9000';
const T0 = new Date('2026-03-14T09:26:53Z');
const MINUTE = 60_000;

/** The SDK's hash interface over node:crypto. */
class Sha256 {
  private hash: ReturnType<typeof createHash> | ReturnType<typeof createHmac>;
  constructor(private readonly secret?: string | ArrayBuffer | ArrayBufferView) {
    this.hash = this.fresh();
  }
  private fresh() {
    if (this.secret === undefined) return createHash('sha256');
    const key = typeof this.secret === 'string' ? this.secret : Buffer.from(this.secret as Uint8Array);
    return createHmac('sha256', key);
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.hash.update(typeof data === 'string' ? data : Buffer.from(data as Uint8Array));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
  reset(): void {
    this.hash = this.fresh();
  }
}

/** The SDK's URI escaping (encodeURIComponent plus `!'()*`). */
const escapeUri = (s: string) =>
  encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

function wireQuery(query: Record<string, string | string[]>): string {
  const parts: string[] = [];
  for (const [key, value] of Object.entries(query)) {
    // A sub-resource such as `?uploads` goes on the wire bare, though it is signed as `uploads=`.
    if (value === '') parts.push(escapeUri(key));
    else for (const v of Array.isArray(value) ? value : [value]) parts.push(`${escapeUri(key)}=${escapeUri(v)}`);
  }
  return parts.join('&');
}

interface SignSpec {
  method?: string;
  bucket?: string;
  key?: string;
  query?: Record<string, string | string[]>;
  headers?: Record<string, string>;
  body?: string;
  secret?: string;
  accessKeyId?: string;
  sessionToken?: string;
  date?: Date;
  region?: string;
  presignExpires?: number;
  unhoistableHeaders?: Set<string>;
}

async function sdkSign(spec: SignSpec = {}): Promise<SigV4RequestInput & { headers: Record<string, string> }> {
  const signer = new SignatureV4({
    credentials: {
      accessKeyId: spec.accessKeyId ?? ACCESS_KEY,
      secretAccessKey: spec.secret ?? SECRET,
      sessionToken: spec.sessionToken,
    },
    region: spec.region ?? 'us-east-1',
    service: 's3',
    sha256: Sha256,
    uriEscapePath: false,
  });
  const key = spec.key ?? 'photos/2026/cat.jpg';
  const path = `/${spec.bucket ?? 'bucket'}${key === '' ? '' : `/${key.split('/').map(escapeUri).join('/')}`}`;
  const body = spec.body;
  const headers: Record<string, string> = { host: HOST, ...spec.headers };
  const request = {
    method: spec.method ?? 'GET',
    protocol: 'http:',
    hostname: 'stowage.test',
    port: 9000,
    path,
    query: { ...(spec.query ?? {}) } as Record<string, string | string[]>,
    headers,
    body,
  };
  let signed;
  if (spec.presignExpires !== undefined) {
    request.headers['x-amz-content-sha256'] ??= 'UNSIGNED-PAYLOAD';
    signed = await signer.presign(request, {
      signingDate: spec.date ?? T0,
      expiresIn: spec.presignExpires,
      unhoistableHeaders: spec.unhoistableHeaders,
    });
  } else {
    if (!('x-amz-content-sha256' in request.headers)) {
      request.headers['x-amz-content-sha256'] = createHash('sha256')
        .update(body ?? '')
        .digest('hex');
    }
    signed = await signer.sign(request, { signingDate: spec.date ?? T0 });
  }
  const lower: Record<string, string> = {};
  for (const [name, value] of Object.entries(signed.headers)) lower[name.toLowerCase()] = value;
  return {
    method: signed.method,
    path: signed.path,
    query: wireQuery(signed.query as Record<string, string | string[]>),
    headers: lower,
    lookupSecret: (id) => (id === (spec.accessKeyId ?? ACCESS_KEY) ? SECRET : undefined),
  };
}

const at = (offsetMs: number): VerifyOptions => ({ now: new Date(T0.getTime() + offsetMs) });

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'resolved';
  } catch (err) {
    if (!(err instanceof SigV4Error)) throw err;
    return err.code;
  }
}

function withQuery(input: SigV4RequestInput, edit: (params: URLSearchParams) => void): SigV4RequestInput {
  const params = new URLSearchParams(input.query);
  edit(params);
  return { ...input, query: params.toString().replace(/\+/g, '%20') };
}

describe('verifyRequest: header-signed S3 requests', () => {
  it('verifies a GET and returns what the body reader needs', async () => {
    const input = await sdkSign();
    const result = await verifyRequest(input, at(0));
    const authorization = input.headers.authorization;
    expect(result).toMatchObject({
      accessKeyId: ACCESS_KEY,
      mode: 'header',
      payload: 'signed',
      payloadHash: createHash('sha256').update('').digest('hex'),
      scope: '20260314/us-east-1/s3/aws4_request',
      amzDate: '20260314T092653Z',
      credential: { accessKeyId: ACCESS_KEY, date: '20260314', region: 'us-east-1', service: 's3' },
    });
    expect(authorization).toContain(`Signature=${result.seedSignature}`);
    expect(result.signingKey.equals(deriveSigningKey(SECRET, '20260314', 'us-east-1', 's3'))).toBe(true);
    expect(result.signedHeaders).toEqual(['host', 'x-amz-content-sha256', 'x-amz-date']);
  });

  it.each([
    ['a plain key', 'notes.txt', {}],
    ['a key with spaces, unicode and reserved characters', "dir one/é ✓ (copy)!*'~+=&?#.txt", {}],
    ['a key with a literal percent and encoded slash text', 'a%2Fb/100%/c', {}],
    ['ListObjectsV2 parameters', '', { 'list-type': '2', prefix: 'dir one/é', delimiter: '/', 'max-keys': '10' }],
    ['a value-less sub-resource and repeated keys', 'k', { uploads: '', tag: ['b', 'a', 'a b'] }],
    [
      'values needing escapes',
      'k',
      { 'response-content-disposition': 'attachment; filename="x y.txt"', versionId: '3/L4kqtJl+c=' },
    ],
  ] as const)('verifies %s', async (_label, key, query) => {
    const input = await sdkSign({ key, query: query as Record<string, string | string[]> });
    await expect(verifyRequest(input, at(0))).resolves.toMatchObject({ accessKeyId: ACCESS_KEY });
  });

  it('verifies a PUT whose declared body hash is returned for streaming verification', async () => {
    const body = 'hello, stowage';
    const input = await sdkSign({
      method: 'PUT',
      body,
      headers: { 'content-type': 'text/plain', 'x-amz-meta-colour': '  blue   and  green ' },
    });
    const result = await verifyRequest(input, at(0));
    expect(result.payload).toBe('signed');
    expect(result.payloadHash).toBe(createHash('sha256').update(body).digest('hex'));
  });

  it('canonicalises a path the client escaped differently from its signature', async () => {
    const input = await sdkSign({ key: 'a(b)!c' });
    expect(input.path).toBe('/bucket/a%28b%29%21c');
    await expect(verifyRequest({ ...input, path: '/bucket/a(b)!c' }, at(0))).resolves.toBeDefined();
    // An escaped slash is a different key from a path separator.
    const slashed = await sdkSign({ key: 'a%2Fb' });
    await expect(verifyRequest({ ...slashed, path: '/bucket/a/b' }, at(0))).rejects.toMatchObject({
      code: 'SignatureDoesNotMatch',
    });
  });

  it('accepts synchronous and asynchronous secret lookups', async () => {
    const input = await sdkSign();
    await expect(verifyRequest({ ...input, lookupSecret: () => SECRET }, at(0))).resolves.toBeDefined();
    await expect(verifyRequest({ ...input, lookupSecret: async () => SECRET }, at(0))).resolves.toBeDefined();
  });

  it('reports a session token', async () => {
    const input = await sdkSign({ sessionToken: 'FwoGZXIvYXdzEJr//////////token+/=' });
    const result = await verifyRequest(input, at(0));
    expect(result.securityToken).toBe('FwoGZXIvYXdzEJr//////////token+/=');
    expect(result.signedHeaders).toContain('x-amz-security-token');
  });

  it('refuses a signature made with another secret', async () => {
    const input = await sdkSign({ secret: 'not-the-secret' });
    const error = await verifyRequest(input, at(0)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SigV4Error);
    expect(error).toMatchObject({ code: 'SignatureDoesNotMatch', status: 403 });
    expect((error as SigV4Error).details?.StringToSign).toMatch(/^AWS4-HMAC-SHA256\n20260314T092653Z\n/);
    expect(JSON.stringify(error)).not.toContain(SECRET);
  });

  it('refuses an unknown access key', async () => {
    const input = await sdkSign({ accessKeyId: 'AKIAUNKNOWN' });
    await expect(verifyRequest({ ...input, lookupSecret: () => undefined }, at(0))).rejects.toMatchObject({
      code: 'InvalidAccessKeyId',
    });
    await expect(verifyRequest({ ...input, lookupSecret: async () => null }, at(0))).rejects.toMatchObject({
      code: 'InvalidAccessKeyId',
    });
  });

  it('propagates a failing secret lookup unchanged', async () => {
    const input = await sdkSign();
    const boom = new Error('database down');
    await expect(verifyRequest({ ...input, lookupSecret: async () => Promise.reject(boom) }, at(0))).rejects.toBe(boom);
  });

  it.each([
    ['the path', (i: SigV4RequestInput) => ({ ...i, path: `${i.path}x` })],
    ['the query', (i: SigV4RequestInput) => ({ ...i, query: 'x-id=1' })],
    ['the method', (i: SigV4RequestInput) => ({ ...i, method: 'DELETE' })],
    ['a signed header', (i: SigV4RequestInput) => ({ ...i, headers: { ...i.headers, host: 'evil.test' } })],
    [
      'the payload hash',
      (i: SigV4RequestInput) => ({ ...i, headers: { ...i.headers, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } }),
    ],
  ])('refuses a request whose %s changed', async (_what, tamper) => {
    const input = await sdkSign();
    await expect(verifyRequest(tamper(input), at(0))).rejects.toMatchObject({ code: 'SignatureDoesNotMatch' });
  });

  it('refuses an unsigned x-amz-* header unless told otherwise; other headers need no signature', async () => {
    const input = await sdkSign();
    const added = { ...input, headers: { ...input.headers, 'x-amz-copy-source': '/other/secret.txt' } };
    await expect(verifyRequest(added, at(0))).rejects.toMatchObject({
      code: 'AccessDenied',
      details: { HeadersNotSigned: 'x-amz-copy-source' },
    });
    await expect(verifyRequest(added, { ...at(0), requireSignedAmzHeaders: false })).resolves.toBeDefined();
    const agent = { ...input, headers: { ...input.headers, 'user-agent': 'curl/8' } };
    await expect(verifyRequest(agent, at(0))).resolves.toBeDefined();
  });

  it('accepts x-amz-date within the skew either way and refuses it beyond', async () => {
    const input = await sdkSign();
    for (const offset of [0, 14 * MINUTE, -14 * MINUTE, 15 * MINUTE, -15 * MINUTE]) {
      expect(await codeOf(verifyRequest(input, at(offset)))).toBe('resolved');
    }
    for (const offset of [16 * MINUTE, -16 * MINUTE, 24 * 60 * MINUTE]) {
      expect(await codeOf(verifyRequest(input, at(offset)))).toBe('RequestTimeTooSkewed');
    }
    expect(await codeOf(verifyRequest(input, { ...at(2 * MINUTE), maxSkewMs: MINUTE }))).toBe('RequestTimeTooSkewed');
    const error = (await verifyRequest(input, at(16 * MINUTE)).catch((e: unknown) => e)) as SigV4Error;
    expect(error.status).toBe(403);
    expect(error.details).toMatchObject({ RequestTime: '20260314T092653Z', MaxAllowedSkewMilliseconds: '900000' });
  });

  it('accepts an HTTP Date header in place of x-amz-date', async () => {
    const headers: HeaderMap = {
      host: HOST,
      date: 'Sat, 14 Mar 2026 09:26:53 GMT',
      'x-amz-content-sha256': 'UNSIGNED-PAYLOAD',
    };
    const signedHeaders = ['date', 'host', 'x-amz-content-sha256'];
    const scope = '20260314/us-east-1/s3/aws4_request';
    const canonical = buildCanonicalRequest({
      method: 'GET',
      path: '/bucket/k',
      query: '',
      headers,
      signedHeaders,
      payloadHash: 'UNSIGNED-PAYLOAD',
    });
    const signature = signString(
      deriveSigningKey(SECRET, '20260314', 'us-east-1', 's3'),
      buildStringToSign('20260314T092653Z', scope, canonical),
    );
    const authorization = `AWS4-HMAC-SHA256 Credential=${ACCESS_KEY}/${scope}, SignedHeaders=${signedHeaders.join(';')}, Signature=${signature}`;
    const input = {
      method: 'GET',
      path: '/bucket/k',
      query: '',
      headers: { ...headers, authorization },
      lookupSecret: () => SECRET,
    };
    await expect(verifyRequest(input, at(0))).resolves.toMatchObject({
      amzDate: '20260314T092653Z',
      payload: 'unsigned',
    });
    await expect(verifyRequest(input, at(20 * MINUTE))).rejects.toMatchObject({ code: 'RequestTimeTooSkewed' });
  });

  it('refuses to run with a broken clock or skew setting', async () => {
    const input = await sdkSign();
    await expect(verifyRequest(input, { now: new Date('nonsense') })).rejects.toBeInstanceOf(RangeError);
    await expect(verifyRequest(input, { ...at(0), maxSkewMs: Number.NaN })).rejects.toBeInstanceOf(RangeError);
  });

  it('requires a valid date', async () => {
    const input = await sdkSign();
    const { 'x-amz-date': _dropped, ...without } = input.headers;
    await expect(verifyRequest({ ...input, headers: without }, at(0))).rejects.toMatchObject({ code: 'AccessDenied' });
    for (const bad of ['20260314T092653', '20261314T092653Z', '20260230T000000Z', 'yesterday']) {
      await expect(
        verifyRequest({ ...input, headers: { ...input.headers, 'x-amz-date': bad } }, at(0)),
      ).rejects.toMatchObject({
        code: 'AccessDenied',
      });
    }
  });

  it('refuses a credential dated another day than the request', async () => {
    const input = await sdkSign();
    const headers = {
      ...input.headers,
      authorization: input.headers.authorization.replace('/20260314/', '/20260313/'),
    };
    await expect(verifyRequest({ ...input, headers }, at(0))).rejects.toMatchObject({
      code: 'AuthorizationHeaderMalformed',
    });
  });

  it('checks the expected region and service when configured', async () => {
    const input = await sdkSign({ region: 'eu-central-1' });
    await expect(verifyRequest(input, { ...at(0), region: 'eu-central-1', service: 's3' })).resolves.toBeDefined();
    await expect(verifyRequest(input, { ...at(0), region: ['us-east-1', 'eu-central-1'] })).resolves.toBeDefined();
    await expect(verifyRequest(input, { ...at(0), region: 'us-east-1' })).rejects.toMatchObject({
      code: 'AuthorizationHeaderMalformed',
      details: { Region: 'us-east-1' },
    });
    await expect(verifyRequest(input, { ...at(0), service: 'iam' })).rejects.toMatchObject({
      code: 'AuthorizationHeaderMalformed',
    });
  });

  it('asks a region function, which names the region expected when it refuses', async () => {
    const input = await sdkSign({ region: 'eu-central-1' });
    const seen: string[] = [];
    const accept = (region: string) => (seen.push(region), undefined);
    await expect(verifyRequest(input, { ...at(0), region: accept })).resolves.toBeDefined();
    expect(seen).toEqual(['eu-central-1']);
    await expect(verifyRequest(input, { ...at(0), region: () => 'us-east-1' })).rejects.toMatchObject({
      code: 'AuthorizationHeaderMalformed',
      status: 400,
      details: { Region: 'us-east-1' },
    });
  });

  it('refuses an unknown x-amz-content-sha256 and requires the header', async () => {
    for (const value of ['STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD', 'unsigned-payload', 'abc', 'e3b0c442']) {
      const input = await sdkSign({ headers: { 'x-amz-content-sha256': value } });
      await expect(verifyRequest(input, at(0))).rejects.toMatchObject({ code: 'InvalidArgument', status: 400 });
    }
    const input = await sdkSign();
    const { 'x-amz-content-sha256': _dropped, ...without } = input.headers;
    await expect(verifyRequest({ ...input, headers: without }, at(0))).rejects.toMatchObject({
      code: 'MissingSecurityHeader',
    });
  });

  it.each([
    ['UNSIGNED-PAYLOAD', 'unsigned'],
    ['STREAMING-AWS4-HMAC-SHA256-PAYLOAD', 'streaming-signed'],
    ['STREAMING-UNSIGNED-PAYLOAD-TRAILER', 'streaming-unsigned-trailer'],
    ['STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER', 'streaming-signed-trailer'],
  ])('verifies x-amz-content-sha256: %s as %s', async (value, payload) => {
    const input = await sdkSign({
      method: 'PUT',
      headers: {
        'x-amz-content-sha256': value,
        'content-encoding': 'aws-chunked',
        'x-amz-decoded-content-length': '12345',
        'x-amz-trailer': 'x-amz-checksum-crc32',
      },
    });
    const result = await verifyRequest(input, at(0));
    expect(result.payload).toBe(payload);
    expect(result.payloadHash).toBeUndefined();
    if (payload.startsWith('streaming')) expect(result.decodedContentLength).toBe(12345);
    if (payload.endsWith('trailer')) expect(result.trailerNames).toEqual(['x-amz-checksum-crc32']);
  });

  it('refuses a malformed x-amz-decoded-content-length', async () => {
    const input = await sdkSign({
      method: 'PUT',
      headers: { 'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD', 'x-amz-decoded-content-length': '-1' },
    });
    await expect(verifyRequest(input, at(0))).rejects.toMatchObject({ code: 'InvalidArgument' });
  });

  it('classifies payload hashes', () => {
    expect(classifyPayload('A'.repeat(64))).toEqual({ payload: 'signed', payloadHash: 'a'.repeat(64) });
    expect(() => classifyPayload('STREAMING-UNSIGNED-PAYLOAD')).toThrow(SigV4Error);
  });

  it('refuses two auth mechanisms at once, and no auth at all', async () => {
    const header = await sdkSign();
    const presigned = await sdkSign({ presignExpires: 60 });
    const both = { ...presigned, headers: { ...presigned.headers, authorization: header.headers.authorization } };
    await expect(verifyRequest(both, at(0))).rejects.toMatchObject({ code: 'InvalidArgument' });
    await expect(verifyRequest({ ...presigned, query: '' }, at(0))).rejects.toMatchObject({ code: 'AccessDenied' });
  });

  it('refuses a malformed or unsupported Authorization header with a typed error', async () => {
    const input = await sdkSign();
    for (const [authorization, code] of [
      ['AWS AKIAIOSFODNN7EXAMPLE:frJIUN8DYpKDtOLCwo//yllqDzg=', 'InvalidRequest'],
      ['AWS4-HMAC-SHA256 Credential=x', 'AuthorizationHeaderMalformed'],
      ['Bearer abc', 'AuthorizationHeaderMalformed'],
      ['', 'AuthorizationHeaderMalformed'],
    ]) {
      await expect(
        verifyRequest({ ...input, headers: { ...input.headers, authorization } }, at(0)),
      ).rejects.toMatchObject({ code });
    }
    const twice = {
      ...input,
      headers: { ...input.headers, authorization: [input.headers.authorization, input.headers.authorization] },
    };
    await expect(verifyRequest(twice, at(0))).rejects.toMatchObject({ code: 'InvalidArgument' });
  });

  it('requires host to be signed', async () => {
    const input = await sdkSign();
    const authorization = input.headers.authorization.replace('SignedHeaders=host;', 'SignedHeaders=');
    await expect(
      verifyRequest({ ...input, headers: { ...input.headers, authorization } }, at(0)),
    ).rejects.toMatchObject({
      code: 'AuthorizationHeaderMalformed',
    });
  });
});

describe('checkRequest: refusals as values', () => {
  it('answers synchronously when the secret lookup does, and returns refusals instead of throwing', async () => {
    const input = await sdkSign();
    const verified = checkRequest(input, at(0));
    expect(verified).not.toBeInstanceOf(Promise);
    expect(verified).toMatchObject({ accessKeyId: ACCESS_KEY, payload: 'signed' });

    const wrong = checkRequest({ ...input, lookupSecret: () => 'another secret' }, at(0));
    expect(wrong).toBeInstanceOf(SigV4Error);
    expect(wrong).toMatchObject({ code: 'SignatureDoesNotMatch' });
    expect(checkRequest({ ...input, lookupSecret: () => undefined }, at(0))).toMatchObject({
      code: 'InvalidAccessKeyId',
    });
    expect(checkRequest(input, at(16 * MINUTE))).toMatchObject({ code: 'RequestTimeTooSkewed' });
    expect(checkRequest({ ...input, headers: { ...input.headers, authorization: 'Basic x' } }, at(0))).toMatchObject({
      code: 'AuthorizationHeaderMalformed',
    });
  });

  it('hands back refusals that are full SigV4Errors, stack aside', async () => {
    const input = await sdkSign();
    const wrong = checkRequest({ ...input, lookupSecret: () => 'another secret' }, at(0)) as SigV4Error;
    expect(wrong).toBeInstanceOf(SigV4Error);
    expect(wrong).toBeInstanceOf(Error);
    expect(wrong).toMatchObject({ name: 'SigV4Error', code: 'SignatureDoesNotMatch', status: 403 });
    expect(wrong.message).toMatch(/does not match/);
    expect(wrong.details?.AWSAccessKeyId).toBe(ACCESS_KEY);
    expect(wrong.stack).toBeUndefined();
    const direct = SigV4Error.refusal('InvalidAccessKeyId', 'unknown', { AWSAccessKeyId: 'X' });
    expect({ ...direct }).toEqual({ ...new SigV4Error('InvalidAccessKeyId', 'unknown', { AWSAccessKeyId: 'X' }) });
  });

  it('answers with a promise for an asynchronous lookup, still without rejecting on a refusal', async () => {
    const input = await sdkSign();
    const pending = checkRequest({ ...input, lookupSecret: async () => 'another secret' }, at(0));
    expect(pending).toBeInstanceOf(Promise);
    await expect(pending).resolves.toMatchObject({ code: 'SignatureDoesNotMatch' });
    const boom = new Error('database down');
    await expect(
      checkRequest(
        {
          ...input,
          lookupSecret: async () => {
            throw boom;
          },
        },
        at(0),
      ),
    ).rejects.toBe(boom);
    expect(() => checkRequest(input, { now: new Date(NaN) })).toThrow(RangeError);
  });

  it('tells requests apart that share everything but the signature', async () => {
    // The parse of everything before the signature is remembered; the signature never is.
    const good = await sdkSign();
    const forged = good.headers.authorization.replace(/Signature=([0-9a-f])/, (_, c: string) =>
      c === '0' ? 'Signature=1' : 'Signature=0',
    );
    for (let i = 0; i < 3; i++) {
      expect(checkRequest(good, at(0))).not.toBeInstanceOf(SigV4Error);
      expect(checkRequest({ ...good, headers: { ...good.headers, authorization: forged } }, at(0))).toMatchObject({
        code: 'SignatureDoesNotMatch',
      });
    }
    const other = await sdkSign({ accessKeyId: 'AKIASTOWAGETEST00002' });
    expect(checkRequest({ ...other, lookupSecret: () => SECRET }, at(0))).toMatchObject({
      accessKeyId: 'AKIASTOWAGETEST00002',
    });
  });
});

describe('verifyRequest: presigned URLs', () => {
  it('keeps a one-hour URL valid for the whole hour, past the skew window', async () => {
    const input = await sdkSign({ presignExpires: 3600 });
    for (const minute of [0, 1, 14, 16, 20, 45, 59, 60]) {
      expect([minute, await codeOf(verifyRequest(input, at(minute * MINUTE)))]).toEqual([minute, 'resolved']);
    }
    const result = await verifyRequest(input, at(20 * MINUTE));
    expect(result).toMatchObject({ mode: 'presigned', payload: 'unsigned', accessKeyId: ACCESS_KEY });
    expect(result.expiresAt?.toISOString()).toBe('2026-03-14T10:26:53.000Z');
  });

  it('refuses a URL after it expires, as S3 does', async () => {
    const input = await sdkSign({ presignExpires: 3600 });
    for (const offset of [60 * MINUTE + 1000, 61 * MINUTE, 24 * 60 * MINUTE]) {
      const error = (await verifyRequest(input, at(offset)).catch((e: unknown) => e)) as SigV4Error;
      expect(error).toBeInstanceOf(SigV4Error);
      expect(error.code).toBe('AccessDenied');
      expect(error.message).toBe('Request has expired');
    }
  });

  it('refuses a URL dated beyond the skew in the future', async () => {
    const input = await sdkSign({ presignExpires: 3600 });
    expect(await codeOf(verifyRequest(input, at(-14 * MINUTE)))).toBe('resolved');
    expect(await codeOf(verifyRequest(input, at(-16 * MINUTE)))).toBe('RequestTimeTooSkewed');
  });

  it('accepts the seven-day maximum', async () => {
    const input = await sdkSign({ presignExpires: 604800 });
    expect(await codeOf(verifyRequest(input, at(7 * 24 * 60 * MINUTE)))).toBe('resolved');
    expect(await codeOf(verifyRequest(input, at(7 * 24 * 60 * MINUTE + 1000)))).toBe('AccessDenied');
  });

  it('requires X-Amz-Expires and refuses values outside 1..604800', async () => {
    const input = await sdkSign({ presignExpires: 3600 });
    const missing = withQuery(input, (p) => p.delete('X-Amz-Expires'));
    await expect(verifyRequest(missing, at(0))).rejects.toMatchObject({
      code: 'AuthorizationQueryParametersError',
      status: 400,
    });
    for (const value of ['0', '604801', '-1', '1.5', 'abc', '', '1e3', ' 60', '99999999']) {
      const bad = withQuery(input, (p) => p.set('X-Amz-Expires', value));
      expect([value, await codeOf(verifyRequest(bad, at(0)))]).toEqual([value, 'AuthorizationQueryParametersError']);
    }
  });

  it('refuses a URL whose lifetime was extended after signing', async () => {
    const input = await sdkSign({ presignExpires: 3600 });
    const extended = withQuery(input, (p) => p.set('X-Amz-Expires', '604800'));
    await expect(verifyRequest(extended, at(2 * 60 * MINUTE))).rejects.toMatchObject({ code: 'SignatureDoesNotMatch' });
  });

  it.each(['X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Date', 'X-Amz-SignedHeaders'])(
    'refuses a URL without %s',
    async (name) => {
      const input = await sdkSign({ presignExpires: 3600 });
      await expect(
        verifyRequest(
          withQuery(input, (p) => p.delete(name)),
          at(0),
        ),
      ).rejects.toMatchObject({
        code: 'AuthorizationQueryParametersError',
      });
    },
  );

  it('refuses repeated, malformed or unsupported parameters', async () => {
    const input = await sdkSign({ presignExpires: 3600 });
    for (const edit of [
      (p: URLSearchParams) => p.append('X-Amz-Signature', '0'.repeat(64)),
      (p: URLSearchParams) => p.set('X-Amz-Algorithm', 'AWS4-HMAC-SHA1'),
      (p: URLSearchParams) => p.set('X-Amz-Date', '2026-03-14T09:26:53Z'),
      (p: URLSearchParams) => p.set('X-Amz-Credential', 'AKIA/20260314/us-east-1/s3'),
      (p: URLSearchParams) => p.set('X-Amz-Credential', `${ACCESS_KEY}/20260315/us-east-1/s3/aws4_request`),
      (p: URLSearchParams) => p.set('X-Amz-Signature', 'zz'),
      (p: URLSearchParams) => p.set('X-Amz-SignedHeaders', 'Host;;x'),
    ]) {
      await expect(verifyRequest(withQuery(input, edit), at(0))).rejects.toMatchObject({
        code: 'AuthorizationQueryParametersError',
      });
    }
  });

  it('refuses a tampered URL and a wrong secret', async () => {
    const input = await sdkSign({ presignExpires: 3600, query: { versionId: 'v1' } });
    await expect(
      verifyRequest(
        withQuery(input, (p) => p.set('versionId', 'v2')),
        at(0),
      ),
    ).rejects.toMatchObject({
      code: 'SignatureDoesNotMatch',
    });
    await expect(verifyRequest({ ...input, path: '/bucket/other' }, at(0))).rejects.toMatchObject({
      code: 'SignatureDoesNotMatch',
    });
    const wrong = await sdkSign({ presignExpires: 3600, secret: 'nope' });
    await expect(verifyRequest(wrong, at(0))).rejects.toMatchObject({ code: 'SignatureDoesNotMatch' });
  });

  it('uses a signed payload hash the presigner put in the query', async () => {
    const hash = createHash('sha256').update('body').digest('hex');
    const input = await sdkSign({ method: 'PUT', presignExpires: 600, headers: { 'x-amz-content-sha256': hash } });
    await expect(verifyRequest(input, at(0))).resolves.toMatchObject({ payload: 'signed', payloadHash: hash });
  });

  it('carries a session token in the query', async () => {
    const input = await sdkSign({ presignExpires: 600, sessionToken: 'tok+en/==' });
    expect(input.query).toContain('X-Amz-Security-Token=tok%2Ben%2F%3D%3D');
    await expect(verifyRequest(input, at(0))).resolves.toMatchObject({ securityToken: 'tok+en/==' });
  });

  it('verifies a presigned PUT with signed, unhoisted headers', async () => {
    const input = await sdkSign({
      method: 'PUT',
      presignExpires: 900,
      headers: { 'x-amz-server-side-encryption': 'AES256' },
      unhoistableHeaders: new Set(['x-amz-server-side-encryption']),
    });
    expect(input.query).not.toContain('x-amz-server-side-encryption=');
    await expect(verifyRequest(input, at(5 * MINUTE))).resolves.toMatchObject({
      payload: 'unsigned',
      mode: 'presigned',
    });
    const { 'x-amz-server-side-encryption': _dropped, ...without } = input.headers;
    await expect(verifyRequest({ ...input, headers: without }, at(0))).rejects.toMatchObject({
      code: 'SignatureDoesNotMatch',
    });
    const extra = { ...input, headers: { ...input.headers, 'x-amz-acl': 'public-read' } };
    await expect(verifyRequest(extra, at(0))).rejects.toMatchObject({ code: 'AccessDenied' });
  });

  it('refuses an unknown X-Amz-Content-Sha256', async () => {
    const input = await sdkSign({ presignExpires: 3600, headers: { 'x-amz-content-sha256': 'WHATEVER' } });
    expect(input.query).toContain('x-amz-content-sha256=WHATEVER');
    await expect(verifyRequest(input, at(0))).rejects.toMatchObject({ code: 'InvalidArgument' });
    const upper = withQuery(input, (p) => {
      p.delete('x-amz-content-sha256');
      p.set('X-Amz-Content-Sha256', 'WHATEVER');
    });
    await expect(verifyRequest(upper, at(0))).rejects.toMatchObject({ code: 'InvalidArgument' });
    const both = withQuery(input, (p) => p.set('X-Amz-Content-Sha256', 'UNSIGNED-PAYLOAD'));
    await expect(verifyRequest(both, at(0))).rejects.toMatchObject({ code: 'AuthorizationQueryParametersError' });
  });
});

describe('verifyRequest: signing-key cache', () => {
  it('never reuses a key derived from a rotated secret', async () => {
    const cache = new SigningKeyCache(100);
    let current = SECRET;
    const lookupSecret = () => current;
    const old = { ...(await sdkSign()), lookupSecret };
    await expect(verifyRequest(old, { ...at(0), signingKeyCache: cache })).resolves.toBeDefined();
    current = 'rotated/secret';
    await expect(verifyRequest(old, { ...at(0), signingKeyCache: cache })).rejects.toMatchObject({
      code: 'SignatureDoesNotMatch',
    });
    const fresh = { ...(await sdkSign({ secret: 'rotated/secret' })), lookupSecret };
    await expect(verifyRequest(fresh, { ...at(0), signingKeyCache: cache })).resolves.toBeDefined();
    expect(cache.size).toBe(2);
  });

  it('returns the cached key on a hit and derives without a cache when disabled', async () => {
    const cache = new SigningKeyCache(100);
    const input = await sdkSign();
    const a = await verifyRequest(input, { ...at(0), signingKeyCache: cache });
    const b = await verifyRequest(input, { ...at(0), signingKeyCache: cache });
    expect(b.signingKey).toBe(a.signingKey);
    const c = await verifyRequest(input, { ...at(0), signingKeyCache: false });
    expect(c.signingKey).not.toBe(a.signingKey);
    expect(c.signingKey.equals(a.signingKey)).toBe(true);
  });

  it('is a bounded LRU', () => {
    const cache = new SigningKeyCache(3);
    const get = (id: string) => cache.get(id, 'secret', '20260314', 'us-east-1', 's3');
    const first = get('a');
    get('b');
    get('c');
    expect(get('a')).toBe(first); // a is now the most recent
    get('d'); // evicts b
    expect(cache.size).toBe(3);
    expect(get('a')).toBe(first);
    for (let i = 0; i < 50; i++) get(`k${i}`);
    expect(cache.size).toBe(3);
    // Repeated hits on the newest entry keep the order intact.
    const x = get('x');
    get('y');
    get('z');
    get('z');
    get('x');
    get('x');
    get('w'); // evicts y
    expect(get('x')).toBe(x);
    expect(get('z')).toBeDefined();
    expect(cache.size).toBe(3);
    expect(() => new SigningKeyCache(0)).toThrow(RangeError);
  });

  it('remembers the key of a secret holder, and derives anew for a new holder or another scope', async () => {
    const cache = new SigningKeyCache(100);
    const holder = { secretKey: SECRET };
    const input = { ...(await sdkSign()), lookupSecret: () => holder };
    const a = await verifyRequest(input, { ...at(0), signingKeyCache: cache });
    const b = await verifyRequest(input, { ...at(0), signingKeyCache: cache });
    expect(b.signingKey).toBe(a.signingKey);
    expect(cache.size).toBe(1);

    // A rotated secret comes in a new holder: the old key is never used for it.
    const rotated = { secretKey: 'rotated/secret' };
    const stale = { ...input, lookupSecret: () => rotated };
    await expect(verifyRequest(stale, { ...at(0), signingKeyCache: cache })).rejects.toMatchObject({
      code: 'SignatureDoesNotMatch',
    });
    const fresh = { ...(await sdkSign({ secret: 'rotated/secret' })), lookupSecret: () => rotated };
    await expect(verifyRequest(fresh, { ...at(0), signingKeyCache: cache })).resolves.toBeDefined();

    // Another scope on the same holder is derived for that scope, not taken from the memo.
    const day = cache.forHolder(holder, 'AKID', '20260314', 'us-east-1', 's3');
    expect(cache.forHolder(holder, 'AKID', '20260314', 'us-east-1', 's3')).toBe(day);
    expect(cache.forHolder(holder, 'AKID', '20260315', 'us-east-1', 's3').equals(day)).toBe(false);
    expect(cache.forHolder(holder, 'AKID', '20260314', 'eu-west-1', 's3').equals(day)).toBe(false);
    expect(cache.forHolder(holder, 'OTHER', '20260314', 'us-east-1', 's3')).toBe(
      cache.get('OTHER', SECRET, '20260314', 'us-east-1', 's3'),
    );
    expect(cache.forHolder(holder, 'AKID', '20260314', 'us-east-1', 's3').equals(day)).toBe(true);
    expect(deriveSigningKey(SECRET, '20260314', 'us-east-1', 's3').equals(day)).toBe(true);
  });

  it('keys by scope and by secret', () => {
    const cache = new SigningKeyCache(10);
    const base = cache.get('a', 's1', '20260314', 'us-east-1', 's3');
    expect(cache.get('a', 's2', '20260314', 'us-east-1', 's3').equals(base)).toBe(false);
    expect(cache.get('a', 's1', '20260315', 'us-east-1', 's3').equals(base)).toBe(false);
    expect(cache.get('a', 's1', '20260314', 'eu-west-1', 's3').equals(base)).toBe(false);
    expect(cache.get('a', 's1', '20260314', 'us-east-1', 'sts').equals(base)).toBe(false);
    expect(cache.size).toBe(5);
  });
});

describe('AWS-documented examples', () => {
  it('derives the documented signing key', () => {
    expect(
      deriveSigningKey('wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', '20120215', 'us-east-1', 'iam').toString('hex'),
    ).toBe('f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d');
  });
});
