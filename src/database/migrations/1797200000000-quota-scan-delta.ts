import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A size scan no longer overwrites what was settled while it ran. The listing of a scan is not a
 * snapshot: a write settled during the scan may have landed on a page already listed. Settles
 * made while a scan runs (`scan_started_at` set) add their growth (positive deltas only) to
 * `scan_delta_*`, which the scan adds to its count when it finishes and a fresh scan zeroes.
 *
 * Only growth is carried over, so the result never undercounts: a write committed before the
 * listing reached its key is counted twice (until the next scan), while a delete or shrink
 * settled during the scan is left to the listing, which saw the object either before (then it
 * is counted until the next scan) or after (then it is not). Carrying shrinks over would
 * subtract twice whatever the listing already saw gone, and usage could then let writes past
 * the hard cap.
 */
export class QuotaScanDelta1797200000000 implements MigrationInterface {
  name = 'QuotaScanDelta1797200000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "bucket_usage" ADD "scan_delta_bytes" bigint NOT NULL DEFAULT '0'`);
    await queryRunner.query(`ALTER TABLE "bucket_usage" ADD "scan_delta_objects" bigint NOT NULL DEFAULT '0'`);
    await queryRunner.query(SETTLE_WITH_SCAN_DELTA);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(SETTLE_BEFORE);
    await queryRunner.query(`ALTER TABLE "bucket_usage" DROP COLUMN "scan_delta_objects"`);
    await queryRunner.query(`ALTER TABLE "bucket_usage" DROP COLUMN "scan_delta_bytes"`);
  }
}

/** stowage_quota_settle as 1797000000000 created it. */
const SETTLE_BEFORE = `CREATE OR REPLACE FUNCTION stowage_quota_settle(p_backend text, p_bucket text, p_id uuid, p_delta_bytes bigint, p_delta_objects bigint)
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
   END $$`;

/** The same, adding the growth settled while a scan runs to the scan's delta. */
const SETTLE_WITH_SCAN_DELTA = `CREATE OR REPLACE FUNCTION stowage_quota_settle(p_backend text, p_bucket text, p_id uuid, p_delta_bytes bigint, p_delta_objects bigint)
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
       scan_delta_bytes = u.scan_delta_bytes
         + CASE WHEN u.scan_started_at IS NOT NULL AND p_delta_bytes > 0 THEN p_delta_bytes ELSE 0 END,
       scan_delta_objects = u.scan_delta_objects
         + CASE WHEN u.scan_started_at IS NOT NULL AND p_delta_objects > 0 THEN p_delta_objects ELSE 0 END,
       soft_exceeded_at = CASE WHEN v_soft IS NOT NULL AND greatest(0, u.bytes + p_delta_bytes) > v_soft
                               THEN coalesce(u.soft_exceeded_at, now()) ELSE NULL END,
       updated_at = now()
     WHERE u.backend_id = p_backend AND u.bucket = p_bucket
     RETURNING u.bytes, u.objects, u.soft_exceeded_at INTO v_used, v_objects, v_after;
     RETURN QUERY SELECT v_used, v_objects, v_soft, (v_before IS NULL AND v_after IS NOT NULL);
   END $$`;
