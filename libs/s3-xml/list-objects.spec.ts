import { parseListObjectsV2 } from './list-objects';
import { readXml } from './read';

const page = (body: string, head = '<?xml version="1.0" encoding="UTF-8"?>\n') =>
  `${head}<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${body}</ListBucketResult>`;

describe('parseListObjectsV2', () => {
  it('reads objects, prefixes, truncation and the next token', () => {
    const xml = page(
      '<Name>b</Name><Prefix></Prefix><KeyCount>2</KeyCount><MaxKeys>2</MaxKeys><IsTruncated>true</IsTruncated>' +
        '<NextContinuationToken>1/abc+=</NextContinuationToken>' +
        '<Contents><Key>a&amp;b</Key><LastModified>2026-01-01T00:00:00.000Z</LastModified>' +
        '<ETag>&quot;e1&quot;</ETag><Size>12</Size><StorageClass>STANDARD</StorageClass></Contents>' +
        '<Contents><Key>c</Key><Size>0</Size></Contents>' +
        '<CommonPrefixes><Prefix>docs/</Prefix></CommonPrefixes>',
    );
    expect(parseListObjectsV2(xml)).toEqual({
      objects: [
        {
          key: 'a&b',
          size: 12,
          etag: '"e1"',
          storageClass: 'STANDARD',
          lastModified: new Date('2026-01-01T00:00:00.000Z'),
        },
        { key: 'c', size: 0 },
      ],
      commonPrefixes: ['docs/'],
      isTruncated: true,
      nextContinuationToken: '1/abc+=',
    });
  });

  it('URL-decodes keys and prefixes when the answer is url-encoded, so odd bytes round-trip', () => {
    const xml = page(
      '<EncodingType>url</EncodingType><IsTruncated>false</IsTruncated>' +
        '<Contents><Key>bell%07+space%2Bplus%00nul%F0%9F%98%80</Key><Size>1</Size></Contents>' +
        '<CommonPrefixes><Prefix>tab%09dir/</Prefix></CommonPrefixes>',
    );
    const out = parseListObjectsV2(xml)!;
    expect(out.objects[0].key).toBe('bell\u0007 space+plus\u0000nul😀');
    expect(out.commonPrefixes).toEqual(['tab\tdir/']);
    expect(out.isTruncated).toBe(false);
  });

  it('leaves keys as sent when the answer is not url-encoded (an upstream that ignores encoding-type)', () => {
    const xml = page('<Contents><Key>a+b%20c</Key><Size>1</Size></Contents>');
    expect(parseListObjectsV2(xml)!.objects[0].key).toBe('a+b%20c');
  });

  it.each([
    ['another root', '<ListAllMyBucketsResult></ListAllMyBucketsResult>'],
    ['a comment', page('<!-- x --><Contents><Key>a</Key></Contents>')],
    ['CDATA', page('<Contents><Key><![CDATA[a]]></Key></Contents>')],
    ['a DOCTYPE', `<!DOCTYPE x [<!ENTITY e "a">]>${page('<Contents><Key>&e;</Key></Contents>')}`],
    ['an unknown entity', page('<Contents><Key>&e;</Key></Contents>')],
    ['a namespace prefix', page('<s3:Contents><Key>a</Key></s3:Contents>')],
    ['an attribute below the root', page('<Contents a="1"><Key>a</Key></Contents>')],
    ['text beside elements', page('x<Contents><Key>a</Key></Contents>')],
    ['an unclosed element', page('<Contents><Key>a</Key>')],
    ['crossed elements', page('<Contents><Key>a</Contents></Key>')],
    ['two roots', page('') + page('')],
    ['trailing text', `${page('')}x`],
    ['a repeated key', page('<Contents><Key>a</Key><Key>b</Key></Contents>')],
    ['an empty key', page('<Contents><Key></Key></Contents>')],
    ['a key with elements inside', page('<Contents><Key><a/></Key></Contents>')],
    ['a negative size', page('<Contents><Key>a</Key><Size>-1</Size></Contents>')],
    ['a huge size', page('<Contents><Key>a</Key><Size>99999999999999999999</Size></Contents>')],
    ['a size that is not a number', page('<Contents><Key>a</Key><Size>1e3</Size></Contents>')],
    ['a bad date', page('<Contents><Key>a</Key><LastModified>soon</LastModified></Contents>')],
    ['a bad truncation flag', page('<IsTruncated>yes</IsTruncated>')],
    [
      'two tokens',
      page('<NextContinuationToken>a</NextContinuationToken><NextContinuationToken>b</NextContinuationToken>'),
    ],
    ['an unknown encoding', page('<EncodingType>base64</EncodingType>')],
    ['a key that does not decode', page('<EncodingType>url</EncodingType><Contents><Key>%FF%FE</Key></Contents>')],
    ['a broken escape', page('<EncodingType>url</EncodingType><Contents><Key>%G1</Key></Contents>')],
    ['a prefix without text', page('<CommonPrefixes></CommonPrefixes>')],
    ['deep nesting', page('<a><a><a><a><a><a><a><a><a>x</a></a></a></a></a></a></a></a></a>')],
    ['empty', ''],
  ])('refuses %s', (_name, xml) => {
    expect(parseListObjectsV2(xml)).toBeUndefined();
  });
});

describe('readXml', () => {
  it('reads a byte-order mark, a declaration, self-closing elements and character references', () => {
    const root = readXml('\ufeff<?xml version="1.0"?><R><A/><B>&#65;&#x42;</B></R>')!;
    expect(root.children.map((c) => [c.name, c.text])).toEqual([
      ['A', ''],
      ['B', 'AB'],
    ]);
  });
});
