import { randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { Backend } from '../../src/storage-backends/backend';
import { BackendRegistry } from '../../src/storage-backends/backend-registry.service';
import { TestApp, TestStack } from './app';
import { bootWithProxy, createBucket, mintCredential, VirtualKeys } from './s3-proxy';
import { signedChunkedPut } from './s3-proxy-matrix';
import type { Session } from './session';
import { removeBucket } from './storage';

const KiB = 1024;
const MiB = 1024 * KiB;

interface LogLine {
  level: string;
  msg?: string;
  reqId?: string;
  route?: string;
  clientAborted?: boolean;
  err?: unknown;
}

const parsed = (app: TestApp): LogLine[] => app.logs.map((l) => JSON.parse(l) as LogLine);

/**
 * Sends a request that declares `declared` bytes of body, sends `sent` bytes of it and hangs up.
 * Resolves once the connection is gone.
 */
export function cutOffRequest(
  url: string,
  options: { method: string; headers: Record<string, string>; declared: number; sent: Buffer },
): Promise<void> {
  return new Promise((resolve) => {
    const req = httpRequest(url, {
      method: options.method,
      headers: { ...options.headers, 'content-length': String(options.declared) },
    });
    req.on('error', () => undefined);
    req.on('close', () => resolve());
    req.write(options.sent, () => setTimeout(() => req.destroy(), 150));
  });
}

/** Polls `check` until it passes or `ms` elapse (then throws its last failure). */
async function eventually(check: () => Promise<void> | void, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > until) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/**
 * A dashboard upload (raw body, multipart part, browser form) or an S3-proxy PUT whose client
 * hangs up, or whose last chunk is forged, over an existing object: the previous object stays
 * whole and readable, nothing partial is ever served, and the dashboard logs the abort as one
 * warning, not an error. Runs against the stack's own s3rver or against Ceph RGW.
 */
export function describeCutOffWrites(options: { s3: true | 'ceph'; kind: string }): void {
  describe(`cut-off writes (${options.kind})`, () => {
    let stack: TestStack;
    let app: TestApp;
    let user: Session;
    let endpoint: string;
    let keys: VirtualKeys;
    let backend: Backend;
    const bucket = `stowage-cut-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
    const base = `/api/backends/local/buckets/${bucket}`;

    beforeAll(async () => {
      stack = await TestStack.start({ s3: options.s3 });
      const fx = await bootWithProxy(stack, { kind: options.kind });
      ({ app, user, endpoint } = fx);
      await createBucket(fx.admin, 'local', bucket);
      keys = await mintCredential(user, [{ backend_id: 'local', bucket }]);
      backend = app.app.get(BackendRegistry).get('local');
    });

    afterAll(async () => {
      try {
        if (options.s3 === 'ceph') await removeBucket(backend, bucket);
      } finally {
        await stack.stop();
      }
    });

    const auth = () => ({ cookie: user.cookie, 'x-csrf-token': user.csrf });

    const put = async (key: string, data: Buffer | string) => {
      const res = await user.request(`${base}/object?key=${encodeURIComponent(key)}`, {
        method: 'POST',
        body: data,
        headers: { 'content-type': 'application/octet-stream' },
      });
      expect(res.status).toBe(201);
    };

    const read = (key: string) => user.request(`${base}/object?key=${encodeURIComponent(key)}`);

    /** Reads `key` until `done` settles, failing if any read sees anything but `expected`. */
    const watch = async (key: string, expected: string, done: Promise<unknown>) => {
      let over = false;
      void done.finally(() => (over = true));
      const seen = new Set<string>();
      while (!over) {
        const res = await read(key);
        seen.add(`${res.status} ${res.text.length === expected.length ? res.text : `${res.text.length} bytes`}`);
      }
      await done;
      return [...seen];
    };

    const abortLines = (route: string) =>
      parsed(app).filter((l) => l.clientAborted === true && l.route === route && typeof l.reqId === 'string');

    const errorLines = () => parsed(app).filter((l) => l.level === 'error' || l.level === 'fatal');

    it('keeps the previous object whole and readable when a raw upload over it is cut off, and logs one warning', async () => {
      const original = `original content ${randomBytes(8).toString('hex')}`;
      await put('keep.txt', original);
      const errorsBefore = errorLines().length;
      const cut = cutOffRequest(`${app.url}${base}/object?key=keep.txt`, {
        method: 'POST',
        headers: { ...auth(), 'content-type': 'text/plain' },
        declared: MiB,
        sent: Buffer.alloc(KiB, 'x'),
      });
      expect(await watch('keep.txt', original, cut)).toEqual([`200 ${original}`]);
      const route = '/api/backends/:bid/buckets/:bucket/object';
      await eventually(() => expect(abortLines(route)).toHaveLength(1), 5000);
      expect(abortLines(route)[0].level).toBe('warn');
      const reqId = abortLines(route)[0].reqId!;
      expect(parsed(app).filter((l) => l.reqId === reqId)).toHaveLength(1);
      // The upstream request was aborted at once, not after an idle timeout: reads go on seeing the original.
      for (let i = 0; i < 5; i++) {
        const res = await read('keep.txt');
        expect([res.status, res.text]).toEqual([200, original]);
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(errorLines().length).toBe(errorsBefore);
    });

    it('stores nothing of a new object whose raw upload is cut off', async () => {
      await cutOffRequest(`${app.url}${base}/object?key=never.txt`, {
        method: 'POST',
        headers: { ...auth(), 'content-type': 'application/octet-stream' },
        declared: MiB,
        sent: Buffer.alloc(KiB, 'n'),
      });
      await new Promise((r) => setTimeout(r, 500));
      expect((await read('never.txt')).status).toBe(404);
    });

    it('keeps the part already uploaded when an overwrite of that part is cut off', async () => {
      const key = 'parts/kept.bin';
      const init = await user.request(`${base}/multipart?key=${encodeURIComponent(key)}`, { method: 'POST', body: {} });
      expect(init.status).toBe(201);
      const uploadId = init.body.upload_id as string;
      const partUrl = `${base}/multipart/parts/1?key=${encodeURIComponent(key)}&upload_id=${encodeURIComponent(uploadId)}`;
      const first = await user.request(partUrl, {
        method: 'PUT',
        body: 'the first part',
        headers: { 'content-type': 'application/octet-stream' },
      });
      expect(first.status).toBe(200);
      const errorsBefore = errorLines().length;
      await cutOffRequest(`${app.url}${partUrl}`, {
        method: 'PUT',
        headers: { ...auth(), 'content-type': 'application/octet-stream' },
        declared: 6 * MiB,
        sent: Buffer.alloc(64 * KiB, 'p'),
      });
      const route = '/api/backends/:bid/buckets/:bucket/multipart/parts/:part';
      await eventually(() => expect(abortLines(route)).toHaveLength(1), 5000);
      const done = await user.request(
        `${base}/multipart/complete?key=${encodeURIComponent(key)}&upload_id=${encodeURIComponent(uploadId)}`,
        { method: 'POST', body: { parts: [{ PartNumber: 1, ETag: first.body.etag }] } },
      );
      expect(done.status).toBe(200);
      expect((await read(key)).text).toBe('the first part');
      expect(errorLines().length).toBe(errorsBefore);
    });

    it('keeps the previous object and leaves no staging object when a form upload over it is cut off', async () => {
      const original = `form original ${randomBytes(8).toString('hex')}`;
      await put('form.txt', original);
      const boundary = `----stowage${randomBytes(8).toString('hex')}`;
      const head = Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="key"\r\n\r\nform.txt\r\n` +
          `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="form.txt"\r\n` +
          `Content-Type: application/octet-stream\r\n\r\n`,
      );
      const errorsBefore = errorLines().length;
      const cut = cutOffRequest(`${app.url}${base}/object`, {
        method: 'POST',
        headers: { ...auth(), 'content-type': `multipart/form-data; boundary=${boundary}` },
        declared: 2 * MiB,
        sent: Buffer.concat([head, Buffer.alloc(64 * KiB, 'f')]),
      });
      expect(await watch('form.txt', original, cut)).toEqual([`200 ${original}`]);
      const route = '/api/backends/:bid/buckets/:bucket/object';
      await eventually(() => expect(abortLines(route).length).toBeGreaterThanOrEqual(2), 5000);
      await eventually(async () => {
        const staging = await user.request(
          `${base}/objects?prefix=${encodeURIComponent('.stowage-uploads/')}&delimiter=`,
        );
        expect(staging.body.objects).toEqual([]);
      });
      expect((await read('form.txt')).text).toBe(original);
      expect(errorLines().length).toBe(errorsBefore);
    });

    it.each([
      ['the last data chunk', 31],
      ['the final empty chunk', 32],
    ])('keeps the previous object when a chunked overwrite through the S3 proxy forges %s', async (_w, tamperChunk) => {
      const key = `proxy/forged-${tamperChunk}.bin`;
      const original = `proxy original ${randomBytes(8).toString('hex')}`;
      await put(key, original);
      // 2 MiB in 64 KiB chunks: data chunks 0..31, then the empty final chunk (32).
      const res = await signedChunkedPut(endpoint, keys, bucket, key, randomBytes(2 * MiB), {
        chunkSize: 64 * KiB,
        tamperChunk,
      });
      expect(res.status).toBe(403);
      await new Promise((r) => setTimeout(r, 300));
      const after = await read(key);
      expect([after.status, after.text]).toEqual([200, original]);
    });
  });
}
