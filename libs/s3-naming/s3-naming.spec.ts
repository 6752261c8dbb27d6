import { bucketNameProblem, objectKeyProblem, prefixProblem } from './index';

describe('bucket names', () => {
  it.each(['abc', 'my-bucket', 'my.bucket.name', 'a1b2c3', 'x'.repeat(63)])('accepts %p', (name) => {
    expect(bucketNameProblem(name)).toBeUndefined();
  });

  it.each([
    ['ab', /3 to 63/],
    ['x'.repeat(64), /3 to 63/],
    ['MyBucket', /lower-case/],
    ['-bucket', /start and end/],
    ['bucket-', /start and end/],
    ['my_bucket', /lower-case/],
    ['my..bucket', /adjacent dots/],
    ['my.-bucket', /dot next to a hyphen/],
    ['192.168.1.1', /IP address/],
    ['xn--bucket', /reserved prefix/],
    ['bucket-s3alias', /reserved suffix/],
  ])('refuses %p', (name, problem) => {
    expect(bucketNameProblem(name)).toMatch(problem);
  });
});

describe('object keys and prefixes', () => {
  it.each(['a', 'dir/file.txt', 'ünïcödé/ключ', 'spaces are fine', 'a/b/'])('accepts %p', (key) => {
    expect(objectKeyProblem(key)).toBeUndefined();
  });

  it.each([
    ['', /empty/],
    ['/leading', /start with/],
    ['a\u0000b', /control/],
    ['tab\there', /control/],
    ['a/../b', /segments/],
    ['é'.repeat(513), /1024 bytes/],
  ])('refuses %p', (key, problem) => {
    expect(objectKeyProblem(key)).toMatch(problem);
  });

  it('allows an empty prefix', () => {
    expect(prefixProblem('')).toBeUndefined();
    expect(prefixProblem('/x')).toMatch(/start with/);
  });
});
