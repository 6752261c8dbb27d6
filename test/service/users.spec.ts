import { randomUUID } from 'node:crypto';
import { TestingModule } from '@nestjs/testing';
import { AuditService } from '../../src/audit/audit.service';
import { Identity } from '../../src/access/identity';
import { LockoutService } from '../../src/auth/lockout.service';
import { PasswordHasher } from '../../src/auth/password-hasher.service';
import { SessionsService } from '../../src/auth/sessions.service';
import { ChangeAnnouncer } from '../../src/change-announcer/change-announcer.service';
import { CreateUserDto, PatchUserDto } from '../../src/accounts/dto/user.dto';
import { UserCache } from '../../src/users/user-cache.service';
import { snapshotOf } from '../../src/users/user-snapshot';
import { UserEntity } from '../../src/users/user.entity';
import { UserPatch, UsersRepository } from '../../src/users/users.repository';
import { UsersService } from '../../src/accounts/users.service';
import { actorOf, AuditLog, buildServices, strictStub } from './harness';

/** The `users` table as the service sees it; the admin-set lock is a plain call here. */
class UsersTable {
  readonly rows = new Map<string, UserEntity>();

  readonly repository = strictStub<UsersRepository>('UsersRepository', {
    findById: async (id: string) => this.copy(id),
    findWithPasswordHash: async (where: { id: string }) => this.copy(where.id),
    insert: async (user: Partial<UserEntity>) => this.add(user),
    update: async (id: string, patch: UserPatch) => void Object.assign(this.rows.get(id)!, patch),
    delete: async (id: string) => void this.rows.delete(id),
    countEnabledAdmins: async () => [...this.rows.values()].filter((u) => u.role === 'admin' && u.enabled).length,
    withAdminLock: <T>(work: (manager: unknown) => Promise<T>) => work({}),
  });

  add(user: Partial<UserEntity>): UserEntity {
    const row = Object.assign(new UserEntity(), {
      id: randomUUID(),
      email: null,
      role: 'user',
      identitySource: 'local',
      enabled: true,
      mustChangePassword: false,
      createdAt: new Date(),
      lastLoginAt: null,
      passwordHash: '',
      ...user,
    });
    this.rows.set(row.id, row);
    return row;
  }

  private copy(id: string): UserEntity | null {
    const row = this.rows.get(id);
    return row ? Object.assign(new UserEntity(), row) : null;
  }
}

