import { Column, Entity, PrimaryColumn } from 'typeorm';
import { bigintAsNumber } from '../database/column-types';

/** The measured size of a bucket: set by full scans, adjusted by writes between scans. */
@Entity('bucket_usage')
export class BucketUsageEntity {
  @PrimaryColumn('text', { name: 'backend_id' }) backendId!: string;
  @PrimaryColumn('text') bucket!: string;
  @Column('bigint', { default: 0, transformer: bigintAsNumber }) bytes!: number;
  @Column('bigint', { default: 0, transformer: bigintAsNumber }) objects!: number;
  @Column('timestamptz', { name: 'scanned_at', nullable: true }) scannedAt!: Date | null;
  @Column('integer', { name: 'scan_duration_ms', nullable: true }) scanDurationMs!: number | null;
  @Column('text', { name: 'last_error', nullable: true }) lastError!: string | null;
  @Column('timestamptz', { name: 'updated_at', default: () => 'now()' }) updatedAt!: Date;
}
