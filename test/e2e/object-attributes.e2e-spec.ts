import { DataSource } from 'typeorm';
import { TestApp, TestStack } from '../harness/app';
import { bootWithBackend } from '../harness/storage';
import { Session } from '../harness/session';

describe('object tags, metadata and versions: /api/backends/{bid}/buckets/{bucket}/object/…', () => {
  let stack: TestStack;
  let app: TestApp;
  let user: Session;
  let reader: Session;
  const base = '/api/backends/local/buckets/attributes-test';

  beforeAll(async () => {
    stack = await TestStack.start();
    ({ app, user, reader } = await bootWithBackend(stack, { bucket: 'attributes-test' }));
    for (const key of ['tagged.txt', 'meta.txt', 'plain.txt']) {
      const res = await user.request(`${base}/object?key=${key}`, {
        method: 'POST',
        body: `content of ${key}`,
        headers: { 'content-type': 'text/plain' },
      });
      expect(res.status).toBe(201);
    }
  });
  afterAll(() => stack.stop());

  const putTags = (tags: unknown, key = 'tagged.txt', session = user) =>
    session.request(`${base}/object/tags?key=${encodeURIComponent(key)}`, { method: 'PUT', body: { tags } });
  const putMetadata = (metadata: unknown, key = 'meta.txt') =>
    user.request(`${base}/object/metadata?key=${encodeURIComponent(key)}`, { method: 'PUT', body: { metadata } });

  it('sets, reads back and clears tags, without auditing', async () => {
    expect((await reader.request(`${base}/object/tags?key=tagged.txt`)).body).toEqual({ tags: {} });
    const tags = { project: 'apollo', 'path/to': 'a+b=c.d_e:f@g', 'Ünïcode 1': 'välue', empty: '' };
    const set = await putTags(tags);
    expect(set.status).toBe(200);
    expect(set.body).toEqual({ tags });
    expect((await reader.request(`${base}/object/tags?key=tagged.txt`)).body).toEqual({ tags });
    const ten = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`k${i}`, 'v'.repeat(256)]));
    expect((await putTags(ten)).status).toBe(200);
    expect((await reader.request(`${base}/object/tags?key=tagged.txt`)).body.tags).toEqual(ten);
    expect((await putTags({})).status).toBe(200);
    expect((await reader.request(`${base}/object/tags?key=tagged.txt`)).body).toEqual({ tags: {} });
    const rows = await app.app
      .get(DataSource)
      .query(
        "SELECT action FROM audit_events WHERE bucket = 'attributes-test' AND action LIKE 'object.%' AND action <> 'object.upload'",
      );
    expect(rows).toEqual([]);
  });

  it.each([
    ['eleven tags', Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`k${i}`, 'v'])), 'too_many_tags'],
    ['an empty key', { '': 'v' }, 'invalid_tag'],
    ['a 129-character key', { ['k'.repeat(129)]: 'v' }, 'invalid_tag'],
    ['a 257-character value', { k: 'v'.repeat(257) }, 'invalid_tag'],
    ['a forbidden character in a key', { 'a#b': 'v' }, 'invalid_tag'],
    ['a forbidden character in a value', { k: 'semi;colon' }, 'invalid_tag'],
    ['a non-string value', { k: 1 }, 'invalid_tag'],
    ['the reserved aws: prefix', { 'aws:owner': 'me' }, 'invalid_tag'],
  ])('refuses tags with %s', async (_what, tags, code) => {
    const res = await putTags(tags);
    expect([res.status, res.body.error.code]).toEqual([400, code]);
  });

  it('refuses a tag body that is not a map, tags on a missing object, and writes by readonly users', async () => {
    expect((await putTags('nope')).body.error.code).toBe('bad_request');
    expect((await putTags({ a: 'b' }, 'missing.txt')).body.error.code).toBe('not_found');
    expect((await reader.request(`${base}/object/tags?key=missing.txt`)).body.error.code).toBe('not_found');
    expect((await putTags({ a: 'b' }, 'tagged.txt', reader)).status).toBe(403);
    expect((await reader.request(`${base}/object/tags?key=%2Fabs`)).body.error.code).toBe('invalid_key');
  });

  it('replaces user metadata in place, keeping the content and its type', async () => {
    const res = await putMetadata({ Origin: 'scanner-3', 'x-Count': '42', note: 'plain ASCII, spaces & symbols!' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      key: 'meta.txt',
      content_type: 'text/plain',
      size: 'content of meta.txt'.length,
      metadata: { origin: 'scanner-3', 'x-count': '42', note: 'plain ASCII, spaces & symbols!' },
    });
    const info = await reader.request(`${base}/object/info?key=meta.txt`);
    expect(info.body.metadata).toEqual({
      origin: 'scanner-3',
      'x-count': '42',
      note: 'plain ASCII, spaces & symbols!',
    });
    expect((await reader.request(`${base}/object?key=meta.txt`)).text).toBe('content of meta.txt');
    const cleared = await putMetadata({});
    expect(cleared.status).toBe(200);
    expect(cleared.body.metadata).toBeUndefined();
  });

  it.each([
    ['a key with a space', { 'bad key': 'v' }],
    ['a key with a colon', { 'a:b': 'v' }],
    ['an empty key', { '': 'v' }],
    ['a non-ASCII value', { k: 'café' }],
    ['a control character in a value', { k: 'a\nb' }],
    ['a non-string value', { k: 5 }],
    ['keys differing in case only', { Key: 'a', key: 'b' }],
    ['more than 2 KiB', { a: 'x'.repeat(1500), b: 'y'.repeat(600) }],
  ])('refuses metadata with %s (invalid_metadata)', async (_what, metadata) => {
    const res = await putMetadata(metadata);
    expect([res.status, res.body.error.code]).toEqual([400, 'invalid_metadata']);
  });

  it('answers not_found for metadata of a missing object', async () => {
    expect((await putMetadata({ a: 'b' }, 'missing.txt')).body.error.code).toBe('not_found');
  });

  it('answers not_supported for versions on a backend without versioning', async () => {
    const res = await reader.request(`${base}/object/versions?key=plain.txt`);
    expect([res.status, res.body.error.code]).toEqual([400, 'not_supported']);
    expect((await reader.request(`${base}/object/versions`)).body.error.code).toBe('bad_request');
  });
});
