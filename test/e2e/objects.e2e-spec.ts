import { request as httpRequest } from 'node:http';
import { createHash, randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { TestApp, TestStack } from '../harness/app';

import { Session } from '../harness/session';
import { bootWithBackend } from '../harness/storage';

/** A POST without Content-Length (chunked transfer encoding), which fetch cannot send. */
function chunkedPost(
  url: string,
  headers: Record<string, string>,
  body: string,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: 'POST', headers: { ...headers, 'content-type': 'text/plain' } }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.write(body);
    req.end();
  });
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

describe('objects: /api/backends/{bid}/buckets/{bucket}/…', () => {
  let stack: TestStack;
  let app: TestApp;
  let user: Session;
  let reader: Session;
  const base = '/api/backends/local/buckets/objects-test';

  beforeAll(async () => {
    stack = await TestStack.start();
    ({ app, user, reader } = await bootWithBackend(stack, { bucket: 'objects-test' }));
  });
  afterAll(() => stack.stop());

  const upload = (key: string, body: Buffer | string, headers: Record<string, string> = {}) =>
    user.request(`${base}/object?key=${encodeURIComponent(key)}`, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/octet-stream', ...headers },
    });

  it('uploads a streamed body and downloads the same bytes', async () => {
    const data = randomBytes(3 * 1024 * 1024 + 17);
    const up = await upload('dir/blob.bin', data);
    expect(up.status).toBe(201);
    expect(up.body).toMatchObject({ key: 'dir/blob.bin', size: data.length });
    const res = await fetch(`${app.url}${base}/object?key=dir%2Fblob.bin`, { headers: { cookie: reader.cookie } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-length')).toBe(String(data.length));
    expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="blob.bin"/);
    expect(res.headers.get('content-security-policy')).toMatch(/^sandbox/);
    expect(sha256(Buffer.from(await res.arrayBuffer()))).toBe(sha256(data));
  });

  it('accepts a browser form upload (key and type before the file), small and multi-part', async () => {
    const form = (data: Buffer, key?: string, type?: string) => {
      const fd = new FormData();
      if (key) fd.set('key', key);
      if (type) fd.set('content_type', type);
      fd.set('file', new Blob([data]), 'picked-name.bin');
      return fetch(`${app.url}${base}/object`, {
        method: 'POST',
        body: fd,
        headers: { cookie: user.cookie, 'x-csrf-token': user.csrf },
      });
    };
    const big = randomBytes(20 * 1024 * 1024 + 5);
    const res = await form(big, 'forms/big.bin', 'application/x-test');
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({
      key: 'forms/big.bin',
      size: big.length,
      content_type: 'application/x-test',
    });
    const back = await fetch(`${app.url}${base}/object?key=forms%2Fbig.bin`, { headers: { cookie: reader.cookie } });
    expect(sha256(Buffer.from(await back.arrayBuffer()))).toBe(sha256(big));
    const small = await form(Buffer.from('tiny'));
    expect(await small.json()).toMatchObject({ key: 'picked-name.bin', size: 4 });
    const again = await fetch(`${app.url}${base}/object?no_overwrite=true`, {
      method: 'POST',
      body: (() => {
        const fd = new FormData();
        fd.set('key', 'forms/big.bin');
        fd.set('file', new Blob(['x']));
        return fd;
      })(),
      headers: { cookie: user.cookie, 'x-csrf-token': user.csrf },
    });
    expect(again.status).toBe(409);
    expect(((await again.json()) as { error: { code: string } }).error.code).toBe('object_exists');
    const noFile = new FormData();
    noFile.set('key', 'x');
    const bad = await fetch(`${app.url}${base}/object`, {
      method: 'POST',
      body: noFile,
      headers: { cookie: user.cookie, 'x-csrf-token': user.csrf },
    });
    expect(bad.status).toBe(400);
    const staging = await reader.request(`${base}/objects?prefix=.stowage-uploads/&delimiter=`);
    expect(staging.body.objects).toEqual([]);
  });

  it('keeps JSON and text uploads byte for byte (no body parsing on the upload route)', async () => {
    const json = '{"not": "parsed", "n": 1}';
    expect((await upload('doc.json', json, { 'content-type': 'application/json' })).status).toBe(201);
    const info = await reader.request(`${base}/object/info?key=doc.json`);
    expect(info.body).toMatchObject({ key: 'doc.json', size: json.length, content_type: 'application/json' });
    const res = await reader.request(`${base}/object?key=doc.json&disposition=inline`);
    expect(res.text).toBe(json);
    expect(res.headers.get('content-disposition')).toMatch(/^inline/);
  });

  it('serves ranges with 206 and refuses unsatisfiable or malformed ones', async () => {
    await upload('range.txt', '0123456789');
    const part = await reader.request(`${base}/object?key=range.txt`, { headers: { range: 'bytes=2-5' } });
    expect(part.status).toBe(206);
    expect(part.text).toBe('2345');
    expect(part.headers.get('content-range')).toBe('bytes 2-5/10');
    const suffix = await reader.request(`${base}/object?key=range.txt`, { headers: { range: 'bytes=-3' } });
    expect(suffix.status).toBe(206);
    expect(suffix.text).toBe('789');
    const open = await reader.request(`${base}/object?key=range.txt`, { headers: { range: 'bytes=7-' } });
    expect(open.text).toBe('789');
    for (const range of ['bytes=5-2', 'pages=1-2', 'bytes=0-1,3-4']) {
      const bad = await reader.request(`${base}/object?key=range.txt`, { headers: { range } });
      expect(bad.status).toBe(400);
      expect(bad.body.error.code).toBe('bad_range');
    }
  });

  it('answers conditional requests with 304', async () => {
    await upload('etag.txt', 'hello');
    const first = await reader.request(`${base}/object?key=etag.txt`);
    const etag = first.headers.get('etag')!;
    const again = await reader.request(`${base}/object?key=etag.txt`, { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
  });

  it('answers HEAD with the headers only', async () => {
    await upload('head.txt', 'abc');
    const res = await fetch(`${app.url}${base}/object?key=head.txt`, {
      method: 'HEAD',
      headers: { cookie: reader.cookie },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-length')).toBe('3');
  });

  it('lists with prefix, delimiter and pagination', async () => {
    for (const key of ['list/a.txt', 'list/b.txt', 'list/sub/c.txt', 'list/sub/d.txt']) await upload(key, key);
    const top = await reader.request(`${base}/objects?prefix=list/`);
    expect(top.body).toMatchObject({
      prefix: 'list/',
      delimiter: '/',
      common_prefixes: ['list/sub/'],
      is_truncated: false,
    });
    expect(top.body.objects.map((o: { key: string }) => o.key)).toEqual(['list/a.txt', 'list/b.txt']);
    const flat = await reader.request(`${base}/objects?prefix=list/&delimiter=`);
    expect(flat.body.objects).toHaveLength(4);
    const page1 = await reader.request(`${base}/objects?prefix=list/&delimiter=&max_keys=3`);
    expect(page1.body.is_truncated).toBe(true);
    const page2 = await reader.request(
      `${base}/objects?prefix=list/&delimiter=&max_keys=3&token=${encodeURIComponent(page1.body.next_continuation_token)}`,
    );
    expect([...page1.body.objects, ...page2.body.objects].map((o: { key: string }) => o.key)).toEqual([
      'list/a.txt',
      'list/b.txt',
      'list/sub/c.txt',
      'list/sub/d.txt',
    ]);
  });

  it('creates folders, deletes objects one by one and in bulk, and audits it', async () => {
    const folder = await user.request(`${base}/objects/folder`, { method: 'POST', body: { key: 'made/here' } });
    expect(folder.body.key).toBe('made/here/');
    await upload('gone/1', 'x');
    await upload('gone/2', 'y');
    expect((await user.request(`${base}/object?key=gone%2F1`, { method: 'DELETE' })).status).toBe(204);
    const bulk = await user.request(`${base}/objects/delete`, {
      method: 'POST',
      body: { keys: [{ key: 'gone/2' }, { key: 'made/here/' }] },
    });
    expect(bulk.status).toBe(200);
    expect(bulk.body.deleted.map((d: { key: string }) => d.key).sort()).toEqual(['gone/2', 'made/here/']);
    const listing = await reader.request(`${base}/objects?prefix=gone/`);
    expect(listing.body.objects).toEqual([]);
    const actions = await app.app
      .get(DataSource)
      .query("SELECT action FROM audit_events WHERE bucket = 'objects-test' AND action LIKE 'object.%'");
    expect(actions.map((a: { action: string }) => a.action)).toEqual(
      expect.arrayContaining(['object.upload', 'object.delete', 'object.bulk_delete']),
    );
  });

  it.each([
    ['/objects?prefix=%2Fabs', 'GET', 'invalid_prefix', 400],
    ['/object?key=%2Fabs', 'GET', 'invalid_key', 400],
    ['/object/info?key=a%00b', 'GET', 'invalid_key', 400],
    ['/object?key=missing.txt', 'GET', 'not_found', 404],
    ['/object/info', 'GET', 'bad_request', 400],
  ])('answers %s with %s', async (path, method, code, status) => {
    const res = await reader.request(`${base}${path}`, { method });
    expect(res.status).toBe(status);
    expect(res.body.error.code).toBe(code);
  });

  it('refuses too many keys in a bulk delete', async () => {
    const keys = Array.from({ length: 1001 }, (_, i) => ({ key: `k${i}` }));
    const res = await user.request(`${base}/objects/delete`, { method: 'POST', body: { keys } });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('too_many_keys');
  });

  it('requires a Content-Length, refuses overwrite when asked, and lets readonly users only read', async () => {
    const chunked = await chunkedPost(
      `${app.url}${base}/object?key=chunked`,
      { cookie: user.cookie, 'x-csrf-token': user.csrf },
      'abc',
    );
    expect(chunked.status).toBe(411);
    expect(JSON.parse(chunked.text).error.code).toBe('length_required');
    await upload('once.txt', '1');
    const again = await user.request(`${base}/object?key=once.txt&no_overwrite=true`, {
      method: 'POST',
      body: '2',
      headers: { 'content-type': 'text/plain' },
    });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('object_exists');
    const denied = await reader.request(`${base}/object?key=nope`, {
      method: 'POST',
      body: 'x',
      headers: { 'content-type': 'text/plain' },
    });
    expect(denied.status).toBe(403);
  });

  it('answers invalid_bucket for a malformed bucket and not_found for an unknown backend', async () => {
    expect((await reader.request('/api/backends/local/buckets/Bad_Bucket/objects')).body.error.code).toBe(
      'invalid_bucket',
    );
    expect((await reader.request('/api/backends/nope/buckets/objects-test/objects')).body.error.code).toBe('not_found');
  });
});
