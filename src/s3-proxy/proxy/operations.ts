/** The S3 operations the proxy tells apart. Audit actions are `s3.proxy.<operation lower-cased>`. */
export type S3Operation =
  | 'ListBuckets'
  | 'GetBucketLocation'
  | 'GetBucketVersioning'
  | 'ListMultipartUploads'
  | 'ListObjectVersions'
  | 'ListObjects'
  | 'ListObjectsV2'
  | 'HeadBucket'
  | 'GetObject'
  | 'HeadObject'
  | 'GetObjectTagging'
  | 'GetObjectAcl'
  | 'GetObjectAttributes'
  | 'ListParts'
  | 'PutObject'
  | 'PostObject'
  | 'CopyObject'
  | 'UploadPart'
  | 'UploadPartCopy'
  | 'PutObjectTagging'
  | 'DeleteObjectTagging'
  | 'CreateMultipartUpload'
  | 'CompleteMultipartUpload'
  | 'AbortMultipart'
  | 'DeleteObject'
  | 'DeleteObjects'
  | 'PutBucket'
  | 'DeleteBucket'
  | 'BucketConfiguration'
  | 'ObjectConfiguration'
  | 'Unknown';

/**
 * What the proxy does with an operation: forward it upstream, answer it itself, refuse it (bucket
 * lifecycle and configuration stay with the dashboard's admins), or call the request malformed.
 */
export type Disposition = 'forward' | 'synthesise' | 'refuse' | 'invalid';

/** read: GET/HEAD-shaped; write and delete change the upstream and are always audited. */
export type Access = 'read' | 'write' | 'delete';

export interface Classified {
  readonly operation: S3Operation;
  readonly disposition: Disposition;
  readonly access: Access;
}

/** Query parameters that S3 treats as sub-resources: each selects an operation of its own. */
const BUCKET_CONFIGURATION = [
  'accelerate',
  'acl',
  'analytics',
  'cors',
  'encryption',
  'intelligent-tiering',
  'inventory',
  'lifecycle',
  'logging',
  'metrics',
  'notification',
  'object-lock',
  'ownershipControls',
  'policy',
  'policyStatus',
  'publicAccessBlock',
  'replication',
  'requestPayment',
  'tagging',
  'website',
];
const OBJECT_CONFIGURATION = ['acl', 'legal-hold', 'retention', 'restore', 'select', 'torrent'];

/** Query parameter names of a request, as a lookup. */
export type QueryNames = ReadonlySet<string>;

function op(operation: S3Operation, disposition: Disposition, access: Access): Classified {
  return { operation, disposition, access };
}

const has = (names: QueryNames, list: readonly string[]) => list.some((name) => names.has(name));

function bucketRequest(method: string, names: QueryNames): Classified {
  switch (method) {
    case 'GET':
      if (names.has('location')) return op('GetBucketLocation', 'forward', 'read');
      if (names.has('versioning')) return op('GetBucketVersioning', 'forward', 'read');
      if (names.has('uploads')) return op('ListMultipartUploads', 'forward', 'read');
      if (names.has('versions')) return op('ListObjectVersions', 'forward', 'read');
      if (has(names, BUCKET_CONFIGURATION)) return op('BucketConfiguration', 'refuse', 'read');
      return names.has('list-type') ? op('ListObjectsV2', 'forward', 'read') : op('ListObjects', 'forward', 'read');
    case 'HEAD':
      return op('HeadBucket', 'forward', 'read');
    case 'PUT':
      return names.size === 0 ? op('PutBucket', 'refuse', 'write') : op('BucketConfiguration', 'refuse', 'write');
    case 'DELETE':
      return names.size === 0 ? op('DeleteBucket', 'refuse', 'delete') : op('BucketConfiguration', 'refuse', 'delete');
    case 'POST':
      if (names.has('delete')) return op('DeleteObjects', 'forward', 'delete');
      return op('Unknown', 'invalid', 'write');
    default:
      return op('Unknown', 'invalid', 'read');
  }
}

function objectRequest(method: string, names: QueryNames, copySource: boolean): Classified {
  switch (method) {
    case 'GET':
      if (names.has('uploadId')) return op('ListParts', 'forward', 'read');
      if (names.has('tagging')) return op('GetObjectTagging', 'forward', 'read');
      if (names.has('attributes')) return op('GetObjectAttributes', 'forward', 'read');
      if (names.has('acl')) return op('GetObjectAcl', 'forward', 'read');
      if (has(names, OBJECT_CONFIGURATION)) return op('ObjectConfiguration', 'refuse', 'read');
      return op('GetObject', 'forward', 'read');
    case 'HEAD':
      return op('HeadObject', 'forward', 'read');
    case 'PUT':
      if (names.has('partNumber') && names.has('uploadId')) {
        return copySource ? op('UploadPartCopy', 'forward', 'write') : op('UploadPart', 'forward', 'write');
      }
      if (names.has('tagging')) return op('PutObjectTagging', 'forward', 'write');
      if (has(names, OBJECT_CONFIGURATION)) return op('ObjectConfiguration', 'refuse', 'write');
      return copySource ? op('CopyObject', 'forward', 'write') : op('PutObject', 'forward', 'write');
    case 'DELETE':
      if (names.has('uploadId')) return op('AbortMultipart', 'forward', 'delete');
      if (names.has('tagging')) return op('DeleteObjectTagging', 'forward', 'delete');
      if (has(names, OBJECT_CONFIGURATION)) return op('ObjectConfiguration', 'refuse', 'delete');
      return op('DeleteObject', 'forward', 'delete');
    case 'POST':
      if (names.has('uploads')) return op('CreateMultipartUpload', 'forward', 'write');
      if (names.has('uploadId')) return op('CompleteMultipartUpload', 'forward', 'write');
      if (has(names, OBJECT_CONFIGURATION)) return op('ObjectConfiguration', 'refuse', 'write');
      return op('Unknown', 'invalid', 'write');
    default:
      return op('Unknown', 'invalid', 'read');
  }
}

/** Maps method, bucket, key and query onto an S3 operation and what the proxy does with it. */
export function classifyOperation(
  method: string,
  bucket: string,
  key: string,
  names: QueryNames,
  copySource: boolean,
): Classified {
  if (bucket === '') {
    return method === 'GET' ? op('ListBuckets', 'synthesise', 'read') : op('Unknown', 'invalid', 'read');
  }
  return key === '' ? bucketRequest(method, names) : objectRequest(method, names, copySource);
}

/** The operations an anonymous binding may serve: reads of objects and listings, nothing else. */
export const ANONYMOUS_OPERATIONS: ReadonlySet<S3Operation> = new Set<S3Operation>([
  'GetObject',
  'HeadObject',
  'ListObjects',
  'ListObjectsV2',
]);
