import { Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { S3CredentialEntity } from './s3-credential.entity';

/** One bucket a virtual credential may reach. */
@Entity('s3_credential_scopes')
@Index('s3_credential_scopes_bucket', ['backendId', 'bucket'])
export class S3CredentialScopeEntity {
  @PrimaryColumn('text', { name: 'access_key' }) accessKey!: string;
  @PrimaryColumn('text', { name: 'backend_id' }) backendId!: string;
  @PrimaryColumn('text') bucket!: string;
  @ManyToOne(() => S3CredentialEntity, (credential) => credential.scopes, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'access_key' })
  credential?: S3CredentialEntity;
}
