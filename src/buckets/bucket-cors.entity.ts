import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { CorsRule } from '../storage-backends/backend';

/** CORS rules the S3 proxy applies to a bucket, answered without asking the upstream. */
@Entity('s3_bucket_cors')
export class BucketCorsEntity {
  @PrimaryColumn('text', { name: 'backend_id' }) backendId!: string;
  @PrimaryColumn('text') bucket!: string;
  @Column('jsonb') rules!: CorsRule[];
  @Column('timestamptz', { name: 'created_at', default: () => 'now()' }) createdAt!: Date;
  @Column('timestamptz', { name: 'updated_at', default: () => 'now()' }) updatedAt!: Date;
  @Column('uuid', { name: 'updated_by', nullable: true }) updatedBy!: string | null;
}
