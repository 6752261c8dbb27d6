import { existsSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { TestApp, TestStack } from '../harness/app';
import { Session } from '../harness/session';
import { bootWithBackend } from '../harness/storage';

/**
 * Hostile identifiers and headers on the dashboard's object, multipart and transfer routes: each
 * is refused at the edge with a 400 and a catalogue code, changes nothing, and is never a 5xx.
 */
describe('upload inputs: ids, tokens, part numbers and content types at the dashboard edge', () => {
  let stack: TestStack;
  let app: TestApp;
  let user: Session;
  const bucket = 'inputs-test';
  const base = `/api/backends/local/buckets/${bucket}`;

  beforeAll(async () => {
    stack = await TestStack.start();
    ({ app, user } = await bootWithBackend(stack, { bucket }));
    const put = await user.request(`${base}/object?key=keep.txt`, {
      method: 'POST',
      body: 'original',
      headers: { 'content-type': 'text/plain' },
    });
    expect(put.status).toBe(201);
  });
  afterAll(() => stack.stop());

  const initiate = async (key: string) => {
    const res = await user.request(`${base}/multipart?key=${encodeURIComponent(key)}`, { method: 'POST', body: {} });
    expect(res.status).toBe(201);
    return res.body.upload_id as string;
  };

  const putPart = (part: string, key: string, uploadId: string) =>
    user.request(
      `${base}/multipart/parts/${part}?key=${encodeURIComponent(key)}&upload_id=${encodeURIComponent(uploadId)}`,
      {
        method: 'PUT',
        body: 'part body',
        headers: { 'content-type': 'application/octet-stream' },
      },
    );

  const bucketNames = async () =>
    ((await user.request('/api/backends/local/buckets')).body.buckets as Array<{ name: string }>).map((b) => b.name);

  describe('multipart upload ids', () => {
    it.each([
      ['a path out of the store', (tag: string) => `../../../${tag}/p`],
      ['a path to a phantom bucket', (tag: string) => `../../${tag}`],
      ['".."', () => '..'],
      ['"."', () => '.'],
      ['a slash', () => 'abc/def'],
      ['a backslash', () => '..\\..\\x'],
      ['NUL', () => 'abc\u0000def'],
      ['a space', () => 'abc def'],
      ['2000 characters', () => 'a'.repeat(2000)],
      ['empty', () => ''],
    ])(
      'refuses an upload id with %s (400 bad_request) on every multipart route; nothing is written',
      async (_w, make) => {
        const tag = `stowage-escape-${randomBytes(6).toString('hex')}`;
        const uploadId = make(tag);
        const q = `key=x.bin&upload_id=${encodeURIComponent(uploadId)}`;
        const answers = await Promise.all([
          putPart('1', 'x.bin', uploadId),
          user.request(`${base}/multipart/parts?${q}`),
          user.request(`${base}/multipart/complete?${q}`, {
            method: 'POST',
            body: { parts: [{ PartNumber: 1, ETag: '"x"' }] },
          }),
          user.request(`${base}/multipart?${q}`, { method: 'DELETE' }),
        ]);
        for (const res of answers) {
          expect(res.status).toBe(400);
          expect(res.body.error.code).toBe('bad_request');
        }
        expect(existsSync(join(tmpdir(), tag))).toBe(false);
        expect(await bucketNames()).toEqual([bucket]);
      },
    );

    it('still accepts the upload id the backend handed out', async () => {
      const uploadId = await initiate('ok.bin');
      const res = await putPart('1', 'ok.bin', uploadId);
      expect(res.status).toBe(200);
    });
  });

  describe('part numbers', () => {
    it.each(['0', '10001', '1e3', '-1', '99999999999999999999', '1.5', '0x10', '%201', 'NaN', 'one', '01e1'])(
      'refuses part number %s with 400 bad_request',
      async (part) => {
        const uploadId = await initiate('numbers.bin');
        const res = await putPart(part, 'numbers.bin', uploadId);
        expect(res.status).toBe(400);
        expect(res.body.error.code).toBe('bad_request');
      },
    );

    it('accepts part numbers 1 and 10000', async () => {
      const uploadId = await initiate('edges.bin');
      expect((await putPart('1', 'edges.bin', uploadId)).status).toBe(200);
      expect((await putPart('10000', 'edges.bin', uploadId)).status).toBe(200);
    });
  });

  describe('keys on multipart routes', () => {
    it.each(['../x', 'a/../../b', './a', 'nul\u0000.txt', '/lead'])(
      'refuses the key %j with 400 invalid_key',
      async (key) => {
        const init = await user.request(`${base}/multipart?key=${encodeURIComponent(key)}`, {
          method: 'POST',
          body: {},
        });
        expect(init.status).toBe(400);
        expect(init.body.error.code).toBe('invalid_key');
        const part = await putPart('1', key, 'abcdef0123456789');
        expect(part.status).toBe(400);
        expect(part.body.error.code).toBe('invalid_key');
      },
    );
  });

  describe('version ids', () => {
    it.each([
      ['"../../x"', '../../x'],
      ['".."', '..'],
      ['"a/../b"', 'a/../b'],
      ['with a backslash', 'a\\b'],
      ['with a space', 'x y'],
      ['with NUL', 'x\u0000'],
      ['of 2000 characters', 'v'.repeat(2000)],
    ])('refuses the version id %s on GET, HEAD, info, DELETE, tags and copy (400 bad_request)', async (_w, v) => {
      const q = `key=keep.txt&version_id=${encodeURIComponent(v)}`;
      const answers = await Promise.all([
        user.request(`${base}/object?${q}`),
        user.request(`${base}/object/info?${q}`),
        user.request(`${base}/object/tags?${q}`),
        user.request(`${base}/object?${q}`, { method: 'DELETE' }),
        user.request(`${base}/objects/delete`, {
          method: 'POST',
          body: { keys: [{ key: 'keep.txt', version_id: v }] },
        }),
        user.request(`${base}/object/copy`, {
          method: 'POST',
          body: { src_key: 'keep.txt', dst_key: 'copied.txt', version_id: v },
        }),
      ]);
      for (const res of answers) {
        expect(res.status).toBe(400);
        expect(res.body.error.code).toBe('bad_request');
      }
      const head = await user.request(`${base}/object?${q}`, { method: 'HEAD' });
      expect(head.status).toBe(400);
      expect((await user.request(`${base}/object?key=keep.txt`)).text).toBe('original');
    });
  });

  describe('continuation tokens', () => {
    it.each([
      ['garbage!!', 'garbage!!'],
      ['4096 characters', 'A'.repeat(4096)],
      ['a dot-dot segment', 'abc/../def'],
      ['a space', 'abc def'],
      ['a control character', 'abc\u0001'],
      ['a well-formed token the backend cannot read', 'AAAAAAAAAAAAAAAAAAAAAAAA'],
      ['a well-formed token of the wrong length', 'QUJDREVGR0hJSktMTU5PUA=='],
    ])('answers 400 bad_request, never 502, to a token that is %s', async (_w, token) => {
      const res = await user.request(`${base}/objects?token=${encodeURIComponent(token)}`);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('bad_request');
    });

    it('still pages with the token the backend handed out, and an empty token means the first page', async () => {
      for (const k of ['p/a', 'p/b', 'p/c']) {
        await user.request(`${base}/object?key=${k}`, {
          method: 'POST',
          body: k,
          headers: { 'content-type': 'text/plain' },
        });
      }
      const first = await user.request(`${base}/objects?prefix=p/&max_keys=2&token=`);
      expect(first.status).toBe(200);
      expect(first.body.is_truncated).toBe(true);
      const next = await user.request(
        `${base}/objects?prefix=p/&max_keys=2&token=${encodeURIComponent(first.body.next_continuation_token)}`,
      );
      expect(next.status).toBe(200);
      expect(next.body.objects.map((o: { key: string }) => o.key)).toEqual(['p/c']);
    });
  });

  describe('Content-Type of an upload', () => {
    /** A raw upload with a Content-Type that fetch might refuse to send. */
    const rawUpload = (key: string, contentType: string) =>
      new Promise<{ status: number; code?: string }>((resolve, reject) => {
        const url = new URL(`${app.url}${base}/object?key=${encodeURIComponent(key)}`);
        const req = httpRequest(
          url,
          {
            method: 'POST',
            headers: {
              cookie: user.cookie,
              'x-csrf-token': user.csrf,
              'content-type': contentType,
              'content-length': '4',
            },
          },
          (res) => {
            let text = '';
            res.setEncoding('utf8').on('data', (c: string) => (text += c));
            res.on('end', () =>
              resolve({ status: res.statusCode ?? 0, code: text ? JSON.parse(text).error?.code : undefined }),
            );
          },
        );
        req.on('error', reject);
        req.end('data');
      });

    it.each([
      ['a TAB in a quoted parameter', 'text/plain; x="a\tb"'],
      ['no subtype', 'text'],
      ['a space in the type', 'text /plain'],
      ['a parameter without a value', 'text/plain; charset'],
      ['an unterminated quote', 'text/plain; x="abc'],
      ['300 characters', `text/${'a'.repeat(300)}`],
    ])('refuses %s with 400 bad_request and stores nothing', async (what, contentType) => {
      const key = `typed/${what.replace(/\W+/g, '-')}.txt`;
      const res = await rawUpload(key, contentType);
      expect(res).toEqual({ status: 400, code: 'bad_request' });
      expect((await user.request(`${base}/object/info?key=${encodeURIComponent(key)}`)).status).toBe(404);
    });

    it.each(['text/plain', 'text/plain; charset=utf-8', 'application/json;charset="utf-8"', 'image/svg+xml'])(
      'accepts %s',
      async (contentType) => {
        const res = await rawUpload('fine.txt', contentType);
        expect(res.status).toBe(201);
      },
    );

    it('refuses a content_type with control characters when a multipart upload starts', async () => {
      const res = await user.request(`${base}/multipart?key=typed.bin`, {
        method: 'POST',
        body: { content_type: 'text/plain; x="a\tb"' },
      });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('bad_request');
    });

    it('refuses a form upload whose content_type field holds control characters, and stores nothing', async () => {
      const fd = new FormData();
      fd.append('key', 'form-typed.txt');
      fd.append('content_type', 'text/plain; x="a\tb"');
      fd.append('file', new Blob(['data']), 'form-typed.txt');
      const res = await fetch(`${app.url}${base}/object`, {
        method: 'POST',
        body: fd,
        headers: { cookie: user.cookie, 'x-csrf-token': user.csrf },
      });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('bad_request');
      expect((await user.request(`${base}/object/info?key=form-typed.txt`)).status).toBe(404);
    });
  });

  it('logged no error for any of these requests', () => {
    expect(app.logs.filter((l) => JSON.parse(l).level === 'error')).toEqual([]);
  });
});
