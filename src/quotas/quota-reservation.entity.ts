import { Check, Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { bigintAsNumber } from '../database/column-types';

/**
 * Bytes a write in flight holds against a bucket's hard quota. The replica doing the write renews
 * `expires_at` while it runs; a replica that died stops renewing, and its reservations are
 * released once they expire.
 */
@Entity('quota_reservations')
@Index('quota_reservations_expires_at', ['expiresAt'])
@Index('quota_reservations_bucket', ['backendId', 'bucket'])
@Check('quota_reservations_bytes_check', `"bytes" >= 0`)
export class QuotaReservationEntity {
  @PrimaryColumn('uuid') id!: string;
  @Column('text', { name: 'backend_id' }) backendId!: string;
  @Column('text') bucket!: string;
  @Column('bigint', { transformer: bigintAsNumber }) bytes!: number;
  @Column('timestamptz', { name: 'expires_at' }) expiresAt!: Date;
  @Column('timestamptz', { name: 'created_at', default: () => 'now()' }) createdAt!: Date;
}
