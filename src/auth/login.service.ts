import { Injectable } from '@nestjs/common';
import { StowageConfig } from '@stowage/config';
import { StowageError } from '@stowage/errors';
import { AuditService } from '../audit/audit.service';
import { RequestOrigin } from '../access/actor';
import { toStorableText, unstorableTextProblem } from '../http/storable-text';
import { snapshotOf, UserSnapshot } from '../users/user-snapshot';
import { UsersRepository } from '../users/users.repository';
import { LockoutService } from './lockout.service';
import { LoginRateLimiter } from './login-rate-limit.service';
import { PasswordHasher } from './password-hasher.service';
import { signInOutage } from './sessions.service';
import { StaticAccountService } from './static-account.service';

type FailureReason =
  'unknown_user' | 'bad_password' | 'disabled' | 'locked' | 'mode_disabled' | 'rate_limited' | 'not_local';

/**
 * Checks a username and password. Unknown user, wrong password and disabled account give the
 * same answer (`invalid_credentials`) after the same argon2id work; every outcome is audited
 * with its reason. While PostgreSQL or Redis is away (the user, the rate limit and the lockout
 * cannot be checked) it fails closed with `session_error` answered 503 and Retry-After.
 */
@Injectable()
export class LoginService {
  constructor(
    private readonly config: StowageConfig,
    private readonly users: UsersRepository,
    private readonly hasher: PasswordHasher,
    private readonly lockout: LockoutService,
    private readonly limiter: LoginRateLimiter,
    private readonly staticAccount: StaticAccountService,
    private readonly audit: AuditService,
  ) {}

  async login(usernameInput: string, password: string, origin: RequestOrigin & { ip: string }): Promise<UserSnapshot> {
    try {
      return await this.check(usernameInput, password, origin);
    } catch (err) {
      throw signInOutage(err);
    }
  }

  private async check(
    usernameInput: string,
    password: string,
    origin: RequestOrigin & { ip: string },
  ): Promise<UserSnapshot> {
    const username = usernameInput.trim().toLowerCase();
    const localOn = this.config.auth.modes.includes('local');
    if (!localOn && !this.staticAccount.enabled) {
      await this.fail(origin, username, 'mode_disabled');
      throw new StowageError('mode_disabled', 'Password sign-in is not enabled.');
    }
    try {
      await this.limiter.take('login', origin.ip);
    } catch (err) {
      await this.fail(origin, username, 'rate_limited');
      throw err;
    }

    const staticUser =
      this.staticAccount.enabled && username === this.staticAccount.username ? this.staticAccount.user : undefined;
    if (staticUser) {
      if (!(await this.hasher.verify(this.staticAccount.passwordHash, password)))
        return this.reject(origin, username, 'bad_password', staticUser.id);
      return this.succeed(origin, snapshotOf(staticUser));
    }

    // A name PostgreSQL cannot store (NUL) names nobody: the same decoy work as an unknown user.
    const user =
      localOn && !unstorableTextProblem(username) ? await this.users.findWithPasswordHash({ username }) : null;
    // Names without an account lock like accounts do, so lockout does not tell which names exist.
    const lockSubject = user ? user.id : LockoutService.unknownSubject(username);
    const lockedFor = localOn ? await this.lockout.lockedFor(lockSubject) : 0;
    if (lockedFor > 0) {
      await this.fail(origin, username, 'locked', user?.id);
      throw new StowageError('account_locked', undefined, '', { retryAfterSeconds: Math.ceil(lockedFor / 1000) });
    }
    if (!user || user.identitySource !== 'local') {
      await this.hasher.verifyDecoy(password);
      const lockedNow = localOn && (await this.lockout.recordFailure(lockSubject));
      return this.reject(
        origin,
        username,
        localOn ? (user ? 'not_local' : 'unknown_user') : 'mode_disabled',
        user?.id,
        lockedNow ? { locked: true } : {},
      );
    }
    if (!(await this.hasher.verify(user.passwordHash, password))) {
      const lockedNow = await this.lockout.recordFailure(user.id);
      return this.reject(origin, username, 'bad_password', user.id, { locked: lockedNow });
    }
    if (!user.enabled) return this.reject(origin, username, 'disabled', user.id);
    await Promise.all([this.lockout.clear(user.id), this.users.update(user.id, { lastLoginAt: new Date() })]);
    return this.succeed(origin, snapshotOf(user));
  }

  private async succeed(origin: RequestOrigin & { ip: string }, user: UserSnapshot): Promise<UserSnapshot> {
    await this.limiter.giveBack('login', origin.ip);
    await this.audit.record({
      ...origin,
      action: 'auth.login',
      userId: user.id,
      username: user.username,
      detail: { source: user.identitySource },
    });
    return user;
  }

  private async reject(
    origin: RequestOrigin,
    username: string,
    reason: FailureReason,
    userId?: string,
    extra: Record<string, unknown> = {},
  ): Promise<never> {
    await this.fail(origin, username, reason, userId, extra);
    throw new StowageError('invalid_credentials');
  }

  private fail(
    origin: RequestOrigin,
    username: string,
    reason: FailureReason,
    userId?: string,
    extra: Record<string, unknown> = {},
  ) {
    // A refused sign-in changes nothing: its row is best-effort, and an outage does not turn 401 into 503.
    return this.audit.note({
      ...origin,
      action: 'auth.login',
      status: 'error',
      userId: userId ?? null,
      username: toStorableText(username).slice(0, 128),
      detail: { reason, ...extra },
    });
  }
}
