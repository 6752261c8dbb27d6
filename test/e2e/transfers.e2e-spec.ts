import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { StowageError } from '@stowage/errors';
import { Backend } from '../../src/storage-backends/backend';
import { BackendRegistry } from '../../src/storage-backends/backend-registry.service';
import { TestApp, TestStack } from '../harness/app';
import { s3rverBackend, startS3rver, TestS3 } from '../harness/s3rver';
import { login, seedUser, Session } from '../harness/session';

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const MiB = 1024 * 1024;

interface Event {
  event: string;
  [field: string]: unknown;
}

/**
 * Replaces one method of a live backend until the returned function is called. The registry's
 * backends are instrumenting proxies, so jest.spyOn cannot wrap them; an own property can.
 */
function intercept<K extends 'getObject' | 'uploadPart' | 'putObject' | 'abortMultipart'>(
  backend: Backend,
  name: K,
  wrap: (original: Backend[K]) => Backend[K],
): () => void {
  const original = (backend[name] as (...args: unknown[]) => unknown).bind(backend) as Backend[K];
  (backend as unknown as Record<string, unknown>)[name] = wrap(original);
  return () => {
    delete (backend as unknown as Record<string, unknown>)[name];
  };
}

const parseEvents = (text: string): Event[] =>
  text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Event);

