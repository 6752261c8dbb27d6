import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Quota reservations: the bytes writes in flight hold against a bucket's hard quota, the usage
 * columns they move, a scan's resumable position, and the functions that change them, each in
 * one round trip and atomically whatever the number of replicas (the conditional UPDATE on the
 * bucket's usage row re-checks the cap on the newest row version when two writers meet).
 */
export class QuotaReservations1797000000000 implements MigrationInterface {
  name = 'QuotaReservations1797000000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "quota_reservations" ("id" uuid NOT NULL, "backend_id" text NOT NULL, "bucket" text NOT NULL, "bytes" bigint NOT NULL, "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "quota_reservations_bytes_check" CHECK ("bytes" >= 0), CONSTRAINT "PK_f9bef4d0fdbb6da6b52df5cb7e8" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "quota_reservations_bucket" ON "quota_reservations" ("backend_id", "bucket") `,
    );
    await queryRunner.query(`CREATE INDEX "quota_reservations_expires_at" ON "quota_reservations" ("expires_at") `);
    await queryRunner.query(`ALTER TABLE "bucket_usage" ADD "reserved_bytes" bigint NOT NULL DEFAULT '0'`);
    await queryRunner.query(`ALTER TABLE "bucket_usage" ADD "soft_exceeded_at" TIMESTAMP WITH TIME ZONE`);
    await queryRunner.query(`ALTER TABLE "bucket_usage" ADD "scan_token" text`);
    await queryRunner.query(`ALTER TABLE "bucket_usage" ADD "scan_bytes" bigint NOT NULL DEFAULT '0'`);
    await queryRunner.query(`ALTER TABLE "bucket_usage" ADD "scan_objects" bigint NOT NULL DEFAULT '0'`);
    await queryRunner.query(`ALTER TABLE "bucket_usage" ADD "scan_started_at" TIMESTAMP WITH TIME ZONE`);
    await queryRunner.query(
      `ALTER TABLE "bucket_usage" ADD CONSTRAINT "bucket_usage_reserved_check" CHECK ("reserved_bytes" >= 0)`,
    );
    for (const statement of FUNCTIONS) await queryRunner.query(statement);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP FUNCTION stowage_quota_settle(text, text, uuid, bigint, bigint)`);
    await queryRunner.query(`DROP FUNCTION stowage_quota_grow(uuid, bigint, integer)`);
    await queryRunner.query(`DROP FUNCTION stowage_quota_reserve(text, text, uuid, bigint, integer)`);
    await queryRunner.query(`DROP FUNCTION stowage_quota_sweep(text, text)`);
    await queryRunner.query(`ALTER TABLE "bucket_usage" DROP CONSTRAINT "bucket_usage_reserved_check"`);
    await queryRunner.query(`ALTER TABLE "bucket_usage" DROP COLUMN "scan_started_at"`);
    await queryRunner.query(`ALTER TABLE "bucket_usage" DROP COLUMN "scan_objects"`);
    await queryRunner.query(`ALTER TABLE "bucket_usage" DROP COLUMN "scan_bytes"`);
    await queryRunner.query(`ALTER TABLE "bucket_usage" DROP COLUMN "scan_token"`);
    await queryRunner.query(`ALTER TABLE "bucket_usage" DROP COLUMN "soft_exceeded_at"`);
    await queryRunner.query(`ALTER TABLE "bucket_usage" DROP COLUMN "reserved_bytes"`);
    await queryRunner.query(`DROP INDEX "public"."quota_reservations_expires_at"`);
    await queryRunner.query(`DROP INDEX "public"."quota_reservations_bucket"`);
    await queryRunner.query(`DROP TABLE "quota_reservations"`);
  }
}

const FUNCTIONS = [
  // Releases the expired reservations of one bucket (both arguments given) or of all (both null).
  `CREATE FUNCTION stowage_quota_sweep(p_backend text, p_bucket text)
   RETURNS TABLE (out_backend text, out_bucket text, out_bytes bigint) LANGUAGE plpgsql AS $$
   BEGIN
     RETURN QUERY
     WITH gone AS (
       DELETE FROM quota_reservations r
       WHERE r.expires_at < now()
         AND (p_backend IS NULL OR (r.backend_id = p_backend AND r.bucket = p_bucket))
       RETURNING r.backend_id, r.bucket, r.bytes
     ), sums AS (
       SELECT g.backend_id, g.bucket, sum(g.bytes)::bigint AS bytes FROM gone g GROUP BY g.backend_id, g.bucket
     )
     UPDATE bucket_usage u SET reserved_bytes = greatest(0, u.reserved_bytes - s.bytes), updated_at = now()
     FROM sums s WHERE u.backend_id = s.backend_id AND u.bucket = s.bucket
     RETURNING u.backend_id, u.bucket, s.bytes;
   END $$`,
  // Holds p_bytes against the bucket's hard quota, or answers why not. Without any quota there is
  // nothing to hold ('unlimited'); with a soft one only, the hold always fits (and usage stays live). A refusal first releases the bucket's expired reservations
  // (a crashed replica's) and tries once more.
  `CREATE FUNCTION stowage_quota_reserve(p_backend text, p_bucket text, p_id uuid, p_bytes bigint, p_ttl_ms integer)
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
     FOR v_attempt IN 1..2 LOOP
       UPDATE bucket_usage u SET reserved_bytes = u.reserved_bytes + p_bytes
       WHERE u.backend_id = p_backend AND u.bucket = p_bucket
         AND (v_hard IS NULL OR u.bytes + u.reserved_bytes + p_bytes <= v_hard)
       RETURNING u.bytes, u.reserved_bytes INTO v_used, v_reserved;
       IF FOUND THEN
         INSERT INTO quota_reservations (id, backend_id, bucket, bytes, expires_at)
         VALUES (p_id, p_backend, p_bucket, p_bytes, now() + p_ttl_ms * interval '1 millisecond');
         RETURN QUERY SELECT 'reserved'::text, v_hard, v_used, v_reserved;
         RETURN;
       END IF;
       EXIT WHEN v_attempt = 2;
       PERFORM stowage_quota_sweep(p_backend, p_bucket);
     END LOOP;
     SELECT u.bytes, u.reserved_bytes INTO v_used, v_reserved
     FROM bucket_usage u WHERE u.backend_id = p_backend AND u.bucket = p_bucket;
     RETURN QUERY SELECT 'refused'::text, v_hard, v_used, v_reserved;
   END $$`,
  // Adds p_bytes to a reservation (writes of unknown length reserve as they go), within the hard
  // quota; renews its expiry. 'missing' when the reservation is gone (it expired).
  `CREATE FUNCTION stowage_quota_grow(p_id uuid, p_bytes bigint, p_ttl_ms integer)
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
     SELECT q.hard_bytes INTO v_hard FROM bucket_quotas q WHERE q.backend_id = v_backend AND q.bucket = v_bucket;
     UPDATE bucket_usage u SET reserved_bytes = u.reserved_bytes + p_bytes
     WHERE u.backend_id = v_backend AND u.bucket = v_bucket
       AND (v_hard IS NULL OR u.bytes + u.reserved_bytes + p_bytes <= v_hard)
     RETURNING u.bytes, u.reserved_bytes INTO v_used, v_reserved;
     IF NOT FOUND THEN
       SELECT u.bytes, u.reserved_bytes INTO v_used, v_reserved
       FROM bucket_usage u WHERE u.backend_id = v_backend AND u.bucket = v_bucket;
       RETURN QUERY SELECT 'refused'::text, v_hard, v_used, v_reserved;
       RETURN;
     END IF;
     UPDATE quota_reservations r SET bytes = r.bytes + p_bytes, expires_at = now() + p_ttl_ms * interval '1 millisecond'
     WHERE r.id = p_id;
     IF NOT FOUND THEN
       -- Swept between the two statements: give the bytes back.
       UPDATE bucket_usage u SET reserved_bytes = greatest(0, u.reserved_bytes - p_bytes)
       WHERE u.backend_id = v_backend AND u.bucket = v_bucket;
       RETURN QUERY SELECT 'missing'::text, v_hard, v_used, v_reserved;
       RETURN;
     END IF;
     RETURN QUERY SELECT 'reserved'::text, v_hard, v_used, v_reserved;
   END $$`,
  // A write committed (or an object went away): drops its reservation (p_id may be null), moves
  // the usage by the deltas, and keeps the soft-quota flag. out_soft_crossed is true exactly once
  // per crossing: for the statement that set the flag.
  `CREATE FUNCTION stowage_quota_settle(p_backend text, p_bucket text, p_id uuid, p_delta_bytes bigint, p_delta_objects bigint)
   RETURNS TABLE (out_used bigint, out_objects bigint, out_soft bigint, out_soft_crossed boolean) LANGUAGE plpgsql AS $$
   DECLARE
     v_held bigint;
     v_soft bigint;
     v_before timestamptz;
     v_used bigint;
     v_objects bigint;
     v_after timestamptz;
   BEGIN
     IF p_id IS NOT NULL THEN
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
       soft_exceeded_at = CASE WHEN v_soft IS NOT NULL AND greatest(0, u.bytes + p_delta_bytes) > v_soft
                               THEN coalesce(u.soft_exceeded_at, now()) ELSE NULL END,
       updated_at = now()
     WHERE u.backend_id = p_backend AND u.bucket = p_bucket
     RETURNING u.bytes, u.objects, u.soft_exceeded_at INTO v_used, v_objects, v_after;
     RETURN QUERY SELECT v_used, v_objects, v_soft, (v_before IS NULL AND v_after IS NOT NULL);
   END $$`,
];
