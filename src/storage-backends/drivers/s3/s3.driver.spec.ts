import { Readable } from 'node:stream';
import { S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import type { BackendKind } from '@stowage/config';
import { StowageError } from '@stowage/errors';
import { CorsRule } from '../../backend';
import { capabilitiesFor, FULL_CAPABILITIES } from '../capabilities';
import { S3DriverConfig } from './s3-driver.config';
import { describeUpstreamError, mapS3Error, UNREACHABLE_DETAIL } from './s3-errors';
import { copySource, corsFromS3, corsToS3, lifecycleFromS3, lifecycleToS3, tagsToHeader } from './s3-mappers';
import { S3Driver } from './s3.driver';
import { failure } from '../../../../test/harness/streams';

const SECRET = 'super-secret-key-value';

function config(kind: BackendKind, extra: Partial<S3DriverConfig> = {}): S3DriverConfig {
  return {
    id: 'b1',
    name: 'Backend one',
    // Nothing listens on port 1: a request that slipped through would fail as backend_error.
    endpoint: 'http://127.0.0.1:1',
    region: 'us-east-1',
    accessKey: 'AKIDEXAMPLE',
    secretKey: SECRET,
    pathStyle: true,
    kind,
    checksums: 'when_required',
    ...extra,
  };
}

/** An SDK service exception as the deserializer builds it. */
function serviceError(name: string, status: number, message = `${name} message`, headers: Record<string, string> = {}) {
  const err = new S3ServiceException({
    name,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status },
    message,
  });
  Object.assign(err, { Code: name, $response: { statusCode: status, headers, body: undefined } });
  return err;
}

function networkError(code: string, name = 'Error') {
  return Object.assign(new Error(`connect ${code} 127.0.0.1:1`), { code, name });
}

interface Sent {
  command: string;
  input: Record<string, unknown>;
}

/** A driver whose client answers from `answer` (by command name) and records what was sent. */
function fakeDriver(kind: BackendKind, answer: (sent: Sent) => unknown, extra: Partial<S3DriverConfig> = {}) {
  const driver = new S3Driver(config(kind, extra));
  const client = (driver as unknown as { client: S3Client }).client;
  const sent: Sent[] = [];
  const send = jest.spyOn(client, 'send').mockImplementation((async (command: {
    constructor: { name: string };
    input: Record<string, unknown>;
  }) => {
    const entry = { command: command.constructor.name.replace(/Command$/, ''), input: command.input };
    sent.push(entry);
    const out = answer(entry);
    if (out instanceof Error) throw out;
    return out ?? {};
  }) as never);
  return { driver, sent, send };
}

