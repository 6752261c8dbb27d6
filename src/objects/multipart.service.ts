import { Injectable } from '@nestjs/common';
import type { Readable } from 'node:stream';
import { isStowageError, StowageError } from '@stowage/errors';
import { prefixProblem } from '@stowage/s3-naming';
import { AuditService } from '../audit/audit.service';
import { QuotaReservations } from '../quotas/quota-reservations.service';
import { Backend, CompletedPart, UploadedPart } from '../storage-backends/backend';
import { BackendRegistry } from '../storage-backends/backend-registry.service';
import { requireCapability } from '../storage-backends/drivers';
import { Actor } from '../access/actor';
import { ObjectInfoDto, toObjectInfoDto } from './dto/object.dto';
import {
  MAX_PART_NUMBER,
  MultipartUploadDto,
  PartListDto,
  PendingUploadsDto,
  UploadedPartResultDto,
} from './dto/multipart.dto';
import { assertKey, objectEvent, ObjectTarget } from './objects.service';
import { quotaOrigin, replacing } from './quota-accounting';
import { sizeIfExists } from '../storage-backends/object-lookup';

/** S3's floor for every part of a multipart upload but the last. */
export const MIN_PART_SIZE_BYTES = 5 * 1024 * 1024;

export interface PartUpload {
  key: string;
  uploadId: string;
  partNumber: number;
  body: Readable;
  /** The request's Content-Length; undefined when the client sent none. */
  size: number | undefined;
}

/** Resumable multipart uploads through the backend seam: validation, the S3 part rules, audit. */
@Injectable()
export class MultipartService {
  constructor(
    private readonly registry: BackendRegistry,
    private readonly audit: AuditService,
    private readonly quotas: QuotaReservations,
  ) {}

  /** Starts an upload; with `noOverwrite`, refuses (`object_exists`) a key that already exists. */
  async initiate(
    target: ObjectTarget,
    key: string,
    options: { contentType?: string; noOverwrite?: boolean },
  ): Promise<MultipartUploadDto> {
    const backend = this.registry.forBucket(target);
    assertKey(key);
    if (options.noOverwrite && (await exists(backend, target.bucket, key))) {
      throw new StowageError('object_exists', undefined, `${key} already exists`);
    }
    // A bucket already at its hard quota takes no new upload (each part is reserved on its own).
    await (await this.quotas.reserve(target, 1)).release();
    const uploadId = await backend.createMultipart(target.bucket, key, { contentType: options.contentType });
    return { bucket: target.bucket, key, upload_id: uploadId };
  }

  async uploadPart(target: ObjectTarget, part: PartUpload, actor: Actor): Promise<UploadedPartResultDto> {
    const backend = this.registry.forBucket(target);
    assertKey(part.key);
    const { max_multipart_parts: maxParts, max_part_size_bytes: maxSize } = backend.capabilities;
    const lastPart = maxParts > 0 ? Math.min(maxParts, MAX_PART_NUMBER) : MAX_PART_NUMBER;
    if (part.partNumber < 1 || part.partNumber > lastPart) {
      throw new StowageError('bad_request', undefined, `part numbers run from 1 to ${lastPart}`);
    }
    const size = part.size;
    if (size === undefined) throw new StowageError('length_required', undefined, 'send the part with a Content-Length');
    if (maxSize > 0 && size > maxSize) {
      throw new StowageError('too_large', undefined, `a part is limited to ${maxSize} bytes on this backend`);
    }
    // Parts take room upstream as soon as they are stored, so each counts from then on.
    return this.quotas.reserving(target, size, async (hold) => {
      const etag = await backend.uploadPart(target.bucket, part.key, part.uploadId, part.partNumber, part.body, size);
      await hold.commit({ bytes: size, objects: 0 }, quotaOrigin(actor));
      return { part_number: part.partNumber, etag };
    });
  }

