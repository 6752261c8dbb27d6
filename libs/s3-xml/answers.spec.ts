import {
  parseCompleteMultipartUpload,
  parseCopyResult,
  parseDeleteResult,
  parseErrorAnswer,
  parseInitiateMultipartUpload,
  parseTagging,
} from './answers';
import { parseDeleteObjects } from './delete-objects';
import { completeMultipartXml, deleteObjectsXml, taggingXml, xmlCarries } from './xml';

const NS = ' xmlns="http://s3.amazonaws.com/doc/2006-03-01/"';
const doc = (root: string, body: string) => `<?xml version="1.0" encoding="UTF-8"?>\n<${root}${NS}>${body}</${root}>`;
const error =
  '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>InternalError</Code><Message>We &amp; you</Message><RequestId>r</RequestId></Error>';

/** Documents every reader must refuse, whatever root it expects. */
const hostile = (root: string, inner: string) => [
  `<!-- c -->${doc(root, inner)}`,
  `<!DOCTYPE d [<!ENTITY e "x">]>${doc(root, inner)}`,
  doc(root, `<![CDATA[x]]>${inner}`),
  `<s3:${root}>${inner}</s3:${root}>`,
  `${doc(root, inner)}${doc(root, inner)}`,
  `${doc(root, inner)}trailing`,
  doc(root, inner).slice(0, -3),
  doc(root, `${inner}<A><B><C><D><E><F><G><H>x</H></G></F></E></D></C></B></A>`),
  '',
];

