import { absoluteRange, formatRangeHeader, parseContentRange, parseRangeHeader, resolveRange } from './range';

describe('parseRangeHeader', () => {
  it.each([
    [undefined, undefined],
    ['bytes=0-9', { start: 0, end: 9 }],
    ['bytes=5-', { start: 5, end: undefined }],
    ['bytes=-10', { suffixLength: 10 }],
  ])('%p → %p', (header, range) => {
    expect(parseRangeHeader(header)).toEqual(range);
  });

  it.each(['bytes=9-0', 'items=0-1', 'bytes=0-1,4-5', 'bytes=-', 'bytes=a-b'])(
    'refuses %p with bad_range',
    (header) => {
      expect(() => parseRangeHeader(header)).toThrow(expect.objectContaining({ code: 'bad_range' }));
    },
  );

  it('refuses an empty suffix with 416', () => {
    expect(() => parseRangeHeader('bytes=-0')).toThrow(expect.objectContaining({ code: 'bad_range', status: 416 }));
  });
});

describe('absoluteRange', () => {
  it('turns a suffix into absolute bounds', () => {
    expect(absoluteRange({ suffixLength: 10 }, 100)).toEqual({ start: 90, end: 99 });
    expect(absoluteRange({ suffixLength: 500 }, 100)).toEqual({ start: 0, end: 99 });
    expect(absoluteRange({ start: 3, end: 4 }, 100)).toEqual({ start: 3, end: 4 });
  });

  it('refuses a suffix of an empty object with 416', () => {
    expect(() => absoluteRange({ suffixLength: 1 }, 0)).toThrow(
      expect.objectContaining({ code: 'bad_range', status: 416 }),
    );
  });
});

describe('formatRangeHeader', () => {
  it('formats the three forms of Range header', () => {
    expect(formatRangeHeader({ start: 0, end: 99 })).toBe('bytes=0-99');
    expect(formatRangeHeader({ start: 5, end: 5 })).toBe('bytes=5-5');
    expect(formatRangeHeader({ start: 100 })).toBe('bytes=100-');
    expect(formatRangeHeader({ suffixLength: 10 })).toBe('bytes=-10');
  });

  it.each([
    [{}],
    [{ start: -1, end: 5 }],
    [{ start: 1.5 }],
    [{ start: 10, end: 5 }],
    [{ start: 0, end: -3 }],
    [{ suffixLength: 0 }],
    [{ suffixLength: -4 }],
    [{ suffixLength: 4, start: 0 }],
    [{ end: 10 }],
  ])('refuses %j as bad_range', (range) => {
    expect(() => formatRangeHeader(range)).toThrow(expect.objectContaining({ code: 'bad_range' }));
  });

  it('refuses a parsed header whose offsets are too large to be exact', () => {
    const huge = parseRangeHeader('bytes=99999999999999999999-');
    expect(() => formatRangeHeader(huge!)).toThrow(expect.objectContaining({ code: 'bad_range' }));
  });
});

describe('resolveRange', () => {
  it('resolves ranges against an object size the way S3 does', () => {
    expect(resolveRange({ start: 0, end: 9 }, 100)).toEqual({ start: 0, end: 9 });
    expect(resolveRange({ start: 90, end: 500 }, 100)).toEqual({ start: 90, end: 99 });
    expect(resolveRange({ start: 95 }, 100)).toEqual({ start: 95, end: 99 });
    expect(resolveRange({ suffixLength: 10 }, 100)).toEqual({ start: 90, end: 99 });
    expect(resolveRange({ suffixLength: 500 }, 100)).toEqual({ start: 0, end: 99 });
    expect(() => resolveRange({ start: 100 }, 100)).toThrow(expect.objectContaining({ code: 'bad_range' }));
    expect(() => resolveRange({ suffixLength: 1 }, 0)).toThrow(expect.objectContaining({ code: 'bad_range' }));
  });
});

describe('parseContentRange', () => {
  it('parses Content-Range', () => {
    expect(parseContentRange('bytes 10-19/100')).toEqual({ start: 10, end: 19, total: 100 });
    expect(parseContentRange('bytes 0-0/*')).toEqual({ start: 0, end: 0, total: undefined });
    expect(parseContentRange(undefined)).toBeUndefined();
    expect(parseContentRange('items 1-2/3')).toBeUndefined();
  });
});
