import { Check, Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

export const ROLES = ['admin', 'user', 'readonly'] as const;
export type Role = (typeof ROLES)[number];
export const IDENTITY_SOURCES = ['local', 'oidc', 'static'] as const;
export type IdentitySource = (typeof IDENTITY_SOURCES)[number];

@Entity('users')
@Check('users_role_check', `"role" IN ('admin', 'user', 'readonly')`)
@Check('users_identity_source_check', `"identity_source" IN ('local', 'oidc', 'static')`)
@Index('users_username_unique', ['username'], { unique: true })
@Index('users_email_unique', ['email'], { unique: true, where: '"email" IS NOT NULL' })
@Check('users_oidc_identity_check', `("oidc_subject" IS NULL) = ("oidc_issuer" IS NULL)`)
@Index('users_oidc_identity_unique', ['oidcIssuer', 'oidcSubject'], {
  unique: true,
  where: '"oidc_subject" IS NOT NULL',
})
export class UserEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  /** Stored lower-cased: usernames are case-insensitive. */
  @Column('text') username!: string;
  /** Stored lower-cased. */
  @Column('text', { nullable: true }) email!: string | null;
  @Column('text', { name: 'password_hash', default: '', select: false }) passwordHash!: string;
  @Column('text') role!: Role;
  @Column('text', { name: 'identity_source', default: 'local' }) identitySource!: IdentitySource;
  /** With `oidcSubject`, the provider identity this account signs in as (both set or both null). */
  @Column('text', { name: 'oidc_issuer', nullable: true }) oidcIssuer!: string | null;
  @Column('text', { name: 'oidc_subject', nullable: true }) oidcSubject!: string | null;
  /** The name the identity provider gives; refreshed on each OIDC sign-in. */
  @Column('text', { name: 'display_name', nullable: true }) displayName!: string | null;
  /** Set by an admin: OIDC sign-ins keep this role instead of mapping it from the provider's claim. */
  @Column('boolean', { name: 'role_pinned', default: false }) rolePinned!: boolean;
  @Column('boolean', { default: true }) enabled!: boolean;
  @Column('boolean', { name: 'must_change_pw', default: false }) mustChangePassword!: boolean;
  @Column('timestamptz', { name: 'created_at', default: () => 'now()' }) createdAt!: Date;
  @Column('uuid', { name: 'created_by', nullable: true }) createdBy!: string | null;
  @Column('timestamptz', { name: 'updated_at', default: () => 'now()' }) updatedAt!: Date;
  @Column('timestamptz', { name: 'last_login_at', nullable: true }) lastLoginAt!: Date | null;
  @Column('timestamptz', { name: 'pw_changed_at', default: () => 'now()' }) passwordChangedAt!: Date;
}