describe('answer readers', () => {
  it('read an error document, alone or where a result was expected (200 with <Error>)', () => {
    expect(parseErrorAnswer(error)).toEqual({ code: 'InternalError', message: 'We & you' });
    expect(parseErrorAnswer(doc('CopyObjectResult', '<ETag>"e"</ETag>'))).toBeUndefined();
    expect(parseErrorAnswer('<Error><Code></Code></Error>')).toBeUndefined();
    expect(parseErrorAnswer('<Error><Code>a</Code><Code>b</Code></Error>')).toBeUndefined();
    for (const read of [parseCopyResult, parseInitiateMultipartUpload, parseCompleteMultipartUpload, parseTagging]) {
      expect(read(error)).toEqual({ error: { code: 'InternalError', message: 'We & you' } });
    }
    expect(parseDeleteResult(error)).toEqual({ error: { code: 'InternalError', message: 'We & you' } });
  });

  it('read copy results of objects and parts', () => {
    const object = doc(
      'CopyObjectResult',
      '<LastModified>2026-01-01T00:00:00.000Z</LastModified><ETag>&quot;e1&quot;</ETag>',
    );
    expect(parseCopyResult(object)).toEqual({ value: { etag: '"e1"' } });
    expect(parseCopyResult(doc('CopyPartResult', '<ETag>"p"</ETag>'))).toEqual({ value: { etag: '"p"' } });
    for (const bad of [
      doc('CopyObjectResult', ''),
      doc('CopyObjectResult', '<ETag></ETag>'),
      doc('CopyObjectResult', '<ETag>a</ETag><ETag>b</ETag>'),
      doc('CopyObjectResult', '<ETag><x/></ETag>'),
      doc('InitiateMultipartUploadResult', '<ETag>"e"</ETag>'),
      ...hostile('CopyObjectResult', '<ETag>"e"</ETag>'),
    ]) {
      expect(parseCopyResult(bad)).toBeUndefined();
    }
  });

  it('read the upload id of a new multipart upload', () => {
    const ok = doc('InitiateMultipartUploadResult', '<Bucket>b</Bucket><Key>k</Key><UploadId>2~abc</UploadId>');
    expect(parseInitiateMultipartUpload(ok)).toEqual({ value: { uploadId: '2~abc' } });
    for (const bad of [
      doc('InitiateMultipartUploadResult', '<UploadId></UploadId>'),
      doc('InitiateMultipartUploadResult', '<UploadId>a</UploadId><UploadId>b</UploadId>'),
      ...hostile('InitiateMultipartUploadResult', '<UploadId>u</UploadId>'),
    ]) {
      expect(parseInitiateMultipartUpload(bad)).toBeUndefined();
    }
  });

  it('read a completed upload, with or without its ETag', () => {
    const ok = doc(
      'CompleteMultipartUploadResult',
      '<Location>/b/k</Location><Bucket>b</Bucket><Key>k</Key><ETag>"x-2"</ETag>',
    );
    expect(parseCompleteMultipartUpload(ok)).toEqual({ value: { etag: '"x-2"' } });
    expect(parseCompleteMultipartUpload(doc('CompleteMultipartUploadResult', '<ETag></ETag>'))).toEqual({ value: {} });
    for (const bad of [
      doc('CompleteMultipartUploadResult', '<ETag>a</ETag><ETag>b</ETag>'),
      '<Error><Message>no code</Message></Error>',
      ...hostile('CompleteMultipartUploadResult', '<ETag>"e"</ETag>'),
    ]) {
      expect(parseCompleteMultipartUpload(bad)).toBeUndefined();
    }
  });

  it('read tag sets, empty ones included', () => {
    const ok = doc(
      'Tagging',
      '<TagSet><Tag><Key>a b</Key><Value>c&amp;d</Value></Tag><Tag><Key>e</Key><Value></Value></Tag></TagSet>',
    );
    expect(parseTagging(ok)).toEqual({ value: { 'a b': 'c&d', e: '' } });
    expect(parseTagging(doc('Tagging', '<TagSet></TagSet>'))).toEqual({ value: {} });
    expect(parseTagging(doc('Tagging', '<TagSet/>'))).toEqual({ value: {} });
    // s3rver's answer, with a bare declaration.
    expect(parseTagging('<?xml?><Tagging><TagSet><Tag><Key>a</Key><Value>b</Value></Tag></TagSet></Tagging>')).toEqual({
      value: { a: 'b' },
    });
    expect(parseTagging('<?xmlx?><Tagging><TagSet></TagSet></Tagging>')).toBeUndefined();
    for (const bad of [
      doc('Tagging', '<TagSet><Tag><Key>a</Key></Tag><Tag><Key>a</Key></Tag></TagSet>'),
      doc('Tagging', '<TagSet><Tag><Value>v</Value></Tag></TagSet>'),
      doc('Tagging', '<TagSet><Other/></TagSet>'),
      doc('Tagging', '<TagSet></TagSet><TagSet></TagSet>'),
      doc(
        'Tagging',
        '<TagSet><Tag><Key>__proto__</Key><Value>x</Value></Tag><Tag><Key>__proto__</Key><Value>y</Value></Tag></TagSet>',
      ),
      ...hostile('Tagging', '<TagSet></TagSet>'),
    ]) {
      expect(parseTagging(bad)).toBeUndefined();
    }
  });

  it('read what a DeleteObjects request deleted and what it did not', () => {
    const ok = doc(
      'DeleteResult',
      '<Deleted><Key>a&amp;b</Key></Deleted><Deleted><Key>v</Key><VersionId>1</VersionId><DeleteMarker>true</DeleteMarker></Deleted>' +
        '<Error><Key>c</Key><Code>AccessDenied</Code><Message>no</Message></Error>',
    );
    expect(parseDeleteResult(ok)).toEqual({
      value: {
        deleted: [{ key: 'a&b' }, { key: 'v', versionId: '1' }],
        errors: [{ key: 'c', code: 'AccessDenied', message: 'no' }],
      },
    });
    for (const bad of [
      doc('DeleteResult', '<Deleted><VersionId>1</VersionId></Deleted>'),
      doc('DeleteResult', '<Deleted><Key>a</Key><Key>b</Key></Deleted>'),
      doc('DeleteResult', '<Deleted><Key>a</Key><DeleteMarker>maybe</DeleteMarker></Deleted>'),
      doc('DeleteResult', '<Error><Key>a</Key></Error>'),
      ...hostile('DeleteResult', '<Deleted><Key>a</Key></Deleted>'),
    ]) {
      expect(parseDeleteResult(bad)).toBeUndefined();
    }
  });
});

describe('request body writers', () => {
  it('tell which values XML 1.0 carries', () => {
    expect(xmlCarries('plain é 😀 <&> tab\t nl\n')).toBe(true);
    for (const bad of ['bell\u0007', 'nul\u0000', 'lone \ud800 x', 'lone \udc00 x', '\ufffe', '\uffff']) {
      expect(xmlCarries(bad)).toBe(false);
    }
  });

  it('write DeleteObjects bodies that read back exactly', () => {
    const objects = [{ key: 'a&b <c> "d" \'e\'' }, { key: 'sp ace+plus%25/é😀', versionId: 'v&1' }];
    const xml = deleteObjectsXml(objects);
    expect(xml).toContain('<Quiet>false</Quiet>');
    expect(parseDeleteObjects(xml)).toEqual(objects);
    expect(() => deleteObjectsXml([{ key: 'bell\u0007' }])).toThrow(RangeError);
  });

  it('write CompleteMultipartUpload and tagging bodies', () => {
    expect(completeMultipartXml([{ partNumber: 1, etag: '"e"' }])).toContain(
      '<Part><PartNumber>1</PartNumber><ETag>&quot;e&quot;</ETag></Part>',
    );
    const tags = { 'cost center': 'a&b=c', é: '😀' };
    expect(parseTagging(taggingXml(tags))).toEqual({ value: tags });
    expect(() => taggingXml({ a: 'nul\u0000' })).toThrow(RangeError);
  });
});
