import { Injectable } from '@nestjs/common';
import { StowageConfig } from '@stowage/config';
import { StowageError } from '@stowage/errors';
import { AuditService } from '../audit/audit.service';
import { SessionActor } from '../access/actor';
import { LockoutService } from '../auth/lockout.service';
import { PasswordHasher } from '../auth/password-hasher.service';
import { assertPasswordPolicy } from '../auth/password-policy';
import { SessionsService } from '../auth/sessions.service';
import { ChangeAnnouncer } from '../change-announcer/change-announcer.service';
import { CreateUserDto, ListUsersQuery, PatchUserDto, toUserDto, UserDto } from './dto/user.dto';
import { UserCache } from '../users/user-cache.service';
import { UserEntity } from '../users/user.entity';
import { UsersRepository } from '../users/users.repository';

/** An actor with their session: password changes keep or end sessions. */

export interface NewLocalUser {
  username: string;
  email?: string | null;
  password: string;
  role: UserEntity['role'];
  mustChangePassword: boolean;
  createdBy?: string | null;
}

/** Account administration and self-service password changes: the rules, in one place. */
@Injectable()
export class UsersService {
  constructor(
    private readonly config: StowageConfig,
    private readonly users: UsersRepository,
    private readonly cache: UserCache,
    private readonly hasher: PasswordHasher,
    private readonly sessions: SessionsService,
    private readonly lockout: LockoutService,
    private readonly audit: AuditService,
    private readonly s3Access: ChangeAnnouncer,
  ) {}

  /** Creates a local account (also used by the `create-admin` command). */
  async createLocal(input: NewLocalUser): Promise<UserEntity> {
    assertPasswordPolicy(this.config.auth.local.password, input.password);
    const passwordHash = await this.hasher.hash(input.password);
    return this.users.insert({
      username: input.username.trim().toLowerCase(),
      email: input.email ? input.email.trim().toLowerCase() : null,
      passwordHash,
      role: input.role,
      identitySource: 'local',
      mustChangePassword: input.mustChangePassword,
      createdBy: input.createdBy ?? null,
    });
  }

  async create(dto: CreateUserDto, actor: SessionActor): Promise<UserDto> {
    const user = await this.createLocal({
      username: dto.username,
      email: dto.email,
      password: dto.password,
      role: dto.role,
      mustChangePassword: dto.must_change_pw ?? true,
      createdBy: actor.identity.id,
    });
    await this.record(actor, 'user.create', user, { role: user.role });
    return toUserDto(user);
  }

  async list(query: ListUsersQuery): Promise<UserDto[]> {
    const users = await this.users.list({ ...query, limit: query.limit ?? 100, offset: query.offset ?? 0 });
    const locks = await this.lockout.states(users.map((u) => u.id));
    return users.map((u) => toUserDto(u, locks.get(u.id)));
  }

  async get(id: string): Promise<UserDto> {
    const user = await this.mustFind(id);
    const locks = await this.lockout.states([id]);
    return toUserDto(user, locks.get(id));
  }

  async patch(id: string, dto: PatchUserDto, actor: SessionActor): Promise<UserDto> {
    const { before, after } = await this.users.withAdminLock(async (manager) => {
      const user = await this.mustFind(id, manager);
      if (user.identitySource === 'static') throw new StowageError('static_user');
      if (dto.role !== undefined && dto.role !== user.role && id === actor.identity.id)
        throw new StowageError('self_role_change');
      const demoting = dto.role !== undefined && dto.role !== 'admin' && user.role === 'admin';
      const disabling = dto.enabled === false && user.enabled && user.role === 'admin';
      if ((demoting || disabling) && user.enabled && (await this.users.countEnabledAdmins(manager)) <= 1) {
        throw new StowageError('last_admin');
      }
      await this.users.update(
        id,
        {
          ...(dto.role !== undefined ? { role: dto.role } : {}),
          ...(dto.enabled !== undefined ? { enabled: dto.enabled } : {}),
          ...(dto.role_pinned !== undefined ? { rolePinned: dto.role_pinned } : {}),
          ...(dto.email !== undefined ? { email: dto.email || null } : {}),
        },
        manager,
      );
      return { before: user, after: (await this.users.findById(id, manager))! };
    });
    await this.cache.invalidate(id);
    if (before.enabled !== after.enabled) await this.s3Access.userChanged(id);
    if (before.enabled && !after.enabled) await this.sessions.revokeUser(id);
    await this.record(actor, 'user.update', after, {
      changes: Object.keys(dto).filter((k) => dto[k as keyof PatchUserDto] !== undefined),
      ...(before.role !== after.role ? { role_from: before.role, role_to: after.role } : {}),
    });
    return this.get(id);
  }