describe('mapS3Error', () => {
  it.each([
    ['NoSuchBucket', 404, 'not_found', 404],
    ['NoSuchKey', 404, 'not_found', 404],
    ['NotFound', 404, 'not_found', 404],
    ['NoSuchUpload', 404, 'not_found', 404],
    ['NoSuchVersion', 404, 'not_found', 404],
    ['SomethingElse', 404, 'not_found', 404],
    ['BucketAlreadyExists', 409, 'conflict', 409],
    ['BucketAlreadyOwnedByYou', 409, 'conflict', 409],
    ['BucketNotEmpty', 409, 'conflict', 409],
    ['InvalidRange', 416, 'bad_range', 400],
    ['Whatever', 416, 'bad_range', 400],
    ['NotImplemented', 501, 'not_supported', 400],
    ['MethodNotAllowed', 405, 'not_supported', 400],
    ['AccessDenied', 403, 'backend_error', 502],
    ['SignatureDoesNotMatch', 403, 'backend_error', 502],
    ['InternalError', 500, 'backend_error', 502],
    ['SlowDown', 503, 'backend_error', 502],
    ['PreconditionFailed', 412, 'backend_error', 502],
  ])('%s (%i) becomes %s', (name, status, code, httpStatus) => {
    const err = mapS3Error(serviceError(name, status, 'upstream says no'));
    expect(err).toBeInstanceOf(StowageError);
    expect(err.code).toBe(code);
    expect(err.status).toBe(httpStatus);
    expect(err.detail).toBe(`${name}: upstream says no`);
  });

  it('maps a refused continuation token to bad_request, and only when the request carried one', () => {
    const refused = serviceError('InvalidArgument', 400, 'The continuation token provided is incorrect');
    expect(mapS3Error(refused, { clientToken: 'refusal' })).toMatchObject({ code: 'bad_request', status: 400 });
    expect(mapS3Error(refused)).toMatchObject({ code: 'backend_error', status: 502 });
    // s3rver answers 500 to a token it cannot decipher and 403 to one whose characters it signs differently.
    expect(mapS3Error(serviceError('InternalError', 500), { clientToken: 'any' }).code).toBe('bad_request');
    expect(mapS3Error(serviceError('SignatureDoesNotMatch', 403), { clientToken: 'any' }).code).toBe('bad_request');
    expect(mapS3Error(serviceError('InternalError', 500), { clientToken: 'refusal' }).code).toBe('backend_error');
    expect(mapS3Error(serviceError('NoSuchBucket', 404), { clientToken: 'any' }).code).toBe('not_found');
  });

  it('maps an upstream refusal of a sent document (400 or a known code) to the document code', () => {
    expect(mapS3Error(serviceError('MalformedXML', 400), { document: 'invalid_cors' })).toMatchObject({
      code: 'invalid_cors',
      status: 400,
    });
    expect(mapS3Error(serviceError('MalformedPolicy', 403), { document: 'invalid_policy' }).code).toBe(
      'invalid_policy',
    );
    expect(mapS3Error(serviceError('InvalidStorageClass', 500), { document: 'invalid_lifecycle' }).code).toBe(
      'invalid_lifecycle',
    );
    expect(mapS3Error(serviceError('Whatever', 400), { document: 'invalid_lifecycle' }).code).toBe('invalid_lifecycle');
    // Not a refusal of the document: the usual mapping.
    expect(mapS3Error(serviceError('MalformedPolicy', 403), { document: 'invalid_cors' }).code).toBe('backend_error');
    expect(mapS3Error(serviceError('NoSuchBucket', 404), { document: 'invalid_cors' }).code).toBe('not_found');
    expect(mapS3Error(serviceError('NotImplemented', 501), { document: 'invalid_cors' }).code).toBe('not_supported');
    expect(mapS3Error(serviceError('MalformedXML', 400)).code).toBe('backend_error');
    const unreachable = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    expect(mapS3Error(unreachable, { document: 'invalid_cors' }).code).toBe('backend_error');
  });

  it('maps 412 to object_exists only for a conditional put', () => {
    expect(mapS3Error(serviceError('PreconditionFailed', 412), { ifNoneMatchPut: true }).code).toBe('object_exists');
    expect(mapS3Error(serviceError('PreconditionFailed', 412)).code).toBe('backend_error');
  });

  it('keeps the upstream error as the cause', () => {
    const upstream = serviceError('InternalError', 500);
    expect(mapS3Error(upstream).cause).toBe(upstream);
  });

  it('describes bodiless answers by status instead of "UnknownError"', () => {
    expect(describeUpstreamError(serviceError('NotFound', 404, 'UnknownError'))).toBe('NotFound: HTTP 404');
  });

  it.each(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EPIPE'])(
    'maps the network error %s to backend_error 502',
    (code) => {
      const err = mapS3Error(networkError(code));
      expect(err.code).toBe('backend_error');
      expect(err.status).toBe(502);
      // One text whatever the network said: a backend endpoint must not work as a port scanner.
      expect(err.detail).toBe(UNREACHABLE_DETAIL);
    },
  );

  it('maps timeouts and aborts to backend_error 502', () => {
    const timeout = mapS3Error(networkError('ETIMEDOUT', 'TimeoutError'));
    expect(timeout).toMatchObject({ code: 'backend_error', status: 502 });
    expect(timeout.detail).toContain('did not answer in time');
    const aborted = mapS3Error(Object.assign(new Error('Request aborted'), { name: 'AbortError' }));
    expect(aborted).toMatchObject({ code: 'backend_error', status: 502 });
    expect(aborted.detail).toContain('aborted');
  });

  it('passes a StowageError through untouched', () => {
    const original = new StowageError('too_large');
    expect(mapS3Error(original)).toBe(original);
  });

  it('never repeats a secret in the detail', () => {
    const err = mapS3Error(serviceError('AccessDenied', 403, `key ${SECRET} refused`), { secrets: [SECRET] });
    expect(err.detail).toBe('AccessDenied: key *** refused');
    expect(err.detail).not.toContain(SECRET);
  });
});

