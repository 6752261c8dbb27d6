import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { BackendKind } from '@stowage/config';

/** Driver options that are not worth a column. */
export interface BackendOptions {
  kind?: BackendKind;
  checksums?: 'when_required' | 'when_supported';
}

/**
 * A backend managed from the dashboard. YAML-defined backends never live here. The upstream
 * secret is sealed with the root key, bound to the backend id.
 */
@Entity('backends')
export class BackendEntity {
  @PrimaryColumn('text') id!: string;
  @Column('text') name!: string;
  @Column('text', { default: 's3v4' }) type!: string;
  @Column('text') endpoint!: string;
  @Column('text', { default: '' }) region!: string;
  @Column('boolean', { name: 'path_style', default: false }) pathStyle!: boolean;
  @Column('text', { name: 'access_key', default: '' }) accessKey!: string;
  @Column('bytea', { name: 'secret_key_sealed', nullable: true, select: false }) secretKeySealed!: Buffer | null;
  @Column('boolean', { default: true }) enabled!: boolean;
  @Column('jsonb', { default: {} }) options!: BackendOptions;
  @Column('timestamptz', { name: 'created_at', default: () => 'now()' }) createdAt!: Date;
  @Column('uuid', { name: 'created_by', nullable: true }) createdBy!: string | null;
  @Column('timestamptz', { name: 'updated_at', default: () => 'now()' }) updatedAt!: Date;
  @Column('uuid', { name: 'updated_by', nullable: true }) updatedBy!: string | null;
}
