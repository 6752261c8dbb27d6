import { Check, Column, Entity, PrimaryColumn } from 'typeorm';
import { bigintAsNumber } from '../database/column-types';

/** Per-bucket limits on bytes and on object count; null means no limit of that kind. */
@Entity('bucket_quotas')
@Check('bucket_quotas_bytes_check', `"soft_bytes" IS NULL OR "hard_bytes" IS NULL OR "soft_bytes" <= "hard_bytes"`)
@Check(
  'bucket_quotas_objects_check',
  `"soft_objects" IS NULL OR "hard_objects" IS NULL OR "soft_objects" <= "hard_objects"`,
)
export class BucketQuotaEntity {
  @PrimaryColumn('text', { name: 'backend_id' }) backendId!: string;
  @PrimaryColumn('text') bucket!: string;
  @Column('bigint', { name: 'soft_bytes', nullable: true, transformer: bigintAsNumber }) softBytes!: number | null;
  @Column('bigint', { name: 'hard_bytes', nullable: true, transformer: bigintAsNumber }) hardBytes!: number | null;
  @Column('bigint', { name: 'soft_objects', nullable: true, transformer: bigintAsNumber }) softObjects!: number | null;
  @Column('bigint', { name: 'hard_objects', nullable: true, transformer: bigintAsNumber }) hardObjects!: number | null;
  @Column('timestamptz', { name: 'updated_at', default: () => 'now()' }) updatedAt!: Date;
  @Column('uuid', { name: 'updated_by', nullable: true }) updatedBy!: string | null;
}