describe('capabilitiesFor', () => {
  const fullKinds: BackendKind[] = ['generic', 'aws', 'minio', 'ceph', 'wasabi', 'seaweedfs'];

  it.each(fullKinds)('gives %s everything', (kind) => {
    expect(capabilitiesFor(kind)).toEqual({
      versioning: true,
      object_lock: true,
      lifecycle: true,
      bucket_policy: true,
      cors: true,
      tagging: true,
      server_side_encrypt: true,
      multipart_management: true,
      suffix_ranges: true,
      admin_api: '',
      max_multipart_parts: 10_000,
      max_part_size_bytes: 5 * 1024 ** 3,
    });
  });

  it('takes away what garage, r2, b2 and s3rver lack', () => {
    expect(capabilitiesFor('garage')).toMatchObject({
      versioning: false,
      object_lock: false,
      bucket_policy: false,
      lifecycle: true,
      cors: true,
    });
    expect(capabilitiesFor('r2')).toMatchObject({
      versioning: false,
      object_lock: false,
      bucket_policy: false,
      lifecycle: true,
    });
    expect(capabilitiesFor('b2')).toMatchObject({ object_lock: false, bucket_policy: false, versioning: true });
    expect(capabilitiesFor('s3rver')).toMatchObject({
      versioning: false,
      object_lock: false,
      lifecycle: false,
      bucket_policy: false,
      cors: true,
      tagging: true,
      multipart_management: false,
      suffix_ranges: false,
      admin_api: '',
    });
  });

  it('hands out frozen copies', () => {
    const caps = capabilitiesFor('aws');
    expect(Object.isFrozen(caps)).toBe(true);
    expect(caps).not.toBe(FULL_CAPABILITIES);
    expect(() => capabilitiesFor('nope' as BackendKind)).toThrow(/unknown backend kind/);
  });
});

describe('S3 mappers', () => {
  it('encodes copy sources and tag headers', () => {
    expect(copySource('b', 'dir/a b+c&d.txt')).toBe('b/dir/a%20b%2Bc%26d.txt');
    expect(copySource('b', 'k', 'v 1')).toBe('b/k?versionId=v%201');
    expect(tagsToHeader({ a: '1', 'b c': 'd&e=f' })).toBe('a=1&b%20c=d%26e%3Df');
  });

  it('round-trips CORS rules', () => {
    const rules = [
      { allowed_origins: ['*'], allowed_methods: ['GET'] },
      {
        allowed_origins: ['https://a'],
        allowed_methods: ['PUT'],
        allowed_headers: ['x-a'],
        expose_headers: ['ETag'],
        max_age_seconds: 30,
      },
    ];
    expect(corsFromS3(corsToS3(rules))).toEqual(rules);
  });

  it('round-trips lifecycle rules and reads every place a prefix may sit', () => {
    const rules = [
      { id: 'a', prefix: 'logs/', enabled: true, expiration_days: 3, abort_incomplete_days: 1 },
      { enabled: false, noncurrent_expire_days: 9, transition_days: 30, transition_storage_class: 'GLACIER' },
    ];
    const s3 = lifecycleToS3(rules);
    expect(s3[0]).toMatchObject({ ID: 'a', Status: 'Enabled', Filter: { Prefix: 'logs/' }, Expiration: { Days: 3 } });
    expect(lifecycleFromS3(s3)).toEqual(rules);
    expect(lifecycleFromS3([{ Status: 'Enabled', Prefix: 'old/' }])).toEqual([{ enabled: true, prefix: 'old/' }]);
    expect(lifecycleFromS3([{ Status: 'Enabled', Filter: { And: { Prefix: 'and/' } } }])).toEqual([
      { enabled: true, prefix: 'and/' },
    ]);
    expect(() => lifecycleToS3([{ enabled: true, transition_days: 3 }])).toThrow(
      expect.objectContaining({ code: 'invalid_lifecycle' }),
    );
  });
});

