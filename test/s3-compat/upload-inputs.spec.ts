import { randomBytes } from 'node:crypto';
import { Backend } from '../../src/storage-backends/backend';
import { BackendRegistry } from '../../src/storage-backends/backend-registry.service';
import { TestApp, TestStack } from '../harness/app';
import { Session } from '../harness/session';
import { bootWithBackend, removeBucket } from '../harness/storage';

describe('upload inputs against Ceph RGW', () => {
  let stack: TestStack;
  let app: TestApp;
  let user: Session;
  let backend: Backend;
  const bucket = `stowage-in-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  const base = `/api/backends/local/buckets/${bucket}`;

  beforeAll(async () => {
    stack = await TestStack.start({ s3: 'ceph' });
    ({ app, user } = await bootWithBackend(stack, { kind: 'ceph', bucket }));
    backend = app.app.get(BackendRegistry).get('local');
    for (const k of ['p/a', 'p/b', 'p/c']) {
      const res = await user.request(`${base}/object?key=${k}`, {
        method: 'POST',
        body: k,
        headers: { 'content-type': 'text/plain' },
      });
      expect(res.status).toBe(201);
    }
  });

  afterAll(async () => {
    try {
      await removeBucket(backend, bucket);
    } finally {
      await stack.stop();
    }
  });

  it.each(['garbage!!', 'AAAAAAAAAAAAAAAAAAAAAAAA', 'QUJDREVGR0hJSktMTU5PUA=='])(
    'answers a continuation token it did not hand out (%s) with 200 or 400 bad_request, never 5xx',
    async (token) => {
      const res = await user.request(`${base}/objects?prefix=p/&token=${encodeURIComponent(token)}`);
      expect([200, 400]).toContain(res.status);
      if (res.status === 400) expect(res.body.error.code).toBe('bad_request');
    },
  );

  it('pages with the tokens Ceph hands out', async () => {
    const first = await user.request(`${base}/objects?prefix=p/&max_keys=2`);
    expect(first.status).toBe(200);
    expect(first.body.is_truncated).toBe(true);
    const next = await user.request(
      `${base}/objects?prefix=p/&max_keys=2&token=${encodeURIComponent(first.body.next_continuation_token)}`,
    );
    expect(next.status).toBe(200);
    expect(next.body.objects.map((o: { key: string }) => o.key)).toEqual(['p/c']);
  });

  it.each(['../../x', '..', 'abc/def'])(
    'refuses the upload id %j before Ceph sees it (400 bad_request)',
    async (id) => {
      const res = await user.request(`${base}/multipart/parts/1?key=x.bin&upload_id=${encodeURIComponent(id)}`, {
        method: 'PUT',
        body: 'part',
        headers: { 'content-type': 'application/octet-stream' },
      });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('bad_request');
    },
  );
});
