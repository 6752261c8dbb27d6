import { Body, Controller, Get, HttpCode, Post, Query, Redirect, Req, Res, UseGuards } from '@nestjs/common';
import { ApiFoundResponse, ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { StowageConfig } from '@stowage/config';
import { StowageError } from '@stowage/errors';
import { AuditService } from '../audit/audit.service';
import { originOf } from '../access/actor';
import { ApiErrors } from '../docs/api-errors.decorator';
import { BodyLimit } from '../http/body-limit.decorator';
import { AcceptsUnstorableText } from '../http/storable-text';
import { OptionalSession } from '../access/authenticated.decorator';
import { UserSnapshot } from '../users/user-snapshot';
import {
  AuthConfigDto,
  LoginLocalDto,
  LoginResultDto,
  LogoutResultDto,
  OidcStartQuery,
} from './dto/login.dto';
import { OidcCallbackGuard, OidcStartGuard } from './oidc/oidc-auth.guard';
import { OidcSignIn } from './oidc/oidc-sign-in.service';
import { LocalAuthGuard } from './passport/local.strategy';
import { Public } from '../access/public.decorator';
import { SessionsService } from './sessions.service';

/** The user a sign-in guard accepted; a route behind one always has it. */
function signedIn(request: FastifyRequest): UserSnapshot {
  if (!request.signedIn) throw new StowageError('session_error');
  return request.signedIn;
}

@ApiTags('auth')
@Controller()
export class AuthController {
  constructor(
    private readonly config: StowageConfig,
    private readonly sessions: SessionsService,
    private readonly oidc: OidcSignIn,
    private readonly audit: AuditService,
  ) {}

  @Post('auth/login/local')
  @HttpCode(200)
  @Public()
  @BodyLimit(8 * 1024)
  @AcceptsUnstorableText()
  @UseGuards(LocalAuthGuard)
  @ApiOperation({ summary: 'Sign in with a username and password (local or static account).' })
  @ApiOkResponse({ type: LoginResultDto, description: 'Sets the `stowage_session` and `stowage_csrf` cookies.' })
  @ApiErrors('bad_request', 'invalid_credentials', 'account_locked', 'rate_limited', 'mode_disabled', 'too_large')
  async loginLocal(
    @Body() _body: LoginLocalDto,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<LoginResultDto> {
    const user = signedIn(request);
    await this.startSession(user, request, reply);
    return { status: 'ok', source: user.identitySource, must_change_pw: user.mustChangePassword };
  }

  @Get('auth/login/oidc')
  @Public()
  @UseGuards(OidcStartGuard)
  @Redirect()
  @ApiOperation({ summary: "Start signing in at the OpenID provider (redirects to its authorization endpoint)." })
  @ApiFoundResponse({ description: 'To the provider; sets the short-lived `stowage_oidc_flow` cookie.' })
  @ApiErrors('mode_disabled', 'oidc_failed', 'rate_limited', 'bad_request', 'session_error')
  startOidc(@Query() _query: OidcStartQuery, @Req() request: FastifyRequest) {
    if (!request.oidcRedirect) throw new StowageError('oidc_failed');
    return { url: request.oidcRedirect, statusCode: 302 };
  }

  @Get('auth/callback')
  @Public()
  @UseGuards(OidcCallbackGuard)
  @Redirect()
  @ApiOperation({ summary: 'Where the OpenID provider returns the browser; starts the session.' })
  @ApiFoundResponse({ description: 'To the `next` path of the start; sets the session cookies.' })
  @ApiErrors('mode_disabled', 'oidc_failed', 'session_error')
  @ApiQuery({ name: 'code', required: false })
  @ApiQuery({ name: 'state', required: false })
  @ApiQuery({ name: 'error', required: false })
  // The query is checked by the guard: providers add parameters of their own (iss, session_state).
  async oidcCallback(
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const user = signedIn(request);
    try {
      await this.startSession(user, request, reply);
    } catch (err) {
      throw await this.oidc.fail(request, err);
    }
    return { url: request.oidcFlow?.next ?? '/', statusCode: 302 };
  }

  @Post('auth/logout')
  @Public()
  @OptionalSession()
  @ApiOperation({
    summary: 'End the current session and clear its cookies.',
    description:
      'For an OIDC user with `auth.oidc.end_session` on, the answer names the provider’s end-session URL ' +
      '(`redirect`); a browser that asks for HTML gets a 303 there instead.',
  })
  @ApiOkResponse({ type: LogoutResultDto })
  @ApiErrors('csrf_invalid')
  async logout(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const identity = request.identity;
    let redirect: string | undefined;
    if (identity) {
      await this.sessions.revoke(identity.sessionId);
      if (identity.identitySource === 'oidc') redirect = await this.oidc.endSessionUrl(request);
      await this.audit.record({
        ...originOf(request),
        action: 'auth.logout',
        userId: identity.id,
        username: identity.username,
        ...(redirect ? { detail: { end_session: true } } : {}),
      });
    }
    this.sessions.clearCookies(request, reply);
    const body: LogoutResultDto = redirect ? { status: 'ok', redirect } : { status: 'ok' };
    // The reply is sent here: a browser's form post gets a 303 to the provider, others JSON.
    if (redirect && wantsHtml(request)) await reply.code(303).header('location', redirect).send(body);
    else await reply.code(200).send(body);
  }

  @Get('api/auth/config')
  @Public()
  @ApiOperation({ summary: 'The sign-in methods this deployment offers.' })
  @ApiOkResponse({ type: AuthConfigDto })
  authConfig(): AuthConfigDto {
    const modes = this.config.auth.modes.filter((m) => m !== 'static' || this.config.auth.static.enabled);
    return {
      modes,
      allow_self_registration: this.config.auth.local.allow_self_registration,
      ...(modes.includes('oidc')
        ? { oidc: { label: this.config.auth.oidc.button_label, login_url: '/auth/login/oidc' } }
        : {}),
    };
  }

  /** Every sign-in mode starts its session here; a failure is `session_error`. */
  private async startSession(user: UserSnapshot, request: FastifyRequest, reply: FastifyReply): Promise<void> {
    try {
      await this.sessions.issue(user, request, reply);
    } catch (err) {
      if (err instanceof StowageError) throw err;
      throw new StowageError('session_error', undefined, '', { cause: err });
    }
  }
}

/** A browser navigation or form post (HTML first), rather than an API client. */
function wantsHtml(request: FastifyRequest): boolean {
  const accept = request.headers.accept ?? '';
  return /text\/html/.test(accept) && !/application\/json/.test(accept);
}