  async resetPassword(id: string, newPassword: string, actor: SessionActor): Promise<void> {
    const user = await this.mustFind(id);
    if (user.identitySource === 'static') throw new StowageError('static_user');
    if (user.identitySource !== 'local') throw new StowageError('not_local');
    assertPasswordPolicy(this.config.auth.local.password, newPassword);
    const self = id === actor.identity.id;
    await this.users.update(id, {
      passwordHash: await this.hasher.hash(newPassword),
      passwordChangedAt: new Date(),
      // An admin who picks their own password does not need to be asked to change it again.
      mustChangePassword: !self,
    });
    await this.cache.invalidate(id);
    await this.sessions.revokeUser(id, self ? actor.identity.sessionId : undefined);
    await this.lockout.clear(id);
    await this.record(actor, 'user.password_reset', user);
  }

  async unlock(id: string, actor: SessionActor): Promise<void> {
    const user = await this.mustFind(id);
    await this.lockout.clear(id);
    await this.record(actor, 'auth.unlock', user);
  }

  async delete(id: string, actor: SessionActor): Promise<void> {
    if (id === actor.identity.id) throw new StowageError('self_delete');
    const user = await this.users.withAdminLock(async (manager) => {
      const target = await this.mustFind(id, manager);
      if (target.identitySource === 'static') throw new StowageError('static_user');
      if (target.role === 'admin' && target.enabled && (await this.users.countEnabledAdmins(manager)) <= 1) {
        throw new StowageError('last_admin');
      }
      await this.sessions.revokeUser(id);
      await this.users.delete(id, manager);
      return target;
    });
    await this.cache.invalidate(id);
    await this.s3Access.userChanged(id);
    await this.lockout.clear(id);
    await this.record(actor, 'user.delete', user);
  }

  /** Self-service rotation: checks the current password, applies the policy, ends other sessions. */
  async changeOwnPassword(actor: SessionActor, currentPassword: string, newPassword: string): Promise<void> {
    const { identity } = actor;
    if (identity.identitySource === 'static') throw new StowageError('static_user');
    if (identity.identitySource !== 'local') throw new StowageError('not_local');
    const user = await this.users.findWithPasswordHash({ id: identity.id });
    if (!user) throw new StowageError('unauthorized');
    if (!(await this.hasher.verify(user.passwordHash, currentPassword))) {
      await this.record(actor, 'auth.password_change', user, { reason: 'password_mismatch' }, 'error');
      throw new StowageError('password_mismatch');
    }
    assertPasswordPolicy(this.config.auth.local.password, newPassword);
    if (this.config.auth.local.password.prevent_reuse && (await this.hasher.verify(user.passwordHash, newPassword))) {
      throw new StowageError('weak_password', 'The new password must differ from the current one.');
    }
    await this.users.update(identity.id, {
      passwordHash: await this.hasher.hash(newPassword),
      passwordChangedAt: new Date(),
      mustChangePassword: false,
    });
    await this.cache.invalidate(identity.id);
    await this.sessions.revokeUser(identity.id, identity.sessionId);
    await this.record(actor, 'auth.password_change', user);
  }

  private async mustFind(id: string, manager?: Parameters<UsersRepository['findById']>[1]): Promise<UserEntity> {
    const user = await this.users.findById(id, manager);
    if (!user) throw new StowageError('not_found', 'User not found.');
    return user;
  }

  private record(
    actor: SessionActor,
    action: string,
    target: UserEntity,
    detail: Record<string, unknown> = {},
    status = 'ok',
  ) {
    return this.audit.recordBy(actor, {
      action,
      status,
      detail: { target_id: target.id, target_username: target.username, ...detail },
    });
  }
}
