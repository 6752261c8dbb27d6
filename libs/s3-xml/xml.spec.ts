import { errorXml, escapeXml, listBucketsXml } from './xml';

describe('S3 XML', () => {
  it('escapes markup and replaces characters XML cannot carry', () => {
    expect(escapeXml(`a<b>&"'`)).toBe('a&lt;b&gt;&amp;&quot;&apos;');
    expect(escapeXml('bell\u0007 tab\t')).toBe('bell\ufffd tab\t');
    expect(escapeXml('lone \ud800 pair 😀')).toBe('lone \ufffd pair 😀');
    expect(escapeXml('plain')).toBe('plain');
  });

  it('renders an S3 error document', () => {
    const xml = errorXml({
      code: 'AccessDenied',
      message: 'not <yours>',
      requestId: 'ABC',
      resource: '/b/k',
      extra: { BucketName: 'b' },
    });
    expect(xml).toBe(
      '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code><Message>not &lt;yours&gt;</Message><Resource>/b/k</Resource><BucketName>b</BucketName><RequestId>ABC</RequestId></Error>',
    );
  });

  it('renders ListAllMyBucketsResult', () => {
    const xml = listBucketsXml({ id: 'o', displayName: 'O' }, [{ name: 'a&b', creationDate: new Date(0) }]);
    expect(xml).toContain('<Owner><ID>o</ID><DisplayName>O</DisplayName></Owner>');
    expect(xml).toContain('<Bucket><Name>a&amp;b</Name><CreationDate>1970-01-01T00:00:00.000Z</CreationDate></Bucket>');
  });
});
