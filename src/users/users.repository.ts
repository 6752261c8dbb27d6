import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager, QueryFailedError } from 'typeorm';
import { StowageError } from '@stowage/errors';
import { IdentitySource, Role, UserEntity } from './user.entity';

export interface UserListFilter {
  query?: string;
  role?: Role;
  source?: IdentitySource;
  enabled?: boolean;
  limit: number;
  offset: number;
}

export type UserPatch = Partial<
  Pick<
    UserEntity,
    | 'role'
    | 'enabled'
    | 'email'
    | 'mustChangePassword'
    | 'passwordHash'
    | 'passwordChangedAt'
    | 'lastLoginAt'
    | 'identitySource'
    | 'oidcIssuer'
    | 'oidcSubject'
    | 'displayName'
    | 'rolePinned'
  >
>;

/** Serialises every change that could remove the last enabled admin. */
const ADMIN_SET_LOCK = 0x5702a01;

/** Translates unique violations into the catalogue's conflict codes. */
function conflictOf(err: unknown): StowageError | undefined {
  if (!(err instanceof QueryFailedError)) return undefined;
  const constraint = (err.driverError as { constraint?: string } | undefined)?.constraint;
  if (constraint === 'users_username_unique') return new StowageError('username_taken');
  if (constraint === 'users_email_unique') return new StowageError('email_taken');
  if (constraint === 'users_oidc_identity_unique') return new StowageError('conflict', 'This OIDC identity already has an account.');
  return undefined;
}

@Injectable()
export class UsersRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  private repo(manager?: EntityManager) {
    return (manager ?? this.dataSource.manager).getRepository(UserEntity);
  }

  findById(id: string, manager?: EntityManager): Promise<UserEntity | null> {
    return this.repo(manager).findOneBy({ id });
  }

  /** Includes the password hash, which is never selected otherwise. */
  findWithPasswordHash(where: { id: string } | { username: string }): Promise<UserEntity | null> {
    return this.repo().createQueryBuilder('u').addSelect('u.passwordHash').where(where).getOne();
  }

  /** The account an OIDC identity (issuer and subject) signs in as. */
  findByOidcIdentity(issuer: string, subject: string): Promise<UserEntity | null> {
    return this.repo().findOneBy({ oidcIssuer: issuer, oidcSubject: subject });
  }

  /** `email` lower-cased, as stored. */
  findByEmail(email: string): Promise<UserEntity | null> {
    return this.repo().findOneBy({ email });
  }

  async usernameTaken(username: string): Promise<boolean> {
    return (await this.repo().countBy({ username })) > 0;
  }

  list(filter: UserListFilter): Promise<UserEntity[]> {
    const qb = this.repo()
      .createQueryBuilder('u')
      .orderBy('u.username', 'ASC')
      .limit(filter.limit)
      .offset(filter.offset);
    if (filter.query) {
      const pattern = `%${filter.query.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      qb.andWhere('(u.username LIKE :pattern OR u.email LIKE :pattern)', { pattern });
    }
    if (filter.role) qb.andWhere('u.role = :role', { role: filter.role });
    if (filter.source) qb.andWhere('u.identitySource = :source', { source: filter.source });
    if (filter.enabled !== undefined) qb.andWhere('u.enabled = :enabled', { enabled: filter.enabled });
    return qb.getMany();
  }

  async insert(user: Partial<UserEntity>, manager?: EntityManager): Promise<UserEntity> {
    try {
      const saved = await this.repo(manager).save(this.repo(manager).create(user));
      return (await this.findById(saved.id, manager))!;
    } catch (err) {
      throw conflictOf(err) ?? err;
    }
  }

  async update(id: string, patch: UserPatch, manager?: EntityManager): Promise<void> {
    try {
      await this.repo(manager).update({ id }, { ...patch, updatedAt: new Date() });
    } catch (err) {
      throw conflictOf(err) ?? err;
    }
  }

  async delete(id: string, manager?: EntityManager): Promise<void> {
    await this.repo(manager).delete({ id });
  }

  countEnabledAdmins(manager: EntityManager): Promise<number> {
    return this.repo(manager).countBy({ role: 'admin', enabled: true });
  }

  /**
   * Runs `work` in a transaction that holds the admin-set lock, so two concurrent demotions
   * cannot both see "another admin remains".
   */
  withAdminLock<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(async (manager) => {
      await manager.query('SELECT pg_advisory_xact_lock($1)', [ADMIN_SET_LOCK]);
      return work(manager);
    });
  }
}
