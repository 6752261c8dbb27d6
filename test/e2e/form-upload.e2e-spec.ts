import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, request as httpRequest, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TestApp, TestStack } from '../harness/app';
import { Session } from '../harness/session';
import { bootWithBackend } from '../harness/storage';

/** What the app asked of the upstream: method, decoded path and query, and a copy source if any. */
interface Seen {
  method: string;
  path: string;
  copySource?: string;
}

/** A forwarding proxy in front of the S3 server that records every request the app sends it. */
async function recordingProxy(target: string): Promise<{ url: string; seen: Seen[]; close(): Promise<void> }> {
  const upstream = new URL(target);
  const seen: Seen[] = [];
  const server: Server = createServer((req, res) => {
    const copy = req.headers['x-amz-copy-source'];
    seen.push({
      method: req.method ?? '',
      path: decodeURIComponent(req.url ?? ''),
      ...(typeof copy === 'string' ? { copySource: copy } : {}),
    });
    const out = httpRequest(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    out.on('error', () => res.destroy());
    req.pipe(out);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

describe('form uploads go straight to their key and honour If-None-Match: *', () => {
  let stack: TestStack;
  let app: TestApp;
  let user: Session;
  let proxy: Awaited<ReturnType<typeof recordingProxy>>;
  const bucket = 'form-straight';
  const base = `/api/backends/local/buckets/${bucket}`;

  beforeAll(async () => {
    stack = await TestStack.start();
    proxy = await recordingProxy(stack.s3!.endpoint);
    ({ app, user } = await bootWithBackend(stack, { bucket, endpoint: proxy.url }));
  });
  afterAll(async () => {
    await stack.stop();
    await proxy.close();
  });

  /** A form in the given field order; `headers` beside the session's. */
  const post = (
    entries: [string, string | Blob, string?][],
    query = '',
    headers: Record<string, string> = {},
  ): Promise<Response> => {
    const fd = new FormData();
    for (const [name, value, filename] of entries) {
      if (typeof value === 'string') fd.append(name, value);
      else fd.append(name, value, filename);
    }
    return fetch(`${app.url}${base}/object${query}`, {
      method: 'POST',
      body: fd,
      headers: { cookie: user.cookie, 'x-csrf-token': user.csrf, ...headers },
    });
  };
  const read = async (key: string) => {
    const res = await fetch(`${app.url}${base}/object?key=${encodeURIComponent(key)}`, {
      headers: { cookie: user.cookie },
    });
    return { status: res.status, body: Buffer.from(await res.arrayBuffer()) };
  };
  const errorCode = async (res: Response) => ((await res.json()) as { error: { code: string } }).error.code;
  /** The upstream requests made while `work` ran. */
  const during = async (work: () => Promise<void>): Promise<Seen[]> => {
    const from = proxy.seen.length;
    await work();
    return proxy.seen.slice(from);
  };
  const bucketPath = (key: string) => `/${bucket}/${key}`;

  it.each([
    ['small (one PutObject)', 1024 + 3],
    ['large (a multipart upload on the key)', 20 * 1024 * 1024 + 5],
  ])('writes a %s file to its key only: no staging key, no copy', async (_what, size) => {
    const key = `straight/${size}.bin`;
    const data = randomBytes(size);
    const seen = await during(async () => {
      const res = await post([
        ['key', key],
        ['content_type', 'application/x-test'],
        ['file', new Blob([data]), 'picked.bin'],
      ]);
      expect(res.status).toBe(201);
      expect(await res.json()).toMatchObject({ key, size, content_type: 'application/x-test' });
    });
    const writes = seen.filter((s) => s.method !== 'GET' && s.method !== 'HEAD');
    expect(writes.length).toBeGreaterThan(0);
    for (const write of writes) expect(write.path.split('?')[0]).toBe(bucketPath(key));
    expect(seen.filter((s) => s.copySource !== undefined || s.method === 'DELETE')).toEqual([]);
    expect(seen.some((s) => s.path.includes('.stowage-uploads'))).toBe(false);
    const back = await read(key);
    expect(sha256(back.body)).toBe(sha256(data));
  });

  it('takes the key from ?key= even when the file comes first', async () => {
    const res = await post([['file', new Blob(['query key']), 'ignored.txt']], '?key=from-query.txt');
    expect(res.status).toBe(201);
    expect((await read('from-query.txt')).body.toString()).toBe('query key');
  });

  it('falls back to the file name without any key', async () => {
    const res = await post([['file', new Blob(['named']), 'by-name.txt']]);
    expect(await res.json()).toMatchObject({ key: 'by-name.txt', size: 5 });
  });

  it('refuses a key field that comes after the file, and writes nothing', async () => {
    const seen = await during(async () => {
      const res = await post([
        ['file', new Blob(['late']), 'first.txt'],
        ['key', 'late-key.txt'],
      ]);
      expect(res.status).toBe(400);
      expect(await errorCode(res)).toBe('bad_request');
    });
    expect(seen.filter((s) => s.method === 'PUT' || s.method === 'POST')).toEqual([]);
    expect((await read('late-key.txt')).status).toBe(404);
    expect((await read('first.txt')).status).toBe(404);
  });

  it.each([
    ['If-None-Match: *', '', { 'if-none-match': '*' }],
    ['no_overwrite=true', '?no_overwrite=true', {}],
  ])('keeps an existing object when a form upload says %s', async (_how, query, headers) => {
    const key = `guarded/${randomBytes(4).toString('hex')}.txt`;
    expect(
      (
        await post([
          ['key', key],
          ['file', new Blob(['original'])],
        ])
      ).status,
    ).toBe(201);
    for (const size of [10, 9 * 1024 * 1024]) {
      const res = await post(
        [
          ['key', key],
          ['file', new Blob([Buffer.alloc(size, 'x')])],
        ],
        query,
        headers,
      );
      expect(res.status).toBe(409);
      expect(await errorCode(res)).toBe('object_exists');
    }
    expect((await read(key)).body.toString()).toBe('original');
    const fresh = await post(
      [
        ['key', `${key}.new`],
        ['file', new Blob(['new'])],
      ],
      query,
      headers,
    );
    expect(fresh.status).toBe(201);
  });

  it('honours If-None-Match: * on a raw upload too', async () => {
    const key = 'raw-guarded.txt';
    const put = (body: string) =>
      user.request(`${base}/object?key=${key}`, {
        method: 'POST',
        body,
        headers: { 'content-type': 'text/plain', 'if-none-match': '*' },
      });
    expect((await put('one')).status).toBe(201);
    const again = await put('two');
    expect([again.status, again.body.error.code]).toEqual([409, 'object_exists']);
    expect((await read(key)).body.toString()).toBe('one');
  });

  /**
   * Sends a `total`-byte body (the head, then zeros) as fast as the connection takes it, and stops
   * when the answer arrives: the status, its code, and how much of the body had been handed to
   * the socket by then.
   */
  const sendUntilAnswered = (
    path: string,
    headers: Record<string, string>,
    head: Buffer,
    total: number,
  ): Promise<{ status: number; code: string; sent: number; connection?: string }> =>
    new Promise((resolve, reject) => {
      const url = new URL(`${app.url}${path}`);
      let sent = 0;
      let answered = false;
      const req = httpRequest(
        {
          host: url.hostname,
          port: url.port,
          method: 'POST',
          path: url.pathname + url.search,
          headers: { cookie: user.cookie, 'x-csrf-token': user.csrf, 'content-length': String(total), ...headers },
        },
        (res) => {
          answered = true;
          const at = sent;
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            req.destroy();
            const body = JSON.parse(Buffer.concat(chunks).toString() || '{}') as { error?: { code: string } };
            resolve({ status: res.statusCode ?? 0, code: body.error?.code ?? '', sent: at, connection: res.headers.connection });
          });
        },
      );
      req.on('error', (err) => (answered ? undefined : reject(err)));
      const chunk = Buffer.alloc(64 * 1024);
      const pump = () => {
        if (sent === 0) {
          req.write(head);
          sent += head.length;
        }
        while (!answered && sent < total) {
          const piece = chunk.subarray(0, Math.min(chunk.length, total - sent));
          sent += piece.length;
          if (!req.write(piece)) {
            req.once('drain', pump);
            return;
          }
        }
        if (!answered) req.end();
      };
      pump();
    });

  it.each([
    ['a form upload (key field before the file)', 'form'],
    ['a raw upload (?key=)', 'raw'],
  ])('answers 409 for %s on an existing key before the body is sent', async (_what, how) => {
    const key = `early/${how}.bin`;
    expect((await post([['key', key], ['file', new Blob(['original'])]])).status).toBe(201);
    const total = 256 * 1024 * 1024;
    const boundary = `----stowage${randomBytes(8).toString('hex')}`;
    const head =
      how === 'form'
        ? Buffer.from(
            `--${boundary}\r\nContent-Disposition: form-data; name="key"\r\n\r\n${key}\r\n` +
              `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n` +
              'Content-Type: application/octet-stream\r\n\r\n',
          )
        : Buffer.alloc(0);
    const started = performance.now();
    const answer = await sendUntilAnswered(
      how === 'form' ? `${base}/object` : `${base}/object?key=${encodeURIComponent(key)}`,
      {
        'content-type': how === 'form' ? `multipart/form-data; boundary=${boundary}` : 'application/octet-stream',
        'if-none-match': '*',
      },
      head,
      total,
    );
    console.log(
      `${how} upload refused after ${Math.round(performance.now() - started)} ms with ${(answer.sent / 1024 / 1024).toFixed(1)} MiB of ${total / 1024 / 1024} MiB sent`,
    );
    expect([answer.status, answer.code]).toEqual([409, 'object_exists']);
    // Most of the body was still unsent when the answer came; the connection is not kept for it.
    expect(answer.sent).toBeLessThan(total / 8);
    expect(answer.connection).toBe('close');
    expect((await read(key)).body.toString()).toBe('original');
  });

  it.each(['"abc"', 'W/"x"', '*, "a"', ''])('refuses If-None-Match %p on a write as bad_request', async (value) => {
    const res = await post(
      [
        ['key', 'inm.txt'],
        ['file', new Blob(['x'])],
      ],
      '',
      { 'if-none-match': value },
    );
    expect(res.status).toBe(400);
    expect(await errorCode(res)).toBe('bad_request');
    expect((await read('inm.txt')).status).toBe(404);
  });

  it.each([
    ['a dot segment', 'a/../b.txt', 'invalid_key'],
    ['a NUL', 'nul\u0000.txt', 'invalid_key'],
    ['a control character', 'bell\u0007.txt', 'invalid_key'],
    ['a leading slash', '/abs.txt', 'invalid_key'],
  ])('refuses a form key with %s (%p) and writes nothing', async (_what, key, code) => {
    const seen = await during(async () => {
      const res = await post([
        ['key', key],
        ['file', new Blob(['x'])],
      ]);
      expect(res.status).toBe(400);
      expect(await errorCode(res)).toBe(code);
    });
    expect(seen.filter((s) => s.method === 'PUT' || s.method === 'POST')).toEqual([]);
  });

  it('refuses a content_type field with a line break', async () => {
    const res = await post([
      ['key', 'typed.txt'],
      ['content_type', 'text/plain\r\nx-evil: 1'],
      ['file', new Blob(['x'])],
    ]);
    expect(res.status).toBe(400);
    expect((await read('typed.txt')).status).toBe(404);
  });
});
