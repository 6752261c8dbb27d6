import { ANONYMOUS_OPERATIONS, classifyOperation } from './operations';

const names = (...list: string[]) => new Set(list);

describe('classifyOperation', () => {
  it.each([
    ['GET', '', '', [], false, 'ListBuckets', 'synthesise'],
    ['GET', 'b', '', ['location'], false, 'GetBucketLocation', 'forward'],
    ['GET', 'b', '', ['uploads'], false, 'ListMultipartUploads', 'forward'],
    ['GET', 'b', '', ['versions'], false, 'ListObjectVersions', 'forward'],
    ['GET', 'b', '', [], false, 'ListObjects', 'forward'],
    ['GET', 'b', '', ['list-type', 'prefix'], false, 'ListObjectsV2', 'forward'],
    ['GET', 'b', '', ['policy'], false, 'BucketConfiguration', 'refuse'],
    ['GET', 'b', 'k', ['uploadId'], false, 'ListParts', 'forward'],
    ['GET', 'b', 'k', [], false, 'GetObject', 'forward'],
    ['GET', 'b', 'k', ['versionId', 'response-content-type'], false, 'GetObject', 'forward'],
    ['GET', 'b', 'k', ['tagging'], false, 'GetObjectTagging', 'forward'],
    ['GET', 'b', 'k', ['retention'], false, 'ObjectConfiguration', 'refuse'],
    ['HEAD', 'b', '', [], false, 'HeadBucket', 'forward'],
    ['HEAD', 'b', 'k', [], false, 'HeadObject', 'forward'],
    ['PUT', 'b', '', [], false, 'PutBucket', 'refuse'],
    ['PUT', 'b', '', ['cors'], false, 'BucketConfiguration', 'refuse'],
    ['PUT', 'b', 'k', ['partNumber', 'uploadId'], false, 'UploadPart', 'forward'],
    ['PUT', 'b', 'k', ['partNumber', 'uploadId'], true, 'UploadPartCopy', 'forward'],
    ['PUT', 'b', 'k', [], true, 'CopyObject', 'forward'],
    ['PUT', 'b', 'k', [], false, 'PutObject', 'forward'],
    ['PUT', 'b', 'k', ['tagging'], false, 'PutObjectTagging', 'forward'],
    ['PUT', 'b', 'k', ['acl'], false, 'ObjectConfiguration', 'refuse'],
    ['DELETE', 'b', '', [], false, 'DeleteBucket', 'refuse'],
    ['DELETE', 'b', 'k', ['uploadId'], false, 'AbortMultipart', 'forward'],
    ['DELETE', 'b', 'k', [], false, 'DeleteObject', 'forward'],
    ['POST', 'b', 'k', ['uploads'], false, 'CreateMultipartUpload', 'forward'],
    ['POST', 'b', 'k', ['uploadId'], false, 'CompleteMultipartUpload', 'forward'],
    ['POST', 'b', '', ['delete'], false, 'DeleteObjects', 'forward'],
    ['POST', 'b', 'k', [], false, 'Unknown', 'invalid'],
    ['PATCH', 'b', 'k', [], false, 'Unknown', 'invalid'],
    ['PUT', '', '', [], false, 'Unknown', 'invalid'],
  ] as const)('%s /%s/%s ?%j (copy: %s) is %s, %s', (method, bucket, key, query, copy, operation, disposition) => {
    const classified = classifyOperation(method, bucket, key, names(...query), copy);
    expect(classified.operation).toBe(operation);
    expect(classified.disposition).toBe(disposition);
  });

  it('marks writes and deletes so they are always audited', () => {
    expect(classifyOperation('PUT', 'b', 'k', names(), false).access).toBe('write');
    expect(classifyOperation('DELETE', 'b', 'k', names(), false).access).toBe('delete');
    expect(classifyOperation('POST', 'b', '', names('delete'), false).access).toBe('delete');
    expect(classifyOperation('GET', 'b', 'k', names(), false).access).toBe('read');
  });

  it('allows anonymous callers only object reads and listings', () => {
    expect([...ANONYMOUS_OPERATIONS].sort()).toEqual(['GetObject', 'HeadObject', 'ListObjects', 'ListObjectsV2']);
  });
});
