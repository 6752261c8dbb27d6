import {
  canonicalizeComponent,
  canonicalQueryString,
  canonicalUri,
  normalizeUriPath,
  parseQuery,
  percentDecode,
  uriEncode,
} from './encoding';

const sdkEscape = (s: string) =>
  encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

describe('uriEncode', () => {
  it('leaves unreserved characters and escapes everything else as upper-case UTF-8', () => {
    expect(uriEncode('AZaz09-._~')).toBe('AZaz09-._~');
    expect(uriEncode("a b+c/d=e&f!*'()%")).toBe('a%20b%2Bc%2Fd%3De%26f%21%2A%27%28%29%25');
    expect(uriEncode('a/b c', true)).toBe('a/b%20c');
    expect(uriEncode('é✓😀')).toBe('%C3%A9%E2%9C%93%F0%9F%98%80');
  });

  it('agrees with the SDK escaping on every BMP character and astral pairs', () => {
    for (let c = 0; c < 0xd800; c += 7) {
      const s = String.fromCharCode(c);
      expect(uriEncode(s)).toBe(sdkEscape(s));
    }
    expect(uriEncode('\u{1F600}x')).toBe(sdkEscape('\u{1F600}x'));
  });

  it('encodes a lone surrogate as U+FFFD, like Buffer', () => {
    expect(uriEncode('\ud800')).toBe('%EF%BF%BD');
    expect(canonicalizeComponent('\udc00', false, false)).toBe('%EF%BF%BD');
  });
});

describe('canonicalizeComponent', () => {
  it('decodes and re-encodes in one pass', () => {
    expect(canonicalizeComponent('a%20b%2fc%7e', false, false)).toBe('a%20b%2Fc~');
    expect(canonicalizeComponent('(x)!', false, false)).toBe('%28x%29%21');
    expect(canonicalizeComponent('%E2%9C%93', false, false)).toBe('%E2%9C%93');
  });

  it('keeps invalid escapes literal and raw bytes exact', () => {
    expect(canonicalizeComponent('100%', false, false)).toBe('100%25');
    expect(canonicalizeComponent('%zz%4', false, false)).toBe('%25zz%254');
    // Invalid UTF-8 survives byte for byte.
    expect(canonicalizeComponent('%FF%FE', false, false)).toBe('%FF%FE');
  });

  it('treats + as a space in queries only, and / as a separator in paths only', () => {
    expect(canonicalizeComponent('a+b', true, false)).toBe('a%20b');
    expect(canonicalizeComponent('a+b', false, true)).toBe('a%2Bb');
    expect(canonicalizeComponent('a/b%2Fc', false, true)).toBe('a/b%2Fc');
    expect(canonicalizeComponent('a/b', true, false)).toBe('a%2Fb');
  });
});

describe('percentDecode', () => {
  it('decodes escapes, + and UTF-8', () => {
    expect(percentDecode('AKID%2F20260314%2Fus-east-1')).toBe('AKID/20260314/us-east-1');
    expect(percentDecode('a+b%2Bc')).toBe('a b+c');
    expect(percentDecode('%E2%9C%93é')).toBe('✓é');
    expect(percentDecode('plain')).toBe('plain');
    expect(percentDecode('100%')).toBe('100%');
  });
});

describe('canonicalUri', () => {
  it('is / for an empty path', () => {
    expect(canonicalUri('')).toBe('/');
  });

  it('keeps an S3 path as the client encoded it, once', () => {
    expect(canonicalUri('/bucket/a%20b//c/./../d')).toBe('/bucket/a%20b//c/./../d');
    expect(canonicalUri('/bucket/a b')).toBe('/bucket/a%20b');
  });

  it('normalises and double-encodes for generic services', () => {
    expect(canonicalUri('/a%20b//c/./../d', { normalizePath: true, doubleEncode: true })).toBe('/a%2520b/d');
    expect(canonicalUri('//', { normalizePath: true, doubleEncode: true })).toBe('/');
  });

  it('normalises dot segments and slashes', () => {
    expect(normalizeUriPath('/example/..')).toBe('/');
    expect(normalizeUriPath('/example1/example2/../..')).toBe('/');
    expect(normalizeUriPath('//example//')).toBe('/example/');
    expect(normalizeUriPath('/./example')).toBe('/example');
    expect(normalizeUriPath('/../../a')).toBe('/a');
  });
});

describe('canonical query', () => {
  it('sorts by key then value and encodes both', () => {
    const params = parseQuery('b=2&a=z&a=y&c&d=&e=x%20y+z&%C3%A9=%e2%9c%93');
    // Sorted by the encoded key, so the escaped é (`%`) comes first.
    expect(canonicalQueryString(params)).toBe('%C3%A9=%E2%9C%93&a=y&a=z&b=2&c=&d=&e=x%20y%20z');
  });

  it('skips empty pieces and keeps the raw value', () => {
    const params = parseQuery('&&a=1&&');
    expect(params).toEqual([{ key: 'a', value: '1', raw: '1' }]);
    expect(parseQuery('')).toEqual([]);
    expect(parseQuery('k=a=b')[0]).toEqual({ key: 'k', value: 'a%3Db', raw: 'a=b' });
  });

  it('drops an excluded parameter', () => {
    const params = parseQuery('X-Amz-Signature=abc&X-Amz-Date=1');
    expect(canonicalQueryString(params, 'X-Amz-Signature')).toBe('X-Amz-Date=1');
  });

  it('sorts by byte order (upper case first)', () => {
    expect(canonicalQueryString(parseQuery('a=1&B=2&_=3&~=4'))).toBe('B=2&_=3&a=1&~=4');
  });
});
