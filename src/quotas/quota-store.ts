import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { preparedQuery } from '../database/prepared-query';
import { BucketQuotaEntity } from './bucket-quota.entity';
import { BucketSizeTrackingEntity } from './bucket-size-tracking.entity';
import { BucketUsageEntity } from './bucket-usage.entity';
import { NamespaceQuotaEntity } from './namespace-quota.entity';

export interface BucketRef {
  backendId: string;
  bucket: string;
}

/** A namespace: the buckets of a backend whose names start with `prefix` and are longer than it. */
export interface NamespaceRef {
  backendId: string;
  prefix: string;
}

/** The limits of a namespace quota; null means no limit of that kind. */
export interface NamespaceLimits {
  softBytes: number | null;
  hardBytes: number | null;
  maxBuckets: number | null;
}

/** A namespace quota with the bytes its buckets hold and hold in reserve. */
export interface NamespaceQuotaState {
  quota: NamespaceQuotaEntity;
  usedBytes: number;
  reservedBytes: number;
}

/** The answer of a bucket-slot attempt (see `stowage_namespace_take_bucket`). */
export interface BucketSlotOutcome {
  outcome: 'unlimited' | 'reserved' | 'refused';
  prefix: string | null;
  maxBuckets: number | null;
  bucketCount: number | null;
}

/** The answer of a reservation attempt (see the `stowage_quota_*` functions). */
export interface ReserveOutcome {
  outcome: 'unlimited' | 'reserved' | 'refused' | 'missing';
  hardBytes: number | null;
  usedBytes: number | null;
  reservedBytes: number | null;
  /** The prefix of the namespace whose hard quota refused (the figures are then the namespace's). */
  namespace: string | null;
}

export interface SettleOutcome {
  usedBytes: number;
  objects: number;
  softBytes: number | null;
  softCrossed: boolean;
  /** The namespace with a byte quota the bucket is in, with its bytes after the change. */
  namespace?: { prefix: string; usedBytes: number; softBytes: number | null; softCrossed: boolean };
}

/**
 * Reservations and settlements commit without waiting for their WAL flush. PostgreSQL still makes
 * the change visible to every replica at commit, and still flushes it within `wal_writer_delay`
 * (or with the next synchronous commit, such as a write's audit row); only a crash of PostgreSQL
 * itself can lose the last fraction of a second of them. A lost hold is what the expiry sweep
 * already repairs and a lost usage delta what the next scan does, so a reservation on a write's
 * path costs one round trip instead of one disk flush.
 */
const WITHOUT_FLUSH = `set_config('synchronous_commit', 'off', true) AS without_flush`;

/** The statements on every write's path, run as named statements (see preparedQuery). */
const RESERVE = `SELECT q.* FROM ${WITHOUT_FLUSH}, stowage_quota_reserve($1, $2, $3, $4, $5) AS q`;
const GROW = `SELECT q.* FROM ${WITHOUT_FLUSH}, stowage_quota_grow($1, $2, $3) AS q`;
const SETTLE = `SELECT q.* FROM ${WITHOUT_FLUSH}, stowage_quota_settle($1, $2, $3, $4, $5) AS q`;

/** TypeORM answers an UPDATE … RETURNING on PostgreSQL as `[rows, count]`. */
const updatedRows = (result: unknown): unknown[] =>
  Array.isArray(result) && result.length === 2 && Array.isArray(result[0])
    ? (result[0] as unknown[])
    : (result as unknown[]);

const num = (value: string | null): number | null => (value === null ? null : Number(value));

interface OutcomeRow {
  out_outcome: ReserveOutcome['outcome'];
  out_hard: string | null;
  out_used: string | null;
  out_reserved: string | null;
  out_namespace: string | null;
}

function outcomeOf(rows: OutcomeRow[]): ReserveOutcome {
  const [row] = rows;
  return {
    outcome: row.out_outcome,
    hardBytes: num(row.out_hard),
    usedBytes: num(row.out_used),
    reservedBytes: num(row.out_reserved),
    namespace: row.out_namespace,
  };
}

