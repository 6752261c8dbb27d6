import { TestStack } from '../harness/app';
import { Session } from '../harness/session';
import { bootWithBackend } from '../harness/storage';

describe('pins: /api/me/pins', () => {
  let stack: TestStack;
  let alice: Session;
  let bob: Session;
  let reader: Session;

  beforeAll(async () => {
    stack = await TestStack.start();
    ({ user: alice, admin: bob, reader } = await bootWithBackend(stack));
  });
  afterAll(() => stack.stop());

  const pin = (session: Session, body: unknown) => session.request('/api/me/pins', { method: 'POST', body });

  it('pins, lists and unpins a bucket', async () => {
    expect((await alice.request('/api/me/pins')).body).toEqual({ pins: [] });
    const created = await pin(alice, { backend_id: 'local', bucket: 'team-assets' });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({ backend_id: 'local', bucket: 'team-assets', created_at: expect.any(String) });
    expect(Number.isNaN(Date.parse(created.body.created_at))).toBe(false);
    const list = await alice.request('/api/me/pins');
    expect(list.status).toBe(200);
    expect(list.body.pins).toEqual([created.body]);
    const removed = await alice.request('/api/me/pins/local/team-assets', { method: 'DELETE' });
    expect(removed.status).toBe(204);
    expect((await alice.request('/api/me/pins')).body.pins).toEqual([]);
  });

  it('treats pinning again as a no-op that answers the existing pin', async () => {
    const first = await pin(alice, { backend_id: 'local', bucket: 'again' });
    const second = await pin(alice, { backend_id: 'local', bucket: 'again' });
    expect(second.status).toBe(201);
    expect(second.body).toEqual(first.body);
    const pins = (await alice.request('/api/me/pins')).body.pins;
    expect(pins.filter((p: { bucket: string }) => p.bucket === 'again')).toHaveLength(1);
    // Unpinning what is not pinned is not an error either.
    await alice.request('/api/me/pins/local/again', { method: 'DELETE' });
    expect((await alice.request('/api/me/pins/local/again', { method: 'DELETE' })).status).toBe(204);
  });

  it('shows each user only their own pins, and one user unpinning leaves the other pinned', async () => {
    await pin(alice, { backend_id: 'local', bucket: 'shared-one' });
    await pin(bob, { backend_id: 'local', bucket: 'shared-one' });
    await pin(bob, { backend_id: 'local', bucket: 'bobs-own' });
    const buckets = async (s: Session) =>
      ((await s.request('/api/me/pins')).body.pins as { bucket: string }[]).map((p) => p.bucket).sort();
    expect(await buckets(alice)).toEqual(['shared-one']);
    expect(await buckets(bob)).toEqual(['bobs-own', 'shared-one']);
    expect((await alice.request('/api/me/pins/local/bobs-own', { method: 'DELETE' })).status).toBe(204);
    expect((await alice.request('/api/me/pins/local/shared-one', { method: 'DELETE' })).status).toBe(204);
    expect(await buckets(bob)).toEqual(['bobs-own', 'shared-one']);
    expect(await buckets(alice)).toEqual([]);
  });

  it('refuses an unknown backend with not_found', async () => {
    const res = await pin(alice, { backend_id: 'nope', bucket: 'team-assets' });
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('not_found');
  });

  it.each(['ab', 'Upper', 'under_score', 'x'.repeat(64)])('refuses the bucket name %p', async (bucket) => {
    const res = await pin(alice, { backend_id: 'local', bucket });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_bucket_name');
  });

  it.each([{}, { backend_id: 'local' }, { bucket: 'team-assets' }, { backend_id: 'BAD ID', bucket: 'team-assets' }])(
    'refuses the malformed body %p with bad_request',
    async (body) => {
      const res = await pin(alice, body);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('bad_request');
    },
  );

  it('lets a readonly user list but not pin', async () => {
    expect((await reader.request('/api/me/pins')).status).toBe(200);
    const res = await pin(reader, { backend_id: 'local', bucket: 'team-assets' });
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('forbidden');
    expect((await reader.request('/api/me/pins/local/team-assets', { method: 'DELETE' })).status).toBe(403);
  });
});
