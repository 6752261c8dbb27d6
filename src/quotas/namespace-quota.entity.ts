import { Check, Column, Entity, PrimaryColumn } from 'typeorm';
import { bigintAsNumber } from '../database/column-types';

/**
 * The limits of a namespace (every bucket of a backend whose name starts with `bucket_prefix` and
 * is longer than it) and the counters they are enforced with: the buckets it holds (taken by the
 * proxy's CreateBucket before it is forwarded, recounted from the upstream's ListBuckets) and
 * when its bytes went past the soft cap. Its bytes are the sum of its buckets' usage rows; the
 * row is the lock that serialises the namespace's reservations (see migration 1797400000000).
 */
@Entity('namespace_quotas')
@Check('namespace_quotas_bytes_check', `"soft_bytes" IS NULL OR "hard_bytes" IS NULL OR "soft_bytes" <= "hard_bytes"`)
@Check('namespace_quotas_buckets_check', `"bucket_count" >= 0 AND ("max_buckets" IS NULL OR "max_buckets" >= 0)`)
export class NamespaceQuotaEntity {
  @PrimaryColumn('text', { name: 'backend_id' }) backendId!: string;
  @PrimaryColumn('text', { name: 'bucket_prefix' }) bucketPrefix!: string;
  @Column('bigint', { name: 'soft_bytes', nullable: true, transformer: bigintAsNumber }) softBytes!: number | null;
  @Column('bigint', { name: 'hard_bytes', nullable: true, transformer: bigintAsNumber }) hardBytes!: number | null;
  @Column('integer', { name: 'max_buckets', nullable: true }) maxBuckets!: number | null;
  /** Buckets in the namespace, plus creates in flight. */
  @Column('integer', { name: 'bucket_count', default: 0 }) bucketCount!: number;
  @Column('timestamptz', { name: 'buckets_counted_at', nullable: true }) bucketsCountedAt!: Date | null;
  /** When the namespace's bytes went past the soft cap (null while under it): audited once. */
  @Column('timestamptz', { name: 'soft_exceeded_at', nullable: true }) softExceededAt!: Date | null;
  @Column('timestamptz', { name: 'updated_at', default: () => 'now()' }) updatedAt!: Date;
  @Column('uuid', { name: 'updated_by', nullable: true }) updatedBy!: string | null;
}
