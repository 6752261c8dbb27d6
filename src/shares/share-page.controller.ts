import { Controller, Get, Res, UseGuards } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Public } from '../access/public.decorator';
import { SHARE_PAGE_HTML, SHARE_PAGE_SCRIPT, SHARE_PAGE_STYLE } from './page/share-page.assets';
import { ShareRateLimitGuard } from './share-rate-limit.guard';

/** Only this origin's own script and stylesheet; the page talks to nothing but `/s/{code}/…`. */
export const SHARE_PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "media-src 'self'",
  "connect-src 'self'",
  "form-action 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * The recipient page at `/s/{code}`: a self-contained HTML page (name, size, password prompt,
 * preview, download) so a recipient never needs the dashboard. It is identical for every code,
 * so serving it reveals nothing about whether a code exists.
 */
@ApiExcludeController()
@Controller('s')
@Public()
@UseGuards(ShareRateLimitGuard)
export class SharePageController {
  @Get('assets/share.js')
  script(@Res() reply: FastifyReply) {
    return reply
      .header('Content-Type', 'text/javascript; charset=utf-8')
      .header('Cache-Control', 'public, max-age=300')
      .send(SHARE_PAGE_SCRIPT);
  }

  @Get('assets/share.css')
  style(@Res() reply: FastifyReply) {
    return reply
      .header('Content-Type', 'text/css; charset=utf-8')
      .header('Cache-Control', 'public, max-age=300')
      .send(SHARE_PAGE_STYLE);
  }

  @Get(':code')
  page(@Res() reply: FastifyReply) {
    return reply
      .header('Content-Type', 'text/html; charset=utf-8')
      .header('Content-Security-Policy', SHARE_PAGE_CSP)
      .header('Referrer-Policy', 'no-referrer')
      .header('X-Robots-Tag', 'noindex, nofollow')
      .header('Cache-Control', 'no-store')
      .send(SHARE_PAGE_HTML);
  }
}
