import { Check, Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { bigintAsNumber } from '../database/column-types';

/**
 * The size of a bucket: set by full scans, moved by the writes Stowage settles between scans,
 * and the bytes that writes in flight hold against the hard quota (`reserved_bytes`, the sum of
 * the bucket's rows in `quota_reservations`). A scan in progress keeps its position here, so a
 * scan cut short resumes where it stopped.
 */
@Entity('bucket_usage')
@Check('bucket_usage_reserved_check', `"reserved_bytes" >= 0`)
// (backend_id, bucket COLLATE "C"): a namespace's buckets as one range (1797500000000). The
// decorator cannot state the collation, so the schema builder leaves the index alone.
@Index('bucket_usage_bucket_bytewise', { synchronize: false })
export class BucketUsageEntity {
  @PrimaryColumn('text', { name: 'backend_id' }) backendId!: string;
  @PrimaryColumn('text') bucket!: string;
  @Column('bigint', { default: 0, transformer: bigintAsNumber }) bytes!: number;
  @Column('bigint', { default: 0, transformer: bigintAsNumber }) objects!: number;
  @Column('bigint', { name: 'reserved_bytes', default: 0, transformer: bigintAsNumber }) reservedBytes!: number;
  /** When the usage went past the soft quota (null while under it): the crossing is audited once. */
  @Column('timestamptz', { name: 'soft_exceeded_at', nullable: true }) softExceededAt!: Date | null;
  @Column('timestamptz', { name: 'scanned_at', nullable: true }) scannedAt!: Date | null;
  @Column('integer', { name: 'scan_duration_ms', nullable: true }) scanDurationMs!: number | null;
  @Column('text', { name: 'last_error', nullable: true }) lastError!: string | null;
  /** The continuation token of the scan in progress; null when none runs. */
  @Column('text', { name: 'scan_token', nullable: true }) scanToken!: string | null;
  @Column('bigint', { name: 'scan_bytes', default: 0, transformer: bigintAsNumber }) scanBytes!: number;
  @Column('bigint', { name: 'scan_objects', default: 0, transformer: bigintAsNumber }) scanObjects!: number;
  @Column('timestamptz', { name: 'scan_started_at', nullable: true }) scanStartedAt!: Date | null;
  /** Growth settled while the scan in progress runs: added to its count when it finishes. */
  @Column('bigint', { name: 'scan_delta_bytes', default: 0, transformer: bigintAsNumber }) scanDeltaBytes!: number;
  @Column('bigint', { name: 'scan_delta_objects', default: 0, transformer: bigintAsNumber }) scanDeltaObjects!: number;
  @Column('timestamptz', { name: 'updated_at', default: () => 'now()' }) updatedAt!: Date;
}
