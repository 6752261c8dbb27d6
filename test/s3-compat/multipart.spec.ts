import { createHash, randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { Backend } from '../../src/storage-backends/backend';
import { BackendRegistry } from '../../src/storage-backends/backend-registry.service';
import { TestApp, TestStack } from '../harness/app';
import { bootWithBackend } from '../harness/storage';
import { login, seedUser, Session } from '../harness/session';

const MiB = 1024 * 1024;
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

describe('multipart uploads, resume and versions through the API against Ceph RGW', () => {
  let stack: TestStack;
  let app: TestApp;
  let backend: Backend;
  let user: Session;
  let reader: Session;
  const bucket = `stowage-mp-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
  const base = `/api/backends/ceph/buckets/${bucket}`;

  beforeAll(async () => {
    stack = await TestStack.start({ s3: 'ceph' });
    ({ app, user, reader } = await bootWithBackend(stack, { id: 'ceph', kind: 'ceph', bucket }));
    backend = app.app.get(BackendRegistry).get('ceph');
  });

  afterAll(async () => {
    try {
      for (const u of await backend.listMultipartUploads(bucket))
        await backend.abortMultipart(bucket, u.key, u.uploadId);
      const versions = await backend.listObjectVersions(bucket, '');
      if (versions.length) {
        await backend.deleteObjects(
          bucket,
          versions.map((v) => ({ key: v.key, versionId: v.versionId })),
        );
      }
      await backend.deleteBucket(bucket);
    } finally {
      await stack.stop();
    }
  });

  const q = (key: string, uploadId?: string) =>
    `key=${encodeURIComponent(key)}${uploadId ? `&upload_id=${encodeURIComponent(uploadId)}` : ''}`;

  const putPart = (key: string, uploadId: string, part: number, data: Buffer) =>
    user.request(`${base}/multipart/parts/${part}?${q(key, uploadId)}`, {
      method: 'PUT',
      body: data,
      headers: { 'content-type': 'application/octet-stream' },
    });

  it('resumes an upload in a new session from the parts listing, completes it and reads it back', async () => {
    const key = 'resume/video.bin';
    const data = randomBytes(11 * MiB + 123);
    const slices = [data.subarray(0, 5 * MiB), data.subarray(5 * MiB, 10 * MiB), data.subarray(10 * MiB)];

    const init = await user.request(`${base}/multipart/?${q(key)}`, {
      method: 'POST',
      body: { content_type: 'video/mp4' },
    });
    expect(init.status).toBe(201);
    const uploadId = init.body.upload_id as string;
    // The first session sends parts 1 and 3, then the browser is reloaded.
    for (const part of [1, 3]) expect((await putPart(key, uploadId, part, slices[part - 1])).status).toBe(200);

    // A new session finds the upload and what it already holds.
    const later = await login(app, (await seedUser(app, { role: 'user' })).username);
    const uploads = await later.request(`${base}/multipart/?prefix=resume/`);
    expect(uploads.status).toBe(200);
    expect(uploads.body.uploads).toEqual([{ key, upload_id: uploadId, initiated: expect.any(String) }]);
    const listed = await later.request(`${base}/multipart/parts?${q(key, uploadId)}`);
    expect(listed.status).toBe(200);
    expect(listed.body.parts.map((p: { part_number: number; size: number }) => [p.part_number, p.size])).toEqual([
      [1, slices[0].length],
      [3, slices[2].length],
    ]);
    expect(listed.body.parts[0]).toMatchObject({ etag: expect.any(String), last_modified: expect.any(String) });

    // Completing before the missing part is sent is refused up front.
    const have = new Map<number, string>(
      listed.body.parts.map((p: { part_number: number; etag: string }) => [p.part_number, p.etag]),
    );
    const early = await later.request(`${base}/multipart/complete?${q(key, uploadId)}`, {
      method: 'POST',
      body: {
        parts: [1, 2, 3].map((n) => ({ PartNumber: n, ETag: have.get(n) ?? '"00000000000000000000000000000000"' })),
      },
    });
    expect([early.status, early.body.error.code]).toEqual([400, 'bad_request']);
    expect(early.body.error.detail).toMatch(/^InvalidPart: part 2/);

    // It uploads only the missing part, then completes.
    const missing = [1, 2, 3].filter((n) => !have.has(n));
    expect(missing).toEqual([2]);
    const sent = await later.request(`${base}/multipart/parts/2?${q(key, uploadId)}`, {
      method: 'PUT',
      body: Buffer.from(slices[1]),
      headers: { 'content-type': 'application/octet-stream' },
    });
    expect(sent.body).toEqual({ part_number: 2, etag: expect.any(String) });
    have.set(2, sent.body.etag);
    const done = await later.request(`${base}/multipart/complete?${q(key, uploadId)}`, {
      method: 'POST',
      body: { parts: [1, 2, 3].map((n) => ({ PartNumber: n, ETag: have.get(n) })) },
    });
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({ key, size: data.length, content_type: 'video/mp4' });

    const res = await fetch(`${app.url}${base}/object?${q(key)}`, { headers: { cookie: reader.cookie } });
    expect(res.status).toBe(200);
    expect(sha256(Buffer.from(await res.arrayBuffer()))).toBe(sha256(data));
    expect((await reader.request(`${base}/multipart/?prefix=resume/`)).body.uploads).toEqual([]);
    const audit = await app.app
      .get(DataSource)
      .query('SELECT detail FROM audit_events WHERE action = $1 AND bucket = $2 AND object_key = $3', [
        'object.upload',
        bucket,
        key,
      ]);
    expect(audit.map((a: { detail: unknown }) => a.detail)).toEqual([
      expect.objectContaining({ size: data.length, parts: 3 }),
    ]);
  });

  it('refuses a part smaller than 5 MiB anywhere but last, at completion only', async () => {
    const key = 'small-parts.bin';
    const init = await user.request(`${base}/multipart/?${q(key)}`, { method: 'POST', body: {} });
    const uploadId = init.body.upload_id as string;
    const one = await putPart(key, uploadId, 1, randomBytes(1024));
    const two = await putPart(key, uploadId, 2, randomBytes(1024));
    expect([one.status, two.status]).toEqual([200, 200]);
    const res = await user.request(`${base}/multipart/complete?${q(key, uploadId)}`, {
      method: 'POST',
      body: {
        parts: [
          { PartNumber: 1, ETag: one.body.etag },
          { PartNumber: 2, ETag: two.body.etag },
        ],
      },
    });
    expect([res.status, res.body.error.code]).toEqual([400, 'bad_request']);
    expect(res.body.error.detail).toMatch(/^EntityTooSmall: part 1/);
    const wrong = await user.request(`${base}/multipart/complete?${q(key, uploadId)}`, {
      method: 'POST',
      body: { parts: [{ PartNumber: 1, ETag: two.body.etag }] },
    });
    expect(wrong.body.error.detail).toMatch(/^InvalidPart: part 1 has another ETag/);
    // Nothing was assembled: the upload is still there to finish or abort.
    expect((await reader.request(`${base}/object/info?${q(key)}`)).status).toBe(404);
    expect((await user.request(`${base}/multipart/?${q(key, uploadId)}`, { method: 'DELETE' })).status).toBe(204);
  });

  it('aborts an upload, after which it is gone', async () => {
    const key = 'aborted.bin';
    const init = await user.request(`${base}/multipart/?${q(key)}`, { method: 'POST', body: {} });
    const uploadId = init.body.upload_id as string;
    expect((await putPart(key, uploadId, 1, randomBytes(2048))).status).toBe(200);
    const abort = await user.request(`${base}/multipart/?${q(key, uploadId)}`, { method: 'DELETE' });
    expect(abort.status).toBe(204);
    const uploads = await reader.request(`${base}/multipart/?prefix=aborted`);
    expect(uploads.body.uploads).toEqual([]);
    const parts = await reader.request(`${base}/multipart/parts?${q(key, uploadId)}`);
    expect([parts.status, parts.body.error.code]).toEqual([404, 'not_found']);
    expect((await reader.request(`${base}/object/info?${q(key)}`)).status).toBe(404);
  });

  it('lists the versions of exactly one key, newest first', async () => {
    await backend.setBucketVersioning(bucket, true);
    const upload = (key: string, body: string) =>
      user.request(`${base}/object?${q(key)}`, { method: 'POST', body, headers: { 'content-type': 'text/plain' } });
    const first = await upload('doc.txt', 'version one');
    const second = await upload('doc.txt', 'version two!');
    await upload('doc.txt.bak', 'another key under the same prefix');
    expect(first.body.version_id).toBeTruthy();
    expect(second.body.version_id).toBeTruthy();

    const res = await reader.request(`${base}/object/versions?${q('doc.txt')}`);
    expect(res.status).toBe(200);
    expect(res.body.versions).toEqual([
      {
        key: 'doc.txt',
        version_id: second.body.version_id,
        is_latest: true,
        is_delete_marker: false,
        size: 'version two!'.length,
        etag: expect.any(String),
        last_modified: expect.any(String),
      },
      {
        key: 'doc.txt',
        version_id: first.body.version_id,
        is_latest: false,
        is_delete_marker: false,
        size: 'version one'.length,
        etag: expect.any(String),
        last_modified: expect.any(String),
      },
    ]);
  });
});
