import { parseListMultipartUploads, parseListObjectVersions, parseListParts } from './list-uploads';

const doc = (root: string, body: string) =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<${root} xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${body}</${root}>`;

describe('parseListParts', () => {
  it('reads parts, truncation and the next marker', () => {
    const xml = doc(
      'ListPartsResult',
      '<Bucket>b</Bucket><Key>k</Key><UploadId>u</UploadId><PartNumberMarker>0</PartNumberMarker>' +
        '<NextPartNumberMarker>2</NextPartNumberMarker><MaxParts>2</MaxParts><IsTruncated>true</IsTruncated>' +
        '<Part><PartNumber>1</PartNumber><LastModified>2026-01-01T00:00:00.000Z</LastModified><ETag>&quot;a&quot;</ETag><Size>5242880</Size></Part>' +
        '<Part><PartNumber>2</PartNumber><ETag>"b"</ETag><Size>1</Size></Part>',
    );
    expect(parseListParts(xml)).toEqual({
      parts: [
        { partNumber: 1, etag: '"a"', size: 5242880, lastModified: new Date('2026-01-01T00:00:00.000Z') },
        { partNumber: 2, etag: '"b"', size: 1 },
      ],
      isTruncated: true,
      nextPartNumberMarker: 2,
    });
  });

  it.each([
    ['another root', doc('ListBucketResult', '')],
    ['a part number of zero', doc('ListPartsResult', '<Part><PartNumber>0</PartNumber></Part>')],
    ['no part number', doc('ListPartsResult', '<Part><Size>1</Size></Part>')],
    ['a negative size', doc('ListPartsResult', '<Part><PartNumber>1</PartNumber><Size>-1</Size></Part>')],
    ['a huge size', doc('ListPartsResult', '<Part><PartNumber>1</PartNumber><Size>99999999999999999</Size></Part>')],
    ['a bad date', doc('ListPartsResult', '<Part><PartNumber>1</PartNumber><LastModified>x</LastModified></Part>')],
    ['a bad marker', doc('ListPartsResult', '<NextPartNumberMarker>1e3</NextPartNumberMarker>')],
    ['a bad flag', doc('ListPartsResult', '<IsTruncated>1</IsTruncated>')],
    ['two flags', doc('ListPartsResult', '<IsTruncated>true</IsTruncated><IsTruncated>false</IsTruncated>')],
    ['a comment', doc('ListPartsResult', '<!-- x -->')],
    [
      'an entity of its own',
      `<!DOCTYPE x [<!ENTITY e "1">]>${doc('ListPartsResult', '<Part><PartNumber>&e;</PartNumber></Part>')}`,
    ],
    ['empty', ''],
  ])('refuses %s', (_name, xml) => {
    expect(parseListParts(xml)).toBeUndefined();
  });
});

describe('parseListMultipartUploads', () => {
  it('reads uploads and markers, url-decoding keys when the answer is url-encoded', () => {
    const xml = doc(
      'ListMultipartUploadsResult',
      '<Bucket>b</Bucket><EncodingType>url</EncodingType><IsTruncated>true</IsTruncated>' +
        '<NextKeyMarker>a+b%2Bc</NextKeyMarker><NextUploadIdMarker>u/2</NextUploadIdMarker>' +
        '<Upload><Key>sp+ace%2Bplus%25%F0%9F%98%80</Key><UploadId>u/1</UploadId><Initiated>2026-01-01T00:00:00.000Z</Initiated></Upload>' +
        '<Upload><Key>k</Key><UploadId>u/2</UploadId></Upload>',
    );
    expect(parseListMultipartUploads(xml)).toEqual({
      uploads: [
        { key: 'sp ace+plus%😀', uploadId: 'u/1', initiated: new Date('2026-01-01T00:00:00.000Z') },
        { key: 'k', uploadId: 'u/2' },
      ],
      isTruncated: true,
      nextKeyMarker: 'a b+c',
      nextUploadIdMarker: 'u/2',
    });
    const raw = doc('ListMultipartUploadsResult', '<Upload><Key>a+b</Key><UploadId>u</UploadId></Upload>');
    expect(parseListMultipartUploads(raw)?.uploads[0].key).toBe('a+b');
  });

  it.each([
    ['an upload without id', doc('ListMultipartUploadsResult', '<Upload><Key>k</Key></Upload>')],
    ['an upload without key', doc('ListMultipartUploadsResult', '<Upload><UploadId>u</UploadId></Upload>')],
    [
      'a key that does not decode',
      doc(
        'ListMultipartUploadsResult',
        '<EncodingType>url</EncodingType><Upload><Key>%FF</Key><UploadId>u</UploadId></Upload>',
      ),
    ],
    [
      'a marker that does not decode',
      doc('ListMultipartUploadsResult', '<EncodingType>url</EncodingType><NextKeyMarker>%G0</NextKeyMarker>'),
    ],
    ['an unknown encoding', doc('ListMultipartUploadsResult', '<EncodingType>base64</EncodingType>')],
    ['two keys', doc('ListMultipartUploadsResult', '<Upload><Key>a</Key><Key>b</Key><UploadId>u</UploadId></Upload>')],
    ['a namespace prefix', doc('ListMultipartUploadsResult', '<s3:Upload/>')],
    ['CDATA', doc('ListMultipartUploadsResult', '<Upload><Key><![CDATA[k]]></Key><UploadId>u</UploadId></Upload>')],
  ])('refuses %s', (_name, xml) => {
    expect(parseListMultipartUploads(xml)).toBeUndefined();
  });
});

describe('parseListObjectVersions', () => {
  it('reads versions and delete markers in document order, with markers', () => {
    const xml = doc(
      'ListVersionsResult',
      '<Name>b</Name><EncodingType>url</EncodingType><IsTruncated>true</IsTruncated>' +
        '<NextKeyMarker>a%20b</NextKeyMarker><NextVersionIdMarker>v1</NextVersionIdMarker>' +
        '<DeleteMarker><Key>a%20b</Key><VersionId>v3</VersionId><IsLatest>true</IsLatest><LastModified>2026-01-01T00:00:03.000Z</LastModified></DeleteMarker>' +
        '<Version><Key>a%20b</Key><VersionId>v2</VersionId><IsLatest>false</IsLatest><LastModified>2026-01-01T00:00:02.000Z</LastModified>' +
        '<ETag>"e"</ETag><Size>11</Size><StorageClass>STANDARD</StorageClass><Owner><ID>o</ID></Owner></Version>' +
        '<Version><Key>c</Key><VersionId>null</VersionId><IsLatest>true</IsLatest><Size>0</Size></Version>',
    );
    expect(parseListObjectVersions(xml)).toEqual({
      versions: [
        {
          key: 'a b',
          versionId: 'v3',
          isLatest: true,
          isDeleteMarker: true,
          size: 0,
          lastModified: new Date('2026-01-01T00:00:03.000Z'),
        },
        {
          key: 'a b',
          versionId: 'v2',
          isLatest: false,
          isDeleteMarker: false,
          size: 11,
          etag: '"e"',
          storageClass: 'STANDARD',
          lastModified: new Date('2026-01-01T00:00:02.000Z'),
        },
        { key: 'c', versionId: 'null', isLatest: true, isDeleteMarker: false, size: 0 },
      ],
      isTruncated: true,
      nextKeyMarker: 'a b',
      nextVersionIdMarker: 'v1',
    });
  });

  it.each([
    ['a version without key', doc('ListVersionsResult', '<Version><VersionId>v</VersionId></Version>')],
    ['a bad latest flag', doc('ListVersionsResult', '<Version><Key>k</Key><IsLatest>yes</IsLatest></Version>')],
    ['a bad size', doc('ListVersionsResult', '<Version><Key>k</Key><Size>ten</Size></Version>')],
    [
      'two version ids',
      doc('ListVersionsResult', '<Version><Key>k</Key><VersionId>a</VersionId><VersionId>b</VersionId></Version>'),
    ],
    [
      'a bad date',
      doc('ListVersionsResult', '<DeleteMarker><Key>k</Key><LastModified>never</LastModified></DeleteMarker>'),
    ],
    ['another root', doc('ListBucketResult', '')],
    ['text beside elements', doc('ListVersionsResult', 'x<Version><Key>k</Key></Version>')],
    ['an unknown entity', doc('ListVersionsResult', '<Version><Key>&nbsp;</Key></Version>')],
  ])('refuses %s', (_name, xml) => {
    expect(parseListObjectVersions(xml)).toBeUndefined();
  });
});
