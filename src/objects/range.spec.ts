import { absoluteRange, contentDisposition, parseRangeHeader } from './range';

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

  it('turns a suffix into absolute bounds', () => {
    expect(absoluteRange({ suffixLength: 10 }, 100)).toEqual({ start: 90, end: 99 });
    expect(absoluteRange({ suffixLength: 500 }, 100)).toEqual({ start: 0, end: 99 });
  });
});

describe('contentDisposition', () => {
  it('names the file after the last segment, safely', () => {
    expect(contentDisposition('attachment', 'a/b/report.pdf')).toBe(
      `attachment; filename="report.pdf"; filename*=UTF-8''report.pdf`,
    );
    expect(contentDisposition('inline', 'x/"ev\\il"\r\n.txt')).toMatch(
      /^inline; filename="_ev_il___.txt"; filename\*=UTF-8''%22ev%5Cil%22%0D%0A.txt$/,
    );
    expect(contentDisposition('attachment', 'über.txt')).toContain(`filename*=UTF-8''%C3%BCber.txt`);
  });
});
