import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { createLocalS3 } = require('../../scripts/lib/local-s3');

interface Answer {
  status: number;
  text: string;
}

/** Every file under `dir`, relative to it. */
function filesUnder(dir: string, base = dir): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? filesUnder(join(dir, entry.name), base) : [relative(base, join(dir, entry.name))],
  );
}

/**
 * The wrapped s3rver (scripts/lib/local-s3.js) spoken to directly, unsigned: whoever the caller
 * is, no name it sends may reach outside its directory, and writes are all or nothing.
 */
describe('local S3 server (scripts/lib/local-s3.js)', () => {
  let parent: string;
  let directory: string;
  let server: { run(): Promise<{ port: number }>; close(): Promise<void> };
  let port: number;

  const send = (method: string, path: string, body?: string | Buffer): Promise<Answer> =>
    new Promise((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, method, path }, (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      });
      req.on('error', reject);
      req.end(body);
    });

  /** A PUT that declares `declared` bytes, sends `sent` and hangs up; resolves once the server saw it go. */
  const cutOffPut = (path: string, declared: number, sent: Buffer): Promise<void> =>
    new Promise((resolve) => {
      const req = httpRequest({
        host: '127.0.0.1',
        port,
        method: 'PUT',
        path,
        headers: { 'content-length': String(declared) },
      });
      req.on('error', () => undefined);
      req.write(sent, () => setTimeout(() => (req.destroy(), setTimeout(resolve, 200)), 100));
    });

  const outsideFiles = () => readdirSync(parent).filter((name) => name !== 'store');

  beforeAll(async () => {
    parent = mkdtempSync(join(tmpdir(), 'stowage-local-s3-'));
    directory = join(parent, 'store');
    mkdirSync(directory);
    server = createLocalS3({ address: '127.0.0.1', port: 0, silent: true, directory });
    ({ port } = await server.run());
    expect((await send('PUT', '/jail')).status).toBe(200);
  });
  afterAll(async () => {
    await server.close();
    rmSync(parent, { recursive: true, force: true });
  });

  it.each([
    ['a key of dot segments', '/jail/%2e%2e/%2e%2e/escaped-key.txt'],
    ['a key with a dot segment in the middle', '/jail/a/%2e%2e/%2e%2e/%2e%2e/escaped-mid.txt'],
    ['a key naming s3rver files', '/jail/x._S3rver_object'],
    ['a key with NUL', '/jail/nul%00.txt'],
    ['a bucket of dots', '/%2e%2e/escaped-bucket.txt'],
    ['a bucket of one dot', '/%2e/escaped-dot.txt'],
  ])('refuses %s with an S3 XML 400 and writes nothing outside', async (_what, path) => {
    const res = await send('PUT', path, 'payload');
    expect(res.status).toBe(400);
    expect(res.text).toMatch(/<Code>Invalid(Argument|BucketName)<\/Code>/);
    expect(outsideFiles()).toEqual([]);
  });

  it.each([
    ['"../../../outside/p"', '..%2F..%2F..%2Foutside%2Fp'],
    ['"../../etc"', '..%2F..%2Fetc'],
    ['".."', '..'],
    ['a backslash path', '..%5C..%5Cwin'],
  ])('refuses the upload id %s of a part with an S3 XML 400; no file or phantom bucket appears', async (_w, id) => {
    const before = filesUnder(directory);
    const res = await send('PUT', `/jail/k.bin?partNumber=1&uploadId=${id}`, 'part');
    expect(res.status).toBe(400);
    expect(res.text).toContain('<Code>InvalidArgument</Code>');
    expect(outsideFiles()).toEqual([]);
    expect(readdirSync(directory)).toEqual(['jail']);
    expect(filesUnder(directory)).toEqual(before);
  });

  it('answers 404 NoSuchUpload to a part of an upload that was never started, and stores nothing', async () => {
    const before = filesUnder(directory);
    const res = await send('PUT', '/jail/k.bin?partNumber=1&uploadId=0123456789abcdef0123456789abcdef', 'part');
    expect(res.status).toBe(404);
    expect(res.text).toContain('<Code>NoSuchUpload</Code>');
    expect(filesUnder(directory)).toEqual(before);
  });

  it.each(['0', '10001', '-1', '1e3', '..%2F..%2Fp', '99999999999999999999'])(
    'refuses the part number %s with an S3 XML 400',
    async (partNumber) => {
      const init = await send('POST', '/jail/numbers.bin?uploads');
      const uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(init.text)![1];
      const res = await send('PUT', `/jail/numbers.bin?partNumber=${partNumber}&uploadId=${uploadId}`, 'part');
      expect(res.status).toBe(400);
      expect(res.text).toContain('<Code>InvalidArgument</Code>');
      expect(outsideFiles()).toEqual([]);
    },
  );

  it('refuses a copy whose source names a path outside the bucket', async () => {
    const res = await new Promise<Answer>((resolve, reject) => {
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port,
          method: 'PUT',
          path: '/jail/copy.txt',
          headers: { 'x-amz-copy-source': '/jail/../../../etc/hostname' },
        },
        (r) => {
          let text = '';
          r.setEncoding('utf8').on('data', (c: string) => (text += c));
          r.on('end', () => resolve({ status: r.statusCode ?? 0, text }));
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(res.status).toBe(400);
    expect(filesUnder(directory).some((f) => f.startsWith('jail/copy.txt'))).toBe(false);
  });

  it('keeps the previous object whole when an overwrite is cut off, and never serves a partial body', async () => {
    expect((await send('PUT', '/jail/keep.txt', 'the original content')).status).toBe(200);
    const pending = cutOffPut('/jail/keep.txt', 1024 * 1024, Buffer.alloc(1024, 'x'));
    // While the body is still arriving the object is the old one.
    await new Promise((r) => setTimeout(r, 50));
    expect(await send('GET', '/jail/keep.txt')).toEqual({ status: 200, text: 'the original content' });
    await pending;
    expect(await send('GET', '/jail/keep.txt')).toEqual({ status: 200, text: 'the original content' });
    expect(filesUnder(directory).filter((f) => f.endsWith('.partial'))).toEqual([]);
  });

  it('stores nothing of a new object whose upload is cut off', async () => {
    await cutOffPut('/jail/never.txt', 4096, Buffer.alloc(100, 'y'));
    expect((await send('GET', '/jail/never.txt')).status).toBe(404);
    expect(filesUnder(directory).filter((f) => f.includes('never.txt'))).toEqual([]);
  });

  it('keeps the previous part when an overwrite of the part is cut off', async () => {
    const init = await send('POST', '/jail/parts.bin?uploads');
    const uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(init.text)![1];
    expect((await send('PUT', `/jail/parts.bin?partNumber=1&uploadId=${uploadId}`, 'first part')).status).toBe(200);
    await cutOffPut(`/jail/parts.bin?partNumber=1&uploadId=${uploadId}`, 65536, Buffer.alloc(10, 'z'));
    const done = await send(
      'POST',
      `/jail/parts.bin?uploadId=${uploadId}`,
      `<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>${'"x"'}</ETag></Part></CompleteMultipartUpload>`,
    );
    expect(done.status).toBe(200);
    expect(await send('GET', '/jail/parts.bin')).toEqual({ status: 200, text: 'first part' });
  });

  it('still stores, overwrites, copies and lists objects', async () => {
    expect((await send('PUT', '/jail/dir/back%5Cslash%20%C3%A9.txt', 'odd')).status).toBe(200);
    expect(await send('GET', '/jail/dir/back%5Cslash%20%C3%A9.txt')).toEqual({ status: 200, text: 'odd' });
    expect((await send('PUT', '/jail/dir/a.txt', 'one')).status).toBe(200);
    expect((await send('PUT', '/jail/dir/a.txt', 'two')).status).toBe(200);
    expect(await send('GET', '/jail/dir/a.txt')).toEqual({ status: 200, text: 'two' });
    const copy = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port,
          method: 'PUT',
          path: '/jail/dir/b.txt',
          headers: { 'x-amz-copy-source': '/jail/dir/a.txt' },
        },
        (r) => (r.resume(), resolve(r.statusCode ?? 0)),
      );
      req.on('error', reject);
      req.end();
    });
    expect(copy).toBe(200);
    expect(await send('GET', '/jail/dir/b.txt')).toEqual({ status: 200, text: 'two' });
    const list = await send('GET', '/jail?list-type=2&prefix=dir/');
    expect(list.text).toContain('<Key>dir/a.txt</Key>');
    expect(list.text).toContain('<Key>dir/b.txt</Key>');
    expect(list.text).not.toContain('partial');
    const buckets = await send('GET', '/');
    expect(buckets.text).toContain('<Name>jail</Name>');
  });
});
