import { once } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import {
  errorXml,
  LOCAL_SECRET as SECRET,
  localDriver,
  localUpstreamsPerTest,
} from '../../../../test/harness/local-upstream';
import { bytesOf, failure, text } from '../../../../test/harness/streams';

describe('S3Driver object reads through the upstream client', () => {
  const start = localUpstreamsPerTest();

  it('sends a signed ranged, conditional, versioned GET and reads the answer headers', async () => {
    const since = new Date('2026-01-01T00:00:00Z');
    const { driver, seen } = await start((_req, res) => {
      res.writeHead(206, {
        'content-length': '10',
        'content-range': 'bytes 10-19/1000',
        etag: '"e"',
        'content-type': 'text/plain',
        'last-modified': 'Tue, 01 Sep 2026 10:00:00 GMT',
        'x-amz-version-id': 'v 1',
        'x-amz-storage-class': 'STANDARD',
        'x-amz-meta-colour': 'blue',
      });
      res.end('0123456789');
    });
    const res = await driver.getObject('bkt', 'dir/a b+c.txt', {
      range: { start: 10, end: 19 },
      versionId: 'v 1',
      ifMatch: '"e"',
      ifUnmodifiedSince: since,
    });
    expect((await bytesOf(res.body)).toString()).toBe('0123456789');
    expect(res).toMatchObject({
      contentLength: 10,
      contentRange: 'bytes 10-19/1000',
      info: {
        key: 'dir/a b+c.txt',
        size: 1000,
        etag: '"e"',
        contentType: 'text/plain',
        versionId: 'v 1',
        storageClass: 'STANDARD',
        metadata: { colour: 'blue' },
      },
    });
    expect(res.info.lastModified?.toISOString()).toBe('2026-09-01T10:00:00.000Z');
    const req = seen[0];
    expect(req.method).toBe('GET');
    expect(req.url).toBe('/bkt/dir/a%20b%2Bc.txt?versionId=v%201');
    expect(req.headers).toMatchObject({
      range: 'bytes=10-19',
      'if-match': '"e"',
      'if-unmodified-since': since.toUTCString(),
    });
    expect(req.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\//);
    expect(JSON.stringify(req.headers)).not.toContain(SECRET);
  });

  it('turns a 304 into notModified with an empty body', async () => {
    const { driver } = await start((_req, res) => {
      res.writeHead(304, { etag: '"abc"', 'last-modified': 'Tue, 01 Sep 2026 10:00:00 GMT' });
      res.end();
    });
    const res = await driver.getObject('b', 'k', { ifNoneMatch: '"abc"' });
    expect(res).toMatchObject({ notModified: true, contentLength: 0, info: { key: 'k', etag: '"abc"' } });
    expect(res.info.lastModified?.toISOString()).toBe('2026-09-01T10:00:00.000Z');
    expect(await bytesOf(res.body)).toHaveLength(0);
  });

  it.each([
    [404, 'NoSuchKey', 'not_found'],
    [404, 'NoSuchBucket', 'not_found'],
    [416, 'InvalidRange', 'bad_range'],
    [403, 'AccessDenied', 'backend_error'],
    [501, 'NotImplemented', 'not_supported'],
    [500, 'InternalError', 'backend_error'],
  ])('maps a GET refused with %i <Code>%s</Code> to %s, never repeating the secret', async (status, code, expected) => {
    const { driver } = await start((_req, res) => {
      res.writeHead(status, { 'content-type': 'application/xml' });
      res.end(errorXml(code, `no &amp; ${SECRET}`));
    });
    const err = await failure(driver.getObject('b', 'k'));
    expect(err.code).toBe(expected);
    expect(err.detail).toMatch(new RegExp(`^${code}: no & \\*\\*\\*`));
  });

  it('reads a HEAD answer, and maps a bodiless 404 to not_found', async () => {
    const { driver, seen } = await start((req, res) => {
      if (req.url?.startsWith('/b/missing')) {
        res.writeHead(404);
        return void res.end();
      }
      res.writeHead(200, { 'content-length': '5', etag: '"h"', 'x-amz-meta-a': '1', 'x-amz-version-id': 'null' });
      res.end();
    });
    expect(await driver.headObject('b', 'k')).toEqual({ key: 'k', size: 5, etag: '"h"', metadata: { a: '1' } });
    expect(seen[0].method).toBe('HEAD');
    expect((await failure(driver.headObject('b', 'missing'))).code).toBe('not_found');
  });

  it('maps an unreachable upstream and a silent one to backend_error 502', async () => {
    const { driver } = await start(() => {
      // Never answers: the idle timeout (1 s here) gives up.
    });
    const silent = await failure(driver.getObject('b', 'k'));
    expect(silent).toMatchObject({ code: 'backend_error', status: 502 });

    const dead = localDriver('http://127.0.0.1:9');
    try {
      const err = await failure(dead.driver.headObject('b', 'k'));
      expect(err).toMatchObject({ code: 'backend_error', status: 502 });
      expect(err.detail).not.toContain(SECRET);
    } finally {
      await dead.close();
    }
  });

  it('asks a busy upstream again (503 twice, then the object), as the SDK did', async () => {
    let calls = 0;
    const { driver, seen } = await start((_req, res) => {
      calls++;
      if (calls < 3) {
        res.writeHead(503, { 'content-type': 'application/xml' });
        return void res.end(errorXml('SlowDown', 'busy'));
      }
      res.writeHead(200, { 'content-length': '2', etag: '"e"' });
      res.end('ok');
    });
    const got = await driver.getObject('b', 'k');
    expect((await bytesOf(got.body)).toString()).toBe('ok');
    expect(seen).toHaveLength(3);
  });

  it('gives up after three attempts on a busy upstream, and never repeats a refusal', async () => {
    const busy = await start((_req, res) => {
      res.writeHead(503, { 'content-type': 'application/xml' });
      res.end(errorXml('SlowDown', 'busy'));
    });
    expect((await failure(busy.driver.headObject('b', 'k'))).code).toBe('backend_error');
    expect(busy.seen).toHaveLength(3);
    const refusing = await start((_req, res) => {
      res.writeHead(403, { 'content-type': 'application/xml' });
      res.end(errorXml('AccessDenied', 'no'));
    });
    await failure(refusing.driver.getObject('b', 'k'));
    expect(refusing.seen).toHaveLength(1);
  });

  it('aborts the upstream request when the caller goes away mid-body', async () => {
    let closed: Promise<unknown> = Promise.resolve();
    const { driver } = await start((req, res) => {
      closed = once(res, 'close');
      res.writeHead(200, { 'content-length': String(64 * 1024 * 1024) });
      res.write(Buffer.alloc(64 * 1024));
    });
    const controller = new AbortController();
    const res = await driver.getObject('b', 'k', { signal: controller.signal });
    const first = await new Promise((resolve) => res.body.once('data', resolve));
    expect(first).toBeInstanceOf(Buffer);
    controller.abort();
    await closed;
    expect(res.body.destroyed).toBe(true);
  });

  it('lets a caller release a body it will not send with a bare destroy()', async () => {
    let closed: Promise<unknown> = Promise.resolve();
    const { driver } = await start((_req, res) => {
      closed = once(res, 'close');
      res.writeHead(200, { 'content-length': String(1024 * 1024) });
      res.write(Buffer.alloc(1024));
    });
    const res = await driver.getObject('b', 'k');
    res.body.destroy();
    await new Promise((resolve) => res.body.on('close', resolve));
    await closed;
  });

  it('refuses an already aborted read without a request reaching the upstream', async () => {
    const { driver, seen } = await start((_req, res) => res.end());
    const controller = new AbortController();
    controller.abort();
    const err = await failure(driver.getObject('b', 'k', { signal: controller.signal }));
    expect(err).toMatchObject({ code: 'backend_error', status: 502, detail: 'the request was aborted' });
    expect(seen).toHaveLength(0);
  });

  const listing = (body: string) =>
    `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${body}</ListBucketResult>`;

  it('lists with a signed ListObjectsV2 asking for url-encoded keys, and decodes them', async () => {
    const { driver, seen } = await start((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/xml' });
      res.end(
        listing(
          '<EncodingType>url</EncodingType><IsTruncated>true</IsTruncated>' +
            '<NextContinuationToken>next/token==</NextContinuationToken>' +
            '<Contents><Key>d%2Fbell%07+x%2B%F0%9F%98%80</Key><LastModified>2026-01-01T00:00:00.000Z</LastModified>' +
            '<ETag>&quot;e&quot;</ETag><Size>3</Size><StorageClass>STANDARD</StorageClass></Contents>' +
            '<CommonPrefixes><Prefix>d%2Fsub%2F</Prefix></CommonPrefixes>',
        ),
      );
    });
    const out = await driver.listObjects({
      bucket: 'bkt',
      prefix: 'd/',
      delimiter: '/',
      continuationToken: 'a/b+c=',
      maxKeys: 5000,
    });
    expect(out).toEqual({
      objects: [
        {
          key: 'd/bell\u0007 x+😀',
          size: 3,
          etag: '"e"',
          storageClass: 'STANDARD',
          lastModified: new Date('2026-01-01T00:00:00.000Z'),
        },
      ],
      commonPrefixes: ['d/sub/'],
      isTruncated: true,
      nextContinuationToken: 'next/token==',
    });
    const req = seen[0];
    expect(req.method).toBe('GET');
    expect(req.url).toBe(
      '/bkt?list-type=2&encoding-type=url&prefix=d%2F&delimiter=%2F&continuation-token=a%2Fb%2Bc%3D&max-keys=1000',
    );
    expect(req.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\//);
  });

  it.each([
    [400, 'InvalidArgument', 'bad_request'],
    [404, 'NoSuchBucket', 'not_found'],
    [500, 'InternalError', 'backend_error'],
  ])('maps a listing with a token refused with %i %s to %s', async (status, code, expected) => {
    const { driver } = await start((_req, res) => {
      res.writeHead(status, { 'content-type': 'application/xml' });
      res.end(errorXml(code, 'no'));
    });
    const err = await failure(driver.listObjects({ bucket: 'b', continuationToken: 'bogus' }));
    expect(err.code).toBe(expected);
  });

  it.each([
    ['not XML', 'hello'],
    ['a comment', listing('<!-- x -->')],
    ['a key that does not decode', listing('<EncodingType>url</EncodingType><Contents><Key>%FF</Key></Contents>')],
    ['a huge size', listing('<Contents><Key>k</Key><Size>1e400</Size></Contents>')],
  ])('answers backend_error 502 to a listing with %s', async (_name, body) => {
    const { driver } = await start((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/xml' });
      res.end(body);
    });
    const err = await failure(driver.listObjects({ bucket: 'b' }));
    expect(err).toMatchObject({ code: 'backend_error', status: 502 });
  });

  /** Reads a request body to its end, or to the moment the request is cut off. */
  const received = (req: IncomingMessage) =>
    new Promise<{ bytes: Buffer; complete: boolean }>((resolve) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => resolve({ bytes: Buffer.concat(chunks), complete: true }));
      req.on('close', () => resolve({ bytes: Buffer.concat(chunks), complete: req.complete }));
    });

  it('writes with a signed, streamed, unsigned-payload PUT carrying type, metadata, tags and If-None-Match', async () => {
    let body: Promise<{ bytes: Buffer; complete: boolean }> = Promise.resolve({
      bytes: Buffer.alloc(0),
      complete: false,
    });
    const { driver, seen } = await start((req, res) => {
      body = received(req);
      void body.then(() => {
        res.writeHead(200, { etag: '"put"', 'x-amz-version-id': 'v2' });
        res.end();
      });
    });
    const data = Buffer.alloc(3 * 1024 * 1024, 7);
    const info = await driver.putObject({
      bucket: 'bkt',
      key: 'dir/a b+c.txt',
      body: Readable.from([data.subarray(0, 1024), data.subarray(1024)]),
      size: data.length,
      contentType: 'text/plain',
      metadata: { colour: 'blue' },
      tags: { team: 'a&b' },
      ifNoneMatch: true,
    });
    expect(info).toEqual({
      key: 'dir/a b+c.txt',
      size: data.length,
      etag: '"put"',
      contentType: 'text/plain',
      versionId: 'v2',
      metadata: { colour: 'blue' },
    });
    const req = seen[0];
    expect(req.method).toBe('PUT');
    expect(req.url).toBe('/bkt/dir/a%20b%2Bc.txt');
    expect(req.headers).toMatchObject({
      'content-length': String(data.length),
      'content-type': 'text/plain',
      'x-amz-meta-colour': 'blue',
      'x-amz-tagging': 'team=a%26b',
      'if-none-match': '*',
      'x-amz-content-sha256': 'UNSIGNED-PAYLOAD',
    });
    expect(req.headers['transfer-encoding']).toBeUndefined();
    expect(req.headers.authorization).toMatch(/SignedHeaders=[^,]*x-amz-meta-colour;x-amz-tagging/);
    const got = await body;
    expect(got.complete).toBe(true);
    expect(got.bytes.equals(data)).toBe(true);
  });

  it.each([
    [false, ['HEAD', 'PUT']],
    [true, ['PUT']],
  ])(
    'on an upstream that may ignore If-None-Match, looks for the key before a no-overwrite PUT unless the caller just did (absenceChecked %s)',
    async (absenceChecked, methods) => {
      const { driver, seen } = await start((req, res) => {
        req.resume();
        req.on('end', () => {
          res.writeHead(req.method === 'HEAD' ? 404 : 200, { etag: '"e"' });
          res.end();
        });
      }, 'generic');
      await driver.putObject({ bucket: 'b', key: 'k', body: text('abc'), size: 3, ifNoneMatch: true, absenceChecked });
      expect(seen.map((r) => r.method)).toEqual(methods);
      expect(seen.at(-1)?.headers['if-none-match']).toBe('*');
    },
  );

  it('maps a PUT with If-None-Match refused with 412 to object_exists', async () => {
    const { driver } = await start((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(412, { 'content-type': 'application/xml' });
        res.end(errorXml('PreconditionFailed', 'exists'));
      });
    });
    const err = await failure(
      driver.putObject({ bucket: 'b', key: 'k', body: text('abc'), size: 3, ifNoneMatch: true }),
    );
    expect(err.code).toBe('object_exists');
  });

  it.each([
    ['is cut off midway', (source: Readable) => setTimeout(() => source.destroy(), 50)],
    ['ends short of its declared length', (source: Readable) => setTimeout(() => source.push(null), 50)],
    ['fails midway', (source: Readable) => setTimeout(() => source.destroy(new Error('disk')), 50)],
  ])('aborts the upstream PUT, never completing it, when the body %s', async (_name, cut) => {
    let body: Promise<{ bytes: Buffer; complete: boolean }> = Promise.resolve({
      bytes: Buffer.alloc(0),
      complete: true,
    });
    const { driver } = await start((req) => {
      body = received(req);
    });
    const source = new Readable({ read() {} });
    source.push(Buffer.alloc(1024, 1));
    cut(source);
    const err = await failure(driver.putObject({ bucket: 'b', key: 'k', body: source, size: 1024 * 1024 }));
    expect(err).toMatchObject({ code: 'backend_error', status: 502 });
    expect(err.detail).toMatch(/^the upload was aborted/);
    const got = await body;
    expect(got.complete).toBe(false);
    expect(got.bytes.length).toBeLessThan(1024 * 1024);
  });

  it('uploads a part with a signed, streamed PUT and answers its ETag', async () => {
    const { driver, seen } = await start((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, req.url?.includes('partNumber=3') ? {} : { etag: '"part"' });
        res.end();
      });
    });
    const etag = await driver.uploadPart('bkt', 'k', 'up/id+1', 2, text('hello'), 5);
    expect(etag).toBe('"part"');
    expect(seen[0].method).toBe('PUT');
    expect(seen[0].url).toBe('/bkt/k?partNumber=2&uploadId=up%2Fid%2B1');
    expect(seen[0].headers).toMatchObject({ 'content-length': '5', 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' });
    const missing = await failure(driver.uploadPart('bkt', 'k', 'u', 3, text('hello'), 5));
    expect(missing).toMatchObject({ code: 'backend_error' });
  });

  it('maps an upload part refused with 404 NoSuchUpload to not_found, never repeating the secret', async () => {
    const { driver } = await start((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(404, { 'content-type': 'application/xml' });
        res.end(errorXml('NoSuchUpload', `gone ${SECRET}`));
      });
    });
    const err = await failure(driver.uploadPart('b', 'k', 'u', 1, text('x'), 1));
    expect(err.code).toBe('not_found');
    expect(err.detail).not.toContain(SECRET);
  });
});
