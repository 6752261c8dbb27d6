import { Inject, Injectable, Optional } from '@nestjs/common';
import type { Logger } from 'pino';
import { Semaphore, SemaphoreTimeoutError } from '@stowage/concurrency';
import { isStowageError, StowageError } from '@stowage/errors';
import { LOGGER } from '../logging/logging.module';
import { QuotaOrigin, QuotaReservations } from '../quotas/quota-reservations.service';
import { Backend, CompletedPart, ObjectInfo } from '../storage-backends/backend';
import { BackendRegistry } from '../storage-backends/backend-registry.service';
import { replacing } from './quota-accounting';
import { sizeIfExists } from '../storage-backends/object-lookup';

const MiB = 1024 * 1024;

/** Cross-backend objects up to this size go in one PutObject; larger ones as a multipart upload. */
export const SINGLE_PUT_MAX_BYTES = 16 * MiB;
/** The part size of a streamed multipart copy (raised when needed to stay under the part limit). */
export const TRANSFER_PART_BYTES = 16 * MiB;
/** Parts of one object in flight at once. */
export const PARTS_PER_TRANSFER = 4;
/** Parts in flight across every transfer of this process: bounds memory and sockets. */
export const PARTS_PER_PROCESS = 16;
/** S3's limit for a server-side CopyObject; larger same-backend objects are copied part by part. */
export const MAX_SERVER_SIDE_COPY_BYTES = 5 * 1024 * MiB;

/** How same-backend copies are split; the defaults suit S3, tests shrink them. */
export interface ServerSideCopyLimits {
  /** Objects up to this size are copied with one CopyObject; larger ones with UploadPartCopy. */
  maxSingleCopyBytes: number;
  /** Part size of a server-side multipart copy (raised when needed to stay under the part limit). */
  partCopyBytes: number;
}

export const SERVER_SIDE_COPY_LIMITS = Symbol('SERVER_SIDE_COPY_LIMITS');

export const DEFAULT_SERVER_SIDE_COPY_LIMITS: ServerSideCopyLimits = {
  maxSingleCopyBytes: MAX_SERVER_SIDE_COPY_BYTES,
  partCopyBytes: 512 * MiB,
};

/** One side of a transfer: a live backend and a validated bucket. */
export interface Side {
  backendId: string;
  backend: Backend;
  bucket: string;
}

/** One object to copy: where from, where to, and how. */
export interface CopyRequest {
  src: Side;
  dst: Side;
  srcKey: string;
  dstKey: string;
  versionId?: string;
  metadata?: Record<string, string>;
  overwrite: boolean;
  signal?: AbortSignal;
  /** Who copies, for the audit row of a soft-quota crossing at the destination. */
  origin: QuotaOrigin;
}

/**
 * Moves the bytes of one object to another place: a server-side CopyObject (or UploadPartCopy
 * beyond its limit) within a backend, or streamed through this process across backends (one
 * PutObject, or a multipart upload of ranged reads), never buffered whole. Used by single-object
 * copies (`TransfersService`) and prefix streams (`PrefixTransfersService`).
 */
@Injectable()
export class ObjectCopier {
  private readonly partSlots = new Semaphore(PARTS_PER_PROCESS, 1000, 15 * 60_000);
  private readonly copyLimits: ServerSideCopyLimits;

  constructor(
    private readonly registry: BackendRegistry,
    private readonly quotas: QuotaReservations,
    @Inject(LOGGER) private readonly logger: Logger,
    @Optional() @Inject(SERVER_SIDE_COPY_LIMITS) copyLimits?: Partial<ServerSideCopyLimits>,
  ) {
    this.copyLimits = { ...DEFAULT_SERVER_SIDE_COPY_LIMITS, ...copyLimits };
  }

  /** One side of a transfer: the live backend `backendId` and `bucket`, checked against the naming rules. */
  side(backendId: string, bucket: string): Side {
    return { backendId, backend: this.registry.forBucket({ backendId, bucket }), bucket };
  }

