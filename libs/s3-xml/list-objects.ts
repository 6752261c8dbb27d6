import { keyDecoder, leaf, readXml, timestamp, wholeNumber, XmlElement } from './read';

/** One object of a listing page. */
export interface ListedObjectEntry {
  key: string;
  size: number;
  etag?: string;
  lastModified?: Date;
  storageClass?: string;
}

/** One page of a ListObjectsV2 answer. */
export interface ListObjectsV2Page {
  objects: ListedObjectEntry[];
  commonPrefixes: string[];
  isTruncated: boolean;
  nextContinuationToken?: string;
}

function objectEntry(
  element: XmlElement,
  decode: (value: string) => string | undefined,
): ListedObjectEntry | undefined {
  const rawKey = leaf(element, 'Key');
  const rawSize = leaf(element, 'Size');
  if (typeof rawKey !== 'string' || rawKey === '') return undefined;
  const key = decode(rawKey);
  if (key === undefined) return undefined;
  let size: number | undefined = 0;
  if (rawSize !== undefined) {
    size = rawSize === null ? undefined : wholeNumber(rawSize);
    if (size === undefined) return undefined;
  }
  const entry: ListedObjectEntry = { key, size };
  const etag = leaf(element, 'ETag');
  const modified = leaf(element, 'LastModified');
  const storageClass = leaf(element, 'StorageClass');
  if (etag === null || modified === null || storageClass === null) return undefined;
  if (etag) entry.etag = etag;
  if (storageClass) entry.storageClass = storageClass;
  if (modified) {
    const date = timestamp(modified);
    if (!date) return undefined;
    entry.lastModified = date;
  }
  return entry;
}

/**
 * A ListObjectsV2 answer (`<ListBucketResult>`), read strictly with {@link readXml}: undefined
 * for a document it cannot read, a repeated or malformed field, or a key that does not decode.
 * Keys and prefixes are URL-decoded when the answer says `<EncodingType>url</EncodingType>`
 * (ask for it: keys with characters XML cannot carry then arrive intact).
 */
export function parseListObjectsV2(xml: string): ListObjectsV2Page | undefined {
  const root = readXml(xml);
  if (!root || root.name !== 'ListBucketResult') return undefined;
  const decode = keyDecoder(root);
  if (!decode) return undefined;
  const truncated = leaf(root, 'IsTruncated');
  if (truncated === null || (truncated !== undefined && truncated !== 'true' && truncated !== 'false')) {
    return undefined;
  }
  const token = leaf(root, 'NextContinuationToken');
  if (token === null) return undefined;
  const page: ListObjectsV2Page = { objects: [], commonPrefixes: [], isTruncated: truncated === 'true' };
  if (token) page.nextContinuationToken = token;
  for (const child of root.children) {
    if (child.name === 'Contents') {
      const entry = objectEntry(child, decode);
      if (!entry) return undefined;
      page.objects.push(entry);
    } else if (child.name === 'CommonPrefixes') {
      const raw = leaf(child, 'Prefix');
      if (typeof raw !== 'string' || raw === '') return undefined;
      const prefix = decode(raw);
      if (prefix === undefined) return undefined;
      page.commonPrefixes.push(prefix);
    }
  }
  return page;
}
