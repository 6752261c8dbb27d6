import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The usage of a namespace is summed on every reservation into it; it read every usage row of the
 * backend. An index of the bucket names in byte order makes the namespace's buckets one index
 * range: the primary key cannot serve, since the database's collation may sort by other rules
 * than bytes (en_US ignores '.' and '-' at first, so `team.a-` would not bound its buckets).
 */
export class NamespaceUsageIndex1797500000000 implements MigrationInterface {
  name = 'NamespaceUsageIndex1797500000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE INDEX "bucket_usage_bucket_bytewise" ON "bucket_usage" ("backend_id", "bucket" COLLATE "C")`,
    );
    await queryRunner.query(namespaceUsage(IN_NAMESPACE_RANGE));
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(namespaceUsage(IN_NAMESPACE));
    await queryRunner.query(`DROP INDEX "public"."bucket_usage_bucket_bytewise"`);
  }
}

/** Whether bucket u.bucket is in the namespace of p_prefix (as 1797400000000 defines it). */
const IN_NAMESPACE = `(length(u.bucket) > length(p_prefix) AND left(u.bucket, length(p_prefix)) = p_prefix)`;

/**
 * The same, led by a range of the byte-ordered index: names longer than the prefix that start
 * with it sort after it and, as every character a bucket name may hold ([a-z0-9.-]) sorts before
 * '{', before the prefix followed by '{'. The range is bounded by expressions, not a LIKE
 * pattern, so a generic plan (the prefix a parameter) uses it too.
 */
const IN_NAMESPACE_RANGE = `u.bucket COLLATE "C" > p_prefix AND u.bucket COLLATE "C" < p_prefix || '{'
       AND ${IN_NAMESPACE}`;

/** The bytes and the reserved bytes of a namespace's buckets, with `inNamespace` as the match. */
const namespaceUsage = (inNamespace: string) => `CREATE OR REPLACE FUNCTION stowage_namespace_usage(p_backend text, p_prefix text)
   RETURNS TABLE (out_bytes bigint, out_reserved bigint) LANGUAGE sql STABLE AS $$
     SELECT coalesce(sum(u.bytes), 0)::bigint, coalesce(sum(u.reserved_bytes), 0)::bigint
     FROM bucket_usage u WHERE u.backend_id = p_backend AND ${inNamespace}
   $$`;
