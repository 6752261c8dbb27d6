import { Body, Controller, HttpCode, Param, Post, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Readable } from 'node:stream';
import { Actor, SessionActor } from '../access/actor';
import { Authenticated } from '../access/authenticated.decorator';
import { ApiErrors } from '../docs/api-errors.decorator';
import { ObjectParams } from './dto/object.dto';
import { CopyObjectDto, CopyObjectResultDto, CopyPrefixDto, DeletePrefixDto } from './dto/transfer.dto';
import { PrefixTransfersService, TransferEvent } from './prefix-transfers.service';
import { TransfersService } from './transfers.service';

const TRANSFER_ERRORS = [
  'bad_request',
  'not_found',
  'invalid_bucket',
  'invalid_metadata',
  'backend_error',
  'object_exists',
] as const;

/** Sends a prefix operation's events as NDJSON, one line each, as they happen. */
function sendEvents(reply: FastifyReply, events: AsyncGenerator<TransferEvent>): FastifyReply {
  const lines = async function* () {
    for await (const event of events) yield `${JSON.stringify(event)}\n`;
  };
  const stream = Readable.from(lines());
  // A client that goes away stops the work between two objects.
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) stream.destroy();
  });
  return reply
    .status(200)
    .header('Content-Type', 'application/x-ndjson; charset=utf-8')
    .header('Cache-Control', 'no-store')
    .send(stream);
}

@ApiTags('objects')
@Controller('api/backends/:bid/buckets/:bucket')
export class TransfersController {
  constructor(
    private readonly transfers: TransfersService,
    private readonly prefixes: PrefixTransfersService,
  ) {}

  @Post('object/copy')
  @HttpCode(200)
  @Authenticated({ role: 'user' })
  @ApiOperation({
    summary: 'Copy or move one object, within this backend (server-side) or to another one (streamed).',
    description: 'A move is a copy followed by a delete of the source: it is not atomic.',
  })
  @ApiOkResponse({ type: CopyObjectResultDto })
  @ApiErrors(...TRANSFER_ERRORS, 'invalid_key', 'too_large', 'conflict')
  copy(
    @Param() { bid, bucket }: ObjectParams,
    @Body() body: CopyObjectDto,
    @Actor() actor: SessionActor,
  ): Promise<CopyObjectResultDto> {
    return this.transfers.copy({ backendId: bid, bucket }, body, actor);
  }

  @Post('objects/copy-prefix')
  @Authenticated({ role: 'user' })
  @ApiOperation({
    summary: 'Copy or move every object under a prefix; answers an NDJSON stream of events.',
    description:
      'Lines: {"event":"start",…}, then {"event":"object","src","dst","size"} or {"event":"error","src","code",' +
      '"message"} per object, and finally {"event":"done","copied","failed","bytes"}. Moves are not atomic.',
  })
  @ApiProduces('application/x-ndjson')
  @ApiErrors(...TRANSFER_ERRORS, 'invalid_prefix')
  async copyPrefix(
    @Param() { bid, bucket }: ObjectParams,
    @Body() body: CopyPrefixDto,
    @Res() reply: FastifyReply,
    @Actor() actor: SessionActor,
  ) {
    const events = await this.prefixes.copyPrefix({ backendId: bid, bucket }, body, actor);
    return sendEvents(reply, events);
  }

  @Post('objects/delete-prefix')
  @Authenticated({ role: 'user' })
  @ApiOperation({
    summary: 'Delete every object under a (non-empty) prefix; answers an NDJSON stream of events.',
    description:
      'Lines: {"event":"start",…}, then {"event":"object","key"} or {"event":"error","key","code","message"} ' +
      'per object, and finally {"event":"done","deleted","failed"}.',
  })
  @ApiProduces('application/x-ndjson')
  @ApiErrors('bad_request', 'not_found', 'invalid_bucket', 'backend_error', 'invalid_prefix')
  async deletePrefix(
    @Param() { bid, bucket }: ObjectParams,
    @Body() body: DeletePrefixDto,
    @Res() reply: FastifyReply,
    @Actor() actor: SessionActor,
  ) {
    const events = await this.prefixes.deletePrefix({ backendId: bid, bucket }, body.prefix, actor);
    return sendEvents(reply, events);
  }
}
