import { Inject, Injectable, Optional } from '@nestjs/common';
import type { Logger } from 'pino';
import { Semaphore, SemaphoreTimeoutError } from '@stowage/concurrency';
import { isStowageError, StowageError } from '@stowage/errors';
import { objectKeyProblem, prefixProblem } from '@stowage/s3-naming';
import { AuditService } from '../audit/audit.service';
import { LOGGER } from '../logging/logging.module';
import { Backend, CompletedPart, ObjectInfo } from '../storage-backends/backend';
import { BackendRegistry } from '../storage-backends/backend-registry.service';
import { assertBucketName } from '../storage-backends/bucket-name';
import { Actor } from '../access/actor';
import { toObjectInfoDto } from './dto/object.dto';
import { CopyObjectDto, CopyObjectResultDto, CopyPrefixDto } from './dto/transfer.dto';
import { normalizeMetadata } from './object-attributes.service';
import { assertKey, ObjectTarget } from './objects.service';

const MiB = 1024 * 1024;

/** Cross-backend objects up to this size go in one PutObject; larger ones as a multipart upload. */
export const SINGLE_PUT_MAX_BYTES = 16 * MiB;
/** The part size of a streamed multipart copy (raised when needed to stay under the part limit). */
export const TRANSFER_PART_BYTES = 16 * MiB;
/** Parts of one object in flight at once. */
export const PARTS_PER_TRANSFER = 4;
/** Parts in flight across every transfer of this process: bounds memory and sockets. */
export const PARTS_PER_PROCESS = 16;
/** Objects of one prefix copy or move in flight at once. */
export const OBJECTS_PER_PREFIX_COPY = 4;
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

const LIST_PAGE = 1000;

/** One side of a transfer: a live backend and a validated bucket. */
interface Side {
  backendId: string;
  backend: Backend;
  bucket: string;
}

interface CopyRequest {
  src: Side;
  dst: Side;
  srcKey: string;
  dstKey: string;
  versionId?: string;
  metadata?: Record<string, string>;
  overwrite: boolean;
  signal?: AbortSignal;
}

/** One line of a prefix operation's NDJSON answer. */
export type TransferEvent =
  | ({ event: 'start' } & Record<string, unknown>)
  | { event: 'object'; src: string; dst: string; size: number }
  | { event: 'object'; key: string }
  | { event: 'error'; src?: string; key?: string; code: string; message: string }
  | { event: 'done'; copied?: number; deleted?: number; failed: number; bytes?: number };

function assertPrefix(prefix: string): void {
  const problem = prefixProblem(prefix);
  if (problem) throw new StowageError('invalid_prefix', undefined, `prefix: ${problem}`);
}

/** Runs `task` over `source` with at most `limit` in flight, yielding results as they finish. */
async function* bounded<T, R>(
  source: AsyncIterable<T>,
  limit: number,
  task: (item: T) => Promise<R>,
): AsyncGenerator<R> {
  const iterator = source[Symbol.asyncIterator]();
  const running = new Map<number, Promise<{ id: number; result: R }>>();
  let nextId = 0;
  let exhausted = false;
  let sourceError: unknown;
  try {
    for (;;) {
      while (!exhausted && running.size < limit) {
        let next: IteratorResult<T>;
        try {
          next = await iterator.next();
        } catch (err) {
          sourceError = err;
          exhausted = true;
          break;
        }
        if (next.done) {
          exhausted = true;
          break;
        }
        const id = nextId++;
        running.set(
          id,
          task(next.value).then((result) => ({ id, result })),
        );
      }
      if (running.size === 0) break;
      const { id, result } = await Promise.race(running.values());
      running.delete(id);
      yield result;
    }
  } finally {
    if (!exhausted) await iterator.return?.();
  }
  if (sourceError !== undefined) throw sourceError;
}

/**
 * Copies and moves: one object or a whole prefix, within a backend (server-side CopyObject) or
 * across backends (streamed through this process, never buffered whole). Moves are a copy
 * followed by a delete of the source, so they are not atomic.
 */
@Injectable()
export class TransfersService {
  private readonly partSlots = new Semaphore(PARTS_PER_PROCESS, 1000, 15 * 60_000);
  private readonly copyLimits: ServerSideCopyLimits;

  constructor(
    private readonly registry: BackendRegistry,
    private readonly audit: AuditService,
    @Inject(LOGGER) private readonly logger: Logger,
    @Optional() @Inject(SERVER_SIDE_COPY_LIMITS) copyLimits?: Partial<ServerSideCopyLimits>,
  ) {
    this.copyLimits = { ...DEFAULT_SERVER_SIDE_COPY_LIMITS, ...copyLimits };
  }

  private side(backendId: string, bucket: string): Side {
    const backend = this.registry.get(backendId);
    assertBucketName(bucket);
    return { backendId, backend, bucket };
  }