  /**
   * Assembles the object. Where the backend can list parts, every named part must exist with
   * that ETag and every part but the last must reach 5 MiB, as S3 itself checks at this step.
   */
  async complete(
    target: ObjectTarget,
    key: string,
    uploadId: string,
    parts: CompletedPart[],
    actor: Actor,
  ): Promise<ObjectInfoDto> {
    const backend = this.registry.forBucket(target);
    assertKey(key);
    checkPartOrder(parts);
    if (backend.capabilities.multipart_management) {
      checkAgainstUploaded(parts, await backend.listParts(target.bucket, key, uploadId));
    }
    // The parts already count; a bucket pushed past its hard quota meanwhile completes nothing.
    const info = await this.quotas.reserving(target, 0, async (hold) => {
      const replaced = hold.limited ? await sizeIfExists(backend, target.bucket, key) : undefined;
      const completed = await backend.completeMultipart(target.bucket, key, uploadId, parts);
      await hold.commit(replacing(0, replaced), quotaOrigin(actor));
      return completed;
    });
    await this.audit.recordBy(
      actor,
      objectEvent('object.upload', target, key, { size: info.size, parts: parts.length, multipart: true }),
    );
    return toObjectInfoDto(info);
  }

  async abort(target: ObjectTarget, key: string, uploadId: string): Promise<void> {
    const backend = this.registry.forBucket(target);
    assertKey(key);
    requireCapability(backend.capabilities, 'multipart_management', 'abortMultipart');
    const counted = await this.quotas.isLimited(target);
    const parts = counted ? await backend.listParts(target.bucket, key, uploadId).catch(() => []) : [];
    await backend.abortMultipart(target.bucket, key, uploadId);
    const bytes = parts.reduce((sum, p) => sum + p.size, 0);
    if (bytes > 0) await this.quotas.removed(target, { bytes, objects: 0 });
  }

  async listUploads(target: ObjectTarget, prefix = ''): Promise<PendingUploadsDto> {
    const backend = this.registry.forBucket(target);
    const problem = prefixProblem(prefix);
    if (problem) throw new StowageError('invalid_prefix', undefined, `prefix: ${problem}`);
    requireCapability(backend.capabilities, 'multipart_management', 'listMultipartUploads');
    const uploads = await backend.listMultipartUploads(target.bucket, prefix || undefined);
    return {
      uploads: uploads.map((u) => ({
        key: u.key,
        upload_id: u.uploadId,
        ...(u.initiated ? { initiated: u.initiated.toISOString() } : {}),
      })),
    };
  }

  async listParts(target: ObjectTarget, key: string, uploadId: string): Promise<PartListDto> {
    const backend = this.registry.forBucket(target);
    assertKey(key);
    requireCapability(backend.capabilities, 'multipart_management', 'listParts');
    const parts = await backend.listParts(target.bucket, key, uploadId);
    return {
      parts: parts.map((p) => ({
        part_number: p.partNumber,
        etag: p.etag,
        size: p.size,
        ...(p.lastModified ? { last_modified: p.lastModified.toISOString() } : {}),
      })),
    };
  }
}

async function exists(backend: Backend, bucket: string, key: string): Promise<boolean> {
  try {
    await backend.headObject(bucket, key);
    return true;
  } catch (err) {
    if (isStowageError(err) && err.code === 'not_found') return false;
    throw err;
  }
}

/** S3's InvalidPartOrder: part numbers strictly ascending, so no part twice. */
function checkPartOrder(parts: CompletedPart[]): void {
  for (let i = 1; i < parts.length; i++) {
    if (parts[i].partNumber <= parts[i - 1].partNumber) {
      throw new StowageError(
        'bad_request',
        undefined,
        `InvalidPartOrder: list the parts once each, in ascending order (part ${parts[i].partNumber} follows ${parts[i - 1].partNumber})`,
      );
    }
  }
}

const bareEtag = (etag: string) => etag.replace(/"/g, '');

/** S3's InvalidPart and EntityTooSmall, checked against the parts the upstream holds. */
function checkAgainstUploaded(parts: CompletedPart[], uploaded: UploadedPart[]): void {
  const byNumber = new Map(uploaded.map((p) => [p.partNumber, p]));
  parts.forEach((part, index) => {
    const held = byNumber.get(part.partNumber);
    if (!held) {
      throw new StowageError('bad_request', undefined, `InvalidPart: part ${part.partNumber} was never uploaded`);
    }
    if (bareEtag(held.etag) !== bareEtag(part.etag)) {
      throw new StowageError('bad_request', undefined, `InvalidPart: part ${part.partNumber} has another ETag`);
    }
    if (index < parts.length - 1 && held.size < MIN_PART_SIZE_BYTES) {
      throw new StowageError(
        'bad_request',
        undefined,
        `EntityTooSmall: part ${part.partNumber} is ${held.size} bytes; every part but the last needs at least ${MIN_PART_SIZE_BYTES}`,
      );
    }
  });
}
