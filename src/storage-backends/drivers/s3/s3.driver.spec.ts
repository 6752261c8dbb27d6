import { Readable } from 'node:stream';
import { S3ServiceException } from '@aws-sdk/client-s3';
import type { BackendKind } from '@stowage/config';
import { StowageError } from '@stowage/errors';
import { CorsRule } from '../../backend';
import { capabilitiesFor, FULL_CAPABILITIES } from '../capabilities';
import { describeUpstreamError, mapS3Error, UNREACHABLE_DETAIL } from './s3-errors';
import { copySource, corsFromS3, corsToS3, lifecycleFromS3, lifecycleToS3, tagsToHeader } from './s3-mappers';
import {
  answerXml,
  errorXml,
  Handler,
  LOCAL_SECRET,
  localDriver,
  localUpstreamsPerTest,
} from '../../../../test/harness/local-upstream';
import { failure, text } from '../../../../test/harness/streams';

const SECRET = LOCAL_SECRET;

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
    expect(capabilitiesFor(kind)).toEqual(FULL_CAPABILITIES);
  });

  it('counts every feature in FULL_CAPABILITIES, with AWS multipart limits', () => {
    const { admin_api, max_multipart_parts, max_part_size_bytes, ...flags } = FULL_CAPABILITIES;
    expect(Object.values(flags).every((on) => on === true)).toBe(true);
    expect([admin_api, max_multipart_parts, max_part_size_bytes]).toEqual(['', 10_000, 5 * 1024 ** 3]);
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
  const started = localUpstreamsPerTest();
  const start = (handler: Handler, kind: BackendKind = 'aws') => started(handler, kind);
  const refuse =
    (code: string, status: number): Handler =>
    (req, res) =>
      answerXml(res, req, status, errorXml(code, 'no'));

  it('answers an upstream refusal of a CORS, policy or lifecycle document with the document code', async () => {
    const { driver } = await start(refuse('MalformedXML', 400));
    const cors: CorsRule[] = [{ allowed_origins: ['*'], allowed_methods: ['GET'] }];
    await expect(driver.setBucketCors('b', cors)).rejects.toMatchObject({ code: 'invalid_cors' });
    await expect(driver.setBucketCors('b', [])).rejects.toMatchObject({ code: 'invalid_cors' });
    await expect(driver.setBucketPolicy('b', '{}')).rejects.toMatchObject({ code: 'invalid_policy' });
    await expect(driver.setBucketLifecycle('b', [])).rejects.toMatchObject({ code: 'invalid_lifecycle' });
    await expect(driver.deleteBucketPolicy('b')).rejects.toMatchObject({ code: 'backend_error' });
  });

  it('takes its identity and capabilities from the config', async () => {
    const { driver, close } = localDriver('http://127.0.0.1:1', 'garage');
    expect(driver.id).toBe('b1');
    expect(driver.displayName).toBe('Backend one');
    expect(driver.capabilities).toEqual(capabilitiesFor('garage'));
    await close();
  });

  it('answers not_supported for switched-off capabilities without calling the upstream', async () => {
    const s3rver = await start(refuse('InternalError', 500), 's3rver');
    const driver = s3rver.driver;
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
    const r2 = await start(refuse('InternalError', 500), 'r2');
    expect((await failure(r2.driver.setBucketPolicy('b', '{}'))).code).toBe('not_supported');
    expect((await failure(r2.driver.getBucketVersioning('b'))).code).toBe('not_supported');
    // No kind lacks tagging today; the gate is checked on a driver whose capabilities say so.
    const noTags = await start(refuse('InternalError', 500));
    Object.defineProperty(noTags.driver, 'capabilities', { value: { ...capabilitiesFor('aws'), tagging: false } });
    expect((await failure(noTags.driver.getObjectTagging('b', 'k'))).code).toBe('not_supported');
    expect((await failure(noTags.driver.setObjectTagging('b', 'k', {}))).code).toBe('not_supported');
    const tagged = { bucket: 'b', key: 'k', body: body(), size: 1, tags: { a: '1' } };
    expect((await failure(noTags.driver.putObject(tagged))).code).toBe('not_supported');
    expect([...s3rver.seen, ...r2.seen, ...noTags.seen]).toEqual([]);
  });

  it('reaches a dead upstream as backend_error 502 (the gating above is not luck)', async () => {
    const { driver, close } = localDriver('http://127.0.0.1:1', 's3rver');
    try {
      for (const call of [() => driver.listBuckets(), () => driver.headObject('b', 'k')]) {
        const err = await failure(call());
        expect(err).toMatchObject({ code: 'backend_error', status: 502 });
        expect(err.detail).not.toContain(SECRET);
      }
    } finally {
      await close();
    }
  });

  it('looks before a conditional put on upstreams that may ignore If-None-Match', async () => {
    const existing = await start((req, res) => {
      res.writeHead(200, { 'content-length': '3' });
      res.end();
    }, 's3rver');
    const err = await failure(
      existing.driver.putObject({ bucket: 'b', key: 'k', body: text('x'), size: 1, ifNoneMatch: true }),
    );
    expect(err.code).toBe('object_exists');
    expect(existing.seen.map((r) => r.method)).toEqual(['HEAD']);

    const free = await start((req, res) => {
      req.resume();
      res.writeHead(req.method === 'HEAD' ? 404 : 200, req.method === 'HEAD' ? {} : { etag: '"n"' });
      res.end();
    }, 'generic');
    await free.driver.putObject({ bucket: 'b', key: 'k', body: text('x'), size: 1, ifNoneMatch: true });
    expect(free.seen.map((r) => r.method)).toEqual(['HEAD', 'PUT']);
    expect(free.seen[1].headers['if-none-match']).toBe('*');
  });

  it('tags s3rver uploads with a separate request, and clears its tags with an empty set', async () => {
    const { driver, seen, bodies } = await start((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { etag: '"p"' });
        res.end();
      });
    }, 's3rver');
    await driver.putObject({ bucket: 'b', key: 'k', body: text('x'), size: 1, tags: { a: '1' } });
    expect(seen.map((r) => `${r.method} ${r.url}`)).toEqual(['PUT /b/k', 'PUT /b/k?tagging=']);
    expect(seen[0].headers['x-amz-tagging']).toBeUndefined();
    expect(await bodies[1]).toContain('<TagSet><Tag><Key>a</Key><Value>1</Value></Tag></TagSet>');

    await driver.setObjectTagging('b', 'k', {});
    expect(`${seen[2].method} ${seen[2].url}`).toBe('PUT /b/k?tagging=');
    expect(await bodies[2]).toContain('<TagSet></TagSet>');
  });

  it('removes tags with DeleteObjectTagging elsewhere, and refuses tags XML cannot carry', async () => {
    const { driver, seen } = await start((req, res) => {
      res.writeHead(204);
      res.end();
    }, 'minio');
    await driver.setObjectTagging('b', 'k', {}, 'v2');
    expect(seen.map((r) => `${r.method} ${r.url}`)).toEqual(['DELETE /b/k?tagging=&versionId=v2']);
    expect((await failure(driver.setObjectTagging('b', 'k', { a: 'bell\u0007' }))).code).toBe('bad_request');
    expect(seen).toHaveLength(1);
  });

  it('reports a missing sub-resource as empty', async () => {
    const { driver } = await start((req, res) => {
      const url = req.url ?? '';
      const code = url.includes('cors')
        ? 'NoSuchCORSConfiguration'
        : url.includes('policy')
          ? 'NoSuchBucketPolicy'
          : url.includes('lifecycle')
            ? 'NoSuchLifecycleConfiguration'
            : url.includes('tagging')
              ? 'NoSuchTagSet'
              : 'NoSuchBucket';
      answerXml(res, req, 404, errorXml(code, 'none'));
    });
    expect(await driver.getBucketCors('b')).toEqual([]);
    expect(await driver.getBucketPolicy('b')).toBe('');
    expect(await driver.getBucketLifecycle('b')).toEqual([]);
    expect(await driver.getObjectTagging('b', 'k')).toEqual({});
    expect((await failure(driver.getBucketVersioning('b'))).code).toBe('not_found');
  });

  it('removes CORS and lifecycle configurations for empty lists', async () => {
    const { driver, seen } = await start((req, res) => {
      res.writeHead(204);
      res.end();
    });
    await driver.setBucketCors('b', []);
    await driver.setBucketLifecycle('b', []);
    expect(seen.map((r) => `${r.method} ${r.url}`)).toEqual(['DELETE /b/?cors=', 'DELETE /b/?lifecycle=']);
  });

  it('refuses to create a bucket that already answers HeadBucket', async () => {
    const taken = await start((req, res) => res.end(), 'ceph');
    expect((await failure(taken.driver.createBucket('b'))).code).toBe('conflict');
    expect(taken.seen.map((r) => r.method)).toEqual(['HEAD']);

    const fresh = await start((req, res) => {
      req.resume();
      res.writeHead(req.method === 'HEAD' ? 404 : 200);
      res.end();
    });
    await fresh.driver.createBucket('b', 'eu-west-1');
    expect(fresh.seen[1].method).toBe('PUT');
    expect(await fresh.bodies[1]).toContain('<LocationConstraint>eu-west-1</LocationConstraint>');
    await fresh.driver.createBucket('c', 'us-east-1');
    expect(await fresh.bodies[3]).toBe('');
  });

  it('checks part numbers and presign lifetimes before calling out', async () => {
    const { driver, seen } = await start((req, res) => res.end());
    expect((await failure(driver.uploadPart('b', 'k', 'u', 0, text('x'), 1))).code).toBe('bad_request');
    expect((await failure(driver.uploadPart('b', 'k', 'u', 10_001, text('x'), 1))).code).toBe('bad_request');
    const copy = {
      source: { bucket: 'b', key: 's' },
      range: { start: 0, end: 1 },
      bucket: 'b',
      key: 'k',
      uploadId: 'u',
    };
    expect((await failure(driver.uploadPartCopy({ ...copy, partNumber: -1 }))).code).toBe('bad_request');
    expect((await failure(driver.presignGet('b', 'k', 0))).code).toBe('bad_request');
    expect((await failure(driver.presignPut('b', 'k', 8 * 24 * 3600))).code).toBe('bad_request');
    expect(seen).toEqual([]);
  });

  it('presigns URLs locally, whatever the checksum setting', async () => {
    for (const checksums of ['when_required', 'when_supported'] as const) {
      const { driver, close } = localDriver('https://s3.example.test', 'aws', { checksums });
      const get = new URL(await driver.presignGet('bkt', 'dir/a b+c.txt', 300));
      expect(get.origin + get.pathname).toBe('https://s3.example.test/bkt/dir/a%20b%2Bc.txt');
      expect(get.searchParams.get('X-Amz-Expires')).toBe('300');
      expect(get.searchParams.get('X-Amz-Credential')).toMatch(/^AKIDEXAMPLE\//);
      expect(get.searchParams.get('X-Amz-SignedHeaders')).toBe('host');
      expect(get.toString()).not.toContain(SECRET);
      const put = new URL(await driver.presignPut('bkt', 'k', 60, 'text/plain'));
      expect(put.searchParams.get('X-Amz-SignedHeaders')).toBe('content-type;host');
      // A checksum of the empty body in a presigned PUT would break every real upload.
      expect([...put.searchParams.keys()].filter((k) => k.toLowerCase().includes('checksum'))).toEqual([]);
      await close();
    }
    const { driver, close } = localDriver('https://s3.example.test/base', 'aws', { pathStyle: false });
    expect(await driver.presignGet('bkt', 'k', 60)).toMatch(/^https:\/\/bkt\.s3\.example\.test\/base\/k\?X-Amz-/);
    await close();
  });

  it('probes with ListBuckets and gives up after the timeout', async () => {
    const { driver, seen } = await start((req, res) =>
      answerXml(res, req, 200, '<ListAllMyBucketsResult><Buckets></Buckets></ListAllMyBucketsResult>'),
    );
    await driver.probe(1000);
    expect(seen.map((r) => `${r.method} ${r.url}`)).toEqual(['GET /?x-id=ListBuckets']);

    const silent = await start(() => {
      // Never answers.
    });
    const err = await failure(silent.driver.probe(50));
    expect(err).toMatchObject({ code: 'backend_error', status: 502, detail: UNREACHABLE_DETAIL });
  });
});
