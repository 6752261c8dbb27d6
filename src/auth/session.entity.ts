import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { UserEntity } from '../users/user.entity';

/** A login session. The primary key is the SHA-256 of the cookie value; the value itself is never stored. */
@Entity('sessions')
@Index('sessions_user_id', ['userId'])
@Index('sessions_expires_at', ['expiresAt'])
export class SessionEntity {
  @PrimaryColumn('text', { name: 'id_hash' }) idHash!: string;
  @Column('uuid', { name: 'user_id' }) userId!: string;
  @ManyToOne(() => UserEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id' })
  user?: UserEntity;
  @Column('text', { name: 'identity_source' }) identitySource!: string;
  /** SHA-256 of the session's CSRF token (double-submit cookie). */
  @Column('text', { name: 'csrf_hash' }) csrfHash!: string;
  @Column('text', { nullable: true }) ip!: string | null;
  @Column('text', { name: 'user_agent', nullable: true }) userAgent!: string | null;
  @Column('timestamptz', { name: 'created_at', default: () => 'now()' }) createdAt!: Date;
  @Column('timestamptz', { name: 'last_seen_at', default: () => 'now()' }) lastSeenAt!: Date;
  @Column('timestamptz', { name: 'expires_at' }) expiresAt!: Date;
}
