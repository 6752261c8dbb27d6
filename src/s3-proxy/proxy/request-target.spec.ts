import { parseQuery } from '@stowage/sigv4';
import { S3ProxyError } from './proxy-error';
import {
  bucketFromHost,
  checkDeleteList,
  checkQuery,
  formatCopySource,
  keyProblem,
  parseCopySource,
  parseTarget,
} from './request-target';

/** The S3 code a call throws with, or 'ok'. */
function refusal(call: () => unknown): string {
  try {
    call();
    return 'ok';
  } catch (err) {
    if (err instanceof S3ProxyError) return err.code;
    throw err;
  }
}

/** Raw paths (as sent) whose key would resolve outside its bucket on a server that normalises. */
const ESCAPING_PATHS = [
  '/a/../b/secret.txt',
  '/a/%2E%2E/b/secret.txt',
  '/a/%2e%2e%2fb%2fsecret.txt',
  '/a/..%2Fb/secret.txt',
  '/a/.%2e/b/secret.txt',
  '/a/x/../../b/secret.txt',
  '/a/../../../../../../outside/x',
  '/a/./x',
  '/a/x/.',
  '/a/x/..',
  '/a/..',
  '/a/.',
  '/a//../b/x',
  '/a/%2F..%2Fb%2Fx',
  '/a/..%5Cb%5Csecret.txt',
  '/a/x%5C..%5C..%5Cb%5Cx',
  '/a/%5C..',
  '/a/x%00y',
  '/a/x%0Ay',
  '/a/x%7Fy',
  '/a/%2Fetc%2Fpasswd',
];

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

describe('the canonical target', () => {
  it.each(ESCAPING_PATHS)('refuses the key of %s with InvalidArgument', (path) => {
    expect(refusal(() => parseTarget(path, 'h', []))).toBe('InvalidArgument');
    expect(refusal(() => parseTarget(path.replace(/^\/a/, ''), 'a.s3.test', ['s3.test']))).toBe('InvalidArgument');
  });

  it('keeps double-encoded and look-alike dots as the literal keys they are', () => {
    expect(parseTarget('/a/%252e%252e/b/x', 'h', [])).toMatchObject({ bucket: 'a', key: '%2e%2e/b/x' });
    expect(parseTarget('/a/%E2%80%A4%E2%80%A4/b/x', 'h', [])).toMatchObject({ bucket: 'a', key: '\u2024\u2024/b/x' });
    expect(parseTarget('/a/%EF%BC%8E%EF%BC%8E/b/x', 'h', [])).toMatchObject({ bucket: 'a', key: '\uff0e\uff0e/b/x' });
    expect(parseTarget('/a/...', 'h', [])).toMatchObject({ key: '...' });
    expect(parseTarget('/a/.hidden/..x/x..', 'h', [])).toMatchObject({ key: '.hidden/..x/x..' });
    expect(parseTarget('/a/x//y', 'h', [])).toMatchObject({ key: 'x//y' });
    expect(parseTarget('/a/dir/', 'h', [])).toMatchObject({ key: 'dir/' });
  });

  it('decides the bucket on the decoded first segment, so an encoded slash cannot name another', () => {
    expect(parseTarget('/a%2F..%2Fb/x', 'h', [])).toMatchObject({ bucket: 'a/../b', key: 'x' });
    expect(parseTarget('/%2E%2E/b/x', 'h', [])).toMatchObject({ bucket: '..', key: 'b/x' });
  });

  it('refuses keys over 1024 bytes and passes one of exactly 1024', () => {
    expect(keyProblem('k'.repeat(1024))).toBeUndefined();
    expect(keyProblem('k'.repeat(1025))).toBeDefined();
    expect(keyProblem('é'.repeat(513))).toBeDefined();
  });

  it('refuses copy sources that leave their bucket', () => {
    for (const bad of [
      'a/../b/secret.txt',
      '/a/..%2Fb%2Fsecret.txt',
      'a%2F..%2Fb%2Fsecret.txt',
      'a/x/../../b/x',
      'a/..\\b\\x',
      'a/x%00',
      'a/k?versionId=..%2F..%2Fx',
      'a/k?versionId=%00',
    ]) {
      expect(refusal(() => parseCopySource(bad))).toBe('InvalidArgument');
    }
    expect(parseCopySource('a/%252e%252e/b')).toEqual({ bucket: 'a', key: '%2e%2e/b', versionId: undefined });
  });

  it('checks every key of a DeleteObjects body', () => {
    const xml = (...keys: string[]) =>
      Buffer.from(`<Delete>${keys.map((k) => `<Object><Key>${k}</Key></Object>`).join('')}</Delete>`);
    expect(checkDeleteList(xml('x', 'y/z'))).toEqual([{ key: 'x' }, { key: 'y/z' }]);
    for (const bad of ['../b/x', 'ok/../../b/x', '&#46;&#46;/b/x', ' ../b/x', '..\\b', 'x&#0;', 'a/.']) {
      expect(refusal(() => checkDeleteList(xml('fine', bad)))).toBe('InvalidArgument');
    }
    expect(refusal(() => checkDeleteList(xml('x').subarray(0, 20)))).toBe('MalformedXML');
    expect(
      refusal(() =>
        checkDeleteList(Buffer.from('<Delete><Object><Key>x</Key><VersionId>../v</VersionId></Object></Delete>')),
      ),
    ).toBe('InvalidArgument');
  });

  it('checks query parameters that name upstream state', () => {
    const q = (raw: string) => refusal(() => checkQuery(parseQuery(raw)));
    for (const bad of [
      'uploadId=..%2F..%2F..%2Foutside%2Fp',
      'uploadId=a/b',
      'uploadId=..',
      'uploadId=',
      'uploadId=a%00b',
      'uploadId=ok&uploadId=..%2Fx',
      'versionId=..%2F..%2Fx',
      'versionId=a%5Cb',
      'continuation-token=..%2Fx',
      'upload-id-marker=a%2Fb',
      'version-id-marker=%2E%2E',
      'partNumber=0',
      'partNumber=10001',
      'partNumber=1.5',
      'partNumber=-1',
      'partNumber=1e3',
      'partNumber=99999999999999999999',
      'part-number-marker=x',
      'max-keys=-1',
      'max-keys=2147483648',
      'max-parts=abc',
      'max-uploads=',
    ]) {
      expect([bad, q(bad)]).toEqual([bad, 'InvalidArgument']);
    }
    for (const good of [
      'uploadId=2~abc-DEF_123',
      'versionId=null',
      'versionId=3/L4kqtJl%2B0Yd',
      'continuation-token=1ueGcxLPRx1Tr%2FXYExHnhbYLgveDs2J%2Fwm36Hy4vbOwM%3D',
      'partNumber=1&uploadId=u',
      'partNumber=10000',
      'max-keys=0',
      'max-keys=1000',
      'list-type=2&prefix=..%2F',
    ]) {
      expect([good, q(good)]).toEqual([good, 'ok']);
    }
  });
});
