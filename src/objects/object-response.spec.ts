import { contentDisposition } from './object-response';

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
