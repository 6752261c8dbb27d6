import { chunksOf, pagePreloads } from './web-app';

const ME = '</api/me>; rel=preload; as=fetch; crossorigin=anonymous';
const listing = (query: string) =>
  `</api/backends/local/buckets/photos/objects?${query}&delimiter=%2F&max_keys=200>; rel=preload; as=fetch; crossorigin=anonymous`;

describe('pagePreloads', () => {
  it('names the session check, the folder\'s first page and the screen\'s code, encoded as the app encodes them', () => {
    const app = { browserChunks: ['/assets/Browser-abc.js', '/assets/useMutation-def.js'] };
    expect(pagePreloads('/b/local/photos?prefix=2024%2Fjuly%20trip%2F', true, app)).toBe(
      [
        ME,
        listing('prefix=2024%2Fjuly%20trip%2F'),
        '</assets/Browser-abc.js>; rel=modulepreload',
        '</assets/useMutation-def.js>; rel=modulepreload',
      ].join(', '),
    );
    expect(pagePreloads('/b/local/photos', true)).toBe(`${ME}, ${listing('prefix=')}`);
  });

  it('says nothing without a session, and only the session check off the object browser', () => {
    expect(pagePreloads('/b/local/photos', false)).toBeUndefined();
    for (const url of ['/', '/backends', '/b/local', '/b/local/photos/settings', '/admin/users', '/b/local/photos/x/y']) {
      expect(pagePreloads(url, true)).toBe(ME);
    }
  });

  it.each([
    ['a malformed escape', '/b/local/%E0%A4%A/'],
    ['a CRLF in the bucket', '/b/local/ph%0D%0ALink:%20x'],
    ['header syntax in the backend', '/b/lo%3E%3Bcal/photos'],
    ['an upper-case bucket', '/b/local/Photos'],
    ['a too long bucket', `/b/local/${'a'.repeat(64)}`],
    ['a too long backend', `/b/${'a'.repeat(64)}/photos`],
    ['a NUL in the prefix', '/b/local/photos?prefix=a%00b'],
    ['a dot segment in the prefix', '/b/local/photos?prefix=a%2F..%2Fb%2F'],
    ['a control character in the prefix', '/b/local/photos?prefix=%07'],
    ['a huge prefix', `/b/local/photos?prefix=${'a'.repeat(5000)}`],
  ])('names no listing for %s', (_what, url) => {
    expect(pagePreloads(url, true, { browserChunks: ['/assets/Browser-abc.js'] })).toBe(ME);
  });

  it('keeps header syntax out of the value for any prefix it accepts', () => {
    const hint = pagePreloads('/b/local/photos?prefix=%3C%3E%3B%2C%22%20%E2%9C%93', true)!;
    const target = hint.split(', ')[1]!;
    expect(target).toContain('prefix=%3C%3E%3B%2C%22%20%E2%9C%93&');
    expect(target.slice(1, target.indexOf('>'))).not.toMatch(/[<>;,"\s]/);
  });
});

describe('chunksOf', () => {
  it('lists a chunk and what it imports, each once, without the entry', () => {
    const manifest = {
      'index.html': { file: 'assets/index-1.js', isEntry: true },
      'src/screens/Browser.tsx': { file: 'assets/Browser-2.js', imports: ['index.html', '_shared.js', '_other.js'] },
      '_shared.js': { file: 'assets/shared-3.js', imports: ['index.html', '_other.js'] },
      '_other.js': { file: 'assets/other-4.js' },
    };
    expect(chunksOf(manifest, 'src/screens/Browser.tsx')).toEqual(['/assets/Browser-2.js', '/assets/shared-3.js', '/assets/other-4.js']);
    expect(chunksOf(manifest, 'src/screens/Missing.tsx')).toEqual([]);
  });
});
