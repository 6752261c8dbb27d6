import { Controller, Get, Inject, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { StowageError } from '@stowage/errors';
import { Public } from '../access/public.decorator';
import { SESSION_COOKIE } from '../auth/auth.constants';
import { MAX_PATH_PARAM_LENGTH } from '../http/route-config';
import { DASHBOARD_CSP, INDEX_CACHE_CONTROL, isAppPath, notBuiltPage, pagePreloads, WEB_APP, WebApp } from './web-app';

/**
 * The single-page app's fallback: any GET that no route answers, outside the reserved prefixes,
 * gets `index.html` and the app routes in the browser. Fastify's router prefers every declared
 * route over this wildcard, so it never shadows one; under the reserved prefixes an unknown path
 * stays a 404 `not_found` in the usual error body.
 */
@ApiExcludeController()
@Controller()
@Public()
export class WebController {
  constructor(@Inject(WEB_APP) private readonly web: WebApp) {}

  @Get('*')
  page(@Req() request: FastifyRequest, @Res() reply: FastifyReply): FastifyReply {
    if (!isAppPath(request.url)) throw unknownApiPath(request.url);
    void reply.header('Cache-Control', INDEX_CACHE_CONTROL).header('Content-Type', 'text/html; charset=utf-8');
    if (!this.web.index) return reply.status(404).send(notBuiltPage(this.web.dir));
    const preload = pagePreloads(request.url, Boolean(request.cookies[SESSION_COOKIE]), this.web);
    if (preload) void reply.header('Link', preload);
    return reply.header('Content-Security-Policy', DASHBOARD_CSP).send(this.web.index);
  }
}

/**
 * Why a path under a reserved prefix reached the fallback: no route has its shape (404), or a
 * segment is longer than the router matches a parameter to. The router answers the latter 400
 * itself when no wildcard route stands behind the parametric ones; this keeps that answer.
 */
function unknownApiPath(url: string): StowageError {
  const path = url.split('?', 1)[0]!;
  if (path.split('/').some((segment) => segment.length > MAX_PATH_PARAM_LENGTH)) {
    return new StowageError('bad_request', 'A path segment of the request URL is too long.');
  }
  return new StowageError('not_found');
}