describe('transfers: copy, move, copy-prefix, delete-prefix and zip', () => {
  let stack: TestStack;
  let remoteS3: TestS3;
  let app: TestApp;
  let user: Session;
  let reader: Session;
  const local = '/api/backends/local/buckets/xfer-a';
  const localB = '/api/backends/local/buckets/xfer-b';
  const remote = '/api/backends/remote/buckets/xfer-remote';

  beforeAll(async () => {
    [stack, remoteS3] = await Promise.all([TestStack.start(), startS3rver()]);
    const s3 = stack.s3!;
    app = await stack.boot({
      config: {
        ratelimit: { login_per_ip: 0, api_per_minute: 0 },
        backends: [s3rverBackend('local', s3), s3rverBackend('remote', remoteS3, { keyEnv: 'K2', secretEnv: 'S2' })],
      },
      env: { K: s3.accessKey, S: s3.secretKey, K2: remoteS3.accessKey, S2: remoteS3.secretKey },
    });
    const admin = await login(app, (await seedUser(app, { role: 'admin' })).username);
    for (const [backend, name] of [
      ['local', 'xfer-a'],
      ['local', 'xfer-b'],
      ['remote', 'xfer-remote'],
    ]) {
      const res = await admin.request(`/api/backends/${backend}/buckets`, { method: 'POST', body: { name } });
      expect(res.status).toBe(201);
    }
    user = await login(app, (await seedUser(app, { role: 'user' })).username);
    reader = await login(app, (await seedUser(app, { role: 'readonly' })).username);
  }, 60_000);
  afterAll(async () => {
    await stack.stop();
    await remoteS3.close();
  });

  const backendOf = (id: string): Backend => app.app.get(BackendRegistry).get(id);

  const upload = async (base: string, key: string, body: Buffer | string, contentType = 'application/octet-stream') => {
    const res = await user.request(`${base}/object?key=${encodeURIComponent(key)}`, {
      method: 'POST',
      body,
      headers: { 'content-type': contentType },
    });
    expect(res.status).toBe(201);
  };

  const download = async (base: string, key: string) => {
    const res = await fetch(`${app.url}${base}/object?key=${encodeURIComponent(key)}`, {
      headers: { cookie: reader.cookie },
    });
    return { status: res.status, data: Buffer.from(await res.arrayBuffer()) };
  };

  const keysUnder = async (base: string, prefix: string): Promise<string[]> => {
    const res = await reader.request(`${base}/objects?prefix=${encodeURIComponent(prefix)}&delimiter=`);
    expect(res.status).toBe(200);
    return res.body.objects.map((o: { key: string }) => o.key);
  };

  const auditActions = async (): Promise<string[]> =>
    (
      await app.app.get(DataSource).query("SELECT action FROM audit_events WHERE action LIKE 'object.%' ORDER BY at")
    ).map((row: { action: string }) => row.action);

  it('copies within a bucket server-side, then moves (copy + delete of the source)', async () => {
    await upload(local, 'same/a.txt', 'hello copy', 'text/plain');
    const copied = await user.request(`${local}/object/copy`, {
      method: 'POST',
      body: { src_key: 'same/a.txt', dst_key: 'same/b.txt' },
    });
    expect(copied.status).toBe(200);
    expect(copied.body).toMatchObject({ bucket: 'xfer-a', backend: 'local', key: 'same/b.txt' });
    expect(copied.body.object).toMatchObject({ key: 'same/b.txt', size: 10 });
    expect((await download(local, 'same/b.txt')).data.toString()).toBe('hello copy');

    const moved = await user.request(`${local}/object/copy`, {
      method: 'POST',
      body: { src_key: 'same/b.txt', dst_key: 'same/c.txt', move: true },
    });
    expect(moved.status).toBe(200);
    expect((await download(local, 'same/b.txt')).status).toBe(404);
    expect((await download(local, 'same/c.txt')).data.toString()).toBe('hello copy');
    expect(await keysUnder(local, 'same/')).toEqual(['same/a.txt', 'same/c.txt']);
  });

  it('copies to another bucket, replacing the metadata when asked', async () => {
    const res = await user.request(`${local}/object/copy`, {
      method: 'POST',
      body: { src_key: 'same/a.txt', dst_bucket: 'xfer-b', dst_key: 'other/a.txt', metadata: { origin: 'copy' } },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ bucket: 'xfer-b', key: 'other/a.txt' });
    expect(res.body.object.metadata).toEqual({ origin: 'copy' });
    expect((await download(localB, 'other/a.txt')).data.toString()).toBe('hello copy');
  });

  it('streams a small object to another backend with one PUT, keeping its content type', async () => {
    const res = await user.request(`${local}/object/copy`, {
      method: 'POST',
      body: { src_key: 'same/a.txt', dst_backend: 'remote', dst_bucket: 'xfer-remote', dst_key: 'small.txt' },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ backend: 'remote', bucket: 'xfer-remote', key: 'small.txt' });
    expect(res.body.object).toMatchObject({ size: 10, content_type: 'text/plain' });
    expect((await download(remote, 'small.txt')).data.toString()).toBe('hello copy');
  });

  it('moves a ~40 MiB object to another backend as a multipart upload of ranged reads', async () => {
    const data = randomBytes(40 * MiB + 12_345);
    await upload(local, 'big/blob.bin', data);
    const source = backendOf('local');
    const target = backendOf('remote');
    const ranges: string[] = [];
    let parts = 0;
    let puts = 0;
    const restore = [
      intercept(source, 'getObject', (original) => (bucket, key, options) => {
        if (options?.range) ranges.push(`${options.range.start}-${options.range.end}`);
        return original(bucket, key, options);
      }),
      intercept(target, 'uploadPart', (original) => (...args) => {
        parts++;
        return original(...args);
      }),
      intercept(target, 'putObject', (original) => (request) => {
        puts++;
        return original(request);
      }),
    ];
    try {
      const res = await user.request(`${local}/object/copy`, {
        method: 'POST',
        body: {
          src_key: 'big/blob.bin',
          dst_backend: 'remote',
          dst_bucket: 'xfer-remote',
          dst_key: 'big/blob.bin',
          move: true,
        },
      });
      expect(res.status).toBe(200);
      expect(res.body.object.size).toBe(data.length);
    } finally {
      restore.forEach((undo) => undo());
    }
    // Three parts of 16 MiB at most, each read with its own range; never one PUT of the whole.
    expect(parts).toBe(3);
    expect(puts).toBe(0);
    expect(ranges.sort()).toEqual(
      [`0-${16 * MiB - 1}`, `${16 * MiB}-${32 * MiB - 1}`, `${32 * MiB}-${data.length - 1}`].sort(),
    );
    const copy = await download(remote, 'big/blob.bin');
    expect(copy.data.length).toBe(data.length);
    expect(sha256(copy.data)).toBe(sha256(data));
    expect((await download(local, 'big/blob.bin')).status).toBe(404);
  }, 120_000);

  it('copies a 200 MiB object across backends, byte for byte', async () => {
    const data = randomBytes(200 * MiB + 1);
    await upload(local, 'big/200.bin', data);
    const res = await user.request(`${local}/object/copy`, {
      method: 'POST',
      body: { src_key: 'big/200.bin', dst_backend: 'remote', dst_bucket: 'xfer-remote', dst_key: 'big/200.bin' },
    });
    expect(res.status).toBe(200);
    expect(res.body.object.size).toBe(data.length);
    const copy = await download(remote, 'big/200.bin');
    expect(sha256(copy.data)).toBe(sha256(data));
  }, 180_000);

  it('aborts the multipart upload when a part fails, leaving no destination object', async () => {
    await upload(local, 'big/fails.bin', randomBytes(17 * MiB));
    const target = backendOf('remote');
    const aborted: string[] = [];
    const restore = [
      intercept(target, 'uploadPart', (original) => async (bucket, key, uploadId, partNumber, body, size) => {
        if (partNumber === 2) {
          body.destroy();
          throw new StowageError('backend_error', undefined, 'part refused');
        }
        return original(bucket, key, uploadId, partNumber, body, size);
      }),
      intercept(target, 'abortMultipart', (original) => (bucket, key, uploadId) => {
        aborted.push(key);
        return original(bucket, key, uploadId);
      }),
    ];
    try {
      const res = await user.request(`${local}/object/copy`, {
        method: 'POST',
        body: { src_key: 'big/fails.bin', dst_backend: 'remote', dst_bucket: 'xfer-remote', dst_key: 'fails.bin' },
      });
      expect([res.status, res.body.error.code]).toEqual([502, 'backend_error']);
    } finally {
      restore.forEach((undo) => undo());
    }
    expect(aborted).toEqual(['fails.bin']);
    expect((await download(remote, 'fails.bin')).status).toBe(404);
  }, 60_000);

  it('copies a prefix within a backend and streams NDJSON events', async () => {
    const keys = ['tree/1.txt', 'tree/2.txt', 'tree/sub/3.txt', 'tree/sub/deeper/4.txt', 'tree/5.txt'];
    for (const key of keys) await upload(local, key, `body of ${key}`);
    const res = await user.request(`${local}/objects/copy-prefix`, {
      method: 'POST',
      body: { src_prefix: 'tree/', dst_prefix: 'tree-copy/' },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
    const events = parseEvents(res.text);
    expect(events[0]).toMatchObject({ event: 'start', src_prefix: 'tree/', dst_prefix: 'tree-copy/' });
    const bytes = keys.reduce((sum, key) => sum + `body of ${key}`.length, 0);
    expect(events.at(-1)).toEqual({ event: 'done', copied: 5, failed: 0, bytes });
    const objects = events.filter((e) => e.event === 'object');
    expect(objects.map((e) => e.src).sort()).toEqual([...keys].sort());
    expect(objects.find((e) => e.src === 'tree/sub/3.txt')).toEqual({
      event: 'object',
      src: 'tree/sub/3.txt',
      dst: 'tree-copy/sub/3.txt',
      size: 'body of tree/sub/3.txt'.length,
    });
    expect((await keysUnder(local, 'tree-copy/')).sort()).toEqual(
      keys.map((k) => k.replace('tree/', 'tree-copy/')).sort(),
    );
    expect((await download(local, 'tree-copy/sub/deeper/4.txt')).data.toString()).toBe('body of tree/sub/deeper/4.txt');
  });

  it('moves a prefix to another backend, reporting per-object failures without stopping', async () => {
    await upload(remote, 'moved/2.txt', 'already there');
    const res = await user.request(`${local}/objects/copy-prefix`, {
      method: 'POST',
      body: {
        src_prefix: 'tree/',
        dst_prefix: 'moved/',
        dst_backend: 'remote',
        dst_bucket: 'xfer-remote',
        move: true,
        overwrite: false,
      },
    });
    expect(res.status).toBe(200);
    const events = parseEvents(res.text);
    expect(events.at(-1)).toMatchObject({ event: 'done', copied: 4, failed: 1 });
    expect(events.find((e) => e.event === 'error')).toMatchObject({ src: 'tree/2.txt', code: 'object_exists' });
    expect(await keysUnder(local, 'tree/')).toEqual(['tree/2.txt']);
    expect((await keysUnder(remote, 'moved/')).sort()).toEqual(
      ['moved/1.txt', 'moved/2.txt', 'moved/5.txt', 'moved/sub/3.txt', 'moved/sub/deeper/4.txt'].sort(),
    );
    expect((await download(remote, 'moved/2.txt')).data.toString()).toBe('already there');
    expect((await download(remote, 'moved/sub/3.txt')).data.toString()).toBe('body of tree/sub/3.txt');
  });

  it('deletes a prefix recursively with NDJSON events and refuses an empty prefix', async () => {
    const res = await user.request(`${local}/objects/delete-prefix`, {
      method: 'POST',
      body: { prefix: 'tree-copy/' },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
    const events = parseEvents(res.text);
    expect(events[0]).toMatchObject({ event: 'start', prefix: 'tree-copy/' });
    expect(events.filter((e) => e.event === 'object')).toHaveLength(5);
    expect(events.at(-1)).toEqual({ event: 'done', deleted: 5, failed: 0 });
    expect(await keysUnder(local, 'tree-copy/')).toEqual([]);
    expect(await keysUnder(local, 'tree/')).toEqual(['tree/2.txt']);

    const empty = await user.request(`${local}/objects/delete-prefix`, { method: 'POST', body: { prefix: '' } });
    expect(empty.status).toBe(400);
    expect(empty.body.error.code).toBe('invalid_prefix');
  });

  it('audits copies, transfers and prefix operations', async () => {
    expect(await auditActions()).toEqual(
      expect.arrayContaining([
        'object.copy',
        'object.transfer',
        'object.copy_prefix',
        'object.transfer_prefix',
        'object.delete_prefix',
      ]),
    );
    const [row] = await app.app
      .get(DataSource)
      .query("SELECT backend_id, bucket, object_key, detail FROM audit_events WHERE action = 'object.delete_prefix'");
    expect(row).toMatchObject({ backend_id: 'local', bucket: 'xfer-a', object_key: null });
    expect(row.detail).toMatchObject({ prefix: 'tree-copy/', deleted: 5, failed: 0, complete: true });
  });

  it('streams a zip of 1,000 objects whose first bytes arrive before the last object is read', async () => {
    const names = Array.from({ length: 1000 }, (_, i) => `zip/${String(i).padStart(4, '0')}.txt`);
    for (let i = 0; i < names.length; i += 50) {
      await Promise.all(names.slice(i, i + 50).map((key) => upload(local, key, `content of ${key}\n`.repeat(20))));
    }
    await upload(local, 'single.txt', 'single');
    const last = names.at(-1)!;
    // The read of the last object waits until the client has received the first bytes: a server
    // that built the archive before answering would never send them, and the test would time out.
    let releaseLast!: () => void;
    const firstBytesSeen = new Promise<void>((resolve) => (releaseLast = resolve));
    let lastRead = false;
    let reads = 0;
    const restore = intercept(backendOf('local'), 'getObject', (original) => async (bucket, key, options) => {
      reads++;
      if (key === last) {
        await firstBytesSeen;
        lastRead = true;
      }
      return original(bucket, key, options);
    });
    const chunks: Buffer[] = [];
    let lastReadAtFirstByte: boolean | undefined;
    try {
      const res = await fetch(`${app.url}${local}/objects/zip?key=zip%2F&key=single.txt`, {
        headers: { cookie: reader.cookie },
        signal: AbortSignal.timeout(20_000),
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/zip');
      expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="xfer-a.zip"/);
      expect(res.headers.get('x-zip-entries')).toBe('1001');
      const stream = res.body!.getReader();
      for (;;) {
        const { done, value } = await stream.read();
        if (done) break;
        if (chunks.length === 0) {
          lastReadAtFirstByte = lastRead;
          releaseLast();
        }
        chunks.push(Buffer.from(value));
      }
    } finally {
      restore();
    }
    expect(lastReadAtFirstByte).toBe(false);
    expect(lastRead).toBe(true);
    // One read per object, in order, each only when its entry is written.
    expect(reads).toBe(1001);

    const dir = mkdtempSync(join(tmpdir(), 'stowage-zip-'));
    try {
      const file = join(dir, 'out.zip');
      writeFileSync(file, Buffer.concat(chunks));
      expect(execFileSync('unzip', ['-tq', file]).toString()).toMatch(/No errors detected/);
      const listed = execFileSync('unzip', ['-Z1', file]).toString().split('\n').filter(Boolean);
      expect(listed.sort()).toEqual([...names, 'single.txt'].sort());
      expect(execFileSync('unzip', ['-p', file, last]).toString()).toBe(`content of ${last}\n`.repeat(20));
      expect(execFileSync('unzip', ['-p', file, 'single.txt']).toString()).toBe('single');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it.each([
    ['copy of an invalid source key', '/object/copy', { src_key: '/abs', dst_key: 'x' }, 400, 'invalid_key'],
    ['copy to an invalid key', '/object/copy', { src_key: 'same/a.txt', dst_key: 'a/../b' }, 400, 'invalid_key'],
    [
      'copy to a malformed bucket',
      '/object/copy',
      { src_key: 'same/a.txt', dst_key: 'x', dst_bucket: 'Bad_Bucket' },
      400,
      'invalid_bucket',
    ],
    [
      'copy to an unknown backend',
      '/object/copy',
      { src_key: 'same/a.txt', dst_key: 'x', dst_backend: 'nope' },
      404,
      'not_found',
    ],
    ['copy of a missing object', '/object/copy', { src_key: 'missing', dst_key: 'x' }, 404, 'not_found'],
    [
      'copy onto an existing key without overwrite',
      '/object/copy',
      { src_key: 'same/a.txt', dst_key: 'same/c.txt', overwrite: false },
      409,
      'object_exists',
    ],
    [
      'copy of an object onto itself',
      '/object/copy',
      { src_key: 'same/a.txt', dst_key: 'same/a.txt' },
      400,
      'bad_request',
    ],
    ['copy with an unknown field', '/object/copy', { src_key: 'a', dst_key: 'b', extra: 1 }, 400, 'bad_request'],
    [
      'copy with invalid metadata',
      '/object/copy',
      { src_key: 'same/a.txt', dst_key: 'm', metadata: { 'bad key': 'v' } },
      400,
      'invalid_metadata',
    ],
    [
      'copy-prefix into itself',
      '/objects/copy-prefix',
      { src_prefix: 'tree/', dst_prefix: 'tree/inner/' },
      400,
      'invalid_prefix',
    ],
    [
      'copy-prefix of an invalid prefix',
      '/objects/copy-prefix',
      { src_prefix: '/x', dst_prefix: 'y/' },
      400,
      'invalid_prefix',
    ],
    [
      'copy-prefix to a missing bucket',
      '/objects/copy-prefix',
      { src_prefix: 'tree/', dst_prefix: 'y/', dst_bucket: 'no-such-bucket' },
      404,
      'not_found',
    ],
    ['delete-prefix of an invalid prefix', '/objects/delete-prefix', { prefix: '../' }, 400, 'invalid_prefix'],
  ])('answers a %s with a JSON error', async (_name, path, body, status, code) => {
    const res = await user.request(`${local}${path}`, { method: 'POST', body });
    expect([res.status, res.body?.error?.code]).toEqual([status, code]);
  });

  it('answers zip errors before streaming, and keeps writes from readonly users', async () => {
    const many = Array.from({ length: 1001 }, (_, i) => `key=k${i}`).join('&');
    const tooMany = await reader.request(`${local}/objects/zip?${many}`);
    expect([tooMany.status, tooMany.body.error.code]).toEqual([400, 'too_many_keys']);
    const missing = await reader.request(`${local}/objects/zip?key=nothing-here`);
    expect([missing.status, missing.body.error.code]).toEqual([404, 'not_found']);
    const bad = await reader.request(`${local}/objects/zip?key=%2Fabs`);
    expect([bad.status, bad.body.error.code]).toEqual([400, 'invalid_key']);
    const none = await reader.request(`${local}/objects/zip`);
    expect([none.status, none.body.error.code]).toEqual([400, 'bad_request']);
    for (const [path, body] of [
      ['/object/copy', { src_key: 'same/a.txt', dst_key: 'ro' }],
      ['/objects/copy-prefix', { src_prefix: 'tree/', dst_prefix: 'ro/' }],
      ['/objects/delete-prefix', { prefix: 'tree/' }],
    ] as const) {
      const res = await reader.request(`${local}${path}`, { method: 'POST', body });
      expect([path, res.status, res.body.error.code]).toEqual([path, 403, 'forbidden']);
    }
  });
});
