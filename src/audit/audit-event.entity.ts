import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * One audited action. No foreign keys: the record outlives the users and backends it names.
 * Each filter of the audit query has an index ending in (at, id), its order.
 */
@Entity('audit_events')
@Index('audit_events_at', ['at', 'id'])
@Index('audit_events_user_at', ['userId', 'at', 'id'])
@Index('audit_events_username_at', ['username', 'at', 'id'])
@Index('audit_events_action_at', ['action', 'at', 'id'])
@Index('audit_events_bucket_at', ['backendId', 'bucket', 'at', 'id'])
@Index('audit_events_status_at', ['status', 'at', 'id'])
export class AuditEventEntity {
  @PrimaryGeneratedColumn('increment', { type: 'bigint' }) id!: string;
  @Column('timestamptz', { default: () => 'now()' }) at!: Date;
  @Column('uuid', { name: 'user_id', nullable: true }) userId!: string | null;
  @Column('text', { nullable: true }) username!: string | null;
  @Column('text') action!: string;
  @Column('text', { name: 'backend_id', nullable: true }) backendId!: string | null;
  @Column('text', { nullable: true }) bucket!: string | null;
  @Column('text', { name: 'object_key', nullable: true }) objectKey!: string | null;
  @Column('text', { name: 'request_id', nullable: true }) requestId!: string | null;
  @Column('text', { nullable: true }) ip!: string | null;
  @Column('text', { name: 'user_agent', nullable: true }) userAgent!: string | null;
  @Column('text', { default: 'ok' }) status!: string;
  @Column('jsonb', { nullable: true }) detail!: object | null;
}
