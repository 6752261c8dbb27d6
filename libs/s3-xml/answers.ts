import { flag, leaf, only, readXml, XmlElement } from './read';

/**
 * Strict readers of the short answers S3 gives to object operations. Each reads with
 * {@link readXml} (no comments, CDATA, DOCTYPE, entities of its own, namespace prefixes) and
 * answers undefined for a document of another kind, or with a field repeated, misplaced or
 * malformed; fields it does not know are passed over.
 */

/** An S3 error document (`<Error><Code>…</Code><Message>…</Message></Error>`). */
export interface ErrorAnswer {
  code: string;
  message: string;
}

/** What an answer document is: an error in disguise (200 with `<Error>`), the expected root, or neither. */
export type Answer<T> = { error: ErrorAnswer } | { value: T } | undefined;

/** The root element when it is one of `names`, or the error the document holds; undefined otherwise. */
function answerRoot(xml: string, names: readonly string[]): { error: ErrorAnswer } | { root: XmlElement } | undefined {
  const root = readXml(xml);
  if (!root) return undefined;
  if (root.name === 'Error') {
    const error = errorOf(root);
    return error ? { error } : undefined;
  }
  return names.includes(root.name) ? { root } : undefined;
}

function errorOf(root: XmlElement): ErrorAnswer | undefined {
  const code = leaf(root, 'Code');
  const message = leaf(root, 'Message');
  if (typeof code !== 'string' || code === '' || message === null) return undefined;
  return { code, message: message ?? '' };
}

/** Reads `xml` as the answer rooted at `name` (or one of `names`), its fields read by `read`. */
function readAnswer<T>(
  xml: string,
  name: string | readonly string[],
  read: (root: XmlElement) => T | undefined,
): Answer<T> {
  const found = answerRoot(xml, typeof name === 'string' ? [name] : name);
  if (!found) return undefined;
  if ('error' in found) return found;
  const value = read(found.root);
  return value === undefined ? undefined : { value };
}

/** An error document alone; undefined for anything else. */
export function parseErrorAnswer(xml: string): ErrorAnswer | undefined {
  const root = readXml(xml);
  return root?.name === 'Error' ? errorOf(root) : undefined;
}

/** The new object's (or part's) ETag of a CopyObject (`CopyObjectResult`) or UploadPartCopy (`CopyPartResult`) answer. */
export function parseCopyResult(xml: string): Answer<{ etag: string }> {
  return readAnswer(xml, ['CopyObjectResult', 'CopyPartResult'], (result) => {
    const etag = leaf(result, 'ETag');
    return typeof etag === 'string' && etag !== '' ? { etag } : undefined;
  });
}

/** The upload id of a CreateMultipartUpload answer (`InitiateMultipartUploadResult`). */
export function parseInitiateMultipartUpload(xml: string): Answer<{ uploadId: string }> {
  return readAnswer(xml, 'InitiateMultipartUploadResult', (result) => {
    const uploadId = leaf(result, 'UploadId');
    return typeof uploadId === 'string' && uploadId !== '' ? { uploadId } : undefined;
  });
}

/**
 * A CompleteMultipartUpload answer (`CompleteMultipartUploadResult`), or the error S3 may send
 * with status 200 once it has started answering. Some upstreams (Ceph RGW) leave the ETag empty.
 */
export function parseCompleteMultipartUpload(xml: string): Answer<{ etag?: string }> {
  return readAnswer(xml, 'CompleteMultipartUploadResult', (result) => {
    const etag = leaf(result, 'ETag');
    if (etag === null) return undefined;
    return etag ? { etag } : {};
  });
}

/** The tags of a GetObjectTagging answer (`<Tagging><TagSet><Tag><Key/><Value/></Tag>…`); a key twice is refused. */
export function parseTagging(xml: string): Answer<Record<string, string>> {
  return readAnswer(xml, 'Tagging', (root) => {
    const set = only(root, 'TagSet');
    if (set === null) return undefined;
    // A Map, so that a key such as `__proto__` is a tag like any other.
    const tags = new Map<string, string>();
    for (const tag of set?.children ?? []) {
      if (tag.name !== 'Tag') return undefined;
      const key = leaf(tag, 'Key');
      const value = leaf(tag, 'Value');
      if (typeof key !== 'string' || key === '' || value === null || tags.has(key)) return undefined;
      tags.set(key, value ?? '');
    }
    return Object.fromEntries(tags);
  });
}

export interface DeletedEntry {
  key: string;
  versionId?: string;
}

export interface DeleteErrorEntry {
  key: string;
  versionId?: string;
  code: string;
  message: string;
}

/** A DeleteObjects answer (`DeleteResult`): what went, and what did not with S3's code for why. */
export function parseDeleteResult(xml: string): Answer<{ deleted: DeletedEntry[]; errors: DeleteErrorEntry[] }> {
  return readAnswer(xml, 'DeleteResult', (root) => {
    const deleted: DeletedEntry[] = [];
    const errors: DeleteErrorEntry[] = [];
    for (const child of root.children) {
      if (child.name !== 'Deleted' && child.name !== 'Error') continue;
      const key = leaf(child, 'Key');
      const versionId = leaf(child, 'VersionId');
      if (typeof key !== 'string' || key === '' || versionId === null) return undefined;
      const entry: DeletedEntry = versionId ? { key, versionId } : { key };
      if (child.name === 'Deleted') {
        const marker = leaf(child, 'DeleteMarker');
        if (marker === null || (marker !== undefined && flag(marker) === undefined)) return undefined;
        deleted.push(entry);
      } else {
        const code = leaf(child, 'Code');
        const message = leaf(child, 'Message');
        if (typeof code !== 'string' || code === '' || message === null) return undefined;
        errors.push({ ...entry, code, message: message ?? '' });
      }
    }
    return { deleted, errors };
  });
}