/** Whether bucket `b` (a SQL expression) is in the namespace of prefix `p` (another). */
const IN_NAMESPACE = (b: string, p: string) => `(length(${b}) > length(${p}) AND left(${b}, length(${p})) = ${p})`;

/**
 * The quota tables: limits, the per-bucket size-tracking switch, usage and reservations. Every
 * change to usage or reservations is one statement (or one function call) that PostgreSQL runs
 * atomically, so replicas never read-then-write a counter.
 */
@Injectable()
export class QuotaStore {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  // ---- limits ----

  quota(ref: BucketRef): Promise<BucketQuotaEntity | null> {
    return this.dataSource.getRepository(BucketQuotaEntity).findOneBy({ backendId: ref.backendId, bucket: ref.bucket });
  }

  /**
   * Whether writes into the bucket must be reserved and counted live: it has a byte quota, or it
   * is in a namespace that has one.
   */
  async isLimited(ref: BucketRef): Promise<boolean> {
    const [row] = (await this.dataSource.query(
      `SELECT EXISTS (SELECT 1 FROM bucket_quotas q WHERE q.backend_id = $1 AND q.bucket = $2
                        AND (q.hard_bytes IS NOT NULL OR q.soft_bytes IS NOT NULL))
           OR EXISTS (SELECT 1 FROM namespace_quotas n WHERE n.backend_id = $1 AND ${IN_NAMESPACE('$2', 'n.bucket_prefix')}
                        AND (n.hard_bytes IS NOT NULL OR n.soft_bytes IS NOT NULL)) AS limited`,
      [ref.backendId, ref.bucket],
    )) as Array<{ limited: boolean }>;
    return row.limited;
  }

  quotasOf(backendId: string): Promise<BucketQuotaEntity[]> {
    return this.dataSource.getRepository(BucketQuotaEntity).findBy({ backendId });
  }

  /** Every configured quota, for the metrics (at most `limit` rows). */
  allQuotas(limit: number): Promise<Array<BucketQuotaEntity & { usedBytes: number | null }>> {
    return this.dataSource
      .query(
        `SELECT q.backend_id, q.bucket, q.soft_bytes, q.hard_bytes, u.bytes AS used
         FROM bucket_quotas q LEFT JOIN bucket_usage u ON u.backend_id = q.backend_id AND u.bucket = q.bucket
         ORDER BY q.backend_id, q.bucket LIMIT $1`,
        [limit],
      )
      .then((rows: Array<Record<string, string | null>>) =>
        rows.map((r) => ({
          backendId: r.backend_id as string,
          bucket: r.bucket as string,
          softBytes: num(r.soft_bytes),
          hardBytes: num(r.hard_bytes),
          usedBytes: num(r.used),
          softObjects: null,
          hardObjects: null,
          updatedAt: new Date(0),
          updatedBy: null,
        })),
      );
  }

  async upsertQuota(
    ref: BucketRef,
    limits: { softBytes: number | null; hardBytes: number | null },
    userId: string | null,
  ): Promise<BucketQuotaEntity> {
    const [row] = (await this.dataSource.query(
      `INSERT INTO bucket_quotas (backend_id, bucket, soft_bytes, hard_bytes, updated_at, updated_by)
       VALUES ($1, $2, $3, $4, now(), $5)
       ON CONFLICT (backend_id, bucket) DO UPDATE
         SET soft_bytes = EXCLUDED.soft_bytes, hard_bytes = EXCLUDED.hard_bytes,
             updated_at = EXCLUDED.updated_at, updated_by = EXCLUDED.updated_by
       RETURNING updated_at`,
      [ref.backendId, ref.bucket, limits.softBytes, limits.hardBytes, userId],
    )) as Array<{ updated_at: Date }>;
    // A new soft limit re-decides the flag: crossing it again is news again.
    await this.dataSource.query(
      `UPDATE bucket_usage SET soft_exceeded_at = CASE WHEN $3::bigint IS NOT NULL AND bytes > $3::bigint
         THEN coalesce(soft_exceeded_at, now()) ELSE NULL END
       WHERE backend_id = $1 AND bucket = $2`,
      [ref.backendId, ref.bucket, limits.softBytes],
    );
    return Object.assign(new BucketQuotaEntity(), {
      ...ref,
      ...limits,
      softObjects: null,
      hardObjects: null,
      updatedAt: row.updated_at,
      updatedBy: userId,
    });
  }

