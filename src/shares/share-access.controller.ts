import { Body, Controller, Get, HttpCode, Param, Post, Query, Req, Res, UseGuards } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { originOf } from '../access/actor';
import { Public } from '../access/public.decorator';
import { ApiErrors } from '../docs/api-errors.decorator';
import { hangUpSignal, requestHeader, sendObject } from '../objects/object-response';
import { parseRangeHeader } from '../storage-backends/drivers/range';
import { RawShareQuery, ShareInfoDto, UnlockShareDto } from './dto/share.dto';
import { IssuedCookie, Recipient, ShareAccessService } from './share-access.service';
import { ShareRateLimitGuard } from './share-rate-limit.guard';
import { sessionCookieName } from './share-session';

const GATES = ['not_found', 'revoked', 'expired', 'exhausted', 'rate_limited', 'backend_error'] as const;

function recipientOf(request: FastifyRequest, code: string): Recipient {
  return { origin: { ...originOf(request), ip: request.ip }, cookie: request.cookies[sessionCookieName(code)] };
}

function setSessionCookie(request: FastifyRequest, reply: FastifyReply, cookie: IssuedCookie | undefined): void {
  if (!cookie) return;
  void reply.setCookie(cookie.name, cookie.value, {
    path: cookie.path,
    maxAge: cookie.maxAgeSeconds,
    httpOnly: true,
    sameSite: 'lax',
    secure: request.protocol === 'https',
  });
}

/** The recipient endpoints of a share link: no account, only the code (and the unlock cookie). */
@ApiTags('share links (public)')
@Controller('s')
@Public()
@UseGuards(ShareRateLimitGuard)
export class ShareAccessController {
  constructor(private readonly access: ShareAccessService) {}

  @Get(':code/info')
  @ApiOperation({ summary: 'Name, size, type, expiry and downloads left of a shared file.' })
  @ApiOkResponse({ type: ShareInfoDto })
  @ApiErrors(...GATES, 'password_required')
  async info(
    @Param('code') code: string,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<ShareInfoDto> {
    const { info, cookie } = await this.access.info(code, recipientOf(request, code));
    setSessionCookie(request, reply, cookie);
    void reply.header('Cache-Control', 'no-store');
    return info;
  }

  @Post(':code/unlock')
  @HttpCode(200)
  @ApiOperation({ summary: 'Check the share password; sets the 30-minute unlock cookie for this share only.' })
  @ApiOkResponse({ type: ShareInfoDto })
  @ApiErrors(...GATES, 'bad_request', 'password_mismatch', 'secret_key_unset')
  async unlock(
    @Param('code') code: string,
    @Body() body: UnlockShareDto,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<ShareInfoDto> {
    const { info, cookie } = await this.access.unlock(code, body.password, recipientOf(request, code));
    setSessionCookie(request, reply, cookie);
    void reply.header('Cache-Control', 'no-store');
    return info;
  }

  @Get(':code/raw')
  @ApiOperation({ summary: 'The shared file (Range supported); counts one download per recipient session.' })
  @ApiProduces('application/octet-stream')
  @ApiErrors(...GATES, 'password_required', 'bad_range', 'bad_request')
  async raw(
    @Param('code') code: string,
    @Query() query: RawShareQuery,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    const range = parseRangeHeader(requestHeader(request, 'range'));
    const result = await this.access.raw(
      code,
      {
        range,
        ifNoneMatch: requestHeader(request, 'if-none-match'),
        inline: query.inline === '1',
        headOnly: request.method === 'HEAD',
        signal: hangUpSignal(request, reply),
      },
      recipientOf(request, code),
    );
    setSessionCookie(request, reply, result.cookie);
    return sendObject(reply, result.object, {
      key: result.key,
      disposition: result.disposition,
      cacheControl: 'private, no-store',
      headOnly: request.method === 'HEAD',
    });
  }
}
