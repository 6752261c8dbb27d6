import { errorXml, escapeXml, listBucketsXml, withRequestId } from './xml';

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

describe('withRequestId', () => {
  const upstream =
    '<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchKey</Code><RequestId>tx0-up</RequestId><HostId>h</HostId></Error>';

  it('names our request id instead of the upstream one', () => {
    expect(withRequestId(upstream, 'ABC123')).toBe(upstream.replace('tx0-up', 'ABC123'));
  });

  it('escapes the id and leaves "$" patterns alone', () => {
    expect(withRequestId(upstream, "$&<'")).toContain("<RequestId>$&amp;&lt;&apos;</RequestId>");
  });

  it('adds one to an error without it, and leaves anything else as it is', () => {
    expect(withRequestId('<Error><Code>X</Code></Error>', 'A')).toBe('<Error><Code>X</Code><RequestId>A</RequestId></Error>');
    expect(withRequestId('', 'A')).toBe('');
    expect(withRequestId('not xml', 'A')).toBe('not xml');
    expect(withRequestId('<Error><RequestId></RequestId></Error>', 'A')).toBe('<Error><RequestId>A</RequestId></Error>');
  });
});