  async deleteQuota(ref: BucketRef): Promise<boolean> {
    const result = await this.dataSource
      .getRepository(BucketQuotaEntity)
      .delete({ backendId: ref.backendId, bucket: ref.bucket });
    await this.dataSource.query(
      `UPDATE bucket_usage SET soft_exceeded_at = NULL WHERE backend_id = $1 AND bucket = $2`,
      [ref.backendId, ref.bucket],
    );
    return (result.affected ?? 0) > 0;
  }

  // ---- namespaces ----

  /** The namespace quotas of a backend (every backend when `backendId` is undefined), with their bytes. */
  async namespaceQuotas(backendId?: string, prefix?: string): Promise<NamespaceQuotaState[]> {
    const rows = (await this.dataSource.query(
      `SELECT n.*, s.out_bytes AS used, s.out_reserved AS reserved
       FROM namespace_quotas n, stowage_namespace_usage(n.backend_id, n.bucket_prefix) s
       WHERE ($1::text IS NULL OR n.backend_id = $1) AND ($2::text IS NULL OR n.bucket_prefix = $2)
       ORDER BY n.backend_id, n.bucket_prefix`,
      [backendId ?? null, prefix ?? null],
    )) as Array<Record<string, string | number | Date | null>>;
    return rows.map((r) => ({
      quota: Object.assign(new NamespaceQuotaEntity(), {
        backendId: r.backend_id as string,
        bucketPrefix: r.bucket_prefix as string,
        softBytes: num(r.soft_bytes as string | null),
        hardBytes: num(r.hard_bytes as string | null),
        maxBuckets: r.max_buckets as number | null,
        bucketCount: r.bucket_count as number,
        bucketsCountedAt: r.buckets_counted_at as Date | null,
        softExceededAt: r.soft_exceeded_at as Date | null,
        updatedAt: r.updated_at as Date,
        updatedBy: r.updated_by as string | null,
      }),
      usedBytes: Number(r.used),
      reservedBytes: Number(r.reserved),
    }));
  }

  /** The bytes and reserved bytes of the buckets of any namespace (quota or not). */
  async namespaceUsage(ns: NamespaceRef): Promise<{ usedBytes: number; reservedBytes: number }> {
    const [row] = (await this.dataSource.query(`SELECT * FROM stowage_namespace_usage($1, $2)`, [
      ns.backendId,
      ns.prefix,
    ])) as Array<{ out_bytes: string; out_reserved: string }>;
    return { usedBytes: Number(row.out_bytes), reservedBytes: Number(row.out_reserved) };
  }

