import { Injectable } from '@nestjs/common';
import { StowageError } from '@stowage/errors';
import { Backend } from '../storage-backends/backend';
import { BackendRegistry } from '../storage-backends/backend-registry.service';
import { requireCapability } from '../storage-backends/drivers';
import { ObjectVersionsDto } from './dto/object-attributes.dto';
import { ObjectInfoDto, toObjectInfoDto } from './dto/object.dto';
import { assertKey, ObjectTarget } from './objects.service';

/** S3's limits on object tags. */
export const MAX_TAGS = 10;
export const MAX_TAG_KEY_CHARS = 128;
export const MAX_TAG_VALUE_CHARS = 256;
/** S3's limit on user metadata: the UTF-8 bytes of every key and value together. */
export const MAX_METADATA_BYTES = 2048;

const TAG_CHARS = /^[\p{L}\p{N} +\-=._:/@]*$/u;
/** An HTTP token (RFC 9110 `tchar`): what a header name may be made of. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

const chars = (value: string) => [...value].length;

/** Why a tag set breaks S3's rules (as a catalogue error), or undefined when it is valid. */
export function tagsProblem(tags: Record<string, unknown>): StowageError | undefined {
  const entries = Object.entries(tags);
  if (entries.length > MAX_TAGS) {
    return new StowageError('too_many_tags', undefined, `at most ${MAX_TAGS} tags per object, not ${entries.length}`);
  }
  for (const [key, value] of entries) {
    const invalid = (why: string) => new StowageError('invalid_tag', undefined, `tag ${JSON.stringify(key)}: ${why}`);
    if (chars(key) < 1 || chars(key) > MAX_TAG_KEY_CHARS)
      return invalid(`keys are 1 to ${MAX_TAG_KEY_CHARS} characters`);
    if (!TAG_CHARS.test(key)) return invalid('keys use letters, digits, spaces and + - = . _ : / @ only');
    if (key.toLowerCase().startsWith('aws:')) return invalid('the "aws:" prefix is reserved');
    if (typeof value !== 'string') return invalid('values are strings');
    if (chars(value) > MAX_TAG_VALUE_CHARS) return invalid(`values are at most ${MAX_TAG_VALUE_CHARS} characters`);
    if (!TAG_CHARS.test(value)) return invalid('values use letters, digits, spaces and + - = . _ : / @ only');
  }
  return undefined;
}

/**
 * Validates user metadata and answers it with lower-case keys (S3 stores them so); throws
 * `invalid_metadata` for a key that is no HTTP token, a value that is not printable ASCII, two
 * keys differing in case only, or more than 2 KiB in all.
 */
export function normalizeMetadata(metadata: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  let bytes = 0;
  for (const [rawKey, value] of Object.entries(metadata)) {
    const invalid = (why: string) =>
      new StowageError('invalid_metadata', undefined, `metadata ${JSON.stringify(rawKey)}: ${why}`);
    if (!TOKEN.test(rawKey)) throw invalid("keys are HTTP tokens (letters, digits and !#$%&'*+-.^_`|~)");
    if (typeof value !== 'string') throw invalid('values are strings');
    if (!PRINTABLE_ASCII.test(value)) throw invalid('values are printable ASCII');
    const key = rawKey.toLowerCase();
    if (key in out) throw invalid('another key differs from this one in case only');
    out[key] = value;
    bytes += Buffer.byteLength(key, 'utf8') + Buffer.byteLength(value, 'utf8');
  }
  if (bytes > MAX_METADATA_BYTES) {
    throw new StowageError(
      'invalid_metadata',
      undefined,
      `user metadata is limited to ${MAX_METADATA_BYTES} bytes of keys and values, not ${bytes}`,
    );
  }
  return out;
}

/** Tags, user metadata and versions of one object. Tag and metadata writes are not audited. */
@Injectable()
export class ObjectAttributesService {
  constructor(private readonly registry: BackendRegistry) {}

  private backend(target: ObjectTarget, key: string): Backend {
    const backend = this.registry.forBucket(target);
    assertKey(key);
    return backend;
  }

  async getTags(target: ObjectTarget, key: string, versionId?: string): Promise<{ tags: Record<string, string> }> {
    const backend = this.backend(target, key);
    requireCapability(backend.capabilities, 'tagging', 'getObjectTagging');
    return { tags: await backend.getObjectTagging(target.bucket, key, versionId) };
  }

  async setTags(
    target: ObjectTarget,
    key: string,
    tags: Record<string, unknown>,
    versionId?: string,
  ): Promise<{ tags: Record<string, string> }> {
    const backend = this.backend(target, key);
    const problem = tagsProblem(tags);
    if (problem) throw problem;
    requireCapability(backend.capabilities, 'tagging', 'setObjectTagging');
    const valid = tags as Record<string, string>;
    await backend.setObjectTagging(target.bucket, key, valid, versionId);
    return { tags: valid };
  }

  async setMetadata(target: ObjectTarget, key: string, metadata: Record<string, unknown>): Promise<ObjectInfoDto> {
    const backend = this.backend(target, key);
    const valid = normalizeMetadata(metadata);
    await backend.updateObjectMetadata(target.bucket, key, valid);
    return toObjectInfoDto(await backend.headObject(target.bucket, key));
  }

  /** Every version and delete marker of exactly this key (not of the keys it prefixes), newest first. */
  async versions(target: ObjectTarget, key: string): Promise<ObjectVersionsDto> {
    const backend = this.backend(target, key);
    requireCapability(backend.capabilities, 'versioning', 'listObjectVersions');
    const versions = await backend.listObjectVersions(target.bucket, key);
    return {
      versions: versions
        .filter((v) => v.key === key)
        .map((v) => ({
          key: v.key,
          version_id: v.versionId,
          is_latest: v.isLatest,
          is_delete_marker: v.isDeleteMarker,
          size: v.size,
          ...(v.etag ? { etag: v.etag } : {}),
          ...(v.lastModified ? { last_modified: v.lastModified.toISOString() } : {}),
        })),
    };
  }
}
