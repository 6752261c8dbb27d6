import { randomUUID } from 'node:crypto';
import { Inject, Injectable, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import type { Logger } from 'pino';
import { StowageConfig } from '@stowage/config';
import { StowageError } from '@stowage/errors';
import { LOGGER } from '../logging/logging.module';
import { BucketRef, QuotaStore, ReserveOutcome, SettleOutcome } from './quota-store';

/** Where a write came from, for the audit row of a soft-quota crossing. */
export interface QuotaOrigin {
  via: 'api' | 's3' | 'scan';
  userId?: string | null;
  username?: string | null;
  requestId?: string;
  ip?: string;
  userAgent?: string;
}

/** A committed change of a bucket's content. */
export interface UsageChange {
  /** Bytes added (negative: freed). */
  bytes: number;
  /** Objects added (negative: removed). */
  objects: number;
}

/** A write refused by a hard quota: the bucket's, or (`namespace` set) its namespace's. */
export class QuotaExceededError extends StowageError {
  constructor(
    detail: string,
    readonly namespace?: string,
  ) {
    super('quota_exceeded', undefined, detail);
  }
}

/** Which door a write came through: the dashboard API or the S3 proxy. */
export type QuotaPlane = 'dashboard' | 's3';

/** A write refused because it would pass a bucket's hard quota. */
export interface QuotaRefusal extends BucketRef {
  plane: QuotaPlane;
}

export interface SoftCrossing extends BucketRef {
  usedBytes: number;
  softBytes: number;
  origin: QuotaOrigin;
  /** Set when the namespace (this prefix) crossed its soft cap, by a write into `bucket`. */
  namespace?: string;
}

/**
 * Bytes a write holds against a bucket's hard quota from before its first byte moves until the
 * upstream has committed it (`commit`) or it failed (`release`). On a bucket without a hard quota
 * the hold is empty (`limited: false`) and costs nothing more.
 */
export interface QuotaHold {
  readonly limited: boolean;
  /** Holds `bytes` more (writes of unknown length reserve as they go); quota_exceeded when they do not fit. */
  grow(bytes: number): Promise<void>;
  /** The upstream committed: the reservation turns into usage, moved by `change`. */
  commit(change: UsageChange, origin: QuotaOrigin): Promise<void>;
  /** The write failed or was abandoned: the reserved bytes go back. Never throws. */
  release(): Promise<void>;
}

const EMPTY_HOLD: QuotaHold = {
  limited: false,
  grow: async () => undefined,
  commit: async () => undefined,
  release: async () => undefined,
};

/** How long the answer to "has this bucket a quota?" is reused for accounting decisions. */
const LIMIT_CACHE_MS = 1000;

/**
 * Reservations against hard quotas, shared by every replica through PostgreSQL (one function call
 * per step, see the `stowage_quota_*` functions): a write reserves its declared size before it
 * starts, so concurrent writes on any replicas can never together commit past the cap. The
 * replica renews the reservations it holds; those of a replica that died expire after
 * `quotas.reservation_ttl` and are released by the next sweep (every replica sweeps, and a refused
 * reservation sweeps its bucket first).
 */
@Injectable()
export class QuotaReservations implements OnModuleInit, OnApplicationShutdown {
  private readonly live = new Set<string>();
  private readonly limits = new Map<string, { limited: boolean; at: number }>();
  private readonly softListeners = new Set<(crossing: SoftCrossing) => void>();
  private readonly refusalListeners = new Set<(refusal: QuotaRefusal) => void>();
  private renewTimer?: NodeJS.Timeout;
  private sweepTimer?: NodeJS.Timeout;
  private readonly ttlMs: number;
  /** Counts for the metrics, read on scrape. */
  readonly stats = { refused: 0, reserved: 0, released: 0, expiredBytes: 0 };

  constructor(
    private readonly store: QuotaStore,
    config: StowageConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.ttlMs = config.quotas.reservation_ttl;
  }

  onModuleInit(): void {
    this.renewTimer = setInterval(() => void this.renewLive(), Math.max(250, Math.floor(this.ttlMs / 3)));
    this.renewTimer.unref();
    this.sweepTimer = setInterval(() => void this.sweep(), Math.max(500, this.ttlMs));
    this.sweepTimer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.renewTimer);
    clearInterval(this.sweepTimer);
  }

  /** Calls `listener` whenever a committed write or a scan takes a bucket past its soft quota. */
  onSoftCrossed(listener: (crossing: SoftCrossing) => void): () => void {
    this.softListeners.add(listener);
    return () => this.softListeners.delete(listener);
  }

  /** Calls `listener` for every write refused by a hard quota on this replica (for the metrics). */
  onRefused(listener: (refusal: QuotaRefusal) => void): () => void {
    this.refusalListeners.add(listener);
    return () => this.refusalListeners.delete(listener);
  }

  /**
   * Reserves `bytes` on the bucket before a write coming through `plane`: answers the hold, or
   * throws quota_exceeded (nothing reserved) when they do not fit under the hard quota.
   */
  async reserve(ref: BucketRef, bytes: number, plane: QuotaPlane = 'dashboard'): Promise<QuotaHold> {
    const id = randomUUID();
    const outcome = await this.store.reserve(ref, id, bytes, this.ttlMs);
    this.noteLimit(ref, outcome.outcome !== 'unlimited');
    if (outcome.outcome === 'unlimited') return EMPTY_HOLD;
    if (outcome.outcome !== 'reserved') throw this.refused(ref, bytes, outcome, plane);
    this.stats.reserved++;
    this.live.add(id);
    return this.holdFor(ref, id, plane);
  }

  /**
   * Reserves `bytes` (as `reserve` does), runs `write` with the hold and answers what it answers.
   * `write` commits the hold once the upstream has stored the bytes; when it throws, the hold is
   * released and the error goes on.
   */
  async reserving<T>(
    ref: BucketRef,
    bytes: number,
    write: (hold: QuotaHold) => Promise<T>,
    plane: QuotaPlane = 'dashboard',
  ): Promise<T> {
    const hold = await this.reserve(ref, bytes, plane);
    try {
      return await write(hold);
    } catch (err) {
      await hold.release();
      throw err;
    }
  }

  /** Counts and announces a refusal; answers the quota_exceeded error to throw. */
  private refused(ref: BucketRef, bytes: number, outcome: ReserveOutcome, plane: QuotaPlane): StowageError {
    this.stats.refused++;
    const refusal: QuotaRefusal = { backendId: ref.backendId, bucket: ref.bucket, plane };
    for (const listener of this.refusalListeners) {
      try {
        listener(refusal);
      } catch (err) {
        this.logger.warn({ err: (err as Error).message }, 'quota refusal listener failed');
      }
    }
    return exceeded(ref, bytes, outcome);
  }

  /**
   * Whether the bucket has a hard quota, as last seen (at most a second ago). Used to decide
   * whether a write must learn the size it replaces; the reservation itself always asks
   * PostgreSQL.
   */
  async isLimited(ref: BucketRef): Promise<boolean> {
    const cached = this.limits.get(keyOf(ref));
    if (cached && Date.now() - cached.at < LIMIT_CACHE_MS) return cached.limited;
    const limited = await this.store.isLimited(ref);
    this.noteLimit(ref, limited);
    return limited;
  }

  /** What was last seen (within a second) of whether the bucket has a quota, without asking anyone. */
  limitedHint(ref: BucketRef): boolean | undefined {
    const cached = this.limits.get(keyOf(ref));
    return cached && Date.now() - cached.at < LIMIT_CACHE_MS ? cached.limited : undefined;
  }

  /** Forgets what was seen of a bucket's quota (it was just changed on this replica). */
  limitChanged(ref: BucketRef): void {
    this.limits.delete(keyOf(ref));
  }

  /** Forgets what was seen of every bucket's quota (a namespace quota changed on this replica). */
  limitsChanged(): void {
    this.limits.clear();
  }

  /** Objects went away (deletes, moves): their bytes no longer count. */
  removed(ref: BucketRef, change: UsageChange): Promise<void> {
    return this.adjust(ref, { bytes: -Math.abs(change.bytes), objects: -Math.abs(change.objects) }, { via: 'api' });
  }

  /**
   * Moves a bucket's usage by a committed change that held no reservation (a multipart upload's
   * completion replacing an object, deletes). Only buckets with a quota keep live counts; the
   * others are counted by scans.
   */
  async adjust(ref: BucketRef, change: UsageChange, origin: QuotaOrigin): Promise<void> {
    if (change.bytes === 0 && change.objects === 0) return;
    if (!(await this.isLimited(ref))) return;
    const result = await this.store.settle(ref, null, change.bytes, change.objects);
    this.announceSoftCrossing(ref, result, origin);
  }

  /** Announces a soft crossing found outside a write (a scan). */
  announceSoftCrossing(ref: BucketRef, result: SettleOutcome, origin: QuotaOrigin): void {
    const ns = result.namespace;
    if (ns?.softCrossed && ns.softBytes !== null) {
      this.announce({ ...ref, usedBytes: ns.usedBytes, softBytes: ns.softBytes, origin, namespace: ns.prefix });
    }
    if (!result.softCrossed || result.softBytes === null) return;
    this.announce({ ...ref, usedBytes: result.usedBytes, softBytes: result.softBytes, origin });
  }

  private announce(crossing: SoftCrossing): void {
    for (const listener of this.softListeners) {
      try {
        listener(crossing);
      } catch (err) {
        this.logger.warn({ err: (err as Error).message }, 'soft quota listener failed');
      }
    }
  }

  private holdFor(ref: BucketRef, id: string, plane: QuotaPlane): QuotaHold {
    let done = false;
    return {
      limited: true,
      grow: async (bytes: number) => {
        if (done) throw new Error('the reservation is already settled');
        if (bytes <= 0) return;
        const outcome = await this.store.grow(id, bytes, this.ttlMs);
        if (outcome.outcome !== 'reserved') throw this.refused(ref, bytes, outcome, plane);
      },
      commit: async (change: UsageChange, origin: QuotaOrigin) => {
        if (done) return;
        done = true;
        this.live.delete(id);
        const result = await this.store.settle(ref, id, change.bytes, change.objects);
        this.announceSoftCrossing(ref, result, origin);
      },
      release: async () => {
        if (done) return;
        done = true;
        this.live.delete(id);
        this.stats.released++;
        await this.store.release(id).catch((err: Error) =>
          // Not renewed any more: it expires and the next sweep gives the bytes back.
          this.logger.warn({ err: err.message, bucket: ref.bucket }, 'could not release a quota reservation'),
        );
      },
    };
  }

  private noteLimit(ref: BucketRef, limited: boolean): void {
    if (this.limits.size > 10_000) this.limits.clear();
    this.limits.set(keyOf(ref), { limited, at: Date.now() });
  }

  private async renewLive(): Promise<void> {
    if (this.live.size === 0) return;
    try {
      await this.store.renew([...this.live], this.ttlMs);
    } catch (err) {
      this.logger.warn({ err: (err as Error).message, held: this.live.size }, 'could not renew quota reservations');
    }
  }

  private async sweep(): Promise<void> {
    try {
      const released = await this.store.sweep();
      for (const r of released) {
        this.stats.expiredBytes += r.bytes;
        this.logger.info(
          { backend: r.backendId, bucket: r.bucket, bytes: r.bytes },
          'expired quota reservations released',
        );
      }
    } catch (err) {
      this.logger.debug({ err: (err as Error).message }, 'quota reservation sweep failed');
    }
  }
}

function keyOf(ref: BucketRef): string {
  return `${ref.backendId}\u0000${ref.bucket}`;
}

function exceeded(ref: BucketRef, bytes: number, outcome: ReserveOutcome): StowageError {
  if (outcome.outcome === 'missing') {
    return new StowageError('quota_exceeded', undefined, 'the reservation of this write expired; try again');
  }
  const free = Math.max(0, (outcome.hardBytes ?? 0) - (outcome.usedBytes ?? 0) - (outcome.reservedBytes ?? 0));
  if (outcome.namespace !== null) {
    return new QuotaExceededError(
      `namespace ${outcome.namespace}: ${bytes} bytes do not fit under the namespace's hard quota of ${outcome.hardBytes} bytes (${free} bytes free)`,
      outcome.namespace,
    );
  }
  return new QuotaExceededError(
    `${ref.bucket}: ${bytes} bytes do not fit under the hard quota of ${outcome.hardBytes} bytes (${free} bytes free)`,
  );
}
