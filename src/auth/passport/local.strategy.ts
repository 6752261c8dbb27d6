import { ExecutionContext, Injectable } from '@nestjs/common';
import { AuthGuard, PassportStrategy } from '@nestjs/passport';
import type { FastifyRequest } from 'fastify';
import { Strategy as LocalPassportStrategy } from 'passport-local';
import { StowageError } from '@stowage/errors';
import { originOf } from '../../access/actor';
import { createValidationPipe } from '../../errors/validation.pipe';
import { UserSnapshot } from '../../users/user-snapshot';
import { LoginLocalDto } from '../dto/login.dto';
import { LoginService } from '../login.service';
import { passportFor, runStrategy } from './passport-context';

export const LOCAL_STRATEGY = 'local';

/**
 * Password sign-in (local accounts and the static account) as a Passport strategy: the checks,
 * equal timing, lockout, limits and audit are LoginService's, unchanged.
 */
@Injectable()
export class LocalStrategy extends PassportStrategy(LocalPassportStrategy, LOCAL_STRATEGY) {
  constructor(private readonly login: LoginService) {
    super({ usernameField: 'username', passwordField: 'password', passReqToCallback: true, session: false });
  }

  getPassportInstance() {
    return passportFor(this);
  }

  validate(request: FastifyRequest, username: string, password: string): Promise<UserSnapshot> {
    return this.login.login(username, password, { ...originOf(request), ip: request.ip });
  }
}

/** Validates the sign-in body, then runs the `local` strategy; the user lands on `request.signedIn`. */
@Injectable()
export class LocalAuthGuard extends AuthGuard(LOCAL_STRATEGY) {
  private readonly pipe = createValidationPipe();

  constructor(private readonly strategy: LocalStrategy) {
    super();
  }

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const body = (await this.pipe.transform(request.body, { type: 'body', metatype: LoginLocalDto })) as LoginLocalDto;
    const view = Object.create(request, {
      body: { value: { username: body.username, password: body.password } },
      query: { value: {} },
    }) as FastifyRequest;
    const outcome = await runStrategy<UserSnapshot>(passportFor(this.strategy), LOCAL_STRATEGY, view, {}, (err, user) =>
      this.handleRequest(err, user),
    );
    if (!('user' in outcome)) throw new StowageError('invalid_credentials');
    request.signedIn = outcome.user;
    return true;
  }

  override handleRequest<T = UserSnapshot>(err: unknown, user: unknown): T {
    if (err) throw err;
    if (!user) throw new StowageError('bad_request', 'Validation failed.', 'username and password are required');
    return user as T;
  }
}
