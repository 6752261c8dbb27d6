import { bucketFromHost, formatCopySource, parseCopySource, parseTarget } from './request-target';

describe('parseTarget', () => {
  it('splits path-style targets and decodes bucket and key, keeping + literal', () => {
    expect(parseTarget('/bucket/dir/a%20b+c.txt?list-type=2', 'h', [])).toEqual({
      bucket: 'bucket',
      key: 'dir/a b+c.txt',
      rawPath: '/bucket/dir/a%20b+c.txt',
      rawQuery: 'list-type=2',
      virtualHosted: false,
    });
    expect(parseTarget('/', undefined, [])).toMatchObject({ bucket: '', key: '' });
    expect(parseTarget('/bucket', undefined, [])).toMatchObject({ bucket: 'bucket', key: '' });
    expect(parseTarget('/bucket/', undefined, [])).toMatchObject({ bucket: 'bucket', key: '' });
    expect(parseTarget('/b/%E2%9C%93', undefined, [])).toMatchObject({ key: '✓' });
  });

  it('reads the bucket from a virtual-hosted Host under a configured suffix', () => {
    expect(parseTarget('/k/e/y', 'photos.s3.example.com:8090', ['s3.example.com'])).toMatchObject({
      bucket: 'photos',
      key: 'k/e/y',
      virtualHosted: true,
    });
    expect(parseTarget('/photos/k', 's3.example.com', ['s3.example.com'])).toMatchObject({
      bucket: 'photos',
      key: 'k',
      virtualHosted: false,
    });
  });

  it('refuses targets that are not paths or do not decode', () => {
    expect(parseTarget('http://x/b/k', undefined, [])).toBeUndefined();
    expect(parseTarget('/b/%zz', undefined, [])).toBeUndefined();
    expect(parseTarget('/b/%C3%28', undefined, [])).toBeUndefined();
  });

  it('matches host suffixes only at a label boundary', () => {
    expect(bucketFromHost('evil-s3.example.com', ['s3.example.com'])).toBeUndefined();
    expect(bucketFromHost('a.b.s3.example.com', ['s3.example.com'])).toBe('a.b');
    expect(bucketFromHost('s3.example.com', ['s3.example.com'])).toBeUndefined();
  });
});

describe('copy sources', () => {
  it('parses and re-encodes x-amz-copy-source canonically', () => {
    expect(parseCopySource('src/dir%2Fa%20b.txt')).toEqual({ bucket: 'src', key: 'dir/a b.txt', versionId: undefined });
    expect(parseCopySource('/src/k?versionId=v1')).toEqual({ bucket: 'src', key: 'k', versionId: 'v1' });
    expect(formatCopySource({ bucket: 'src', key: 'dir/a b+c.txt' })).toBe('/src/dir/a%20b%2Bc.txt');
    expect(formatCopySource({ bucket: 'src', key: 'k', versionId: 'v/1' })).toBe('/src/k?versionId=v%2F1');
  });

  it('refuses malformed copy sources', () => {
    for (const bad of ['', 'nobucketkey', '/bucket/', '/bucket', 'b/k?other=1', 'b/%zz', '/b/k?versionId=1&x=2']) {
      expect(parseCopySource(bad)).toBeUndefined();
    }
  });
});
