import { Check, Column, Entity, PrimaryColumn } from 'typeorm';

/** A bucket opened for unauthenticated reads through the S3 proxy. */
@Entity('s3_anonymous_bindings')
@Check('s3_anonymous_bindings_mode_check', `"mode" IN ('ReadOnly')`)
export class AnonymousBindingEntity {
  @PrimaryColumn('text', { name: 'backend_id' }) backendId!: string;
  @PrimaryColumn('text') bucket!: string;
  @Column('text', { default: 'ReadOnly' }) mode!: 'ReadOnly';
  @Column('integer', { name: 'per_source_ip_rps', default: 20 }) perSourceIpRps!: number;
  @Column('timestamptz', { name: 'created_at', default: () => 'now()' }) createdAt!: Date;
  @Column('uuid', { name: 'created_by', nullable: true }) createdBy!: string | null;
}
