import { Body, Controller, Delete, Get, Head, HttpCode, Inject, Param, Post, Query, Req, Res } from '@nestjs/common';
import { ApiBody, ApiHeader, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { StowageError } from '@stowage/errors';
import { Actor, SessionActor } from '../access/actor';
import { Authenticated } from '../access/authenticated.decorator';
import { ApiErrors } from '../docs/api-errors.decorator';
import { RawBody } from '../http/raw-body';
import { LOGGER } from '../logging/logging.module';
import { uploadFromClient } from './client-abort';
import {
  BulkDeleteDto,
  BulkDeleteResultDto,
  CreateFolderDto,
  GetObjectQuery,
  ListObjectsQuery,
  ListObjectsResultDto,
  ObjectInfoDto,
  ObjectKeyQuery,
  ObjectParams,
  UploadQuery,
} from './dto/object.dto';
import { assertMediaType } from './object-rules';
import { hangUpSignal, ifNoneMatchAny, requestHeader, sendObject } from './object-response';
import { ObjectsService } from './objects.service';
import { parseRangeHeader } from '../storage-backends/drivers/range';

const OBJECT_ERRORS = ['bad_request', 'not_found', 'invalid_bucket', 'invalid_key', 'backend_error'] as const;

@ApiTags('objects')
@Controller('api/backends/:bid/buckets/:bucket')
export class ObjectsController {
  constructor(
    private readonly objects: ObjectsService,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  @Get('objects')
  @Authenticated({ role: 'readonly' })
  @ApiOperation({ summary: 'List objects and common prefixes, a page at a time.' })
  @ApiOkResponse({ type: ListObjectsResultDto })
  @ApiErrors(...OBJECT_ERRORS, 'invalid_prefix')
  list(@Param() { bid, bucket }: ObjectParams, @Query() query: ListObjectsQuery): Promise<ListObjectsResultDto> {
    return this.objects.list({ backendId: bid, bucket }, query);
  }

  @Get('object/info')
  @Authenticated({ role: 'readonly' })
  @ApiOperation({ summary: 'Size, type, ETag and metadata of an object.' })
  @ApiOkResponse({ type: ObjectInfoDto })
  @ApiErrors(...OBJECT_ERRORS)
  info(@Param() { bid, bucket }: ObjectParams, @Query() { key, version_id }: ObjectKeyQuery): Promise<ObjectInfoDto> {
    return this.objects.info({ backendId: bid, bucket }, key, version_id);
  }

  @Head('object')
  @Authenticated({ role: 'readonly' })
  @ApiOperation({ summary: 'The headers of a download, without the body.' })
  @ApiErrors(...OBJECT_ERRORS)
  async head(
    @Param() { bid, bucket }: ObjectParams,
    @Query() { key, version_id }: ObjectKeyQuery,
    @Res() reply: FastifyReply,
  ) {
    const info = await this.objects.info({ backendId: bid, bucket }, key, version_id);
    void reply
      .header('Content-Type', info.content_type ?? 'application/octet-stream')
      .header('Content-Length', String(info.size))
      .header('Accept-Ranges', 'bytes');
    if (info.etag) void reply.header('ETag', info.etag);
    if (info.last_modified) void reply.header('Last-Modified', new Date(info.last_modified).toUTCString());
    return reply.status(200).send();
  }

  @Get('object')
  @Authenticated({ role: 'readonly' })
  @ApiOperation({ summary: 'Download an object; honours Range, If-None-Match and If-Modified-Since.' })
  @ApiProduces('application/octet-stream')
  @ApiErrors(...OBJECT_ERRORS, 'bad_range')
  async download(
    @Param() { bid, bucket }: ObjectParams,
    @Query() query: GetObjectQuery,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    const since = requestHeader(request, 'if-modified-since');
    const object = await this.objects.read({ backendId: bid, bucket }, query.key, {
      versionId: query.version_id,
      range: parseRangeHeader(requestHeader(request, 'range')),
      ifNoneMatch: requestHeader(request, 'if-none-match'),
      ifModifiedSince: since && !Number.isNaN(Date.parse(since)) ? new Date(since) : undefined,
      signal: hangUpSignal(request, reply),
    });
    return sendObject(reply, object, {
      key: query.key,
      disposition: query.disposition ?? 'attachment',
      cacheControl: 'private, no-cache',
    });
  }

  @Post('object')
  @RawBody()
  @Authenticated({ role: 'user' })
  @ApiOperation({
    summary:
      'Upload an object: the raw request body (streamed), or a browser form with `key` and `content_type` before `file`; either way the bytes go straight to the key.',
  })
  @ApiHeader({ name: 'If-None-Match', required: false, description: 'Only `*`: refuse when the key exists.' })
  @ApiBody({ schema: { type: 'string', format: 'binary' } })
  @ApiOkResponse({ type: ObjectInfoDto })
  @ApiErrors(...OBJECT_ERRORS, 'length_required', 'too_large', 'object_exists')
  upload(
    @Param() { bid, bucket }: ObjectParams,
    @Query() query: UploadQuery,
    @Req() request: FastifyRequest,
    @Actor() actor: SessionActor,
  ): Promise<ObjectInfoDto> {
    const target = { backendId: bid, bucket };
    assertMediaType(request.originalContentType);
    const type = request.originalContentType ?? '';
    const noOverwrite = (query.no_overwrite ?? false) || ifNoneMatchAny(request);
    if (/^multipart\/form-data/i.test(type)) {
      return uploadFromClient(request, this.logger, () =>
        this.objects.uploadForm(target, request.raw, type, { key: query.key, noOverwrite }, actor),
      );
    }
    const key = query.key;
    if (!key) throw new StowageError('bad_request', undefined, 'key: required');
    const length = requestHeader(request, 'content-length');
    return uploadFromClient(request, this.logger, () =>
      this.objects.upload(
        target,
        {
          key,
          body: request.raw,
          size: length !== undefined && /^\d+$/.test(length) ? Number(length) : undefined,
          contentType: request.originalContentType,
          noOverwrite,
        },
        actor,
      ),
    );
  }

  @Delete('object')
  @HttpCode(204)
  @Authenticated({ role: 'user' })
  @ApiOperation({ summary: 'Delete an object (or one version of it).' })
  @ApiErrors(...OBJECT_ERRORS)
  async delete(
    @Param() { bid, bucket }: ObjectParams,
    @Query() { key, version_id }: ObjectKeyQuery,
    @Actor() actor: SessionActor,
  ): Promise<void> {
    await this.objects.delete({ backendId: bid, bucket }, key, version_id, actor);
  }

  @Post('objects/delete')
  @HttpCode(200)
  @Authenticated({ role: 'user' })
  @ApiOperation({ summary: 'Delete up to 1000 objects at once.' })
  @ApiOkResponse({ type: BulkDeleteResultDto })
  @ApiErrors(...OBJECT_ERRORS, 'too_many_keys')
  bulkDelete(
    @Param() { bid, bucket }: ObjectParams,
    @Body() body: BulkDeleteDto,
    @Actor() actor: SessionActor,
  ): Promise<BulkDeleteResultDto> {
    return this.objects.bulkDelete({ backendId: bid, bucket }, body.keys, actor);
  }

  @Post('objects/folder')
  @Authenticated({ role: 'user' })
  @ApiOperation({ summary: 'Create a "folder": an empty object whose key ends with "/".' })
  @ApiOkResponse({ type: ObjectInfoDto })
  @ApiErrors(...OBJECT_ERRORS)
  folder(
    @Param() { bid, bucket }: ObjectParams,
    @Body() body: CreateFolderDto,
    @Actor() actor: SessionActor,
  ): Promise<ObjectInfoDto> {
    return this.objects.createFolder({ backendId: bid, bucket }, body.key, actor);
  }
}
