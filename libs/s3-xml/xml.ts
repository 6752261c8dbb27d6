const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n';
const S3_NAMESPACE = 'http://s3.amazonaws.com/doc/2006-03-01/';
// Markup characters, the C0 controls XML 1.0 forbids, lone surrogates and the two non-characters.
// eslint-disable-next-line no-control-regex
const SPECIAL = /[&<>"'\u0000-\u0008\u000b\u000c\u000e-\u001f\ud800-\udfff\ufffe\uffff]/;

/** Escapes text for an XML element or attribute; characters XML 1.0 cannot carry become U+FFFD. */
export function escapeXml(value: string): string {
  if (!SPECIAL.test(value)) return value;
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    switch (c) {
      case 0x26:
        out += '&amp;';
        continue;
      case 0x3c:
        out += '&lt;';
        continue;
      case 0x3e:
        out += '&gt;';
        continue;
      case 0x22:
        out += '&quot;';
        continue;
      case 0x27:
        out += '&apos;';
        continue;
    }
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < value.length) {
      const next = value.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        out += value[i] + value[i + 1];
        i++;
        continue;
      }
    }
    const forbidden =
      (c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) ||
      (c >= 0xd800 && c <= 0xdfff) ||
      c === 0xfffe ||
      c === 0xffff;
    out += forbidden ? '\ufffd' : value[i];
  }
  return out;
}

/** What XML 1.0 cannot carry: C0 controls but tab, LF and CR; lone surrogates; the two non-characters. */
const NOT_CARRIED =
  // eslint-disable-next-line no-control-regex
  /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function element(name: string, value: string): string {
  return `<${name}>${escapeXml(value)}</${name}>`;
}

export interface S3ErrorDocument {
  code: string;
  message: string;
  requestId: string;
  resource?: string;
  bucketName?: string;
  key?: string;
  /** Further S3 error fields (e.g. `StringToSign`); names must be XML names. */
  extra?: Readonly<Record<string, string>>;
}

/** The body S3 answers an error with: `<Error><Code>…</Code>…</Error>`. */
export function errorXml(error: S3ErrorDocument): string {
  let body = `${XML_DECLARATION}<Error>${element('Code', error.code)}${element('Message', error.message)}`;
  if (error.bucketName !== undefined) body += element('BucketName', error.bucketName);
  if (error.key !== undefined) body += element('Key', error.key);
  if (error.resource !== undefined) body += element('Resource', error.resource);
  for (const name in error.extra ?? {}) body += element(name, error.extra![name]);
  return `${body}${element('RequestId', error.requestId)}</Error>`;
}

/**
 * An upstream's error document with `requestId` as its `<RequestId>`: a proxy answers with its own
 * request id in the header, and clients expect the body to name the same one. An `<Error>` without
 * one gets one, as S3's own errors carry it; anything else is returned as it is.
 */
export function withRequestId(errorDocument: string, requestId: string): string {
  const element = `<RequestId>${escapeXml(requestId)}</RequestId>`;
  if (/<RequestId>[^<]*<\/RequestId>/.test(errorDocument)) {
    return errorDocument.replace(/<RequestId>[^<]*<\/RequestId>/, () => element);
  }
  const end = errorDocument.lastIndexOf('</Error>');
  return end === -1 ? errorDocument : `${errorDocument.slice(0, end)}${element}${errorDocument.slice(end)}`;
}

export interface ListedBucket {
  name: string;
  creationDate: Date;
}

/** A `ListAllMyBucketsResult` document. */
export function listBucketsXml(owner: { id: string; displayName: string }, buckets: readonly ListedBucket[]): string {
  let body = `${XML_DECLARATION}<ListAllMyBucketsResult xmlns="${S3_NAMESPACE}"><Owner>${element('ID', owner.id)}${element(
    'DisplayName',
    owner.displayName,
  )}</Owner><Buckets>`;
  for (const bucket of buckets) {
    body += `<Bucket>${element('Name', bucket.name)}${element('CreationDate', bucket.creationDate.toISOString())}</Bucket>`;
  }
  return `${body}</Buckets></ListAllMyBucketsResult>`;
}

/**
 * Whether XML 1.0 carries `value` as it is: no C0 control but tab, line feed and carriage return,
 * no lone surrogate, no U+FFFE or U+FFFF. {@link escapeXml} replaces those characters, which in a
 * request body would name another key or tag than the caller's.
 */
export function xmlCarries(value: string): boolean {
  return !NOT_CARRIED.test(value);
}

/** Escapes `value` for a request body; throws a RangeError when XML 1.0 cannot carry it (see {@link xmlCarries}). */
function exactly(name: string, value: string): string {
  if (!xmlCarries(value)) throw new RangeError(`XML 1.0 cannot carry this ${name}`);
  return element(name, value);
}

/** A DeleteObjects request body; every key must pass {@link xmlCarries}. */
export function deleteObjectsXml(objects: readonly { key: string; versionId?: string }[], quiet = false): string {
  let body = `${XML_DECLARATION}<Delete xmlns="${S3_NAMESPACE}">`;
  for (const o of objects) {
    body += `<Object>${exactly('Key', o.key)}${o.versionId === undefined ? '' : exactly('VersionId', o.versionId)}</Object>`;
  }
  return `${body}<Quiet>${quiet}</Quiet></Delete>`;
}

/** A CompleteMultipartUpload request body, parts in the order given. */
export function completeMultipartXml(parts: readonly { partNumber: number; etag: string }[]): string {
  let body = `${XML_DECLARATION}<CompleteMultipartUpload xmlns="${S3_NAMESPACE}">`;
  for (const p of parts)
    body += `<Part>${element('PartNumber', String(p.partNumber))}${exactly('ETag', p.etag)}</Part>`;
  return `${body}</CompleteMultipartUpload>`;
}

/** A PutObjectTagging request body; every key and value must pass {@link xmlCarries}. */
export function taggingXml(tags: Readonly<Record<string, string>>): string {
  let body = `${XML_DECLARATION}<Tagging xmlns="${S3_NAMESPACE}"><TagSet>`;
  for (const [key, value] of Object.entries(tags))
    body += `<Tag>${exactly('Key', key)}${exactly('Value', value)}</Tag>`;
  return `${body}</TagSet></Tagging>`;
}
