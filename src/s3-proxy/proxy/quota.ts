import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import type { QueryParam } from '@stowage/sigv4';
import { parseDeleteResult, type DeleteListEntry } from '@stowage/s3-xml';
import { isStowageError } from '@stowage/errors';
import { mapBounded } from '@stowage/concurrency';
import { LOGGER } from '../../logging/logging.module';
import {
  QuotaExceededError,
  QuotaHold,
  QuotaOrigin,
  QuotaReservations,
  UsageChange,
} from '../../quotas/quota-reservations.service';
import { BucketRef, QuotaStore } from '../../quotas/quota-store';
import { replacedChange, WriteAnswer } from '../../quotas/replaced-size';
import { BackendRegistry } from '../../storage-backends/backend-registry.service';
import { readReplaced, sizeIfExists } from '../../storage-backends/object-lookup';
import type { Exchange, Refusal } from './exchange';
import { S3ProxyError } from './proxy-error';
import type { CopySource, RequestTarget } from './request-target';

/** The upstream's 2xx answer, as far as a quota step reads it. */
export interface UpstreamAnswer extends WriteAnswer {
  /** The answer's body, read whole, when the step asked for it (`readsBody`). */
  body?: string;
}

/** What a write or delete through the proxy does to its bucket's usage once the upstream says yes. */
export interface ProxyQuotaStep {
  /** The step needs the body of a 2xx answer (a DeleteObjects result: what went, what did not). */
  readonly readsBody?: boolean;
  /**
   * The upstream answered 2xx with `answer` (its ETag header, if any): the change is committed
   * (never throws, never delays the answer).
   */
  committed(answer: UpstreamAnswer): void;
  /** The upstream refused, failed, or the client went away: what was reserved goes back. */
  failed(): void;
}

const NOTHING: ProxyQuotaStep = { committed: () => undefined, failed: () => undefined };
/** HEADs a DeleteObjects sends at once to learn the sizes of up to 1,000 keys. */
const DELETE_HEADS_AT_ONCE = 16;

/**
 * Hard quotas at the S3 proxy. Before the body of a PutObject or UploadPart moves (before even
 * `100 Continue`), its declared length is reserved; CopyObject and UploadPartCopy reserve the
 * source's size (or the copied range), CompleteMultipartUpload checks the bucket is not past its
 * cap (its parts already count). A write that does not fit gets `507 EntityTooLarge`. The
 * reservation becomes usage when the upstream answers 2xx (an overwrite frees the size it
 * replaced) and is released otherwise. A PutObject learns the size it replaces from a HEAD sent
 * beside it, never before it (see {@link replacedChange}). Deletes and aborted uploads free what they removed.
 * The proxy refuses bodies of unknown length (`MissingContentLength`), so every proxied write
 * reserves its full size up front.
 */