  /** The source and destination sides of a copy; the destination defaults to the source's backend and bucket. */
  sides(
    source: { backendId: string; bucket: string },
    body: { dst_bucket?: string; dst_backend?: string },
  ): [Side, Side] {
    const src = this.side(source.backendId, source.bucket);
    const dst = this.side(body.dst_backend ?? source.backendId, body.dst_bucket ?? source.bucket);
    return [src, dst];
  }

  /** Copies one object; answers its size. */
  async copy(request: CopyRequest): Promise<{ size: number }> {
    const { src, dst } = request;
    if (!request.overwrite && (await this.exists(dst, request.dstKey))) {
      throw new StowageError('object_exists', undefined, `${dst.bucket}/${request.dstKey} already exists`);
    }
    const head = await src.backend.headObject(src.bucket, request.srcKey, request.versionId);
    // The source's size is held against the destination's hard quota before any byte moves.
    await this.quotas.reserving({ backendId: dst.backendId, bucket: dst.bucket }, head.size, async (hold) => {
      const replaced = hold.limited ? await sizeIfExists(dst.backend, dst.bucket, request.dstKey) : undefined;
      await this.copyBytes(request, head);
      await hold.commit(replacing(head.size, replaced), request.origin);
    });
    return { size: head.size };
  }

  private async copyBytes(request: CopyRequest, head: ObjectInfo): Promise<void> {
    const { src, dst } = request;
    if (src.backendId === dst.backendId) {
      if (head.size <= this.copyLimits.maxSingleCopyBytes) {
        await src.backend.copyObject(
          { bucket: src.bucket, key: request.srcKey, versionId: request.versionId },
          { bucket: dst.bucket, key: request.dstKey },
          request.metadata !== undefined ? { metadata: request.metadata } : {},
        );
      } else {
        await this.partCopy(request, head);
      }
      return;
    }
    if (head.size <= SINGLE_PUT_MAX_BYTES) await this.streamSingle(request, head);
    else await this.streamMultipart(request, head);
  }

  /** The source of a move went away: its bytes leave the source bucket's usage. */
  async sourceRemoved(side: Side, size: number): Promise<void> {
    await this.quotas.removed({ backendId: side.backendId, bucket: side.bucket }, { bytes: size, objects: 1 });
  }

  private async exists(side: Side, key: string): Promise<boolean> {
    try {
      await side.backend.headObject(side.bucket, key);
      return true;
    } catch (err) {
      if (isStowageError(err) && err.code === 'not_found') return false;
      throw err;
    }
  }

  /** One GetObject piped into one PutObject. */
  private async streamSingle(request: CopyRequest, head: ObjectInfo): Promise<void> {
    const { src, dst } = request;
    const object = await src.backend.getObject(src.bucket, request.srcKey, {
      versionId: request.versionId,
      ifMatch: head.etag,
    });
    if (object.contentLength !== head.size) {
      object.body.destroy();
      throw new StowageError('conflict', undefined, `${request.srcKey} changed during the copy`);
    }
    await dst.backend.putObject({
      bucket: dst.bucket,
      key: request.dstKey,
      body: object.body,
      size: head.size,
      contentType: head.contentType,
      metadata: request.metadata ?? head.metadata,
    });
  }

  /**
   * A multipart upload whose parts are ranged reads of the source, a few at a time. Each part
   * is piped straight through, so memory stays bounded whatever the object's size.
   */
  private async streamMultipart(request: CopyRequest, head: ObjectInfo): Promise<void> {
    const { src, dst } = request;
    const partSize = this.partSize(request, head, TRANSFER_PART_BYTES);
    await this.multipart(request, head, partSize, async (uploadId, partNumber, start, end) => {
      const object = await src.backend.getObject(src.bucket, request.srcKey, {
        versionId: request.versionId,
        range: { start, end },
        ifMatch: head.etag,
      });
      if (object.contentLength !== end - start + 1) {
        object.body.destroy();
        throw new StowageError('conflict', undefined, `${request.srcKey} changed during the copy`);
      }
      return dst.backend.uploadPart(
        dst.bucket,
        request.dstKey,
        uploadId,
        partNumber,
        object.body,
        object.contentLength,
      );
    });
  }

