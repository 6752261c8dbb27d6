import { ExecutionContext, Injectable } from '@nestjs/common';
import { AuthGuard } from '@nestjs/passport';
import type { FastifyReply } from 'fastify';
import { createValidationPipe } from '../../errors/validation.pipe';
import { UserSnapshot } from '../../users/user-snapshot';
import { OidcCallbackQuery, OidcStartQuery } from '../dto/login.dto';
import { passportFor, runStrategy } from '../passport/passport-context';
import { newToken } from '../session-token';
import { safeNextPath } from './oidc-claims';
import { OidcError } from './oidc-errors';
import { OidcSignIn } from './oidc-sign-in.service';
import { OIDC_FLOW_COOKIE, OIDC_FLOW_TTL_MS, OidcFlowState, OidcRequest, OidcStateStore } from './oidc-state.store';
import { OIDC_STRATEGY, OidcStrategy } from './oidc.strategy';

/**
 * Runs the `openidconnect` strategy for the two OIDC routes. The start route ends with the
 * strategy's redirect to the provider (`request.oidcRedirect`), the callback with the signed-in
 * user (`request.signedIn`). Every failure becomes `oidc_failed` (or the limiter's, the mode's or
 * the stores' code) and is audited before it is thrown.
 */
@Injectable()
abstract class OidcGuard extends AuthGuard(OIDC_STRATEGY) {
  protected readonly pipe = createValidationPipe();

  constructor(
    protected readonly strategy: OidcStrategy,
    protected readonly signIn: OidcSignIn,
  ) {
    super();
  }

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<OidcRequest>();
    try {
      this.signIn.assertEnabled();
      await this.run(request, context.switchToHttp().getResponse<FastifyReply>());
      return true;
    } catch (err) {
      throw await this.signIn.fail(request, err);
    }
  }

  protected abstract run(request: OidcRequest, reply: FastifyReply): Promise<void>;

  /** Runs the strategy on a view of the request whose query holds only `query`. */
  protected async authenticate(request: OidcRequest, query: Record<string, string>, options: Record<string, unknown>) {
    const view = Object.create(request, { query: { value: query } }) as OidcRequest;
    const outcome = await runStrategy<UserSnapshot>(passportFor(this.strategy), OIDC_STRATEGY, view, options, (err, user, info) =>
      this.handleRequest(err, user, info),
    );
    return { outcome, view };
  }

  override handleRequest<T = UserSnapshot>(err: unknown, user: unknown, info: unknown): T {
    if (err) throw err;
    if (!user) throw OidcSignIn.challenge(info);
    return user as T;
  }

  protected cookieOptions(request: OidcRequest) {
    return { path: '/auth/callback', httpOnly: true, sameSite: 'lax' as const, secure: request.protocol === 'https' };
  }
}

@Injectable()
export class OidcStartGuard extends OidcGuard {
  protected async run(request: OidcRequest, reply: FastifyReply): Promise<void> {
    const query = (await this.pipe.transform(request.query ?? {}, {
      type: 'query',
      metatype: OidcStartQuery,
    })) as OidcStartQuery;
    await this.signIn.begin(request);
    const redirectUri = this.signIn.redirectUri(request);
    const state: OidcFlowState = { next: safeNextPath(query.next), verifier: newToken(), redirectUri };
    request.oidcBinding = OidcStateStore.newBinding();
    const { outcome } = await this.authenticate(request, {}, { callbackURL: redirectUri, state });
    if (!('redirect' in outcome)) throw new OidcError('bad_callback', 'The sign-in could not be started.');
    void reply.setCookie(OIDC_FLOW_COOKIE, request.oidcBinding, {
      ...this.cookieOptions(request),
      maxAge: OIDC_FLOW_TTL_MS / 1000,
    });
    request.oidcRedirect = outcome.redirect;
  }
}

@Injectable()
export class OidcCallbackGuard extends OidcGuard {
  protected async run(request: OidcRequest, reply: FastifyReply): Promise<void> {
    // The binding cookie has done its work whatever happens next.
    void reply.clearCookie(OIDC_FLOW_COOKIE, this.cookieOptions(request));
    const raw = (request.query ?? {}) as Record<string, unknown>;
    let query: OidcCallbackQuery;
    try {
      query = (await this.pipe.transform(pick(raw, ['code', 'state', 'error', 'error_description']), {
        type: 'query',
        metatype: OidcCallbackQuery,
      })) as OidcCallbackQuery;
    } catch {
      throw new OidcError('bad_callback', 'The callback parameters are malformed.');
    }
    if (query.error === 'access_denied') throw new OidcError('access_denied', 'The sign-in was cancelled at the provider.');
    if (query.error) throw new OidcError('provider_error', 'The provider refused the sign-in.');
    if (!query.code || !query.state) throw new OidcError('bad_callback', 'The callback lacks its code or state.');
    const { outcome, view } = await this.authenticate(
      request,
      { code: query.code, state: query.state },
      { callbackURL: this.signIn.redirectUri(request) },
    );
    if (!('user' in outcome)) throw new OidcError('bad_callback', 'The sign-in callback was refused.');
    request.signedIn = outcome.user;
    request.oidcFlow = view.oidcFlow;
  }
}

function pick(source: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  return Object.fromEntries(keys.filter((k) => Object.hasOwn(source, k)).map((k) => [k, source[k]]));
}