@Injectable()
export class ProxyQuota {
  constructor(
    private readonly reservations: QuotaReservations,
    private readonly store: QuotaStore,
    private readonly registry: BackendRegistry,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** The step of a write with a body of `length` bytes (or a copy), or a refusal. */
  async write(
    x: Exchange,
    target: RequestTarget,
    params: readonly QueryParam[],
    length: number,
    copySource: CopySource | undefined,
  ): Promise<ProxyQuotaStep | Refusal> {
    const ref = this.refOf(x, target);
    if (!ref) return NOTHING;
    try {
      switch (x.operation) {
        case 'PutObject':
          return await this.put(x, ref, target.key, length);
        case 'PostObject':
          // A form upload's answer may carry no ETag to compare with: the size it replaces is read first.
          return await this.replace(x, ref, target.key, length);
        case 'UploadPart': {
          const hold = await this.reservations.reserve(ref, length, 's3');
          return this.step(x, ref, hold, async () => ({ bytes: length, objects: 0 }));
        }
        case 'CopyObject':
        case 'UploadPartCopy': {
          if (!copySource) return NOTHING;
          const backend = this.registry.forBucket(ref);
          const size =
            (x.operation === 'UploadPartCopy' ? rangeLength(x.req.headers['x-amz-copy-source-range']) : undefined) ??
            ((await this.reservations.isLimited(ref))
              ? ((await sizeIfExists(backend, copySource.bucket, copySource.key, copySource.versionId)) ?? 0)
              : 0);
          if (x.operation === 'UploadPartCopy') {
            const hold = await this.reservations.reserve(ref, size, 's3');
            return this.step(x, ref, hold, async () => ({ bytes: size, objects: 0 }));
          }
          return await this.replace(x, ref, target.key, size);
        }
        case 'CompleteMultipartUpload':
          return await this.replace(x, ref, target.key, 0);
        case 'PutBucket':
          return await this.createBucket(x, ref);
        default:
          void params;
          return NOTHING;
      }
    } catch (err) {
      if (err instanceof QuotaExceededError && err.namespace !== undefined) {
        return new S3ProxyError('EntityTooLarge', `namespace quota exceeded (${err.namespace})`, 'quota_exceeded', {
          extra: { BucketName: ref.bucket, Namespace: err.namespace },
        });
      }
      if (isStowageError(err) && err.code === 'quota_exceeded') {
        return new S3ProxyError('EntityTooLarge', 'bucket quota exceeded', 'quota_exceeded', {
          extra: { BucketName: ref.bucket },
        });
      }
      throw err;
    }
  }

  /**
   * A CreateBucket takes a slot of its namespace's bucket count before it is forwarded (one
   * conditional UPDATE): `TooManyBuckets` when the namespace holds its `max_buckets`; the slot
   * goes back when the upstream refuses or fails.
   */
  private async createBucket(x: Exchange, ref: BucketRef): Promise<ProxyQuotaStep | Refusal> {
    const slot = await this.store.takeBucketSlot(ref);
    if (slot.outcome === 'unlimited') return NOTHING;
    if (slot.outcome === 'refused') {
      return new S3ProxyError(
        'TooManyBuckets',
        `The namespace ${slot.prefix ?? ''} already holds its maximum of ${slot.maxBuckets ?? 0} buckets.`,
        'quota_exceeded',
        { extra: { BucketName: ref.bucket, Namespace: slot.prefix ?? '' } },
      );
    }
    return { committed: () => undefined, failed: () => void this.giveBucketSlot(x, ref) };
  }

  /**
   * A DeleteBucket that succeeds frees its slot of its namespace's bucket count, and its usage row
   * goes (as the dashboard's delete drops it), so the namespace no longer sums it.
   */
  private deleteBucket(x: Exchange, ref: BucketRef): ProxyQuotaStep {
    return {
      committed: () =>
        void Promise.all([
          this.giveBucketSlot(x, ref),
          this.store
            .forgetBucket(ref)
            .catch((err: Error) =>
              this.logger.warn({ reqId: x.requestId, err: err.message }, 'could not forget a deleted bucket'),
            ),
        ]),
      failed: () => undefined,
    };
  }

  private giveBucketSlot(x: Exchange, ref: BucketRef): Promise<void> {
    return this.store
      .giveBucketSlot(ref)
      .catch((err: Error) =>
        this.logger.warn({ reqId: x.requestId, err: err.message }, 'could not give back a namespace bucket slot'),
      );
  }

  /**
   * The step of a DeleteObject or AbortMultipartUpload: frees what it removes, if the bucket keeps
   * a live count; of a DeleteBucket: frees its slot of its namespace's bucket count.
   */
  async remove(x: Exchange, target: RequestTarget, params: readonly QueryParam[]): Promise<ProxyQuotaStep> {
    const ref = this.refOf(x, target);
    if (ref && x.operation === 'DeleteBucket') return this.deleteBucket(x, ref);
    if (!ref || !(await this.reservations.isLimited(ref))) return NOTHING;
    const backend = this.registry.forBucket(ref);
    let change: UsageChange | undefined;
    if (x.operation === 'DeleteObject' && !params.some((p) => p.key === 'versionId')) {
      const size = await sizeIfExists(backend, ref.bucket, target.key).catch(() => undefined);
      if (size !== undefined) change = { bytes: size, objects: 1 };
    } else if (x.operation === 'AbortMultipart') {
      const uploadId = params.find((p) => p.key === 'uploadId')?.value;
      const parts = uploadId
        ? await backend.listParts(ref.bucket, target.key, decodeURIComponent(uploadId)).catch(() => [])
        : [];
      const bytes = parts.reduce((sum, p) => sum + p.size, 0);
      if (bytes > 0) change = { bytes, objects: 0 };
    }
    if (!change) return NOTHING;
    const removed = change;
    return {
      committed: () =>
        void this.reservations
          .removed(ref, removed)
          .catch((err: Error) =>
            this.logger.warn({ reqId: x.requestId, err: err.message }, 'could not count a delete'),
          ),
      failed: () => undefined,
    };
  }

  /**
   * The step of a DeleteObjects of `entries` (checked by checkDeleteList): the sizes of the keys
   * it names are read before the delete, and the usage of those the answer does not list as an
   * `<Error>` is freed (so both verbose and quiet answers count). Entries naming a version are
   * left to scans, as a DeleteObject of a version is; an answer that cannot be read frees nothing
   * (usage then overcounts until the next scan, never undercounts).
   */
  async removeList(x: Exchange, target: RequestTarget, entries: readonly DeleteListEntry[]): Promise<ProxyQuotaStep> {
    const ref = this.refOf(x, target);
    if (!ref || !(await this.reservations.isLimited(ref))) return NOTHING;
    const backend = this.registry.forBucket(ref);
    const keys = [...new Set(entries.filter((e) => e.versionId === undefined).map((e) => e.key))];
    const found = await mapBounded(keys, DELETE_HEADS_AT_ONCE, (key) =>
      sizeIfExists(backend, ref.bucket, key).catch(() => undefined),
    );
    const sizes = new Map<string, number>();
    keys.forEach((key, i) => found[i] !== undefined && sizes.set(key, found[i]));
    if (sizes.size === 0) return NOTHING;
    return {
      readsBody: true,
      committed: ({ body }) => {
        const result = body === undefined ? undefined : parseDeleteResult(body);
        if (!result || !('value' in result)) return;
        for (const error of result.value.errors) if (error.versionId === undefined) sizes.delete(error.key);
        const removed = { bytes: 0, objects: sizes.size };
        for (const size of sizes.values()) removed.bytes += size;
        if (removed.objects === 0) return;
        void this.reservations
          .removed(ref, removed)
          .catch((err: Error) =>
            this.logger.warn({ reqId: x.requestId, err: err.message }, 'could not count a multi-object delete'),
          );
      },
      failed: () => undefined,
    };
  }

  /**
   * A PutObject of `bytes` bytes at `key`. The size it replaces is read by a HEAD that runs beside
   * the reservation and the forward, and is awaited only when the write settles: the write waits
   * for the reservation alone. That HEAD may see the new object; {@link replacedChange} then
   * counts the write whole (never less than it adds) and the next scan corrects the difference.
   */
  private async put(x: Exchange, ref: BucketRef, key: string, bytes: number): Promise<ProxyQuotaStep> {
    const backend = this.registry.forBucket(ref);
    const startedAt = Date.now();
    // Started with the reservation when the bucket is known to have a quota, else once it is.
    const early = this.reservations.limitedHint(ref) ? readReplaced(backend, ref.bucket, key) : undefined;
    const hold = await this.reservations.reserve(ref, bytes, 's3');
    if (!hold.limited) return NOTHING;
    const read = early ?? readReplaced(backend, ref.bucket, key);
    return this.step(x, ref, hold, async (answer) => replacedChange(bytes, await read, answer, startedAt));
  }

  /**
   * A write that replaces whatever object is at `key` with `bytes` bytes (a copy, a multipart
   * completion), whose answer carries the new ETag in its body only: the size it replaces is
   * read before it is forwarded.
   */
  private async replace(x: Exchange, ref: BucketRef, key: string, bytes: number): Promise<ProxyQuotaStep> {
    const backend = this.registry.forBucket(ref);
    // The size being replaced is read beside the reservation when the bucket is known to have a quota.
    const early = this.reservations.limitedHint(ref)
      ? sizeIfExists(backend, ref.bucket, key).then(
          (size) => ({ size }),
          (err: unknown) => ({ err }),
        )
      : undefined;
    const hold = await this.reservations.reserve(ref, bytes, 's3');
    if (!hold.limited) return NOTHING;
    const read = await (early ??
      sizeIfExists(backend, ref.bucket, key).then(
        (size) => ({ size }),
        (err: unknown) => ({ err }),
      ));
    if ('err' in read) {
      await hold.release();
      throw read.err;
    }
    const replaced = read.size;
    return this.step(x, ref, hold, async () => ({
      bytes: bytes - (replaced ?? 0),
      objects: replaced === undefined ? 1 : 0,
    }));
  }

  private step(
    x: Exchange,
    ref: BucketRef,
    hold: QuotaHold,
    change: (answer: WriteAnswer) => Promise<UsageChange>,
  ): ProxyQuotaStep {
    if (!hold.limited) return NOTHING;
    const origin: QuotaOrigin = { via: 's3', userId: x.userId ?? null, requestId: x.requestId, ip: x.ip };
    return {
      // Settled beside the answer, not before it: the reservation holds the room until then.
      committed: (answer) =>
        void change(answer)
          .then((c) => hold.commit(c, origin))
          .catch((err: Error) => {
            this.logger.warn(
              { reqId: x.requestId, bucket: ref.bucket, err: err.message },
              'could not settle a quota reservation',
            );
            return hold.release();
          }),
      failed: () => void hold.release(),
    };
  }

  private refOf(x: Exchange, target: RequestTarget): BucketRef | undefined {
    if (x.backendId === undefined || target.bucket === '') return undefined;
    return { backendId: x.backendId, bucket: target.bucket };
  }
}

/** The length of `bytes=first-last`, or undefined. */
function rangeLength(header: string | string[] | undefined): number | undefined {
  if (typeof header !== 'string') return undefined;
  const match = /^bytes=(\d{1,15})-(\d{1,15})$/.exec(header.trim());
  if (!match) return undefined;
  const first = Number(match[1]);
  const last = Number(match[2]);
  return last >= first ? last - first + 1 : undefined;
}
