import type { IncomingMessage } from 'node:http';
import { Injectable } from '@nestjs/common';
import { Readable } from 'node:stream';
import { StowageError } from '@stowage/errors';
import { prefixProblem } from '@stowage/s3-naming';
import { AuditService } from '../audit/audit.service';
import { ByteRange, ObjectStream } from '../storage-backends/backend';
import { BackendRegistry } from '../storage-backends/backend-registry.service';
import { Actor } from '../access/actor';
import {
  BulkDeleteResultDto,
  ListObjectsQuery,
  ListObjectsResultDto,
  MAX_BULK_DELETE_KEYS,
  ObjectIdentifierDto,
  ObjectInfoDto,
  toObjectInfoDto,
} from './dto/object.dto';
import { QuotaReservations } from '../quotas/quota-reservations.service';
import { replacedChange } from '../quotas/replaced-size';
import { FormUploadOptions, FormUploadService } from './form-upload.service';
import { quotaOrigin, replacing } from './quota-accounting';
import { assertKey, MAX_SINGLE_UPLOAD_BYTES } from './object-rules';

export { assertKey, MAX_SINGLE_UPLOAD_BYTES };
import { absoluteRange } from '../storage-backends/drivers/range';
import { readReplaced, refuseIfExists, sizeIfExists } from '../storage-backends/object-lookup';
import { mapBounded } from '@stowage/concurrency';

export interface ObjectTarget {
  backendId: string;
  bucket: string;
}

/** The audit event of `action` on `key` (null for a batch) in the target bucket. */
export function objectEvent(
  action: string,
  target: ObjectTarget,
  key: string | null,
  detail: Record<string, unknown>,
): { action: string; backendId: string; bucket: string; key: string | null; detail: Record<string, unknown> } {
  return { action, backendId: target.backendId, bucket: target.bucket, key, detail };
}

export interface ReadOptions {
  versionId?: string;
  range?: ByteRange;
  ifNoneMatch?: string;
  ifModifiedSince?: Date;
  signal?: AbortSignal;
}

export interface Upload {
  key: string;
  body: Readable;
  size: number | undefined;
  contentType?: string;
  noOverwrite?: boolean;
}

/** Object reads and writes through the backend seam: validation, streaming, audit. */
@Injectable()
export class ObjectsService {
  constructor(
    private readonly registry: BackendRegistry,
    private readonly forms: FormUploadService,
    private readonly audit: AuditService,
    private readonly quotas: QuotaReservations,
  ) {}

  async list(target: ObjectTarget, query: ListObjectsQuery): Promise<ListObjectsResultDto> {
    const backend = this.registry.forBucket(target);
    const prefix = query.prefix ?? '';
    const problem = prefixProblem(prefix);
    if (problem) throw new StowageError('invalid_prefix', undefined, `prefix: ${problem}`);
    const delimiter = query.delimiter ?? '/';
    const result = await backend.listObjects({
      bucket: target.bucket,
      prefix,
      delimiter: delimiter || undefined,
      continuationToken: query.token || undefined,
      maxKeys: query.max_keys ?? 1000,
    });
    return {
      prefix,
      delimiter,
      common_prefixes: result.commonPrefixes,
      objects: result.objects.map(toObjectInfoDto),
      is_truncated: result.isTruncated,
      next_continuation_token: result.nextContinuationToken ?? '',
    };
  }

  async info(target: ObjectTarget, key: string, versionId?: string): Promise<ObjectInfoDto> {
    const backend = this.registry.forBucket(target);
    assertKey(key);
    return toObjectInfoDto(await backend.headObject(target.bucket, key, versionId));
  }

  async read(target: ObjectTarget, key: string, options: ReadOptions): Promise<ObjectStream> {
    const backend = this.registry.forBucket(target);
    assertKey(key);
    let range = options.range;
    if (range?.suffixLength !== undefined && !backend.capabilities.suffix_ranges) {
      range = absoluteRange(range, (await backend.headObject(target.bucket, key, options.versionId)).size);
    }
    return backend.getObject(target.bucket, key, { ...options, range });
  }

