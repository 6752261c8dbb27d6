import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { isStowageError, StowageError } from '@stowage/errors';
import { objectKeyProblem, prefixProblem } from '@stowage/s3-naming';
import { AuditService } from '../audit/audit.service';
import { Actor } from '../access/actor';
import { LOGGER } from '../logging/logging.module';
import { ObjectInfo } from '../storage-backends/backend';
import { CopyPrefixDto } from './dto/transfer.dto';
import { normalizeMetadata } from './object-attributes.service';
import { ObjectCopier, Side } from './object-copier';
import { objectEvent, ObjectTarget } from './objects.service';
import { quotaOrigin } from './quota-accounting';
import { QuotaReservations } from '../quotas/quota-reservations.service';

/** Objects of one prefix copy or move in flight at once. */
export const OBJECTS_PER_PREFIX_COPY = 4;

const LIST_PAGE = 1000;

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
 * Operations over every object under a prefix, answered as a stream of NDJSON events while they
 * run: copy or move a prefix (each object through {@link ObjectCopier}, a few at a time), and
 * recursive delete. Each records one audit event, complete or not.
 */
@Injectable()
export class PrefixTransfersService {
  constructor(
    private readonly copier: ObjectCopier,
    private readonly audit: AuditService,
    private readonly quotas: QuotaReservations,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /**
   * Validates a prefix copy and reads the first source page (so a missing bucket or backend is a
   * plain JSON error), then returns the event stream that does the work as it is read.
   */
  async copyPrefix(source: ObjectTarget, body: CopyPrefixDto, actor: Actor): Promise<AsyncGenerator<TransferEvent>> {
    const [src, dst] = this.copier.sides(source, body);
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
      // The row of a finished run is durable before its `done` event; a run cut short is noted.
      const event = {
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
      };
      return complete ? this.audit.recordBy(actor, event) : this.audit.noteBy(actor, event);
    };
    const copyEntry = async (object: ObjectInfo): Promise<TransferEvent> => {
      const dstKey = body.dst_prefix + object.key.slice(body.src_prefix.length);
      try {
        const problem = objectKeyProblem(dstKey);
        if (problem) throw new StowageError('invalid_key', undefined, `key: ${problem}`);
        const { size } = await this.copier.copy({
          src,
          dst,
          srcKey: object.key,
          dstKey,
          metadata: body.metadata,
          overwrite: body.overwrite ?? true,
          signal: controller.signal,
          origin: quotaOrigin(actor),
        });
        if (move) {
          await src.backend.deleteObject(src.bucket, object.key);
          await this.copier.sourceRemoved(src, size);
        }
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
    const side = this.copier.side(target.backendId, target.bucket);
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
      // The row of a finished run is durable before its `done` event; a run cut short is noted.
      const event = objectEvent('object.delete_prefix', target, null, { prefix, deleted, failed, complete });
      return complete ? this.audit.recordBy(actor, event) : this.audit.noteBy(actor, event);
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
            const sizes = new Map(page.map((o) => [o.key, o.size]));
            let freed = 0;
            for (const d of result.deleted) {
              deleted++;
              freed += sizes.get(d.key) ?? 0;
              yield { event: 'object', key: d.key };
            }
            await this.quotas
              .removed(target, { bytes: freed, objects: result.deleted.length })
              .catch((err: Error) => this.logger.warn({ err: err.message }, 'could not count a prefix delete'));
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

  private describe(err: unknown): { code: string; message: string } {
    if (isStowageError(err))
      return { code: err.code, message: err.detail ? `${err.message} ${err.detail}` : err.message };
    this.logger.error({ err: (err as Error)?.message }, 'transfer failed');
    return { code: 'internal', message: 'Internal error.' };
  }
}