  /**
   * A same-backend copy beyond what one CopyObject may copy: a multipart upload whose parts the
   * upstream fills from ranges of the source itself (UploadPartCopy), several at once. No byte
   * passes through this process.
   */
  private async partCopy(request: CopyRequest, head: ObjectInfo): Promise<void> {
    const { src, dst } = request;
    const partSize = this.partSize(request, head, this.copyLimits.partCopyBytes);
    await this.multipart(request, head, partSize, (uploadId, partNumber, start, end) =>
      dst.backend.uploadPartCopy({
        source: { bucket: src.bucket, key: request.srcKey, versionId: request.versionId },
        range: { start, end },
        ifMatch: head.etag,
        bucket: dst.bucket,
        key: request.dstKey,
        uploadId,
        partNumber,
      }),
    );
  }

  /** `preferred`, raised to whole MiB when the object would need more parts than the destination allows. */
  private partSize(request: CopyRequest, head: ObjectInfo, preferred: number): number {
    const caps = request.dst.backend.capabilities;
    const maxParts = caps.max_multipart_parts > 0 ? caps.max_multipart_parts : 10_000;
    let partSize = preferred;
    if (Math.ceil(head.size / partSize) > maxParts) partSize = Math.ceil(head.size / maxParts / MiB) * MiB;
    if (caps.max_part_size_bytes > 0 && partSize > caps.max_part_size_bytes) {
      throw new StowageError('too_large', undefined, `${request.srcKey} is larger than the destination accepts`);
    }
    return partSize;
  }

  /**
   * Runs a multipart upload of `head.size` bytes in parts of `partSize`, a few at a time, each
   * filled by `fillPart` (which answers the part's ETag). A failure (or the caller's signal)
   * stops new parts; the parts in flight finish, since a piped body cut short would leave its
   * upload hanging; then the upload is aborted.
   */
  private async multipart(
    request: CopyRequest,
    head: ObjectInfo,
    partSize: number,
    fillPart: (uploadId: string, partNumber: number, start: number, end: number) => Promise<string>,
  ): Promise<void> {
    const { dst } = request;
    const count = Math.ceil(head.size / partSize);
    const uploadId = await dst.backend.createMultipart(dst.bucket, request.dstKey, {
      contentType: head.contentType,
      metadata: request.metadata ?? head.metadata,
    });
    const controller = new AbortController();
    const onAbort = () => controller.abort();
    request.signal?.addEventListener('abort', onAbort, { once: true });
    const parts: CompletedPart[] = [];
    let next = 0;
    let failure: unknown;
    const copyPart = async (index: number) => {
      const start = index * partSize;
      const end = Math.min(head.size, start + partSize) - 1;
      const etag = await fillPart(uploadId, index + 1, start, end);
      parts.push({ partNumber: index + 1, etag });
    };
    const worker = async () => {
      while (failure === undefined && !controller.signal.aborted && next < count) {
        const index = next++;
        try {
          await this.partSlots.run(() => copyPart(index));
        } catch (err) {
          failure ??=
            err instanceof SemaphoreTimeoutError ? StowageError.rateLimited(5, 'too many transfers at once') : err;
          controller.abort();
        }
      }
    };
    try {
      await Promise.all(Array.from({ length: Math.min(PARTS_PER_TRANSFER, count) }, worker));
      if (failure === undefined && controller.signal.aborted) {
        failure = new StowageError('bad_request', undefined, 'the transfer was cancelled');
      }
      if (failure === undefined) {
        await dst.backend.completeMultipart(dst.bucket, request.dstKey, uploadId, parts);
        return;
      }
    } catch (err) {
      failure = err;
    } finally {
      request.signal?.removeEventListener('abort', onAbort);
    }
    await dst.backend
      .abortMultipart(dst.bucket, request.dstKey, uploadId)
      .catch((err: Error) =>
        this.logger.warn(
          { backend: dst.backendId, bucket: dst.bucket, key: request.dstKey, err: err.message },
          'could not abort a failed transfer upload',
        ),
      );
    throw failure;
  }
}
