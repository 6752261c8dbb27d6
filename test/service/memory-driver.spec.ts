import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { FULL_CAPABILITIES } from '../../src/storage-backends/drivers/capabilities';
import { MemoryDriver } from './fakes/memory.driver';
import { bytesOf, failure } from '../harness/streams';

const body = (value: string | Buffer) => Readable.from([Buffer.isBuffer(value) ? value : Buffer.from(value)]);

const read = async (stream: Readable): Promise<string> => (await bytesOf(stream)).toString();

describe('MemoryDriver', () => {
  let driver: MemoryDriver;
  const put = (key: string, value: string, extra: { contentType?: string; metadata?: Record<string, string> } = {}) =>
    driver.putObject({ bucket: 'b', key, body: body(value), size: Buffer.byteLength(value), ...extra });

  beforeEach(async () => {
    driver = new MemoryDriver();
    await driver.createBucket('b');
  });

  it('has every capability by default, and takes overrides', () => {
    expect(driver.id).toBe('memory');
    expect(driver.displayName).toBe('memory');
    expect(driver.capabilities).toEqual(FULL_CAPABILITIES);
    expect(driver.capabilities.admin_api).toBe('');
    const limited = new MemoryDriver({
      id: 'm2',
      name: 'Limited',
      capabilities: { versioning: false, tagging: false },
    });
    expect(limited).toMatchObject({ id: 'm2', displayName: 'Limited' });
    expect(limited.capabilities).toEqual({ ...FULL_CAPABILITIES, versioning: false, tagging: false });
  });

  it('answers not_supported for switched-off capabilities', async () => {
    const limited = new MemoryDriver({
      capabilities: {
        versioning: false,
        bucket_policy: false,
        lifecycle: false,
        cors: false,
        tagging: false,
        multipart_management: false,
        suffix_ranges: false,
      },
    });
    await limited.createBucket('b');
    await limited.putObject({ bucket: 'b', key: 'k', body: body('value'), size: 5 });
    const calls: (() => Promise<unknown>)[] = [
      () => limited.getBucketVersioning('b'),
      () => limited.setBucketVersioning('b', true),
      () => limited.listObjectVersions('b', ''),
      () => limited.getBucketPolicy('b'),
      () => limited.setBucketPolicy('b', '{}'),
      () => limited.deleteBucketPolicy('b'),
      () => limited.getBucketLifecycle('b'),
      () => limited.setBucketLifecycle('b', []),
      () => limited.getBucketCors('b'),
      () => limited.setBucketCors('b', []),
      () => limited.getObjectTagging('b', 'k'),
      () => limited.setObjectTagging('b', 'k', {}),
      () => limited.putObject({ bucket: 'b', key: 'k2', body: body('x'), size: 1, tags: { a: '1' } }),
      () => limited.listMultipartUploads('b'),
      () => limited.listParts('b', 'k', 'u'),
      () => limited.abortMultipart('b', 'k', 'u'),
      () => limited.getObject('b', 'k', { range: { suffixLength: 2 } }),
    ];
    for (const call of calls) expect((await failure(call())).code).toBe('not_supported');
  });

  it('creates, lists, heads and deletes buckets', async () => {
    await driver.createBucket('a');
    expect((await driver.listBuckets()).map((b) => b.name)).toEqual(['a', 'b']);
    expect((await driver.listBuckets())[0].createdAt).toBeInstanceOf(Date);
    await driver.headBucket('a');
    expect((await failure(driver.createBucket('a'))).code).toBe('conflict');

    await put('k', 'v');
    expect((await failure(driver.deleteBucket('b'))).code).toBe('conflict');
    await driver.deleteObject('b', 'k');
    await driver.deleteBucket('b');
    expect((await failure(driver.headBucket('b'))).code).toBe('not_found');
    expect((await failure(driver.deleteBucket('missing'))).code).toBe('not_found');
  });

  it('stores and returns objects with their metadata', async () => {
    const info = await put('dir/a.txt', 'hello', { contentType: 'text/plain', metadata: { owner: 'ops' } });
    expect(info).toMatchObject({ key: 'dir/a.txt', size: 5, contentType: 'text/plain', metadata: { owner: 'ops' } });
    expect(info.etag).toBe(`"${createHash('md5').update('hello').digest('hex')}"`);

    const got = await driver.getObject('b', 'dir/a.txt');
    expect(got.contentLength).toBe(5);
    expect(got.info).toEqual(info);
    expect(await read(got.body)).toBe('hello');
    expect(await driver.headObject('b', 'dir/a.txt')).toEqual(info);

    expect((await failure(driver.getObject('b', 'nope'))).code).toBe('not_found');
    expect((await failure(driver.headObject('b', 'nope'))).code).toBe('not_found');
    expect((await failure(driver.getObject('missing', 'k'))).code).toBe('not_found');
    expect((await failure(driver.headObject('b', 'dir/a.txt', 'v1'))).code).toBe('not_found');
  });

  it('checks that the body has the announced size', async () => {
    expect((await failure(driver.putObject({ bucket: 'b', key: 'k', body: body('abc'), size: 5 }))).code).toBe(
      'bad_request',
    );
    expect((await failure(driver.putObject({ bucket: 'b', key: 'k', body: body('abcdef'), size: 5 }))).code).toBe(
      'bad_request',
    );
    await expect(driver.headObject('b', 'k')).rejects.toMatchObject({ code: 'not_found' });
  });

  it('serves ranges and refuses unsatisfiable ones', async () => {
    await put('r', '0123456789');
    const mid = await driver.getObject('b', 'r', { range: { start: 2, end: 4 } });
    expect(mid).toMatchObject({ contentLength: 3, contentRange: 'bytes 2-4/10', info: { size: 10 } });
    expect(await read(mid.body)).toBe('234');
    expect(await read((await driver.getObject('b', 'r', { range: { start: 7 } })).body)).toBe('789');
    expect(await read((await driver.getObject('b', 'r', { range: { suffixLength: 3 } })).body)).toBe('789');
    expect(await read((await driver.getObject('b', 'r', { range: { start: 8, end: 100 } })).body)).toBe('89');
    expect((await failure(driver.getObject('b', 'r', { range: { start: 10 } }))).code).toBe('bad_range');
    expect((await failure(driver.getObject('b', 'r', { range: { start: 4, end: 2 } }))).code).toBe('bad_range');
  });

  it('honours conditional reads', async () => {
    const { etag, lastModified } = await put('c', 'cached');
    const hit = await driver.getObject('b', 'c', { ifNoneMatch: etag });
    expect(hit).toMatchObject({ notModified: true, contentLength: 0 });
    expect(await read(hit.body)).toBe('');
    expect((await driver.getObject('b', 'c', { ifNoneMatch: '*' })).notModified).toBe(true);
    expect((await driver.getObject('b', 'c', { ifNoneMatch: '"other"' })).notModified).toBeFalsy();

    const later = new Date(lastModified!.getTime() + 5000);
    const earlier = new Date(lastModified!.getTime() - 5000);
    expect((await driver.getObject('b', 'c', { ifModifiedSince: later })).notModified).toBe(true);
    expect((await driver.getObject('b', 'c', { ifModifiedSince: earlier })).notModified).toBeFalsy();

    expect(await read((await driver.getObject('b', 'c', { ifMatch: etag })).body)).toBe('cached');
    expect((await failure(driver.getObject('b', 'c', { ifMatch: '"other"' }))).detail).toMatch(/^PreconditionFailed/);
    expect((await failure(driver.getObject('b', 'c', { ifUnmodifiedSince: earlier }))).code).toBe('backend_error');
  });

  it('refuses to overwrite with ifNoneMatch', async () => {
    await put('once', 'first');
    const err = await failure(
      driver.putObject({ bucket: 'b', key: 'once', body: body('second'), size: 6, ifNoneMatch: true }),
    );
    expect(err).toMatchObject({ code: 'object_exists', status: 409 });
    expect(await read((await driver.getObject('b', 'once')).body)).toBe('first');
    await driver.putObject({ bucket: 'b', key: 'fresh', body: body('x'), size: 1, ifNoneMatch: true });
  });

  it('lists with prefix, delimiter and continuation tokens like ListObjectsV2', async () => {
    const keys = ['a.txt', 'docs/', 'docs/1.txt', 'docs/2.txt', 'docs/sub/3.txt', 'img/x.png', 'img/y.png', 'z.txt'];
    for (const key of [...keys].reverse()) await put(key, key);

    const all = await driver.listObjects({ bucket: 'b' });
    expect(all.objects.map((o) => o.key)).toEqual(keys);
    expect(all).toMatchObject({ commonPrefixes: [], isTruncated: false });
    expect(all.objects[0].metadata).toBeUndefined();

    const top = await driver.listObjects({ bucket: 'b', delimiter: '/' });
    expect(top.objects.map((o) => o.key)).toEqual(['a.txt', 'z.txt']);
    expect(top.commonPrefixes).toEqual(['docs/', 'img/']);

    const docs = await driver.listObjects({ bucket: 'b', prefix: 'docs/', delimiter: '/' });
    expect(docs.objects.map((o) => o.key)).toEqual(['docs/', 'docs/1.txt', 'docs/2.txt']);
    expect(docs.commonPrefixes).toEqual(['docs/sub/']);

    // Pages of one entry each, where a common prefix counts as one entry.
    const pages: string[][] = [];
    let token: string | undefined;
    do {
      const page = await driver.listObjects({ bucket: 'b', delimiter: '/', maxKeys: 1, continuationToken: token });
      pages.push([...page.objects.map((o) => o.key), ...page.commonPrefixes]);
      expect(page.isTruncated).toBe(page.nextContinuationToken !== undefined);
      token = page.nextContinuationToken;
    } while (token);
    expect(pages).toEqual([['a.txt'], ['docs/'], ['img/'], ['z.txt']]);

    const flat: string[] = [];
    token = undefined;
    do {
      const page = await driver.listObjects({ bucket: 'b', prefix: 'docs/', maxKeys: 2, continuationToken: token });
      flat.push(...page.objects.map((o) => o.key));
      token = page.nextContinuationToken;
    } while (token);
    expect(flat).toEqual(['docs/', 'docs/1.txt', 'docs/2.txt', 'docs/sub/3.txt']);

    expect((await failure(driver.listObjects({ bucket: 'b', continuationToken: 'garbage' }))).code).toBe('bad_request');
    expect((await failure(driver.listObjects({ bucket: 'missing' }))).code).toBe('not_found');
  });

  it('copies objects and rewrites metadata', async () => {
    await put('src', 'payload', { contentType: 'text/markdown', metadata: { a: '1' } });
    await driver.copyObject({ bucket: 'b', key: 'src' }, { bucket: 'b', key: 'same' });
    expect(await driver.headObject('b', 'same')).toMatchObject({ contentType: 'text/markdown', metadata: { a: '1' } });

    await driver.copyObject({ bucket: 'b', key: 'src' }, { bucket: 'b', key: 'new' }, { metadata: { b: '2' } });
    expect(await driver.headObject('b', 'new')).toMatchObject({ contentType: 'text/markdown', metadata: { b: '2' } });
    expect(await read((await driver.getObject('b', 'new')).body)).toBe('payload');

    await driver.updateObjectMetadata('b', 'src', { c: '3' });
    expect(await driver.headObject('b', 'src')).toMatchObject({ contentType: 'text/markdown', metadata: { c: '3' } });
    expect((await failure(driver.copyObject({ bucket: 'b', key: 'nope' }, { bucket: 'b', key: 'x' }))).code).toBe(
      'not_found',
    );
  });

  it('deletes objects one by one and in batches', async () => {
    for (const key of ['1', '2', '3']) await put(key, key);
    await driver.deleteObject('b', '1');
    await driver.deleteObject('b', 'never-existed');
    const res = await driver.deleteObjects('b', [{ key: '2' }, { key: '3', versionId: 'null' }]);
    expect(res).toEqual({ deleted: [{ key: '2' }, { key: '3', versionId: 'null' }], errors: [] });
    expect((await driver.listObjects({ bucket: 'b' })).objects).toEqual([]);
  });

  it('keeps tags', async () => {
    await driver.putObject({ bucket: 'b', key: 't', body: body('x'), size: 1, tags: { at: 'upload' } });
    expect(await driver.getObjectTagging('b', 't')).toEqual({ at: 'upload' });
    await driver.setObjectTagging('b', 't', { team: 'storage' });
    expect(await driver.getObjectTagging('b', 't')).toEqual({ team: 'storage' });
    await driver.setObjectTagging('b', 't', {});
    expect(await driver.getObjectTagging('b', 't')).toEqual({});
    expect((await failure(driver.getObjectTagging('b', 'nope'))).code).toBe('not_found');
  });

  it('keeps bucket settings', async () => {
    expect(await driver.getBucketVersioning('b')).toBe(false);
    await driver.setBucketVersioning('b', true);
    expect(await driver.getBucketVersioning('b')).toBe(true);

    const cors = [{ allowed_origins: ['*'], allowed_methods: ['GET'] }];
    await driver.setBucketCors('b', cors);
    expect(await driver.getBucketCors('b')).toEqual(cors);

    expect(await driver.getBucketPolicy('b')).toBe('');
    await driver.setBucketPolicy('b', '{"Version":"2012-10-17","Statement":[]}');
    expect(await driver.getBucketPolicy('b')).toBe('{"Version":"2012-10-17","Statement":[]}');
    expect((await failure(driver.setBucketPolicy('b', 'not json'))).code).toBe('backend_error');
    await driver.deleteBucketPolicy('b');
    expect(await driver.getBucketPolicy('b')).toBe('');

    const rules = [{ id: 'r', prefix: 'logs/', enabled: true, expiration_days: 7 }];
    await driver.setBucketLifecycle('b', rules);
    rules[0].expiration_days = 99;
    expect(await driver.getBucketLifecycle('b')).toEqual([
      { id: 'r', prefix: 'logs/', enabled: true, expiration_days: 7 },
    ]);
    expect((await failure(driver.getBucketCors('missing'))).code).toBe('not_found');
  });

  it('lists each object as its single current version', async () => {
    await put('doc', 'one');
    await put('doc', 'two');
    await put('other', 'x');
    const versions = await driver.listObjectVersions('b', 'do');
    expect(versions).toEqual([
      expect.objectContaining({ key: 'doc', versionId: 'null', isLatest: true, isDeleteMarker: false, size: 3 }),
    ]);
  });

  it('assembles multipart uploads and manages pending ones', async () => {
    const uploadId = await driver.createMultipart('b', 'mp', { contentType: 'a/b', metadata: { k: 'v' } });
    const other = await driver.createMultipart('b', 'zz');
    const e1 = await driver.uploadPart('b', 'mp', uploadId, 1, body('hello '), 6);
    const e2 = await driver.uploadPart('b', 'mp', uploadId, 2, body('world'), 5);

    expect((await driver.listParts('b', 'mp', uploadId)).map((p) => [p.partNumber, p.size, p.etag])).toEqual([
      [1, 6, e1],
      [2, 5, e2],
    ]);
    expect((await driver.listMultipartUploads('b')).map((u) => u.key)).toEqual(['mp', 'zz']);
    expect((await driver.listMultipartUploads('b', 'z')).map((u) => u.uploadId)).toEqual([other]);

    expect(
      (await failure(driver.completeMultipart('b', 'mp', uploadId, [{ partNumber: 3, etag: e1 }]))).detail,
    ).toMatch(/^InvalidPart/);
    expect(
      (
        await failure(
          driver.completeMultipart('b', 'mp', uploadId, [
            { partNumber: 2, etag: e2 },
            { partNumber: 1, etag: e1 },
          ]),
        )
      ).detail,
    ).toMatch(/ascending/);

    const info = await driver.completeMultipart('b', 'mp', uploadId, [
      { partNumber: 1, etag: e1 },
      { partNumber: 2, etag: e2.slice(1, -1) },
    ]);
    expect(info).toMatchObject({ key: 'mp', size: 11, contentType: 'a/b', metadata: { k: 'v' } });
    expect(info.etag).toMatch(/^"[0-9a-f]{32}-2"$/);
    expect(await read((await driver.getObject('b', 'mp')).body)).toBe('hello world');
    expect((await failure(driver.listParts('b', 'mp', uploadId))).code).toBe('not_found');

    await driver.abortMultipart('b', 'zz', other);
    expect(await driver.listMultipartUploads('b')).toEqual([]);
    expect((await failure(driver.abortMultipart('b', 'zz', other))).code).toBe('not_found');
    expect((await failure(driver.uploadPart('b', 'mp', 'nope', 1, body('x'), 1))).code).toBe('not_found');
    const again = await driver.createMultipart('b', 'mp');
    expect((await failure(driver.uploadPart('b', 'mp', again, 0, body('x'), 1))).code).toBe('bad_request');
  });

  it('fills parts from ranges of an existing object (UploadPartCopy)', async () => {
    const source = await put('src', 'hello world');
    const uploadId = await driver.createMultipart('b', 'dst');
    const part = (partNumber: number, start: number, end: number, ifMatch?: string) =>
      driver.uploadPartCopy({
        source: { bucket: 'b', key: 'src' },
        range: { start, end },
        ifMatch,
        bucket: 'b',
        key: 'dst',
        uploadId,
        partNumber,
      });
    const e1 = await part(1, 0, 5, source.etag);
    const e2 = await part(2, 6, 10);
    await driver.completeMultipart('b', 'dst', uploadId, [
      { partNumber: 1, etag: e1 },
      { partNumber: 2, etag: e2 },
    ]);
    expect(await read((await driver.getObject('b', 'dst')).body)).toBe('hello world');

    const again = await driver.createMultipart('b', 'dst');
    const copy = (range: { start: number; end: number }, ifMatch?: string) =>
      driver.uploadPartCopy({
        source: { bucket: 'b', key: 'src' },
        range,
        ifMatch,
        bucket: 'b',
        key: 'dst',
        uploadId: again,
        partNumber: 1,
      });
    expect((await failure(copy({ start: 0, end: 11 }))).code).toBe('bad_range');
    expect((await failure(copy({ start: 0, end: 1 }, '"other"'))).code).toBe('conflict');
    expect(
      (
        await failure(
          driver.uploadPartCopy({
            source: { bucket: 'b', key: 'nope' },
            range: { start: 0, end: 0 },
            bucket: 'b',
            key: 'dst',
            uploadId: again,
            partNumber: 1,
          }),
        )
      ).code,
    ).toBe('not_found');
  });

  it('presigns URLs, probes and closes', async () => {
    const url = new URL(await driver.presignPut('b', 'dir/a b', 60, 'text/plain'));
    expect(url.protocol).toBe('memory:');
    expect(url.pathname).toBe('/b/dir/a%20b');
    expect(url.searchParams.get('method')).toBe('PUT');
    expect(url.searchParams.get('content-type')).toBe('text/plain');
    expect(new URL(await driver.presignGet('b', 'k', 60)).searchParams.get('method')).toBe('GET');

    await driver.probe();
    driver.close();
    expect(driver.isClosed).toBe(true);
    expect((await failure(driver.probe())).code).toBe('backend_error');
  });
});
