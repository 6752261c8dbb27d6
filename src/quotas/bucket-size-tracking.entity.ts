import { Column, Entity, PrimaryColumn } from 'typeorm';

/** Explicit per-bucket size-tracking switches; a bucket without a row is tracked. */
@Entity('bucket_size_tracking')
export class BucketSizeTrackingEntity {
  @PrimaryColumn('text', { name: 'backend_id' }) backendId!: string;
  @PrimaryColumn('text') bucket!: string;
  @Column('boolean', { default: true }) enabled!: boolean;
  @Column('timestamptz', { name: 'updated_at', default: () => 'now()' }) updatedAt!: Date;
  @Column('uuid', { name: 'updated_by', nullable: true }) updatedBy!: string | null;
}
