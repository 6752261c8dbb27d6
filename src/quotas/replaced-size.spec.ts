import { replacedChange } from './replaced-size';

describe('replacedChange (a HEAD run beside the write it accounts for)', () => {
  const started = Date.parse('2026-12-07T10:00:05.400Z');
  const before = new Date('2026-12-07T10:00:03.000Z');
  const sameSecond = new Date('2026-12-07T10:00:05.000Z');

  it('adds the whole write when nothing was there', () => {
    expect(replacedChange(100, { found: undefined }, { etag: '"a"' }, started)).toEqual({ bytes: 100, objects: 1 });
  });

  it('frees the old size when the HEAD saw an object with another ETag, however recent', () => {
    const read = { found: { size: 600, etag: '"old"', lastModified: sameSecond } };
    expect(replacedChange(300, read, { etag: '"new"' }, started)).toEqual({ bytes: -300, objects: 0 });
  });

  it.each([
    ['the same quoted ETag', '"new"'],
    ['the ETag unquoted', 'new'],
    ['a weak form of it', 'W/"new"'],
  ])('counts the whole write when the HEAD saw %s as the answer (it may have seen the new object)', (_n, etag) => {
    const read = { found: { size: 300, etag, lastModified: before } };
    expect(replacedChange(300, read, { etag: '"new"' }, started)).toEqual({ bytes: 300, objects: 1 });
  });

  it('without ETags, trusts only a Last-Modified from a second before the write began', () => {
    expect(replacedChange(300, { found: { size: 600, lastModified: before } }, {}, started)).toEqual({
      bytes: -300,
      objects: 0,
    });
    expect(replacedChange(300, { found: { size: 600, lastModified: sameSecond } }, {}, started)).toEqual({
      bytes: 300,
      objects: 1,
    });
    expect(replacedChange(300, { found: { size: 600, etag: '"x"', lastModified: sameSecond } }, {}, started)).toEqual({
      bytes: 300,
      objects: 1,
    });
    expect(replacedChange(300, { found: { size: 600 } }, {}, started)).toEqual({ bytes: 300, objects: 1 });
    expect(replacedChange(300, { found: { size: 600, lastModified: new Date(NaN) } }, {}, started)).toEqual({
      bytes: 300,
      objects: 1,
    });
  });

  it('counts the whole write when the HEAD failed', () => {
    expect(replacedChange(300, { failed: true }, { etag: '"new"' }, started)).toEqual({ bytes: 300, objects: 1 });
  });
});
