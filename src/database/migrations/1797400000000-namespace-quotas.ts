import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Namespace quotas: limits on the total bytes and the bucket count of a namespace (the buckets of
 * a backend whose names start with a prefix and are longer than it). The reservation functions
 * keep their arguments and gain the namespace: a write into a bucket of a namespace with a byte
 * quota locks the namespace's row (so the namespace's writes on every replica take turns), sums
 * the usage and reservations of its buckets, and reserves only when the write fits under both
 * the namespace's and the bucket's hard caps; the reservation stays one row of
 * `quota_reservations` and one function call. Settling moves the namespace's bytes (they are its
 * buckets' usage rows) and keeps its soft-cap flag. The bucket count is one conditional UPDATE.
 */
export class NamespaceQuotas1797400000000 implements MigrationInterface {
  name = 'NamespaceQuotas1797400000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "namespace_quotas" ("backend_id" text NOT NULL, "bucket_prefix" text NOT NULL, "soft_bytes" bigint, "hard_bytes" bigint, "max_buckets" integer, "bucket_count" integer NOT NULL DEFAULT '0', "buckets_counted_at" TIMESTAMP WITH TIME ZONE, "soft_exceeded_at" TIMESTAMP WITH TIME ZONE, "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_by" uuid, CONSTRAINT "namespace_quotas_bytes_check" CHECK ("soft_bytes" IS NULL OR "hard_bytes" IS NULL OR "soft_bytes" <= "hard_bytes"), CONSTRAINT "namespace_quotas_buckets_check" CHECK ("bucket_count" >= 0 AND ("max_buckets" IS NULL OR "max_buckets" >= 0)), CONSTRAINT "PK_04f9542dbcdb38a75632d32de2c" PRIMARY KEY ("backend_id", "bucket_prefix"))`,
    );
    await queryRunner.query(NAMESPACE_USAGE);
    // The return types change (a column naming the namespace): dropped and created again.
    await queryRunner.query(`DROP FUNCTION stowage_quota_reserve(text, text, uuid, bigint, integer)`);
    await queryRunner.query(`DROP FUNCTION stowage_quota_grow(uuid, bigint, integer)`);
    await queryRunner.query(`DROP FUNCTION stowage_quota_settle(text, text, uuid, bigint, bigint)`);
    await queryRunner.query(RESERVE);
    await queryRunner.query(GROW);
    await queryRunner.query(SETTLE);
    await queryRunner.query(TAKE_BUCKET);
    await queryRunner.query(GIVE_BUCKET);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP FUNCTION stowage_namespace_give_bucket(text, text)`);
    await queryRunner.query(`DROP FUNCTION stowage_namespace_take_bucket(text, text)`);
    await queryRunner.query(`DROP FUNCTION stowage_quota_settle(text, text, uuid, bigint, bigint)`);
    await queryRunner.query(`DROP FUNCTION stowage_quota_grow(uuid, bigint, integer)`);
    await queryRunner.query(`DROP FUNCTION stowage_quota_reserve(text, text, uuid, bigint, integer)`);
    await queryRunner.query(RESERVE_BEFORE);
    await queryRunner.query(GROW_BEFORE);
    await queryRunner.query(SETTLE_BEFORE);
    await queryRunner.query(`DROP FUNCTION stowage_namespace_usage(text, text)`);
    await queryRunner.query(`DROP TABLE "namespace_quotas"`);
  }
}

/** Whether bucket `b` is in the namespace of prefix `p` (longer than it, starting with it). */
const IN_NAMESPACE = (b: string, p: string) => `(length(${b}) > length(${p}) AND left(${b}, length(${p})) = ${p})`;

/**
 * The bucket's own step of a reservation (as 1797000000000 made it): hold p_bytes under the
 * bucket's hard cap v_hard (sweeping its expired reservations once on a refusal). `extra` ends
 * each answer row (the namespace column, where the function has one).
 */
const RESERVE_IN_BUCKET = (extra: string) => `FOR v_attempt IN 1..2 LOOP
       UPDATE bucket_usage u SET reserved_bytes = u.reserved_bytes + p_bytes
       WHERE u.backend_id = p_backend AND u.bucket = p_bucket
         AND (v_hard IS NULL OR u.bytes + u.reserved_bytes + p_bytes <= v_hard)
       RETURNING u.bytes, u.reserved_bytes INTO v_used, v_reserved;
       IF FOUND THEN
         INSERT INTO quota_reservations (id, backend_id, bucket, bytes, expires_at)
         VALUES (p_id, p_backend, p_bucket, p_bytes, now() + p_ttl_ms * interval '1 millisecond');
         RETURN QUERY SELECT 'reserved'::text, v_hard, v_used, v_reserved${extra};
         RETURN;
       END IF;
       EXIT WHEN v_attempt = 2;
       PERFORM stowage_quota_sweep(p_backend, p_bucket);
     END LOOP;
     SELECT u.bytes, u.reserved_bytes INTO v_used, v_reserved
     FROM bucket_usage u WHERE u.backend_id = p_backend AND u.bucket = p_bucket;
     RETURN QUERY SELECT 'refused'::text, v_hard, v_used, v_reserved${extra};`;

/** The bucket's own step of growing a reservation (as 1797000000000 made it). */
const GROW_IN_BUCKET = (
  extra: string,
) => `SELECT q.hard_bytes INTO v_hard FROM bucket_quotas q WHERE q.backend_id = v_backend AND q.bucket = v_bucket;
     UPDATE bucket_usage u SET reserved_bytes = u.reserved_bytes + p_bytes
     WHERE u.backend_id = v_backend AND u.bucket = v_bucket
       AND (v_hard IS NULL OR u.bytes + u.reserved_bytes + p_bytes <= v_hard)
     RETURNING u.bytes, u.reserved_bytes INTO v_used, v_reserved;
     IF NOT FOUND THEN
       SELECT u.bytes, u.reserved_bytes INTO v_used, v_reserved
       FROM bucket_usage u WHERE u.backend_id = v_backend AND u.bucket = v_bucket;
       RETURN QUERY SELECT 'refused'::text, v_hard, v_used, v_reserved${extra};
       RETURN;
     END IF;
     UPDATE quota_reservations r SET bytes = r.bytes + p_bytes, expires_at = now() + p_ttl_ms * interval '1 millisecond'
     WHERE r.id = p_id;
     IF NOT FOUND THEN
       -- Swept between the two statements: give the bytes back.
       UPDATE bucket_usage u SET reserved_bytes = greatest(0, u.reserved_bytes - p_bytes)
       WHERE u.backend_id = v_backend AND u.bucket = v_bucket;
       RETURN QUERY SELECT 'missing'::text, v_hard, v_used, v_reserved${extra};
       RETURN;
     END IF;
     RETURN QUERY SELECT 'reserved'::text, v_hard, v_used, v_reserved${extra};`;

/** The bucket's own step of a settlement (as 1797200000000 made it). */
const SETTLE_IN_BUCKET = `IF p_id IS NOT NULL THEN
       DELETE FROM quota_reservations r WHERE r.id = p_id RETURNING r.bytes INTO v_held;
     END IF;
     SELECT q.soft_bytes INTO v_soft FROM bucket_quotas q WHERE q.backend_id = p_backend AND q.bucket = p_bucket;
     INSERT INTO bucket_usage (backend_id, bucket) VALUES (p_backend, p_bucket) ON CONFLICT DO NOTHING;
     SELECT u.soft_exceeded_at INTO v_before FROM bucket_usage u
     WHERE u.backend_id = p_backend AND u.bucket = p_bucket FOR UPDATE;
     UPDATE bucket_usage u SET
       reserved_bytes = greatest(0, u.reserved_bytes - coalesce(v_held, 0)),
       bytes = greatest(0, u.bytes + p_delta_bytes),
       objects = greatest(0, u.objects + p_delta_objects),
       scan_delta_bytes = u.scan_delta_bytes
         + CASE WHEN u.scan_started_at IS NOT NULL AND p_delta_bytes > 0 THEN p_delta_bytes ELSE 0 END,
       scan_delta_objects = u.scan_delta_objects
         + CASE WHEN u.scan_started_at IS NOT NULL AND p_delta_objects > 0 THEN p_delta_objects ELSE 0 END,
       soft_exceeded_at = CASE WHEN v_soft IS NOT NULL AND greatest(0, u.bytes + p_delta_bytes) > v_soft
                               THEN coalesce(u.soft_exceeded_at, now()) ELSE NULL END,
       updated_at = now()
     WHERE u.backend_id = p_backend AND u.bucket = p_bucket
     RETURNING u.bytes, u.objects, u.soft_exceeded_at INTO v_used, v_objects, v_after;`;

/** The bytes and the reserved bytes of a namespace's buckets. */
const NAMESPACE_USAGE = `CREATE FUNCTION stowage_namespace_usage(p_backend text, p_prefix text)
   RETURNS TABLE (out_bytes bigint, out_reserved bigint) LANGUAGE sql STABLE AS $$
     SELECT coalesce(sum(u.bytes), 0)::bigint, coalesce(sum(u.reserved_bytes), 0)::bigint
     FROM bucket_usage u WHERE u.backend_id = p_backend AND ${IN_NAMESPACE('u.bucket', 'p_prefix')}
   $$`;

/**
 * The namespace with a byte quota that holds the bucket, locked: every step that may add to its
 * bytes (reserve, grow, settle) takes this lock first, so the sum read after it is current.
 */
const LOCK_NAMESPACE = (bucket: string) => `SELECT n.bucket_prefix, n.hard_bytes, n.soft_bytes, n.soft_exceeded_at
     INTO v_prefix, v_ns_hard, v_ns_soft, v_ns_before FROM namespace_quotas n
     WHERE n.backend_id = v_backend AND ${IN_NAMESPACE(bucket, 'n.bucket_prefix')}
       AND (n.hard_bytes IS NOT NULL OR n.soft_bytes IS NOT NULL)
     FOR UPDATE`;

/**
 * Whether p_bytes more fit under the namespace's hard cap (v_prefix, v_ns_hard); on a refusal the
 * namespace's expired reservations are released and it is asked once more. Sets v_used and
 * v_reserved to the namespace's figures and v_ns_refused.
 */
const CHECK_NAMESPACE = `v_ns_refused := false;
     IF v_prefix IS NOT NULL AND v_ns_hard IS NOT NULL THEN
       FOR v_attempt IN 1..2 LOOP
         SELECT s.out_bytes, s.out_reserved INTO v_used, v_reserved FROM stowage_namespace_usage(v_backend, v_prefix) s;
         EXIT WHEN v_used + v_reserved + p_bytes <= v_ns_hard;
         IF v_attempt = 2 THEN
           v_ns_refused := true;
           EXIT;
         END IF;
         PERFORM stowage_quota_sweep(v_backend, e.bucket)
         FROM (SELECT DISTINCT r.bucket FROM quota_reservations r
               WHERE r.backend_id = v_backend AND r.expires_at < now() AND ${IN_NAMESPACE('r.bucket', 'v_prefix')}) e;
       END LOOP;
     END IF;`;

const RESERVE = `CREATE FUNCTION stowage_quota_reserve(p_backend text, p_bucket text, p_id uuid, p_bytes bigint, p_ttl_ms integer)
   RETURNS TABLE (out_outcome text, out_hard bigint, out_used bigint, out_reserved bigint, out_namespace text)
   LANGUAGE plpgsql AS $$
   DECLARE
     v_backend text := p_backend;
     v_hard bigint;
     v_limited boolean;
     v_prefix text;
     v_ns_hard bigint;
     v_ns_soft bigint;
     v_ns_before timestamptz;
     v_ns_refused boolean;
     v_used bigint;
     v_reserved bigint;
     v_attempt integer;
   BEGIN
     SELECT q.hard_bytes INTO v_hard FROM bucket_quotas q
     WHERE q.backend_id = p_backend AND q.bucket = p_bucket AND (q.hard_bytes IS NOT NULL OR q.soft_bytes IS NOT NULL);
     v_limited := FOUND;
     ${LOCK_NAMESPACE('p_bucket')};
     IF NOT v_limited AND v_prefix IS NULL THEN
       RETURN QUERY SELECT 'unlimited'::text, NULL::bigint, NULL::bigint, NULL::bigint, NULL::text;
       RETURN;
     END IF;
     INSERT INTO bucket_usage (backend_id, bucket) VALUES (p_backend, p_bucket) ON CONFLICT DO NOTHING;
     ${CHECK_NAMESPACE}
     IF v_ns_refused THEN
       RETURN QUERY SELECT 'refused'::text, v_ns_hard, v_used, v_reserved, v_prefix;
       RETURN;
     END IF;
     ${RESERVE_IN_BUCKET(', NULL::text')}
   END $$`;

const GROW = `CREATE FUNCTION stowage_quota_grow(p_id uuid, p_bytes bigint, p_ttl_ms integer)
   RETURNS TABLE (out_outcome text, out_hard bigint, out_used bigint, out_reserved bigint, out_namespace text)
   LANGUAGE plpgsql AS $$
   DECLARE
     v_backend text;
     v_bucket text;
     v_hard bigint;
     v_prefix text;
     v_ns_hard bigint;
     v_ns_soft bigint;
     v_ns_before timestamptz;
     v_ns_refused boolean;
     v_used bigint;
     v_reserved bigint;
     v_attempt integer;
   BEGIN
     SELECT r.backend_id, r.bucket INTO v_backend, v_bucket FROM quota_reservations r WHERE r.id = p_id;
     IF NOT FOUND THEN
       RETURN QUERY SELECT 'missing'::text, NULL::bigint, NULL::bigint, NULL::bigint, NULL::text;
       RETURN;
     END IF;
     ${LOCK_NAMESPACE('v_bucket')};
     ${CHECK_NAMESPACE}
     IF v_ns_refused THEN
       RETURN QUERY SELECT 'refused'::text, v_ns_hard, v_used, v_reserved, v_prefix;
       RETURN;
     END IF;
     ${GROW_IN_BUCKET(', NULL::text')}
   END $$`;

/**
 * As in 1797200000000, then the namespace's soft flag: out_ns_soft_crossed is true exactly once
 * per crossing (for the statement that set the flag).
 */
const SETTLE = `CREATE FUNCTION stowage_quota_settle(p_backend text, p_bucket text, p_id uuid, p_delta_bytes bigint, p_delta_objects bigint)
   RETURNS TABLE (out_used bigint, out_objects bigint, out_soft bigint, out_soft_crossed boolean,
                  out_namespace text, out_ns_used bigint, out_ns_soft bigint, out_ns_soft_crossed boolean)
   LANGUAGE plpgsql AS $$
   DECLARE
     v_backend text := p_backend;
     v_held bigint;
     v_soft bigint;
     v_before timestamptz;
     v_used bigint;
     v_objects bigint;
     v_after timestamptz;
     v_prefix text;
     v_ns_hard bigint;
     v_ns_soft bigint;
     v_ns_before timestamptz;
     v_ns_used bigint;
     v_ns_over boolean;
   BEGIN
     ${LOCK_NAMESPACE('p_bucket')};
     ${SETTLE_IN_BUCKET}
     IF v_prefix IS NOT NULL THEN
       SELECT s.out_bytes INTO v_ns_used FROM stowage_namespace_usage(p_backend, v_prefix) s;
       v_ns_over := v_ns_soft IS NOT NULL AND v_ns_used > v_ns_soft;
       IF v_ns_over <> (v_ns_before IS NOT NULL) THEN
         UPDATE namespace_quotas n SET soft_exceeded_at = CASE WHEN v_ns_over THEN now() ELSE NULL END
         WHERE n.backend_id = p_backend AND n.bucket_prefix = v_prefix;
       END IF;
     END IF;
     RETURN QUERY SELECT v_used, v_objects, v_soft, (v_before IS NULL AND v_after IS NOT NULL),
       v_prefix, v_ns_used, v_ns_soft, coalesce(v_ns_before IS NULL AND v_ns_over, false);
   END $$`;

/**
 * A CreateBucket in a namespace with a quota takes a slot of its bucket count before it is
 * forwarded: 'reserved', 'refused' when max_buckets are already taken, 'unlimited' outside any
 * namespace with a quota.
 */
const TAKE_BUCKET = `CREATE FUNCTION stowage_namespace_take_bucket(p_backend text, p_bucket text)
   RETURNS TABLE (out_outcome text, out_namespace text, out_max integer, out_count integer) LANGUAGE plpgsql AS $$
   DECLARE
     v_prefix text;
     v_max integer;
     v_count integer;
   BEGIN
     SELECT n.bucket_prefix INTO v_prefix FROM namespace_quotas n
     WHERE n.backend_id = p_backend AND ${IN_NAMESPACE('p_bucket', 'n.bucket_prefix')};
     IF NOT FOUND THEN
       RETURN QUERY SELECT 'unlimited'::text, NULL::text, NULL::integer, NULL::integer;
       RETURN;
     END IF;
     UPDATE namespace_quotas n SET bucket_count = n.bucket_count + 1
     WHERE n.backend_id = p_backend AND n.bucket_prefix = v_prefix
       AND (n.max_buckets IS NULL OR n.bucket_count < n.max_buckets)
     RETURNING n.max_buckets, n.bucket_count INTO v_max, v_count;
     IF FOUND THEN
       RETURN QUERY SELECT 'reserved'::text, v_prefix, v_max, v_count;
       RETURN;
     END IF;
     SELECT n.max_buckets, n.bucket_count INTO v_max, v_count FROM namespace_quotas n
     WHERE n.backend_id = p_backend AND n.bucket_prefix = v_prefix;
     RETURN QUERY SELECT CASE WHEN FOUND THEN 'refused' ELSE 'unlimited' END::text, v_prefix, v_max, v_count;
   END $$`;

/** A bucket of a namespace went away, or its create failed: its slot goes back. */
const GIVE_BUCKET = `CREATE FUNCTION stowage_namespace_give_bucket(p_backend text, p_bucket text)
   RETURNS void LANGUAGE sql AS $$
     UPDATE namespace_quotas n SET bucket_count = greatest(0, n.bucket_count - 1)
     WHERE n.backend_id = p_backend AND ${IN_NAMESPACE('p_bucket', 'n.bucket_prefix')}
   $$`;

// ---- as they were before (1797000000000, and 1797200000000 for settle) ----

const RESERVE_BEFORE = `CREATE FUNCTION stowage_quota_reserve(p_backend text, p_bucket text, p_id uuid, p_bytes bigint, p_ttl_ms integer)
   RETURNS TABLE (out_outcome text, out_hard bigint, out_used bigint, out_reserved bigint) LANGUAGE plpgsql AS $$
   DECLARE
     v_hard bigint;
     v_used bigint;
     v_reserved bigint;
     v_attempt integer;
   BEGIN
     SELECT q.hard_bytes INTO v_hard FROM bucket_quotas q
     WHERE q.backend_id = p_backend AND q.bucket = p_bucket AND (q.hard_bytes IS NOT NULL OR q.soft_bytes IS NOT NULL);
     IF NOT FOUND THEN
       RETURN QUERY SELECT 'unlimited'::text, NULL::bigint, NULL::bigint, NULL::bigint;
       RETURN;
     END IF;
     INSERT INTO bucket_usage (backend_id, bucket) VALUES (p_backend, p_bucket) ON CONFLICT DO NOTHING;
     ${RESERVE_IN_BUCKET('')}
   END $$`;

const GROW_BEFORE = `CREATE FUNCTION stowage_quota_grow(p_id uuid, p_bytes bigint, p_ttl_ms integer)
   RETURNS TABLE (out_outcome text, out_hard bigint, out_used bigint, out_reserved bigint) LANGUAGE plpgsql AS $$
   DECLARE
     v_backend text;
     v_bucket text;
     v_hard bigint;
     v_used bigint;
     v_reserved bigint;
   BEGIN
     SELECT r.backend_id, r.bucket INTO v_backend, v_bucket FROM quota_reservations r WHERE r.id = p_id;
     IF NOT FOUND THEN
       RETURN QUERY SELECT 'missing'::text, NULL::bigint, NULL::bigint, NULL::bigint;
       RETURN;
     END IF;
     ${GROW_IN_BUCKET('')}
   END $$`;

const SETTLE_BEFORE = `CREATE FUNCTION stowage_quota_settle(p_backend text, p_bucket text, p_id uuid, p_delta_bytes bigint, p_delta_objects bigint)
   RETURNS TABLE (out_used bigint, out_objects bigint, out_soft bigint, out_soft_crossed boolean) LANGUAGE plpgsql AS $$
   DECLARE
     v_held bigint;
     v_soft bigint;
     v_before timestamptz;
     v_used bigint;
     v_objects bigint;
     v_after timestamptz;
   BEGIN
     ${SETTLE_IN_BUCKET}
     RETURN QUERY SELECT v_used, v_objects, v_soft, (v_before IS NULL AND v_after IS NOT NULL);
   END $$`;
