import { bucketNameProblem, objectKeyProblem, opaqueTokenProblem, prefixProblem } from './index';

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

describe('opaqueTokenProblem', () => {
  it.each(['2~abc', 'VXBsb2FkIElE.Zm9v_x-y', 'null', 'a..b', 'a'.repeat(1024)])('accepts the upload id %p', (value) => {
    expect(opaqueTokenProblem(value)).toBeUndefined();
  });
  it.each(['', '..', '.', '../../etc', 'a/b', 'a\\b', 'a b', 'a\u0000b', 'a\tb', 'é', 'a'.repeat(1025)])(
    'refuses the upload id %p',
    (value) => {
      expect(opaqueTokenProblem(value)).toBeDefined();
    },
  );
  it('lets version ids and tokens hold "/" but no dot segment', () => {
    expect(opaqueTokenProblem('3/L4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY+MTRCxf3vj=', { allowSlash: true })).toBeUndefined();
    expect(opaqueTokenProblem('a/../b', { allowSlash: true })).toBeDefined();
    expect(opaqueTokenProblem('./b', { allowSlash: true })).toBeDefined();
    expect(opaqueTokenProblem('abc', { maxLength: 2 })).toBeDefined();
  });
});