  private sides(source: ObjectTarget, body: { dst_bucket?: string; dst_backend?: string }): [Side, Side] {
    const src = this.side(source.backendId, source.bucket);
    const dst = this.side(body.dst_backend ?? source.backendId, body.dst_bucket ?? source.bucket);
    return [src, dst];
  }

  async copy(source: ObjectTarget, body: CopyObjectDto, actor: Actor): Promise<CopyObjectResultDto> {
    const [src, dst] = this.sides(source, body);
    assertKey(body.src_key);
    assertKey(body.dst_key);
    if (body.metadata !== undefined) body.metadata = normalizeMetadata(body.metadata);
    const sameObject = src.backendId === dst.backendId && src.bucket === dst.bucket && body.src_key === body.dst_key;
    if (sameObject && (body.move || body.metadata === undefined)) {
      throw new StowageError('bad_request', undefined, 'the source and the destination are the same object');
    }
    if (body.move && body.version_id) {
      throw new StowageError('bad_request', undefined, 'move copies the current version only; omit version_id');
    }
    const { size } = await this.copyOne({
      src,
      dst,
      srcKey: body.src_key,
      dstKey: body.dst_key,
      versionId: body.version_id,
      metadata: body.metadata,
      overwrite: body.overwrite ?? true,
    });
    if (body.move) await src.backend.deleteObject(src.bucket, body.src_key);
    const cross = src.backendId !== dst.backendId;
    await this.audit.recordBy(actor, {
      action: cross ? 'object.transfer' : 'object.copy',
      backendId: source.backendId,
      bucket: source.bucket,
      key: body.src_key,
      detail: {
        dst_backend: dst.backendId,
        dst_bucket: dst.bucket,
        dst_key: body.dst_key,
        size,
        move: body.move === true,
        ...(body.version_id ? { version_id: body.version_id } : {}),
      },
    });
    const info = await dst.backend.headObject(dst.bucket, body.dst_key);
    return { bucket: dst.bucket, backend: dst.backendId, key: body.dst_key, object: toObjectInfoDto(info) };
  }

  /**
   * Validates a prefix copy and reads the first source page (so a missing bucket or backend is a
   * plain JSON error), then returns the event stream that does the work as it is read.
   */
  async copyPrefix(source: ObjectTarget, body: CopyPrefixDto, actor: Actor): Promise<AsyncGenerator<TransferEvent>> {
    const [src, dst] = this.sides(source, body);
    assertPrefix(body.src_prefix);
    assertPrefix(body.dst_prefix);
    if (body.metadata !== undefined) body.metadata = normalizeMetadata(body.metadata);
    const sameBucket = src.backendId === dst.backendId && src.bucket === dst.bucket;
    if (sameBucket && body.dst_prefix.startsWith(body.src_prefix)) {
      throw new StowageError(
        'invalid_prefix',
        undefined,
        'dst_prefix must not lie inside src_prefix in the same bucket',
      );
    }
    const first = await src.backend.listObjects({ bucket: src.bucket, prefix: body.src_prefix, maxKeys: LIST_PAGE });
    if (!sameBucket) await dst.backend.headBucket(dst.bucket);
    return this.runCopyPrefix(src, dst, body, first.objects, first.nextContinuationToken, source, actor);
  }

  private async *runCopyPrefix(
    src: Side,
    dst: Side,
    body: CopyPrefixDto,
    firstPage: ObjectInfo[],
    token: string | undefined,
    source: ObjectTarget,
    actor: Actor,
  ): AsyncGenerator<TransferEvent> {
    const cross = src.backendId !== dst.backendId;
    const move = body.move === true;
    const controller = new AbortController();
    let copied = 0;
    let failed = 0;
    let bytes = 0;
    let recorded = false;
    const record = (complete: boolean) => {
      recorded = true;
      return this.audit.recordBy(actor, {
        action: cross ? 'object.transfer_prefix' : 'object.copy_prefix',
        backendId: source.backendId,
        bucket: source.bucket,
        key: null,
        detail: {
          src_prefix: body.src_prefix,
          dst_backend: dst.backendId,
          dst_bucket: dst.bucket,
          dst_prefix: body.dst_prefix,
          move,
          copied,
          failed,
          bytes,
          complete,
        },
      });
    };
    const copyEntry = async (object: ObjectInfo): Promise<TransferEvent> => {
      const dstKey = body.dst_prefix + object.key.slice(body.src_prefix.length);
      try {
        const problem = objectKeyProblem(dstKey);
        if (problem) throw new StowageError('invalid_key', undefined, `key: ${problem}`);
        const { size } = await this.copyOne({
          src,
          dst,
          srcKey: object.key,
          dstKey,
          metadata: body.metadata,
          overwrite: body.overwrite ?? true,
          signal: controller.signal,
        });
        if (move) await src.backend.deleteObject(src.bucket, object.key);
        return { event: 'object', src: object.key, dst: dstKey, size };
      } catch (err) {
        return { event: 'error', src: object.key, ...this.describe(err) };
      }
    };
    try {
      yield {
        event: 'start',
        src_backend: src.backendId,
        src_bucket: src.bucket,
        src_prefix: body.src_prefix,
        dst_backend: dst.backendId,
        dst_bucket: dst.bucket,
        dst_prefix: body.dst_prefix,
        move,
      };
      const objects = this.listFrom(src, body.src_prefix, firstPage, token);
      try {
        for await (const event of bounded(objects, OBJECTS_PER_PREFIX_COPY, copyEntry)) {
          if (event.event === 'object' && 'size' in event) {
            copied++;
            bytes += event.size;
          } else failed++;
          yield event;
        }
      } catch (err) {
        failed++;
        yield { event: 'error', src: body.src_prefix, ...this.describe(err) };
      }
      await record(true);
      yield { event: 'done', copied, failed, bytes };
    } finally {
      controller.abort();
      if (!recorded) await record(false);
    }
  }

