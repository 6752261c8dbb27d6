import { Controller, Get, Param, Query, Res } from '@nestjs/common';
import { ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Authenticated } from '../access/authenticated.decorator';
import { ApiErrors } from '../docs/api-errors.decorator';
import { ObjectParams } from './dto/object.dto';
import { ZipQuery } from './dto/transfer.dto';
import { contentDisposition } from './object-response';
import { ZipService } from './zip.service';

@ApiTags('objects')
@Controller('api/backends/:bid/buckets/:bucket')
export class ZipController {
  constructor(private readonly zips: ZipService) {}

  @Get('objects/zip')
  @Authenticated({ role: 'readonly' })
  @ApiOperation({
    summary: 'Download several objects as one zip, written as it is sent.',
    description: 'Repeat `key`; a key ending in "/" adds every object under it. At most 10,000 entries.',
  })
  @ApiProduces('application/zip')
  @ApiErrors('bad_request', 'not_found', 'invalid_bucket', 'invalid_key', 'too_many_keys', 'backend_error')
  async zip(@Param() { bid, bucket }: ObjectParams, @Query() query: ZipQuery, @Res() reply: FastifyReply) {
    const controller = new AbortController();
    // The response closing before it finished means the client went away.
    reply.raw.once('close', () => {
      if (!reply.raw.writableFinished) controller.abort();
    });
    const archive = await this.zips.archive({ backendId: bid, bucket }, query.key, controller.signal);
    return reply
      .status(200)
      .header('Content-Type', 'application/zip')
      .header('Content-Disposition', contentDisposition('attachment', archive.filename))
      .header('Cache-Control', 'private, no-store')
      .header('X-Zip-Entries', String(archive.entries))
      .send(archive.stream);
  }
}
