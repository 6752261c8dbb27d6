import { Check, Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { S3CredentialEntity } from './s3-credential.entity';

export type ScopeKind = 'bucket' | 'namespace';

/**
 * One scope of a virtual credential: a bucket (optionally only the keys under `key_prefix`), or a
 * namespace, whose `bucket` is a bucket-name prefix ending in `-` (so it never equals a bucket name).
 */
@Entity('s3_credential_scopes')
@Index('s3_credential_scopes_bucket', ['backendId', 'bucket'])
@Check('s3_credential_scopes_kind_check', `"kind" IN ('bucket', 'namespace')`)
@Check('s3_credential_scopes_key_prefix_check', `"key_prefix" IS NULL OR "kind" = 'bucket'`)
export class S3CredentialScopeEntity {
  @PrimaryColumn('text', { name: 'access_key' }) accessKey!: string;
  @PrimaryColumn('text', { name: 'backend_id' }) backendId!: string;
  @PrimaryColumn('text') bucket!: string;
  @Column('text', { default: 'bucket' }) kind!: ScopeKind;
  @Column('text', { name: 'key_prefix', nullable: true }) keyPrefix!: string | null;
  @ManyToOne(() => S3CredentialEntity, (credential) => credential.scopes, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'access_key' })
  credential?: S3CredentialEntity;
}
