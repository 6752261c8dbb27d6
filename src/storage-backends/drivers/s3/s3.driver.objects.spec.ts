import { createHash } from 'node:crypto';
import { answerXml, errorXml, localUpstreamsPerTest } from '../../../../test/harness/local-upstream';
import { failure } from '../../../../test/harness/streams';

const doc = (root: string, body: string) =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<${root} xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${body}</${root}>`;

/**
 * What the S3 driver sends for copies, multipart steps, deletes, tags and version listings, and
 * how it reads the answers, hostile ones included (on a local upstream; the driver contract runs
 * the same operations against s3rver and Ceph RGW).
 */
describe('S3Driver object operations through the upstream client', () => {
  const start = localUpstreamsPerTest();
  const line = (r: { method?: string; url?: string }) => `${r.method} ${r.url}`;

  it('copies with the source encoded and versioned, and without touching metadata unless asked', async () => {
    const { driver, seen } = await start((req, res) =>
      answerXml(res, req, 200, doc('CopyObjectResult', '<ETag>"c"</ETag>')),
    );
    await driver.copyObject({ bucket: 'a', key: 'dir/k k+%.txt', versionId: 'v 1' }, { bucket: 'b', key: 'k2 é' });
    expect(line(seen[0])).toBe('PUT /b/k2%20%C3%A9');
    expect(seen[0].headers['x-amz-copy-source']).toBe('a/dir/k%20k%2B%25.txt?versionId=v%201');
    expect(seen[0].headers['x-amz-metadata-directive']).toBeUndefined();
    expect(seen[0].headers.authorization).toMatch(/SignedHeaders=[^,]*x-amz-copy-source/);
  });

  it('replaces metadata with a copy of the very version it read, keeping the stored headers', async () => {
    const { driver, seen } = await start((req, res) => {
      if (req.method === 'HEAD') {
        res.writeHead(200, {
          'content-type': 'image/png',
          'cache-control': 'max-age=60',
          'content-language': 'de',
          etag: '"src"',
          'x-amz-meta-old': '1',
          'content-length': '4',
        });
        return void res.end();
      }
      answerXml(res, req, 200, doc('CopyObjectResult', '<ETag>"c"</ETag>'));
    });
    await driver.updateObjectMetadata('b', 'dir/k k', { fresh: '2' });
    expect(seen.map(line)).toEqual(['HEAD /b/dir/k%20k', 'PUT /b/dir/k%20k']);
    expect(seen[1].headers).toMatchObject({
      'x-amz-copy-source': 'b/dir/k%20k',
      'x-amz-metadata-directive': 'REPLACE',
      'x-amz-copy-source-if-match': '"src"',
      'x-amz-meta-fresh': '2',
      'content-type': 'image/png',
      'cache-control': 'max-age=60',
      'content-language': 'de',
    });
    expect(seen[1].headers['x-amz-meta-old']).toBeUndefined();
  });

  it('answers conflict when the source changed between the look and the copy (412)', async () => {
    const { driver } = await start((req, res) => {
      if (req.method === 'HEAD') {
        res.writeHead(200, { etag: '"src"', 'content-length': '1' });
        return void res.end();
      }
      answerXml(res, req, 412, errorXml('PreconditionFailed', 'changed'));
    });
    const err = await failure(
      driver.copyObject({ bucket: 'b', key: 'k' }, { bucket: 'b', key: 'c' }, { contentType: 'a/b' }),
    );
    expect(err.code).toBe('conflict');
  });

  it.each([
    ['an error document answered with 200', errorXml('AccessDenied', 'late'), 'backend_error', /^AccessDenied: late/],
    ['a missing source in a 200', errorXml('NoSuchKey', 'gone'), 'not_found', /^NoSuchKey: gone/],
    ['a document of another kind', doc('CopyPartResult', '<Other/>'), 'backend_error', /could not be read/],
    [
      'a document with a DOCTYPE',
      `<!DOCTYPE x>${doc('CopyObjectResult', '<ETag>"c"</ETag>')}`,
      'backend_error',
      /could not be read/,
    ],
    [
      'a truncated document',
      doc('CopyObjectResult', '<ETag>"c"</ETag>').slice(0, 40),
      'backend_error',
      /could not be read/,
    ],
    ['no body', '', 'backend_error', /could not be read/],
  ])('refuses a copy answered with %s', async (_name, body, code, detail) => {
    const { driver } = await start((req, res) => answerXml(res, req, 200, body));
    const err = await failure(driver.copyObject({ bucket: 'b', key: 'k' }, { bucket: 'b', key: 'c' }));
    expect(err.code).toBe(code);
    expect(err.detail).toMatch(detail);
  });

  it('refuses an answer document larger than it reads', async () => {
    const { driver } = await start((req, res) =>
      answerXml(res, req, 200, doc('CopyObjectResult', `<ETag>"${'e'.repeat(2 * 1024 * 1024)}"</ETag>`)),
    );
    const err = await failure(driver.copyObject({ bucket: 'b', key: 'k' }, { bucket: 'b', key: 'c' }));
    expect(err).toMatchObject({ code: 'backend_error', status: 502 });
    expect(err.detail).toMatch(/longer than/);
  });

  it('copies a part with its source range and condition, a 412 being a conflict', async () => {
    const { driver, seen } = await start((req, res) =>
      req.url?.includes('partNumber=2')
        ? answerXml(res, req, 412, errorXml('PreconditionFailed', 'changed'))
        : answerXml(
            res,
            req,
            200,
            doc('CopyPartResult', '<LastModified>2026-01-01T00:00:00Z</LastModified><ETag>"p1"</ETag>'),
          ),
    );
    const request = {
      source: { bucket: 'src', key: 'a b', versionId: 'v' },
      range: { start: 0, end: 5 * 1024 * 1024 - 1 },
      ifMatch: '"s"',
      bucket: 'dst',
      key: 'k',
      uploadId: 'up/1',
      partNumber: 1,
    };
    expect(await driver.uploadPartCopy(request)).toBe('"p1"');
    expect(line(seen[0])).toBe('PUT /dst/k?partNumber=1&uploadId=up%2F1');
    expect(seen[0].headers).toMatchObject({
      'x-amz-copy-source': 'src/a%20b?versionId=v',
      'x-amz-copy-source-range': 'bytes=0-5242879',
      'x-amz-copy-source-if-match': '"s"',
    });
    expect((await failure(driver.uploadPartCopy({ ...request, partNumber: 2 }))).code).toBe('conflict');
  });

  it('starts a multipart upload with its type and metadata', async () => {
    const { driver, seen } = await start((req, res) =>
      answerXml(
        res,
        req,
        200,
        doc('InitiateMultipartUploadResult', '<Bucket>b</Bucket><Key>k</Key><UploadId>2~u</UploadId>'),
      ),
    );
    expect(await driver.createMultipart('b', 'dir/k', { contentType: 'a/b', metadata: { Kind: 'x' } })).toBe('2~u');
    expect(line(seen[0])).toBe('POST /b/dir/k?uploads=');
    expect(seen[0].headers).toMatchObject({ 'content-type': 'a/b', 'x-amz-meta-kind': 'x' });
  });

  it('completes with the parts in order in a signed body, then reads size and ETag back', async () => {
    const { driver, seen, bodies } = await start((req, res) => {
      if (req.method === 'HEAD') {
        res.writeHead(200, { 'content-length': '12', etag: '"x-2"', 'content-type': 'a/b', 'x-amz-version-id': 'v9' });
        return void res.end();
      }
      answerXml(res, req, 200, doc('CompleteMultipartUploadResult', '<ETag></ETag>'), { 'x-amz-version-id': 'v9' });
    });
    const info = await driver.completeMultipart('b', 'k', 'u', [
      { partNumber: 2, etag: '"2"' },
      { partNumber: 1, etag: '"1"' },
    ]);
    expect(seen.map(line)).toEqual(['POST /b/k?uploadId=u', 'HEAD /b/k?versionId=v9']);
    const body = await bodies[0];
    expect(body).toContain(
      '<Part><PartNumber>1</PartNumber><ETag>&quot;1&quot;</ETag></Part><Part><PartNumber>2</PartNumber><ETag>&quot;2&quot;</ETag></Part>',
    );
    expect(seen[0].headers['x-amz-content-sha256']).toBe(createHash('sha256').update(body).digest('hex'));
    expect(seen[0].headers['content-md5']).toBe(createHash('md5').update(body).digest('base64'));
    expect(info).toEqual({ key: 'k', size: 12, etag: '"x-2"', contentType: 'a/b', versionId: 'v9', metadata: {} });
  });

  it('asks again when a completion answers 200 with a busy <Error>, and reports a bad part by its code', async () => {
    let calls = 0;
    const { driver, seen } = await start((req, res) => {
      if (req.method === 'HEAD') {
        res.writeHead(200, { 'content-length': '1', etag: '"x-1"' });
        return void res.end();
      }
      calls++;
      answerXml(
        res,
        req,
        200,
        calls === 1
          ? errorXml('InternalError', 'try again')
          : doc('CompleteMultipartUploadResult', '<ETag>"x-1"</ETag>'),
      );
    });
    expect((await driver.completeMultipart('b', 'k', 'u', [{ partNumber: 1, etag: '"1"' }])).etag).toBe('"x-1"');
    expect(seen.map((r) => r.method)).toEqual(['POST', 'POST', 'HEAD']);

    const bad = await start((req, res) =>
      answerXml(res, req, 200, errorXml('InvalidPart', 'One or more of the specified parts could not be found')),
    );
    const err = await failure(bad.driver.completeMultipart('b', 'k', 'u', [{ partNumber: 1, etag: '"x"' }]));
    expect(err).toMatchObject({ code: 'backend_error', status: 502 });
    expect(err.detail).toMatch(/^InvalidPart: /);
    expect(bad.seen).toHaveLength(1);
    const gone = await start((req, res) => answerXml(res, req, 404, errorXml('NoSuchUpload', 'gone')));
    expect((await failure(gone.driver.completeMultipart('b', 'k', 'u', [{ partNumber: 1, etag: '"x"' }]))).code).toBe(
      'not_found',
    );
  });

  it('deletes in a body with its MD5, one by one what XML cannot carry, and reads the result', async () => {
    const { driver, seen, bodies } = await start((req, res) => {
      if (req.method === 'DELETE') {
        res.writeHead(204);
        return void res.end();
      }
      answerXml(
        res,
        req,
        200,
        doc(
          'DeleteResult',
          '<Deleted><Key>a&amp;b &lt;c&gt;</Key></Deleted><Deleted><Key>sp ace+%</Key><VersionId>v1</VersionId></Deleted>' +
            '<Error><Key>é😀</Key><Code>AccessDenied</Code><Message>no</Message></Error>',
        ),
      );
    });
    const result = await driver.deleteObjects('b', [
      { key: 'a&b <c>' },
      { key: 'bell\u0007key' },
      { key: 'sp ace+%', versionId: 'v1' },
      { key: 'é😀' },
    ]);
    expect(seen.map(line)).toEqual(['DELETE /b/bell%07key', 'POST /b?delete=']);
    const body = await bodies[1];
    expect(body).toContain(
      '<Object><Key>a&amp;b &lt;c&gt;</Key></Object><Object><Key>sp ace+%</Key><VersionId>v1</VersionId></Object>',
    );
    expect(body).not.toContain('bell');
    expect(seen[1].headers['content-md5']).toBe(createHash('md5').update(body).digest('base64'));
    expect(result).toEqual({
      deleted: [{ key: 'bell\u0007key' }, { key: 'a&b <c>' }, { key: 'sp ace+%', versionId: 'v1' }],
      errors: [{ key: 'é😀', code: 'AccessDenied', message: 'no' }],
    });
  });

  it('refuses a DeleteObjects answer it cannot read', async () => {
    const { driver } = await start((req, res) =>
      answerXml(res, req, 200, doc('DeleteResult', '<Deleted><Key>a</Key><Key>b</Key></Deleted>')),
    );
    expect((await failure(driver.deleteObjects('b', [{ key: 'a' }]))).code).toBe('backend_error');
  });

  it('reads tags, and writes them in a signed body', async () => {
    const { driver, seen, bodies } = await start((req, res) =>
      req.method === 'GET'
        ? answerXml(res, req, 200, doc('Tagging', '<TagSet><Tag><Key>a b</Key><Value>c&amp;d</Value></Tag></TagSet>'))
        : answerXml(res, req, 200, ''),
    );
    expect(await driver.getObjectTagging('b', 'k', 'v1')).toEqual({ 'a b': 'c&d' });
    await driver.setObjectTagging('b', 'k', { 'cost center': 'a&b=c' });
    expect(seen.map(line)).toEqual(['GET /b/k?tagging=&versionId=v1', 'PUT /b/k?tagging=']);
    expect(await bodies[1]).toContain('<Tag><Key>cost center</Key><Value>a&amp;b=c</Value></Tag>');
  });

  it('lists versions page by page (url-encoded keys decoded where the answer says so), merged newest first per key', async () => {
    const t = (s: number) => `2026-01-01T00:00:0${s}.000Z`;
    const pages = [
      doc(
        'ListVersionsResult',
        `<EncodingType>url</EncodingType><IsTruncated>true</IsTruncated><NextKeyMarker>a+b</NextKeyMarker><NextVersionIdMarker>a1</NextVersionIdMarker>` +
          `<Version><Key>a+b</Key><VersionId>a2</VersionId><IsLatest>false</IsLatest><LastModified>${t(2)}</LastModified><Size>2</Size></Version>` +
          `<Version><Key>a+b</Key><VersionId>a1</VersionId><IsLatest>false</IsLatest><LastModified>${t(1)}</LastModified><Size>1</Size></Version>` +
          `<DeleteMarker><Key>a+b</Key><VersionId>a3</VersionId><IsLatest>true</IsLatest><LastModified>${t(3)}</LastModified></DeleteMarker>`,
      ),
      doc(
        'ListVersionsResult',
        `<EncodingType>url</EncodingType><IsTruncated>false</IsTruncated>` +
          `<Version><Key>b%2B</Key><VersionId>null</VersionId><IsLatest>true</IsLatest><LastModified>${t(1)}</LastModified><Size>5</Size></Version>`,
      ),
    ];
    const { driver, seen } = await start((req, res) => answerXml(res, req, 200, pages.shift() ?? ''));
    const versions = await driver.listObjectVersions('bkt', 'a b');
    expect(versions.map((v) => [v.key, v.versionId, v.isDeleteMarker, v.isLatest])).toEqual([
      ['a b', 'a3', true, true],
      ['a b', 'a2', false, false],
      ['a b', 'a1', false, false],
      ['b+', 'null', false, true],
    ]);
    expect(seen.map(line)).toEqual([
      'GET /bkt?versions=&prefix=a%20b',
      'GET /bkt?versions=&prefix=a%20b&key-marker=a%20b&version-id-marker=a1',
    ]);
  });

  it('lists uploads and parts page by page, and stops on a marker that does not move', async () => {
    const uploads = [
      doc(
        'ListMultipartUploadsResult',
        '<EncodingType>url</EncodingType><IsTruncated>true</IsTruncated><NextKeyMarker>k%201</NextKeyMarker><NextUploadIdMarker>u1</NextUploadIdMarker>' +
          '<Upload><Key>k%201</Key><UploadId>u1</UploadId><Initiated>2026-01-01T00:00:00.000Z</Initiated></Upload>',
      ),
      doc(
        'ListMultipartUploadsResult',
        '<IsTruncated>false</IsTruncated><Upload><Key>k2</Key><UploadId>u2</UploadId></Upload>',
      ),
    ];
    const stuck = doc(
      'ListPartsResult',
      '<IsTruncated>true</IsTruncated><NextPartNumberMarker>1</NextPartNumberMarker><Part><PartNumber>1</PartNumber><ETag>"1"</ETag><Size>5</Size></Part>',
    );
    const { driver, seen } = await start((req, res) =>
      answerXml(res, req, 200, req.url?.includes('uploads=') ? (uploads.shift() ?? '') : stuck),
    );
    expect(await driver.listMultipartUploads('b', 'k')).toEqual([
      { key: 'k 1', uploadId: 'u1', initiated: new Date('2026-01-01T00:00:00.000Z') },
      { key: 'k2', uploadId: 'u2' },
    ]);
    expect(seen[1].url).toBe('/b?uploads=&prefix=k&key-marker=k%201&upload-id-marker=u1');
    const parts = await driver.listParts('b', 'k', 'u');
    expect(parts).toEqual([
      { partNumber: 1, etag: '"1"', size: 5 },
      { partNumber: 1, etag: '"1"', size: 5 },
    ]);
    expect(seen.slice(2).map(line)).toEqual(['GET /b/k?uploadId=u', 'GET /b/k?uploadId=u&part-number-marker=1']);
  });

  it('aborts uploads and deletes objects (versioned too) with bodiless DELETEs', async () => {
    const { driver, seen } = await start((req, res) => {
      res.writeHead(204);
      res.end();
    });
    await driver.abortMultipart('b', 'k', 'u/1');
    await driver.deleteObject('b', 'a b', 'v 1');
    expect(seen.map(line)).toEqual(['DELETE /b/k?uploadId=u%2F1', 'DELETE /b/a%20b?versionId=v%201']);
  });
});
