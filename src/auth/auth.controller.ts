import { Body, Controller, Get, HttpCode, Post, Req, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { StowageConfig } from '@stowage/config';
import { AuditService } from '../audit/audit.service';
import { originOf } from '../access/actor';
import { ApiErrors } from '../docs/api-errors.decorator';
import { BodyLimit } from '../http/body-limit.decorator';
import { AcceptsUnstorableText } from '../http/storable-text';
import { OptionalSession } from '../access/authenticated.decorator';
import { AuthConfigDto, LoginLocalDto, LoginResultDto, StatusOkDto } from './dto/login.dto';
import { LoginService } from './login.service';
import { Public } from '../access/public.decorator';
import { SessionsService } from './sessions.service';

@ApiTags('auth')
@Controller()
export class AuthController {
  constructor(
    private readonly config: StowageConfig,
    private readonly login: LoginService,
    private readonly sessions: SessionsService,
    private readonly audit: AuditService,
  ) {}

  @Post('auth/login/local')
  @HttpCode(200)
  @Public()
  @BodyLimit(8 * 1024)
  @AcceptsUnstorableText()
  @ApiOperation({ summary: 'Sign in with a username and password (local or static account).' })
  @ApiOkResponse({ type: LoginResultDto, description: 'Sets the `stowage_session` and `stowage_csrf` cookies.' })
  @ApiErrors('bad_request', 'invalid_credentials', 'account_locked', 'rate_limited', 'mode_disabled', 'too_large')
  async loginLocal(
    @Body() body: LoginLocalDto,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const user = await this.login.login(body.username, body.password, { ...originOf(request), ip: request.ip });
    await this.sessions.issue(user, request, reply);
    return { status: 'ok', source: user.identitySource, must_change_pw: user.mustChangePassword };
  }

  @Post('auth/logout')
  @HttpCode(200)
  @Public()
  @OptionalSession()
  @ApiOperation({ summary: 'End the current session and clear its cookies.' })
  @ApiOkResponse({ type: StatusOkDto })
  @ApiErrors('csrf_invalid')
  async logout(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply): Promise<StatusOkDto> {
    const identity = request.identity;
    if (identity) {
      await this.sessions.revoke(identity.sessionId);
      await this.audit.record({
        ...originOf(request),
        action: 'auth.logout',
        userId: identity.id,
        username: identity.username,
      });
    }
    this.sessions.clearCookies(request, reply);
    return { status: 'ok' };
  }

  @Get('api/auth/config')
  @Public()
  @ApiOperation({ summary: 'The sign-in methods this deployment offers.' })
  @ApiOkResponse({ type: AuthConfigDto })
  authConfig(): AuthConfigDto {
    // OIDC sign-in is not offered by this build, so it is not advertised even when configured.
    const modes = this.config.auth.modes.filter(
      (m) => m !== 'oidc' && (m !== 'static' || this.config.auth.static.enabled),
    );
    return { modes, allow_self_registration: this.config.auth.local.allow_self_registration };
  }
}
