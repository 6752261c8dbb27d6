import { flag, keyDecoder, leaf, readXml, timestamp, wholeNumber, XmlElement } from './read';

/**
 * Strict readers of the paged listings beside ListObjectsV2: ListParts, ListMultipartUploads and
 * ListObjectVersions. Like `parseListObjectsV2` they answer undefined for a document of another
 * kind or a repeated, misplaced or malformed field; keys and markers are URL-decoded when the
 * answer says `<EncodingType>url</EncodingType>` (ask for it).
 */

export interface ListedPart {
  partNumber: number;
  etag: string;
  size: number;
  lastModified?: Date;
}

export interface ListPartsPage {
  parts: ListedPart[];
  isTruncated: boolean;
  nextPartNumberMarker?: number;
}

export interface ListedUpload {
  key: string;
  uploadId: string;
  initiated?: Date;
}

export interface ListUploadsPage {
  uploads: ListedUpload[];
  isTruncated: boolean;
  nextKeyMarker?: string;
  nextUploadIdMarker?: string;
}

/** A version or a delete marker, in the order the answer lists them. */
export interface ListedVersion {
  key: string;
  versionId: string;
  isLatest: boolean;
  isDeleteMarker: boolean;
  size: number;
  etag?: string;
  lastModified?: Date;
  storageClass?: string;
}

export interface ListVersionsPage {
  versions: ListedVersion[];
  isTruncated: boolean;
  nextKeyMarker?: string;
  nextVersionIdMarker?: string;
}

type Decode = (value: string) => string | undefined;
const plain: Decode = (value) => value;

/** An optional text field: undefined when absent or empty, null when malformed; decoded by `decode`. */
function text(parent: XmlElement, name: string, decode: Decode = plain): string | undefined | null {
  const raw = leaf(parent, name);
  if (raw === null) return null;
  if (!raw) return undefined;
  return decode(raw) ?? null;
}

function dateField(parent: XmlElement, name: string): Date | undefined | null {
  const raw = leaf(parent, name);
  if (raw === null) return null;
  if (!raw) return undefined;
  return timestamp(raw) ?? null;
}

function numberField(parent: XmlElement, name: string): number | undefined | null {
  const raw = leaf(parent, name);
  if (raw === null) return null;
  if (raw === undefined) return undefined;
  return wholeNumber(raw) ?? null;
}

/** The page's truncation flag (false when absent); undefined when malformed. */
function truncated(root: XmlElement): boolean | undefined {
  const raw = leaf(root, 'IsTruncated');
  if (raw === null) return undefined;
  return raw === undefined ? false : flag(raw);
}

/** The root element when the document reads and is `name`. */
function rootNamed(xml: string, name: string): XmlElement | undefined {
  const root = readXml(xml);
  return root?.name === name ? root : undefined;
}

/** A ListParts answer (`ListPartsResult`). */
export function parseListParts(xml: string): ListPartsPage | undefined {
  const root = rootNamed(xml, 'ListPartsResult');
  if (!root) return undefined;
  const isTruncated = truncated(root);
  const next = numberField(root, 'NextPartNumberMarker');
  if (isTruncated === undefined || next === null) return undefined;
  const page: ListPartsPage = { parts: [], isTruncated };
  if (next !== undefined) page.nextPartNumberMarker = next;
  for (const child of root.children) {
    if (child.name !== 'Part') continue;
    const partNumber = numberField(child, 'PartNumber');
    const size = numberField(child, 'Size');
    const etag = text(child, 'ETag');
    const lastModified = dateField(child, 'LastModified');
    if (typeof partNumber !== 'number' || partNumber < 1 || size === null || etag === null || lastModified === null) {
      return undefined;
    }
    const part: ListedPart = { partNumber, etag: etag ?? '', size: size ?? 0 };
    if (lastModified) part.lastModified = lastModified;
    page.parts.push(part);
  }
  return page;
}

/** A ListMultipartUploads answer (`ListMultipartUploadsResult`). */
export function parseListMultipartUploads(xml: string): ListUploadsPage | undefined {
  const root = rootNamed(xml, 'ListMultipartUploadsResult');
  if (!root) return undefined;
  const decode = keyDecoder(root);
  const isTruncated = truncated(root);
  if (!decode || isTruncated === undefined) return undefined;
  const nextKeyMarker = text(root, 'NextKeyMarker', decode);
  const nextUploadIdMarker = text(root, 'NextUploadIdMarker');
  if (nextKeyMarker === null || nextUploadIdMarker === null) return undefined;
  const page: ListUploadsPage = { uploads: [], isTruncated };
  if (nextKeyMarker) page.nextKeyMarker = nextKeyMarker;
  if (nextUploadIdMarker) page.nextUploadIdMarker = nextUploadIdMarker;
  for (const child of root.children) {
    if (child.name !== 'Upload') continue;
    const key = text(child, 'Key', decode);
    const uploadId = text(child, 'UploadId');
    const initiated = dateField(child, 'Initiated');
    if (!key || !uploadId || initiated === null) return undefined;
    page.uploads.push(initiated ? { key, uploadId, initiated } : { key, uploadId });
  }
  return page;
}

/** A ListObjectVersions answer (`ListVersionsResult`): versions and delete markers in document order. */
export function parseListObjectVersions(xml: string): ListVersionsPage | undefined {
  const root = rootNamed(xml, 'ListVersionsResult');
  if (!root) return undefined;
  const decode = keyDecoder(root);
  const isTruncated = truncated(root);
  if (!decode || isTruncated === undefined) return undefined;
  const nextKeyMarker = text(root, 'NextKeyMarker', decode);
  const nextVersionIdMarker = text(root, 'NextVersionIdMarker');
  if (nextKeyMarker === null || nextVersionIdMarker === null) return undefined;
  const page: ListVersionsPage = { versions: [], isTruncated };
  if (nextKeyMarker) page.nextKeyMarker = nextKeyMarker;
  if (nextVersionIdMarker) page.nextVersionIdMarker = nextVersionIdMarker;
  for (const child of root.children) {
    if (child.name !== 'Version' && child.name !== 'DeleteMarker') continue;
    const marker = child.name === 'DeleteMarker';
    const key = text(child, 'Key', decode);
    const versionId = text(child, 'VersionId');
    const latest = leaf(child, 'IsLatest');
    const size = marker ? 0 : numberField(child, 'Size');
    const etag = text(child, 'ETag');
    const storageClass = text(child, 'StorageClass');
    const lastModified = dateField(child, 'LastModified');
    const isLatest = latest === undefined ? false : latest === null ? undefined : flag(latest);
    if (!key || versionId === null || isLatest === undefined || size === null) return undefined;
    if (etag === null || storageClass === null || lastModified === null) return undefined;
    const version: ListedVersion = {
      key,
      versionId: versionId ?? 'null',
      isLatest,
      isDeleteMarker: marker,
      size: size ?? 0,
    };
    if (!marker && etag) version.etag = etag;
    if (!marker && storageClass) version.storageClass = storageClass;
    if (lastModified) version.lastModified = lastModified;
    page.versions.push(version);
  }
  return page;
}