  /**
   * Sets a namespace's limits, unless another namespace quota of the backend overlaps it (one is
   * a prefix of the other): answers the prefix of that one instead. Setters of one backend take
   * turns (a transaction-scoped advisory lock), so two overlapping quotas cannot both be set.
   */
  async upsertNamespaceQuota(
    ns: NamespaceRef,
    limits: NamespaceLimits,
    userId: string | null,
  ): Promise<{ overlaps: string } | { set: true }> {
    return this.dataSource.transaction(async (m) => {
      await m.query(`SELECT pg_advisory_xact_lock(hashtext('stowage:namespace_quotas:' || $1))`, [ns.backendId]);
      const [other] = (await m.query(
        `SELECT bucket_prefix FROM namespace_quotas
         WHERE backend_id = $1 AND bucket_prefix <> $2
           AND (left($2, length(bucket_prefix)) = bucket_prefix OR left(bucket_prefix, length($2)) = $2)
         LIMIT 1`,
        [ns.backendId, ns.prefix],
      )) as Array<{ bucket_prefix: string }>;
      if (other) return { overlaps: other.bucket_prefix };
      await m.query(
        `INSERT INTO namespace_quotas (backend_id, bucket_prefix, soft_bytes, hard_bytes, max_buckets, updated_at, updated_by)
         VALUES ($1, $2, $3, $4, $5, now(), $6)
         ON CONFLICT (backend_id, bucket_prefix) DO UPDATE
           SET soft_bytes = EXCLUDED.soft_bytes, hard_bytes = EXCLUDED.hard_bytes, max_buckets = EXCLUDED.max_buckets,
               updated_at = EXCLUDED.updated_at, updated_by = EXCLUDED.updated_by`,
        [ns.backendId, ns.prefix, limits.softBytes, limits.hardBytes, limits.maxBuckets, userId],
      );
      // A new soft limit re-decides the flag: crossing it again is news again.
      await m.query(
        `UPDATE namespace_quotas n SET soft_exceeded_at = CASE WHEN n.soft_bytes IS NOT NULL AND s.out_bytes > n.soft_bytes
           THEN coalesce(n.soft_exceeded_at, now()) ELSE NULL END
         FROM stowage_namespace_usage($1, $2) s WHERE n.backend_id = $1 AND n.bucket_prefix = $2`,
        [ns.backendId, ns.prefix],
      );
      return { set: true as const };
    });
  }

  async deleteNamespaceQuota(ns: NamespaceRef): Promise<boolean> {
    const rows = (await this.dataSource.query(
      `DELETE FROM namespace_quotas WHERE backend_id = $1 AND bucket_prefix = $2 RETURNING bucket_prefix`,
      [ns.backendId, ns.prefix],
    )) as unknown[];
    return updatedRows(rows).length > 0;
  }

