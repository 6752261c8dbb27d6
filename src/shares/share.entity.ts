import { Check, Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { UserEntity } from '../users/user.entity';

@Entity('shares')
@Index('shares_code_unique', ['code'], { unique: true })
@Index('shares_created_by', ['createdBy'])
@Index('shares_expires_at', ['expiresAt'])
@Check('shares_disposition_check', `"disposition" IN ('attachment', 'inline')`)
@Check('shares_download_cap_check', `"max_downloads" IS NULL OR "download_count" <= "max_downloads"`)
export class ShareEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column('text') code!: string;
  @Column('text', { name: 'backend_id' }) backendId!: string;
  @Column('text') bucket!: string;
  @Column('text', { name: 'object_key' }) objectKey!: string;
  @Column('uuid', { name: 'created_by' }) createdBy!: string;
  @ManyToOne(() => UserEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'created_by' })
  creator?: UserEntity;
  @Column('timestamptz', { name: 'created_at', default: () => 'now()' }) createdAt!: Date;
  @Column('timestamptz', { name: 'expires_at', nullable: true }) expiresAt!: Date | null;
  @Column('text', { name: 'password_hash', nullable: true, select: false }) passwordHash!: string | null;
  @Column('integer', { name: 'max_downloads', nullable: true }) maxDownloads!: number | null;
  @Column('integer', { name: 'download_count', default: 0 }) downloadCount!: number;
  @Column('boolean', { default: false }) revoked!: boolean;
  @Column('timestamptz', { name: 'revoked_at', nullable: true }) revokedAt!: Date | null;
  @Column('timestamptz', { name: 'last_accessed_at', nullable: true }) lastAccessedAt!: Date | null;
  @Column('text', { default: 'attachment' }) disposition!: 'attachment' | 'inline';
}
