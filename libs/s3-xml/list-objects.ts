import { readXml, XmlElement } from './read';

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

/** Decodes a key sent with `encoding-type=url` (a `+` is a space; a literal `+` comes as `%2B`). */
function urlDecoded(value: string): string | undefined {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

function only(parent: XmlElement, name: string): XmlElement | undefined | null {
  let found: XmlElement | undefined;
  for (const child of parent.children) {
    if (child.name !== name) continue;
    if (found) return null;
    found = child;
  }
  return found;
}

/** The text of a leaf child; undefined when absent, null when repeated or not a leaf. */
function leaf(parent: XmlElement, name: string): string | undefined | null {
  const element = only(parent, name);
  if (element === null) return null;
  if (element === undefined) return undefined;
  return element.children.length === 0 ? element.text : null;
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
  let size = 0;
  if (rawSize !== undefined) {
    if (rawSize === null || !/^[0-9]{1,16}$/.test(rawSize)) return undefined;
    size = Number(rawSize);
    if (!Number.isSafeInteger(size)) return undefined;
  }
  const entry: ListedObjectEntry = { key, size };
  const etag = leaf(element, 'ETag');
  const modified = leaf(element, 'LastModified');
  const storageClass = leaf(element, 'StorageClass');
  if (etag === null || modified === null || storageClass === null) return undefined;
  if (etag) entry.etag = etag;
  if (storageClass) entry.storageClass = storageClass;
  if (modified) {
    const date = new Date(modified);
    if (Number.isNaN(date.getTime())) return undefined;
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
  const encoding = leaf(root, 'EncodingType');
  if (encoding === null || (encoding !== undefined && encoding.toLowerCase() !== 'url')) return undefined;
  const decode = encoding === undefined ? (value: string) => value : urlDecoded;
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