  /** Validates a recursive delete and reads the first page before any byte of the answer. */
  async deletePrefix(target: ObjectTarget, prefix: string, actor: Actor): Promise<AsyncGenerator<TransferEvent>> {
    const side = this.side(target.backendId, target.bucket);
    if (prefix === '') throw new StowageError('invalid_prefix', undefined, 'prefix: must not be empty');
    assertPrefix(prefix);
    const first = await side.backend.listObjects({ bucket: side.bucket, prefix, maxKeys: LIST_PAGE });
    return this.runDeletePrefix(side, prefix, first.objects, first.nextContinuationToken, target, actor);
  }

  private async *runDeletePrefix(
    side: Side,
    prefix: string,
    firstPage: ObjectInfo[],
    firstToken: string | undefined,
    target: ObjectTarget,
    actor: Actor,
  ): AsyncGenerator<TransferEvent> {
    let deleted = 0;
    let failed = 0;
    let recorded = false;
    const record = (complete: boolean) => {
      recorded = true;
      return this.audit.recordBy(actor, {
        action: 'object.delete_prefix',
        backendId: target.backendId,
        bucket: target.bucket,
        key: null,
        detail: { prefix, deleted, failed, complete },
      });
    };
    try {
      yield { event: 'start', backend: side.backendId, bucket: side.bucket, prefix };
      let page = firstPage;
      let token = firstToken;
      for (;;) {
        if (page.length > 0) {
          try {
            const result = await side.backend.deleteObjects(
              side.bucket,
              page.map((o) => ({ key: o.key })),
            );
            for (const d of result.deleted) {
              deleted++;
              yield { event: 'object', key: d.key };
            }
            for (const e of result.errors) {
              failed++;
              yield { event: 'error', key: e.key, code: 'backend_error', message: `${e.code}: ${e.message}` };
            }
          } catch (err) {
            failed += page.length;
            for (const o of page) yield { event: 'error', key: o.key, ...this.describe(err) };
          }
        }
        if (!token) break;
        try {
          const next = await side.backend.listObjects({
            bucket: side.bucket,
            prefix,
            continuationToken: token,
            maxKeys: LIST_PAGE,
          });
          page = next.objects;
          token = next.nextContinuationToken;
        } catch (err) {
          failed++;
          yield { event: 'error', key: prefix, ...this.describe(err) };
          break;
        }
      }
      await record(true);
      yield { event: 'done', deleted, failed };
    } finally {
      if (!recorded) await record(false);
    }
  }

  private async *listFrom(
    side: Side,
    prefix: string,
    firstPage: ObjectInfo[],
    firstToken: string | undefined,
  ): AsyncGenerator<ObjectInfo> {
    yield* firstPage;
    let token = firstToken;
    while (token) {
      const page = await side.backend.listObjects({
        bucket: side.bucket,
        prefix,
        continuationToken: token,
        maxKeys: LIST_PAGE,
      });
      yield* page.objects;
      token = page.nextContinuationToken;
    }
  }

  /** Copies one object; answers its size. */
  private async copyOne(request: CopyRequest): Promise<{ size: number }> {
    const { src, dst } = request;
    if (!request.overwrite && (await this.exists(dst, request.dstKey))) {
      throw new StowageError('object_exists', undefined, `${dst.bucket}/${request.dstKey} already exists`);
    }
    const head = await src.backend.headObject(src.bucket, request.srcKey, request.versionId);
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
      return { size: head.size };
    }
    if (head.size <= SINGLE_PUT_MAX_BYTES) await this.streamSingle(request, head);
    else await this.streamMultipart(request, head);
    return { size: head.size };
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

  private describe(err: unknown): { code: string; message: string } {
    if (isStowageError(err))
      return { code: err.code, message: err.detail ? `${err.message} ${err.detail}` : err.message };
    this.logger.error({ err: (err as Error)?.message }, 'transfer failed');
    return { code: 'internal', message: 'Internal error.' };
  }
}