describe('users (service tier)', () => {
  let module: TestingModule;
  let table: UsersTable;
  let audit: AuditLog;
  let users: UsersService;
  let hasher: PasswordHasher;
  let revoked: Array<[string, string | undefined]>;
  let s3Changes: string[];

  const sessionOf = (user: UserEntity, sessionId = `session-of-${user.username}`): Identity => ({
    ...snapshotOf(user),
    sessionId,
    csrfHash: '',
  });
  const as = (user: UserEntity) => actorOf(sessionOf(user));
  const patch = (id: string, dto: PatchUserDto, by: UserEntity) => users.patch(id, dto, as(by));

  beforeEach(async () => {
    table = new UsersTable();
    audit = new AuditLog();
    revoked = [];
    s3Changes = [];
    module = await buildServices({
      drivers: [],
      providers: [
        UsersService,
        PasswordHasher,
        { provide: UsersRepository, useValue: table.repository },
        { provide: AuditService, useValue: audit.service },
        {
          provide: SessionsService,
          useValue: strictStub<SessionsService>('SessionsService', {
            revokeUser: async (id: string, keep?: string) => {
              revoked.push([id, keep]);
              return 1;
            },
          }),
        },
        {
          provide: LockoutService,
          useValue: strictStub<LockoutService>('LockoutService', {
            states: async () => new Map(),
            clear: async () => undefined,
          }),
        },
        { provide: UserCache, useValue: strictStub<UserCache>('UserCache', { invalidate: async () => undefined }) },
        {
          provide: ChangeAnnouncer,
          useValue: strictStub<ChangeAnnouncer>('ChangeAnnouncer', {
            userChanged: async (id: string) => void s3Changes.push(id),
          }),
        },
      ],
    });
    users = module.get(UsersService);
    hasher = module.get(PasswordHasher);
  });

  afterEach(() => module?.close());

  describe('the last admin', () => {
    it('cannot be demoted or disabled (last_admin), and stays as it was', async () => {
      const admin = table.add({ username: 'root', role: 'admin' });
      const helper = table.add({ username: 'helper', role: 'admin', enabled: false });
      await expect(patch(admin.id, { role: 'user' }, helper)).rejects.toMatchObject({ code: 'last_admin' });
      await expect(patch(admin.id, { enabled: false }, helper)).rejects.toMatchObject({ code: 'last_admin' });
      expect(table.rows.get(admin.id)).toMatchObject({ role: 'admin', enabled: true });
      expect(revoked).toEqual([]);
      expect(audit.rows).toEqual([]);
    });

    it('cannot be deleted (last_admin)', async () => {
      const admin = table.add({ username: 'root', role: 'admin' });
      const helper = table.add({ username: 'helper', role: 'admin', enabled: false });
      await expect(users.delete(admin.id, as(helper))).rejects.toMatchObject({ code: 'last_admin' });
      expect(table.rows.has(admin.id)).toBe(true);
    });

    it('can be demoted once another enabled admin exists', async () => {
      const admin = table.add({ username: 'root', role: 'admin' });
      const other = table.add({ username: 'other', role: 'admin' });
      await expect(patch(admin.id, { role: 'user' }, other)).resolves.toMatchObject({ role: 'user' });
      await expect(patch(other.id, { enabled: false }, other)).rejects.toMatchObject({ code: 'last_admin' });
    });
  });

  describe('rules about oneself', () => {
    it('refuses to delete oneself (self_delete) before anything else', async () => {
      const admin = table.add({ username: 'root', role: 'admin' });
      table.add({ username: 'other', role: 'admin' });
      await expect(users.delete(admin.id, as(admin))).rejects.toMatchObject({ code: 'self_delete' });
      expect(table.rows.has(admin.id)).toBe(true);
    });

    it('refuses to change one’s own role (self_role_change) but allows other fields', async () => {
      const admin = table.add({ username: 'root', role: 'admin' });
      table.add({ username: 'other', role: 'admin' });
      await expect(patch(admin.id, { role: 'readonly' }, admin)).rejects.toMatchObject({ code: 'self_role_change' });
      await expect(patch(admin.id, { role: 'admin', email: 'root@example.com' }, admin)).resolves.toMatchObject({
        role: 'admin',
        email: 'root@example.com',
      });
    });
  });

  describe('role and state changes', () => {
    it('a role change is recorded with both roles', async () => {
      const admin = table.add({ username: 'root', role: 'admin' });
      const user = table.add({ username: 'ada' });
      await patch(user.id, { role: 'readonly' }, admin);
      expect(table.rows.get(user.id)!.role).toBe('readonly');
      expect(audit.rows).toEqual([
        expect.objectContaining({
          action: 'user.update',
          detail: expect.objectContaining({ role_from: 'user', role_to: 'readonly', target_id: user.id }),
        }),
      ]);
    });

    it('disabling ends the user’s sessions and tells the S3 proxy; enabling again ends none', async () => {
      const admin = table.add({ username: 'root', role: 'admin' });
      const user = table.add({ username: 'ada' });
      await patch(user.id, { enabled: false }, admin);
      expect(revoked).toEqual([[user.id, undefined]]);
      expect(s3Changes).toEqual([user.id]);
      await patch(user.id, { enabled: true }, admin);
      expect(revoked).toHaveLength(1);
      expect(s3Changes).toEqual([user.id, user.id]);
    });

    it('refuses to change, reset or delete a static account (static_user)', async () => {
      const admin = table.add({ username: 'root', role: 'admin' });
      const fixed = table.add({ username: 'ops', identitySource: 'static' });
      await expect(patch(fixed.id, { enabled: false }, admin)).rejects.toMatchObject({ code: 'static_user' });
      await expect(users.resetPassword(fixed.id, 'a long new password', as(admin))).rejects.toMatchObject({
        code: 'static_user',
      });
      await expect(users.delete(fixed.id, as(admin))).rejects.toMatchObject({ code: 'static_user' });
      expect(table.rows.get(fixed.id)!.enabled).toBe(true);
    });

    it('answers not_found for an unknown user', async () => {
      const admin = table.add({ username: 'root', role: 'admin' });
      await expect(patch(randomUUID(), { enabled: false }, admin)).rejects.toMatchObject({ code: 'not_found' });
      await expect(users.delete(randomUUID(), as(admin))).rejects.toMatchObject({ code: 'not_found' });
    });
  });

  describe('passwords', () => {
    it.each([
      ['too short', 'short'],
      ['blank', ' '.repeat(20)],
      ['over 1024 characters', 'x'.repeat(1025)],
    ])('refuses a password that is %s on creation (weak_password) and creates nobody', async (_why, password) => {
      const admin = table.add({ username: 'root', role: 'admin' });
      const dto = { username: 'ada', password, role: 'user' } as CreateUserDto;
      await expect(users.create(dto, as(admin))).rejects.toMatchObject({ code: 'weak_password' });
      expect(table.rows.size).toBe(1);
    });

    it('an admin reset ends every session and asks the user to choose a new password', async () => {
      const admin = table.add({ username: 'root', role: 'admin' });
      const user = table.add({ username: 'ada' });
      await users.resetPassword(user.id, 'a long new password', as(admin));
      expect(table.rows.get(user.id)!.mustChangePassword).toBe(true);
      expect(await hasher.verify(table.rows.get(user.id)!.passwordHash, 'a long new password')).toBe(true);
      expect(revoked).toEqual([[user.id, undefined]]);
    });

    it('changing one’s own password needs the current one (password_mismatch) and keeps this session', async () => {
      const user = table.add({ username: 'ada', passwordHash: await hasher.hash('the current password') });
      const actor = as(user);
      await expect(users.changeOwnPassword(actor, 'wrong', 'a long new password')).rejects.toMatchObject({
        code: 'password_mismatch',
      });
      await expect(
        users.changeOwnPassword(actor, 'the current password', 'the current password'),
      ).rejects.toMatchObject({ code: 'weak_password' });
      expect(revoked).toEqual([]);
      await users.changeOwnPassword(actor, 'the current password', 'a long new password');
      expect(revoked).toEqual([[user.id, actor.identity.sessionId]]);
      expect(audit.rows.map((r) => [r.action, r.status])).toEqual([
        ['auth.password_change', 'error'],
        ['auth.password_change', 'ok'],
      ]);
    });
  });
});
