import { Controller, Get, Inject, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { StowageError } from '@stowage/errors';
import { Public } from '../access/public.decorator';
import { DASHBOARD_CSP, INDEX_CACHE_CONTROL, isAppPath, notBuiltPage, WEB_APP, WebApp } from './web-app';

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
    if (!isAppPath(request.url)) throw new StowageError('not_found');
    void reply.header('Cache-Control', INDEX_CACHE_CONTROL).header('Content-Type', 'text/html; charset=utf-8');
    if (!this.web.index) return reply.status(404).send(notBuiltPage(this.web.dir));
    return reply.header('Content-Security-Policy', DASHBOARD_CSP).send(this.web.index);
  }
}