  async upload(target: ObjectTarget, upload: Upload, actor: Actor): Promise<ObjectInfoDto> {
    const backend = this.registry.forBucket(target);
    assertKey(upload.key);
    if (upload.size === undefined)
      throw new StowageError('length_required', undefined, 'send the body with a Content-Length');
    if (upload.size > MAX_SINGLE_UPLOAD_BYTES) {
      throw new StowageError(
        'too_large',
        undefined,
        `a single upload is limited to ${MAX_SINGLE_UPLOAD_BYTES} bytes; use multipart`,
      );
    }
    // An existing key is refused before a byte of the body is read (the write itself is
    // conditional too, for a key that appears meanwhile).
    if (upload.noOverwrite) await refuseIfExists(backend, target.bucket, upload.key);
    // The declared size is held against the hard quota before a byte of the body is read.
    const size = upload.size;
    const info = await this.quotas.reserving(target, size, async (hold) => {
      // The size the upload replaces is read beside it, not before it (see replacedChange).
      const startedAt = Date.now();
      const replaced = hold.limited ? readReplaced(backend, target.bucket, upload.key) : undefined;
      const stored = await backend.putObject({
        bucket: target.bucket,
        key: upload.key,
        body: upload.body,
        size,
        contentType: upload.contentType,
        ifNoneMatch: upload.noOverwrite,
        absenceChecked: upload.noOverwrite,
      });
      if (replaced) {
        await hold.commit(replacedChange(size, await replaced, { etag: stored.etag }, startedAt), quotaOrigin(actor));
      }
      return stored;
    });
    await this.audit.recordBy(actor, objectEvent('object.upload', target, upload.key, { size: upload.size }));
    return toObjectInfoDto(info);
  }

  /** A browser form upload (`multipart/form-data` with `key`, `content_type`, then `file`). */
  async uploadForm(
    target: ObjectTarget,
    request: IncomingMessage,
    contentType: string,
    options: FormUploadOptions,
    actor: Actor,
  ): Promise<ObjectInfoDto> {
    const backend = this.registry.forBucket(target);
    // The form's file has no length: its bytes are reserved as they arrive, part by part.
    const result = await this.quotas.reserving(target, 0, async (hold) => {
      const received = await this.forms.receive(backend, target.bucket, request, contentType, options, hold);
      await hold.commit(replacing(received.size, received.replaced), quotaOrigin(actor));
      return received;
    });
    await this.audit.recordBy(
      actor,
      objectEvent('object.upload', target, result.key, { size: result.size, form: true }),
    );
    return toObjectInfoDto(await backend.headObject(target.bucket, result.key));
  }

  async createFolder(target: ObjectTarget, key: string, actor: Actor): Promise<ObjectInfoDto> {
    const folder = key.endsWith('/') ? key : `${key}/`;
    return this.upload(
      target,
      { key: folder, body: Readable.from([]), size: 0, contentType: 'application/x-directory' },
      actor,
    );
  }

  async delete(target: ObjectTarget, key: string, versionId: string | undefined, actor: Actor): Promise<void> {
    const backend = this.registry.forBucket(target);
    assertKey(key);
    // Only the current version counts towards usage; deleting an older one changes nothing counted.
    const counted = !versionId && (await this.quotas.isLimited(target));
    const size = counted ? await sizeIfExists(backend, target.bucket, key) : undefined;
    await backend.deleteObject(target.bucket, key, versionId);
    if (size !== undefined) await this.quotas.removed(target, { bytes: size, objects: 1 });
    await this.audit.recordBy(
      actor,
      objectEvent('object.delete', target, key, versionId ? { version_id: versionId } : {}),
    );
  }

  async bulkDelete(target: ObjectTarget, keys: ObjectIdentifierDto[], actor: Actor): Promise<BulkDeleteResultDto> {
    const backend = this.registry.forBucket(target);
    if (keys.length > MAX_BULK_DELETE_KEYS)
      throw new StowageError('too_many_keys', undefined, `at most ${MAX_BULK_DELETE_KEYS} keys per request`);
    keys.forEach((k) => assertKey(k.key));
    const counted = await this.quotas.isLimited(target);
    const current = counted ? keys.filter((k) => !k.version_id).map((k) => k.key) : [];
    const sizes = new Map<string, number | undefined>(
      counted
        ? (
            await mapBounded(current, 8, async (key) => [key, await sizeIfExists(backend, target.bucket, key)] as const)
          ).map(([key, size]) => [key, size])
        : [],
    );
    const result = await backend.deleteObjects(
      target.bucket,
      keys.map((k) => ({ key: k.key, versionId: k.version_id })),
    );
    if (counted) {
      let bytes = 0;
      let objects = 0;
      for (const d of result.deleted) {
        const size = d.versionId ? undefined : sizes.get(d.key);
        if (size !== undefined) {
          bytes += size;
          objects++;
          sizes.delete(d.key);
        }
      }
      await this.quotas.removed(target, { bytes, objects });
    }
    await this.audit.recordBy(
      actor,
      objectEvent('object.bulk_delete', target, null, {
        keys: keys.map((k) => k.key),
        deleted: result.deleted.length,
        errors: result.errors.length,
      }),
    );
    return {
      deleted: result.deleted.map((d) => ({ key: d.key, ...(d.versionId ? { version_id: d.versionId } : {}) })),
      errors: result.errors,
    };
  }
}