describe('S3Driver', () => {
  it('answers an upstream refusal of a CORS, policy or lifecycle document with the document code', async () => {
    const { driver } = fakeDriver('aws', () =>
      serviceError('MalformedXML', 400, 'The XML you provided was not well-formed'),
    );
    const cors: CorsRule[] = [{ allowed_origins: ['*'], allowed_methods: ['GET'] }];
    await expect(driver.setBucketCors('b', cors)).rejects.toMatchObject({ code: 'invalid_cors' });
    await expect(driver.setBucketCors('b', [])).rejects.toMatchObject({ code: 'invalid_cors' });
    await expect(driver.setBucketPolicy('b', '{}')).rejects.toMatchObject({ code: 'invalid_policy' });
    await expect(driver.setBucketLifecycle('b', [])).rejects.toMatchObject({ code: 'invalid_lifecycle' });
    await expect(driver.deleteBucketPolicy('b')).rejects.toMatchObject({ code: 'backend_error' });
  });

  it('takes its identity and capabilities from the config', () => {
    const driver = new S3Driver(config('garage'));
    expect(driver.id).toBe('b1');
    expect(driver.displayName).toBe('Backend one');
    expect(driver.capabilities).toEqual(capabilitiesFor('garage'));
    driver.close();
  });

  it('answers not_supported for switched-off capabilities without calling the upstream', async () => {
    const { driver, send } = fakeDriver('s3rver', () => new Error('the upstream must not be called'));
    const body = () => Readable.from([Buffer.from('x')]);
    const calls: (() => Promise<unknown>)[] = [
      () => driver.getBucketVersioning('b'),
      () => driver.setBucketVersioning('b', true),
      () => driver.listObjectVersions('b', ''),
      () => driver.getBucketPolicy('b'),
      () => driver.setBucketPolicy('b', '{}'),
      () => driver.deleteBucketPolicy('b'),
      () => driver.getBucketLifecycle('b'),
      () => driver.setBucketLifecycle('b', []),
      () => driver.listMultipartUploads('b'),
      () => driver.listParts('b', 'k', 'u'),
      () => driver.abortMultipart('b', 'k', 'u'),
      () => driver.getObject('b', 'k', { range: { suffixLength: 5 } }),
    ];
    for (const call of calls) {
      const err = await failure(call());
      expect(err.code).toBe('not_supported');
      expect(err.status).toBe(400);
    }
    const r2 = fakeDriver('r2', () => new Error('the upstream must not be called'));
    expect((await failure(r2.driver.setBucketPolicy('b', '{}'))).code).toBe('not_supported');
    expect((await failure(r2.driver.getBucketVersioning('b'))).code).toBe('not_supported');
    // No kind lacks tagging today; the gate is checked on a driver whose capabilities say so.
    const noTags = fakeDriver('aws', () => new Error('the upstream must not be called'));
    Object.defineProperty(noTags.driver, 'capabilities', { value: { ...capabilitiesFor('aws'), tagging: false } });
    expect((await failure(noTags.driver.getObjectTagging('b', 'k'))).code).toBe('not_supported');
    expect((await failure(noTags.driver.setObjectTagging('b', 'k', {}))).code).toBe('not_supported');
    const tagged = { bucket: 'b', key: 'k', body: body(), size: 1, tags: { a: '1' } };
    expect((await failure(noTags.driver.putObject(tagged))).code).toBe('not_supported');
    expect(send).not.toHaveBeenCalled();
    expect(r2.send).not.toHaveBeenCalled();
    expect(noTags.send).not.toHaveBeenCalled();
  });

  it('reaches a dead upstream as backend_error 502 (the gating above is not luck)', async () => {
    const driver = new S3Driver(config('s3rver'));
    try {
      const err = await failure(driver.listBuckets());
      expect(err).toMatchObject({ code: 'backend_error', status: 502 });
      expect(err.detail).not.toContain(SECRET);
    } finally {
      driver.close();
    }
  });

  it('turns a 304 into notModified with an empty body', async () => {
    const { driver, sent } = fakeDriver('aws', () =>
      serviceError('NotModified', 304, 'UnknownError', {
        etag: '"abc"',
        'last-modified': 'Tue, 01 Sep 2026 10:00:00 GMT',
      }),
    );
    const res = await driver.getObject('b', 'k', { ifNoneMatch: '"abc"' });
    expect(sent[0]).toMatchObject({ command: 'GetObject', input: { Bucket: 'b', Key: 'k', IfNoneMatch: '"abc"' } });
    expect(res).toMatchObject({ notModified: true, contentLength: 0, info: { key: 'k', etag: '"abc"' } });
    expect(res.info.lastModified?.toISOString()).toBe('2026-09-01T10:00:00.000Z');
    const chunks = [];
    for await (const chunk of res.body) chunks.push(chunk);
    expect(chunks).toEqual([]);
  });

  it('sends ranges and conditions, and reads the total size from Content-Range', async () => {
    const since = new Date('2026-01-01T00:00:00Z');
    const { driver, sent } = fakeDriver('aws', () => ({
      Body: Readable.from([Buffer.from('0123456789')]),
      ContentLength: 10,
      ContentRange: 'bytes 10-19/1000',
      ETag: '"e"',
      ContentType: 'text/plain',
      Metadata: { a: '1' },
      VersionId: 'v1',
    }));
    const res = await driver.getObject('b', 'k', {
      range: { start: 10, end: 19 },
      versionId: 'v1',
      ifMatch: '"e"',
      ifUnmodifiedSince: since,
    });
    expect(sent[0].input).toMatchObject({
      Range: 'bytes=10-19',
      VersionId: 'v1',
      IfMatch: '"e"',
      IfUnmodifiedSince: since,
    });
    expect(res).toMatchObject({
      contentLength: 10,
      contentRange: 'bytes 10-19/1000',
      info: { key: 'k', size: 1000, etag: '"e"', contentType: 'text/plain', versionId: 'v1', metadata: { a: '1' } },
    });
    expect(res.body).toBeInstanceOf(Readable);
    expect((await failure(driver.getObject('b', 'k', { range: { start: 5, end: 1 } }))).code).toBe('bad_range');
    expect(sent).toHaveLength(1);
  });

  it('streams puts with their length, If-None-Match and tags', async () => {
    const { driver, sent } = fakeDriver('aws', () => ({ ETag: '"p"' }));
    const body = Readable.from([Buffer.from('hello')]);
    const info = await driver.putObject({
      bucket: 'b',
      key: 'k',
      body,
      size: 5,
      contentType: 'text/plain',
      metadata: { m: '1' },
      tags: { t: 'a b' },
      ifNoneMatch: true,
    });
    expect(sent.map((s) => s.command)).toEqual(['PutObject']);
    expect(sent[0].input).toMatchObject({
      Body: expect.any(Readable),
      ContentLength: 5,
      ContentType: 'text/plain',
      Metadata: { m: '1' },
      Tagging: 't=a%20b',
      IfNoneMatch: '*',
    });
    expect(info).toEqual({ key: 'k', size: 5, etag: '"p"', contentType: 'text/plain', metadata: { m: '1' } });
  });

  it('refuses a conditional put that the upstream answers with 412', async () => {
    const { driver } = fakeDriver('ceph', () => serviceError('PreconditionFailed', 412));
    const err = await failure(
      driver.putObject({ bucket: 'b', key: 'k', body: Readable.from([Buffer.from('x')]), size: 1, ifNoneMatch: true }),
    );
    expect(err).toMatchObject({ code: 'object_exists', status: 409 });
  });

  it('looks before a conditional put on upstreams that may ignore If-None-Match', async () => {
    const existing = fakeDriver('s3rver', ({ command }) => (command === 'HeadObject' ? { ContentLength: 3 } : {}));
    const err = await failure(
      existing.driver.putObject({
        bucket: 'b',
        key: 'k',
        body: Readable.from([Buffer.from('x')]),
        size: 1,
        ifNoneMatch: true,
      }),
    );
    expect(err.code).toBe('object_exists');
    expect(existing.sent.map((s) => s.command)).toEqual(['HeadObject']);

    const free = fakeDriver('generic', ({ command }) =>
      command === 'HeadObject' ? serviceError('NotFound', 404, 'UnknownError') : { ETag: '"n"' },
    );
    await free.driver.putObject({
      bucket: 'b',
      key: 'k',
      body: Readable.from([Buffer.from('x')]),
      size: 1,
      ifNoneMatch: true,
    });
    expect(free.sent.map((s) => s.command)).toEqual(['HeadObject', 'PutObject']);
    expect(free.sent[1].input.IfNoneMatch).toBe('*');
  });

  it('tags s3rver uploads with a separate request, and clears its tags with an empty set', async () => {
    const { driver, sent } = fakeDriver('s3rver', () => ({ ETag: '"p"' }));
    await driver.putObject({
      bucket: 'b',
      key: 'k',
      body: Readable.from([Buffer.from('x')]),
      size: 1,
      tags: { a: '1' },
    });
    expect(sent.map((s) => s.command)).toEqual(['PutObject', 'PutObjectTagging']);
    expect(sent[0].input.Tagging).toBeUndefined();
    expect(sent[1].input).toMatchObject({ Tagging: { TagSet: [{ Key: 'a', Value: '1' }] } });

    await driver.setObjectTagging('b', 'k', {});
    expect(sent[2]).toMatchObject({ command: 'PutObjectTagging', input: { Tagging: { TagSet: [] } } });
  });

  it('removes tags with DeleteObjectTagging elsewhere', async () => {
    const { driver, sent } = fakeDriver('minio', () => ({}));
    await driver.setObjectTagging('b', 'k', {}, 'v2');
    expect(sent).toEqual([{ command: 'DeleteObjectTagging', input: { Bucket: 'b', Key: 'k', VersionId: 'v2' } }]);
  });

  it('rewrites metadata with a self-copy that keeps the content type', async () => {
    const { driver, sent } = fakeDriver('aws', ({ command }) =>
      command === 'HeadObject'
        ? { ContentType: 'image/png', CacheControl: 'max-age=60', Metadata: { old: '1' }, ContentLength: 4 }
        : {},
    );
    await driver.updateObjectMetadata('b', 'dir/k k', { fresh: '2' });
    expect(sent.map((s) => s.command)).toEqual(['HeadObject', 'CopyObject']);
    expect(sent[1].input).toMatchObject({
      Bucket: 'b',
      Key: 'dir/k k',
      CopySource: 'b/dir/k%20k',
      MetadataDirective: 'REPLACE',
      Metadata: { fresh: '2' },
      ContentType: 'image/png',
      CacheControl: 'max-age=60',
    });
  });

  it('copies without touching metadata unless asked', async () => {
    const { driver, sent } = fakeDriver('aws', () => ({}));
    await driver.copyObject({ bucket: 'a', key: 'k', versionId: 'v' }, { bucket: 'b', key: 'k2' });
    expect(sent).toEqual([{ command: 'CopyObject', input: { Bucket: 'b', Key: 'k2', CopySource: 'a/k?versionId=v' } }]);
  });

  it('reports a missing bucket-level sub-resource as empty', async () => {
    const { driver } = fakeDriver('aws', ({ command }) => {
      if (command === 'GetBucketCors') return serviceError('NoSuchCORSConfiguration', 404);
      if (command === 'GetBucketPolicy') return serviceError('NoSuchBucketPolicy', 404);
      if (command === 'GetBucketLifecycleConfiguration') return serviceError('NoSuchLifecycleConfiguration', 404);
      if (command === 'GetObjectTagging') return serviceError('NoSuchTagSet', 404);
      return serviceError('NoSuchBucket', 404);
    });
    expect(await driver.getBucketCors('b')).toEqual([]);
    expect(await driver.getBucketPolicy('b')).toBe('');
    expect(await driver.getBucketLifecycle('b')).toEqual([]);
    expect(await driver.getObjectTagging('b', 'k')).toEqual({});
    expect((await failure(driver.getBucketVersioning('b'))).code).toBe('not_found');
  });

  it('removes CORS and lifecycle configurations for empty lists', async () => {
    const { driver, sent } = fakeDriver('aws', () => ({}));
    await driver.setBucketCors('b', []);
    await driver.setBucketLifecycle('b', []);
    expect(sent.map((s) => s.command)).toEqual(['DeleteBucketCors', 'DeleteBucketLifecycle']);
  });

  it('refuses to create a bucket that already answers HeadBucket', async () => {
    const { driver, sent } = fakeDriver('ceph', () => ({}));
    expect((await failure(driver.createBucket('b'))).code).toBe('conflict');
    expect(sent.map((s) => s.command)).toEqual(['HeadBucket']);

    const fresh = fakeDriver('aws', ({ command }) => (command === 'HeadBucket' ? serviceError('NotFound', 404) : {}));
    await fresh.driver.createBucket('b', 'eu-west-1');
    expect(fresh.sent[1]).toEqual({
      command: 'CreateBucket',
      input: { Bucket: 'b', CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' } },
    });
    await fresh.driver.createBucket('c', 'us-east-1');
    expect(fresh.sent[3]).toEqual({ command: 'CreateBucket', input: { Bucket: 'c' } });
  });

  it('merges versions and delete markers into one history, newest first per key', async () => {
    const t = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s));
    const pages = [
      {
        IsTruncated: true,
        NextKeyMarker: 'a',
        NextVersionIdMarker: 'a1',
        Versions: [
          { Key: 'a', VersionId: 'a2', IsLatest: false, Size: 2, LastModified: t(2) },
          { Key: 'a', VersionId: 'a1', IsLatest: false, Size: 1, LastModified: t(1) },
        ],
        DeleteMarkers: [{ Key: 'a', VersionId: 'a3', IsLatest: true, LastModified: t(3) }],
      },
      { IsTruncated: false, Versions: [{ Key: 'b', VersionId: 'null', IsLatest: true, Size: 5, LastModified: t(1) }] },
    ];
    const { driver, sent } = fakeDriver('aws', () => pages.shift());
    const versions = await driver.listObjectVersions('bkt', '');
    expect(versions.map((v) => [v.key, v.versionId, v.isDeleteMarker, v.isLatest])).toEqual([
      ['a', 'a3', true, true],
      ['a', 'a2', false, false],
      ['a', 'a1', false, false],
      ['b', 'null', false, true],
    ]);
    expect(sent[1].input).toMatchObject({ KeyMarker: 'a', VersionIdMarker: 'a1' });
  });

  it('completes uploads with parts in order, then reads size and ETag back', async () => {
    const { driver, sent } = fakeDriver('ceph', ({ command }) =>
      command === 'CompleteMultipartUpload' ? { ETag: '' } : { ContentLength: 12, ETag: '"x-2"', ContentType: 'a/b' },
    );
    const info = await driver.completeMultipart('b', 'k', 'u', [
      { partNumber: 2, etag: '"2"' },
      { partNumber: 1, etag: '"1"' },
    ]);
    expect(sent[0].input.MultipartUpload).toEqual({
      Parts: [
        { PartNumber: 1, ETag: '"1"' },
        { PartNumber: 2, ETag: '"2"' },
      ],
    });
    expect(sent[1].command).toBe('HeadObject');
    expect(info).toEqual({ key: 'k', size: 12, etag: '"x-2"', contentType: 'a/b' });
  });

  it('checks part numbers and presign lifetimes before calling out', async () => {
    const { driver, send } = fakeDriver('aws', () => ({}));
    const body = Readable.from([Buffer.from('x')]);
    expect((await failure(driver.uploadPart('b', 'k', 'u', 0, body, 1))).code).toBe('bad_request');
    expect((await failure(driver.uploadPart('b', 'k', 'u', 10_001, body, 1))).code).toBe('bad_request');
    expect((await failure(driver.presignGet('b', 'k', 0))).code).toBe('bad_request');
    expect((await failure(driver.presignPut('b', 'k', 8 * 24 * 3600))).code).toBe('bad_request');
    expect(send).not.toHaveBeenCalled();
  });

  it('presigns URLs locally', async () => {
    for (const checksums of ['when_required', 'when_supported'] as const) {
      const driver = new S3Driver(config('aws', { checksums, endpoint: 'https://s3.example.test' }));
      const get = new URL(await driver.presignGet('bkt', 'dir/a b.txt', 300));
      expect(get.origin + get.pathname).toBe('https://s3.example.test/bkt/dir/a%20b.txt');
      expect(get.searchParams.get('X-Amz-Expires')).toBe('300');
      expect(get.searchParams.get('X-Amz-Credential')).toMatch(/^AKIDEXAMPLE\//);
      expect(get.toString()).not.toContain(SECRET);
      const put = new URL(await driver.presignPut('bkt', 'k', 60, 'text/plain'));
      expect(put.searchParams.get('X-Amz-SignedHeaders')).toContain('content-type');
      // A checksum of the empty body in a presigned PUT would break every real upload.
      expect([...put.searchParams.keys()].filter((k) => k.toLowerCase().includes('checksum'))).toEqual([]);
      driver.close();
    }
  });

  it('probes with ListBuckets and gives up after the timeout', async () => {
    const { driver, sent } = fakeDriver('aws', () => ({ Buckets: [] }));
    await driver.probe(1000);
    expect(sent.map((s) => s.command)).toEqual(['ListBuckets']);

    const slow = new S3Driver(config('aws'));
    jest
      .spyOn((slow as unknown as { client: S3Client }).client, 'send')
      .mockImplementation(
        ((_command: unknown, options: { abortSignal: AbortSignal }) =>
          new Promise((_resolve, reject) =>
            options.abortSignal.addEventListener('abort', () =>
              reject(Object.assign(new Error('aborted'), { name: 'AbortError' })),
            ),
          )) as never,
      );
    const err = await failure(slow.probe(50));
    expect(err).toMatchObject({ code: 'backend_error', status: 502, detail: UNREACHABLE_DETAIL });
  });

  it('destroys its client on close', () => {
    const driver = new S3Driver(config('aws'));
    const destroy = jest.spyOn((driver as unknown as { client: S3Client }).client, 'destroy');
    driver.close();
    expect(destroy).toHaveBeenCalledTimes(1);
  });
});
