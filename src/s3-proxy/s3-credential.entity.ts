import { Check, Column, Entity, Index, JoinColumn, ManyToOne, OneToMany, PrimaryColumn } from 'typeorm';
import { UserEntity } from '../users/user.entity';
import { S3CredentialScopeEntity } from './s3-credential-scope.entity';

export type CredentialDisabledBy = 'admin' | 'owner';

/** A virtual S3 credential handed to a tenant. The secret is sealed with the root key. */
@Entity('s3_credentials')
@Index('s3_credentials_user_id', ['userId'])
@Check('s3_credentials_disabled_by_check', `"disabled_by" IN ('admin', 'owner')`)
export class S3CredentialEntity {
  @PrimaryColumn('text', { name: 'access_key' }) accessKey!: string;
  @Column('bytea', { name: 'secret_key_sealed', select: false }) secretKeySealed!: Buffer;
  @Column('uuid', { name: 'user_id', nullable: true }) userId!: string | null;
  @ManyToOne(() => UserEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id' })
  user?: UserEntity;
  @Column('text', { default: '' }) description!: string;
  @Column('boolean', { default: true }) enabled!: boolean;
  /** Who disabled it: an admin's disable only an admin can undo. Null while enabled. */
  @Column('text', { name: 'disabled_by', nullable: true }) disabledBy!: CredentialDisabledBy | null;
  @Column('timestamptz', { name: 'expires_at', nullable: true }) expiresAt!: Date | null;
  @Column('timestamptz', { name: 'last_used_at', nullable: true }) lastUsedAt!: Date | null;
  @Column('timestamptz', { name: 'created_at', default: () => 'now()' }) createdAt!: Date;
  @Column('uuid', { name: 'created_by', nullable: true }) createdBy!: string | null;
  @Column('timestamptz', { name: 'updated_at', default: () => 'now()' }) updatedAt!: Date;
  @Column('uuid', { name: 'updated_by', nullable: true }) updatedBy!: string | null;
  @OneToMany(() => S3CredentialScopeEntity, (scope) => scope.credential)
  scopes?: S3CredentialScopeEntity[];
}