  /** Sets the bucket counts of a backend's namespace quotas from the names of all its buckets. */
  async recountNamespaceBuckets(backendId: string, buckets: readonly string[], prefix?: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE namespace_quotas n SET buckets_counted_at = now(),
         bucket_count = (SELECT count(*) FROM unnest($2::text[]) AS b(name) WHERE ${IN_NAMESPACE('b.name', 'n.bucket_prefix')})
       WHERE n.backend_id = $1 AND ($3::text IS NULL OR n.bucket_prefix = $3)`,
      [backendId, buckets, prefix ?? null],
    );
  }

  /** Takes a slot of the bucket count of the namespace `ref.bucket` would be created in. */
  async takeBucketSlot(ref: BucketRef): Promise<BucketSlotOutcome> {
    const [row] = (await this.dataSource.query(
      `SELECT q.* FROM ${WITHOUT_FLUSH}, stowage_namespace_take_bucket($1, $2) AS q`,
      [ref.backendId, ref.bucket],
    )) as Array<{
      out_outcome: BucketSlotOutcome['outcome'];
      out_namespace: string | null;
      out_max: number | null;
      out_count: number | null;
    }>;
    return { outcome: row.out_outcome, prefix: row.out_namespace, maxBuckets: row.out_max, bucketCount: row.out_count };
  }

  /**
   * Counts a bucket made where no slot was taken first (the dashboard's create, for admins, is
   * never refused by `max_buckets`): one conditional UPDATE, a no-op outside any namespace quota.
   */
  async countCreatedBucket(ref: BucketRef): Promise<void> {
    await this.dataSource.query(
      `UPDATE namespace_quotas n SET bucket_count = n.bucket_count + 1
       WHERE n.backend_id = $1 AND ${IN_NAMESPACE('$2', 'n.bucket_prefix')}`,
      [ref.backendId, ref.bucket],
    );
  }

  /** Gives back the slot of a bucket of a namespace (its create failed, or it was deleted). */
  async giveBucketSlot(ref: BucketRef): Promise<void> {
    await this.dataSource.query(`SELECT 1 FROM ${WITHOUT_FLUSH}, stowage_namespace_give_bucket($1, $2) AS q`, [
      ref.backendId,
      ref.bucket,
    ]);
  }

  // ---- size tracking ----

  tracking(ref: BucketRef): Promise<BucketSizeTrackingEntity | null> {
    return this.dataSource
      .getRepository(BucketSizeTrackingEntity)
      .findOneBy({ backendId: ref.backendId, bucket: ref.bucket });
  }

  untrackedOf(backendId: string): Promise<BucketSizeTrackingEntity[]> {
    return this.dataSource.getRepository(BucketSizeTrackingEntity).findBy({ backendId, enabled: false });
  }

  async setTracking(ref: BucketRef, enabled: boolean, userId: string | null): Promise<BucketSizeTrackingEntity> {
    const [row] = (await this.dataSource.query(
      `INSERT INTO bucket_size_tracking (backend_id, bucket, enabled, updated_at, updated_by)
       VALUES ($1, $2, $3, now(), $4)
       ON CONFLICT (backend_id, bucket) DO UPDATE
         SET enabled = EXCLUDED.enabled, updated_at = EXCLUDED.updated_at, updated_by = EXCLUDED.updated_by
       RETURNING updated_at`,
      [ref.backendId, ref.bucket, enabled, userId],
    )) as Array<{ updated_at: Date }>;
    return Object.assign(new BucketSizeTrackingEntity(), {
      ...ref,
      enabled,
      updatedAt: row.updated_at,
      updatedBy: userId,
    });
  }

  // ---- usage ----

  usage(ref: BucketRef): Promise<BucketUsageEntity | null> {
    return this.dataSource.getRepository(BucketUsageEntity).findOneBy({ backendId: ref.backendId, bucket: ref.bucket });
  }

  usageOf(backendId: string): Promise<BucketUsageEntity[]> {
    return this.dataSource.getRepository(BucketUsageEntity).findBy({ backendId });
  }

  async forgetBucket(ref: BucketRef): Promise<void> {
    await this.dataSource.query(`DELETE FROM bucket_usage WHERE backend_id = $1 AND bucket = $2`, [
      ref.backendId,
      ref.bucket,
    ]);
  }

  // ---- reservations ----

  async reserve(ref: BucketRef, id: string, bytes: number, ttlMs: number): Promise<ReserveOutcome> {
    return outcomeOf(
      await preparedQuery<OutcomeRow>(this.dataSource, 'stowage_quota_reserve', RESERVE, [
        ref.backendId,
        ref.bucket,
        id,
        bytes,
        ttlMs,
      ]),
    );
  }

  async grow(id: string, bytes: number, ttlMs: number): Promise<ReserveOutcome> {
    return outcomeOf(
      await preparedQuery<OutcomeRow>(this.dataSource, 'stowage_quota_grow', GROW, [id, bytes, ttlMs]),
    );
  }

  async settle(ref: BucketRef, id: string | null, deltaBytes: number, deltaObjects: number): Promise<SettleOutcome> {
    const [row] = await preparedQuery<{
      out_used: string;
      out_objects: string;
      out_soft: string | null;
      out_soft_crossed: boolean;
      out_namespace: string | null;
      out_ns_used: string | null;
      out_ns_soft: string | null;
      out_ns_soft_crossed: boolean;
    }>(this.dataSource, 'stowage_quota_settle', SETTLE, [ref.backendId, ref.bucket, id, deltaBytes, deltaObjects]);
    return {
      usedBytes: Number(row.out_used),
      objects: Number(row.out_objects),
      softBytes: num(row.out_soft),
      softCrossed: row.out_soft_crossed,
      ...(row.out_namespace !== null
        ? {
            namespace: {
              prefix: row.out_namespace,
              usedBytes: Number(row.out_ns_used),
              softBytes: num(row.out_ns_soft),
              softCrossed: row.out_ns_soft_crossed,
            },
          }
        : {}),
    };
  }

  async release(id: string): Promise<void> {
    await this.dataSource.query(
      `WITH gone AS (DELETE FROM quota_reservations WHERE id = $1 RETURNING backend_id, bucket, bytes)
       UPDATE bucket_usage u SET reserved_bytes = greatest(0, u.reserved_bytes - gone.bytes), updated_at = now()
       FROM gone WHERE u.backend_id = gone.backend_id AND u.bucket = gone.bucket`,
      [id],
    );
  }

  /** Pushes the expiry of live reservations forward. */
  async renew(ids: readonly string[], ttlMs: number): Promise<void> {
    if (ids.length === 0) return;
    await this.dataSource.query(
      `UPDATE quota_reservations SET expires_at = now() + $2 * interval '1 millisecond' WHERE id = ANY($1::uuid[])`,
      [ids, ttlMs],
    );
  }

  /** Releases every expired reservation; answers how many bytes went back to which bucket. */
  async sweep(): Promise<Array<BucketRef & { bytes: number }>> {
    const rows = (await this.dataSource.query(`SELECT * FROM stowage_quota_sweep(NULL, NULL)`)) as Array<{
      out_backend: string;
      out_bucket: string;
      out_bytes: string;
    }>;
    return rows.map((r) => ({ backendId: r.out_backend, bucket: r.out_bucket, bytes: Number(r.out_bytes) }));
  }

  // ---- scans ----

  /**
   * Where a scan starts: the position of one cut short less than `resumeWithinMs` ago, else
   * from the beginning (and recorded as started now).
   */
  async beginScan(
    ref: BucketRef,
    resumeWithinMs: number,
  ): Promise<{ token: string | null; bytes: number; objects: number; startedAt: Date }> {
    await this.dataSource.query(
      `INSERT INTO bucket_usage (backend_id, bucket) VALUES ($1, $2) ON CONFLICT DO NOTHING`,
      [ref.backendId, ref.bucket],
    );
    const [row] = (await this.dataSource
      .query(
        `UPDATE bucket_usage SET
         scan_token = CASE WHEN resumable THEN scan_token ELSE NULL END,
         scan_bytes = CASE WHEN resumable THEN scan_bytes ELSE 0 END,
         scan_objects = CASE WHEN resumable THEN scan_objects ELSE 0 END,
         scan_started_at = CASE WHEN resumable THEN scan_started_at ELSE now() END,
         scan_delta_bytes = CASE WHEN resumable THEN scan_delta_bytes ELSE 0 END,
         scan_delta_objects = CASE WHEN resumable THEN scan_delta_objects ELSE 0 END
       FROM (SELECT scan_token IS NOT NULL AND scan_started_at > now() - $3 * interval '1 millisecond' AS resumable
             FROM bucket_usage WHERE backend_id = $1 AND bucket = $2) r
       WHERE backend_id = $1 AND bucket = $2
       RETURNING scan_token, scan_bytes, scan_objects, scan_started_at`,
        [ref.backendId, ref.bucket, resumeWithinMs],
      )
      .then(updatedRows)) as Array<{
      scan_token: string | null;
      scan_bytes: string;
      scan_objects: string;
      scan_started_at: Date;
    }>;
    const r = row;
    return {
      token: r.scan_token,
      bytes: Number(r.scan_bytes),
      objects: Number(r.scan_objects),
      startedAt: r.scan_started_at,
    };
  }

  /** Records a scan's progress after a page: its running totals and where the next page starts. */
  async scanProgress(ref: BucketRef, token: string, bytes: number, objects: number): Promise<void> {
    await this.dataSource.query(
      `UPDATE bucket_usage SET scan_token = $3, scan_bytes = $4, scan_objects = $5 WHERE backend_id = $1 AND bucket = $2`,
      [ref.backendId, ref.bucket, token, bytes, objects],
    );
  }

  /**
   * A scan's result replaces the counters, plus the growth settled while it ran (see migration
   * 1797200000000); answers whether the soft quota was crossed by it.
   */
  async finishScan(ref: BucketRef, bytes: number, objects: number, durationMs: number): Promise<SettleOutcome> {
    const [row] = (await this.dataSource
      .query(
        `WITH q AS (SELECT soft_bytes FROM bucket_quotas WHERE backend_id = $1 AND bucket = $2),
       before AS (SELECT soft_exceeded_at FROM bucket_usage WHERE backend_id = $1 AND bucket = $2 FOR UPDATE)
       UPDATE bucket_usage u SET bytes = $3 + u.scan_delta_bytes, objects = $4 + u.scan_delta_objects,
         scanned_at = now(), scan_duration_ms = $5,
         last_error = NULL, scan_token = NULL, scan_bytes = 0, scan_objects = 0, scan_started_at = NULL,
         scan_delta_bytes = 0, scan_delta_objects = 0,
         soft_exceeded_at = CASE WHEN (SELECT soft_bytes FROM q) IS NOT NULL
                                      AND $3::bigint + u.scan_delta_bytes > (SELECT soft_bytes FROM q)
                                 THEN coalesce(u.soft_exceeded_at, now()) ELSE NULL END,
         updated_at = now()
       WHERE u.backend_id = $1 AND u.bucket = $2
       RETURNING u.bytes, u.objects, (SELECT soft_bytes FROM q) AS soft,
         ((SELECT soft_exceeded_at FROM before) IS NULL AND u.soft_exceeded_at IS NOT NULL) AS crossed`,
        [ref.backendId, ref.bucket, bytes, objects, Math.round(durationMs)],
      )
      .then(updatedRows)) as Array<{ bytes: string; objects: string; soft: string | null; crossed: boolean }>;
    const r = row;
    const namespace = await this.namespaceSoftAfterScan(ref);
    return {
      usedBytes: Number(r.bytes),
      objects: Number(r.objects),
      softBytes: num(r.soft),
      softCrossed: r.crossed,
      ...(namespace ? { namespace } : {}),
    };
  }

  /**
   * A scan moved a bucket's count: the soft flag of its namespace (if it has a soft cap) is
   * decided again from the sum of its buckets, as a settlement decides it.
   */
  private async namespaceSoftAfterScan(ref: BucketRef): Promise<SettleOutcome['namespace']> {
    const [row] = (await this.dataSource
      .query(
        `WITH s AS (
           SELECT n.backend_id, n.bucket_prefix, n.soft_exceeded_at AS before,
                  (SELECT u.out_bytes FROM stowage_namespace_usage(n.backend_id, n.bucket_prefix) u) AS used
           FROM namespace_quotas n
           WHERE n.backend_id = $1 AND ${IN_NAMESPACE('$2', 'n.bucket_prefix')} AND n.soft_bytes IS NOT NULL
           FOR UPDATE)
         UPDATE namespace_quotas n SET soft_exceeded_at = CASE WHEN s.used > n.soft_bytes
           THEN coalesce(n.soft_exceeded_at, now()) ELSE NULL END
         FROM s WHERE n.backend_id = s.backend_id AND n.bucket_prefix = s.bucket_prefix
         RETURNING n.bucket_prefix, s.used, n.soft_bytes, (s.before IS NULL AND n.soft_exceeded_at IS NOT NULL) AS crossed`,
        [ref.backendId, ref.bucket],
      )
      .then(updatedRows)) as Array<{ bucket_prefix: string; used: string; soft_bytes: string; crossed: boolean }>;
    if (!row) return undefined;
    return {
      prefix: row.bucket_prefix,
      usedBytes: Number(row.used),
      softBytes: num(row.soft_bytes),
      softCrossed: row.crossed,
    };
  }

  async failScan(ref: BucketRef, error: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE bucket_usage SET last_error = $3, updated_at = now() WHERE backend_id = $1 AND bucket = $2`,
      [ref.backendId, ref.bucket, error.slice(0, 500)],
    );
  }
}
