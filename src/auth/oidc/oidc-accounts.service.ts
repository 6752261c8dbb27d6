import { Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { StowageConfig } from '@stowage/config';
import { StowageError } from '@stowage/errors';
import { toStorableText } from '../../http/storable-text';
import { UserCache } from '../../users/user-cache.service';
import { Role, UserEntity } from '../../users/user.entity';
import { UsersRepository } from '../../users/users.repository';
import { OidcError } from './oidc-errors';

/** What an ID token says about who signed in. */
export interface OidcIdentity {
  issuer: string;
  subject: string;
  /** Lower-cased. */
  email?: string;
  emailVerified: boolean;
  /** From `auth.oidc.username_claim`. */
  preferredUsername?: string;
  name?: string;
  /** From the role claim through the mapping; undefined when nothing matched. */
  mappedRole?: Role;
}

export interface OidcAccountResult {
  user: UserEntity;
  created: boolean;
  linked: boolean;
}

const USERNAME_OK = /^[a-z0-9][a-z0-9._@-]{1,63}$/;
const EMAIL_OK = /^[^\s@]{1,64}@[^\s@]{1,255}$/;

/** A short stable suffix for an identity, so two providers' "alice" do not collide. */
const identityTag = (issuer: string, subject: string) =>
  createHash('sha256').update(`${issuer}\n${subject}`).digest('hex').slice(0, 8);

/**
 * OIDC accounts: one users row per (issuer, subject), created on the first sign-in and refreshed
 * (e-mail, name, role unless an admin pinned it) on each one. A first sign-in is linked to an
 * existing local account with the same e-mail only when `auth.oidc.link_existing_by_email` is on
 * and the provider says the e-mail is verified; otherwise a clash with another account's e-mail
 * is refused, never merged.
 */
@Injectable()
export class OidcAccounts {
  constructor(
    private readonly config: StowageConfig,
    private readonly users: UsersRepository,
    private readonly cache: UserCache,
  ) {}

  async upsert(identity: OidcIdentity): Promise<OidcAccountResult> {
    const existing = await this.users.findByOidcIdentity(identity.issuer, identity.subject);
    if (existing) return { user: await this.refresh(existing, identity), created: false, linked: false };
    const role = identity.mappedRole;
    if (!role) throw noRole();
    const email = identity.email && EMAIL_OK.test(identity.email) ? identity.email : undefined;
    if (email) {
      const holder = await this.users.findByEmail(email);
      if (holder) return { user: await this.link(holder, identity, role), created: false, linked: true };
    }
    return { user: await this.create(identity, role, email), created: true, linked: false };
  }

  private async refresh(user: UserEntity, identity: OidcIdentity): Promise<UserEntity> {
    if (!user.enabled) throw new OidcError('disabled', 'This account is disabled.');
    const role = user.rolePinned ? user.role : identity.mappedRole;
    if (!role) throw noRole();
    const email = identity.email && EMAIL_OK.test(identity.email) ? identity.email : user.email;
    const patch = { role, displayName: this.nameOf(identity), lastLoginAt: new Date() };
    try {
      await this.users.update(user.id, { ...patch, email });
    } catch (err) {
      // The provider's new e-mail belongs to another account: keep the one on record.
      if (!(err instanceof StowageError && err.code === 'email_taken')) throw err;
      await this.users.update(user.id, patch);
    }
    await this.cache.invalidate(user.id);
    return (await this.users.findById(user.id))!;
  }

  private async link(holder: UserEntity, identity: OidcIdentity, role: Role): Promise<UserEntity> {
    const allowed =
      this.config.auth.oidc.link_existing_by_email &&
      identity.emailVerified &&
      holder.identitySource === 'local' &&
      holder.enabled;
    if (!allowed)
      throw new OidcError(
        'email_conflict',
        identity.emailVerified
          ? 'Another account already uses this e-mail address.'
          : 'Another account already uses this e-mail address, and the provider does not say it is verified.',
      );
    await this.users.update(holder.id, {
      identitySource: 'oidc',
      oidcIssuer: identity.issuer,
      oidcSubject: identity.subject,
      // The local password stops working once the account signs in through the provider.
      passwordHash: '',
      mustChangePassword: false,
      role: holder.rolePinned ? holder.role : role,
      displayName: this.nameOf(identity),
      lastLoginAt: new Date(),
    });
    await this.cache.invalidate(holder.id);
    return (await this.users.findById(holder.id))!;
  }

  private async create(identity: OidcIdentity, role: Role, email: string | undefined): Promise<UserEntity> {
    const base = this.usernameOf(identity);
    const tagged = `${base.slice(0, 55)}-${identityTag(identity.issuer, identity.subject)}`;
    for (const username of [base, tagged]) {
      if (await this.users.usernameTaken(username)) continue;
      try {
        return await this.users.insert({
          username,
          email: email ?? null,
          role,
          identitySource: 'oidc',
          oidcIssuer: identity.issuer,
          oidcSubject: identity.subject,
          displayName: this.nameOf(identity),
          passwordHash: '',
          lastLoginAt: new Date(),
        });
      } catch (err) {
        if (!(err instanceof StowageError)) throw err;
        // Another replica created this identity's account at the same moment: use it.
        const raced = await this.users.findByOidcIdentity(identity.issuer, identity.subject);
        if (raced) return this.refresh(raced, identity);
        if (err.code === 'email_taken')
          throw new OidcError('email_conflict', 'Another account already uses this e-mail address.');
        if (err.code !== 'username_taken') throw err;
      }
    }
    throw new OidcError('email_conflict', 'No free username for this account.');
  }

  /** A valid username from the configured claim, the e-mail or the subject, lower-cased. */
  private usernameOf(identity: OidcIdentity): string {
    for (const candidate of [identity.preferredUsername, identity.email, identity.subject]) {
      const cleaned = (candidate ?? '')
        .trim()
        .toLowerCase()
        .replace(/[^a-z0-9._@-]/g, '')
        .slice(0, 64);
      if (USERNAME_OK.test(cleaned)) return cleaned;
    }
    return `oidc-${identityTag(identity.issuer, identity.subject)}`;
  }

  private nameOf(identity: OidcIdentity): string | null {
    return identity.name ? toStorableText(identity.name).slice(0, 256) : null;
  }
}

function noRole(): OidcError {
  return new OidcError('no_role', 'None of your groups is mapped to a Stowage role.');
}
