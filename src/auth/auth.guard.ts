import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { StowageError } from '@stowage/errors';
import { ROLE_RANK } from '../users/user-snapshot';
import { CSRF_COOKIE, CSRF_HEADER, MUTATING_METHODS, SESSION_COOKIE } from './auth.constants';
import { ACCESS, AccessRule, OPTIONAL_SESSION } from '../access/authenticated.decorator';
import { Identity } from '../access/identity';
import { IS_PUBLIC } from '../access/public.decorator';
import { safeEqual, sha256Hex } from './session-token';
import { SessionsService } from './sessions.service';

/**
 * The one gate in front of every route: deny by default. A route is either `@Public()` or
 * declares its least role with `@Authenticated()`; anything else is refused. In order:
 * session (401), CSRF on mutations (403), pending password change (403), role (403).
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly sessions: SessionsService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) {
      if (this.reflector.getAllAndOverride<boolean>(OPTIONAL_SESSION, targets)) {
        request.identity = await this.identify(request);
        if (request.identity) this.checkCsrf(request, request.identity);
      }
      return true;
    }
    const rule = this.reflector.getAllAndOverride<AccessRule | undefined>(ACCESS, targets);
    if (!rule) throw new StowageError('forbidden', 'This route declares no access rule.');

    const identity = await this.identify(request);
    if (!identity) throw new StowageError('unauthorized');
    request.identity = identity;
    this.checkCsrf(request, identity);
    if (identity.mustChangePassword && !rule.allowPendingPasswordChange)
      throw new StowageError('password_change_required');
    if (ROLE_RANK[identity.role] < ROLE_RANK[rule.role]) throw new StowageError('forbidden');
    return true;
  }

  private async identify(request: FastifyRequest): Promise<Identity | undefined> {
    const token = request.cookies[SESSION_COOKIE];
    return token ? this.sessions.resolve(token) : undefined;
  }

  /** Double-submit: the header must equal the cookie, and both must be this session's token. */
  private checkCsrf(request: FastifyRequest, identity: Identity): void {
    if (!MUTATING_METHODS.has(request.method)) return;
    const header = request.headers[CSRF_HEADER];
    const cookie = request.cookies[CSRF_COOKIE];
    if (
      typeof header !== 'string' ||
      !cookie ||
      !safeEqual(header, cookie) ||
      !safeEqual(sha256Hex(header), identity.csrfHash)
    ) {
      throw new StowageError('csrf_invalid');
    }
  }
}
