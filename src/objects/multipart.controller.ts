import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Put, Query, Req } from '@nestjs/common';
import { ApiBody, ApiHeader, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { Actor, SessionActor } from '../access/actor';
import { Authenticated } from '../access/authenticated.decorator';
import { ApiErrors } from '../docs/api-errors.decorator';
import { RawBody } from '../http/raw-body';
import { LOGGER } from '../logging/logging.module';
import { uploadFromClient } from './client-abort';
import {
  CompleteMultipartDto,
  InitiateMultipartDto,
  ListUploadsQuery,
  MultipartKeyQuery,
  MultipartUploadDto,
  MultipartUploadQuery,
  PartListDto,
  PartParams,
  PendingUploadsDto,
  UploadedPartResultDto,
} from './dto/multipart.dto';
import { ObjectInfoDto, ObjectParams } from './dto/object.dto';
import { MultipartService } from './multipart.service';
import { ifNoneMatchAny, requestHeader } from './object-response';

const MULTIPART_ERRORS = ['bad_request', 'not_found', 'invalid_bucket', 'invalid_key', 'backend_error'] as const;

@ApiTags('multipart')
@Controller('api/backends/:bid/buckets/:bucket/multipart')
export class MultipartController {
  constructor(
    private readonly multipart: MultipartService,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  @Get()
  @Authenticated({ role: 'readonly' })
  @ApiOperation({ summary: 'List the uploads in progress, optionally under a key prefix.' })
  @ApiOkResponse({ type: PendingUploadsDto })
  @ApiErrors(...MULTIPART_ERRORS, 'invalid_prefix', 'not_supported')
  list(@Param() { bid, bucket }: ObjectParams, @Query() { prefix }: ListUploadsQuery): Promise<PendingUploadsDto> {
    return this.multipart.listUploads({ backendId: bid, bucket }, prefix);
  }

  @Post()
  @Authenticated({ role: 'user' })
  @ApiOperation({ summary: 'Start a multipart upload; `If-None-Match: *` refuses an existing key.' })
  @ApiHeader({ name: 'If-None-Match', required: false, description: 'Only `*`: refuse when the key exists.' })
  @ApiOkResponse({ type: MultipartUploadDto })
  @ApiErrors(...MULTIPART_ERRORS, 'object_exists')
  initiate(
    @Param() { bid, bucket }: ObjectParams,
    @Query() { key }: MultipartKeyQuery,
    @Body() body: InitiateMultipartDto,
    @Req() request: FastifyRequest,
  ): Promise<MultipartUploadDto> {
    return this.multipart.initiate({ backendId: bid, bucket }, key, {
      contentType: body.content_type,
      noOverwrite: ifNoneMatchAny(request),
    });
  }

  @Put('parts/:part')
  @RawBody()
  @Authenticated({ role: 'user' })
  @ApiOperation({ summary: 'Upload one part: the request body is the part, streamed to the backend.' })
  @ApiBody({ schema: { type: 'string', format: 'binary' } })
  @ApiOkResponse({ type: UploadedPartResultDto })
  @ApiErrors(...MULTIPART_ERRORS, 'length_required', 'too_large', 'quota_exceeded')
  uploadPart(
    @Param() { bid, bucket, part }: PartParams,
    @Query() { key, upload_id }: MultipartUploadQuery,
    @Req() request: FastifyRequest,
    @Actor() actor: SessionActor,
  ): Promise<UploadedPartResultDto> {
    const length = requestHeader(request, 'content-length');
    return uploadFromClient(request, this.logger, () =>
      this.multipart.uploadPart(
        { backendId: bid, bucket },
        {
          key,
          uploadId: upload_id,
          partNumber: part,
          body: request.raw,
          size: length !== undefined && /^\d+$/.test(length) ? Number(length) : undefined,
        },
        actor,
      ),
    );
  }

  @Get('parts')
  @Authenticated({ role: 'readonly' })
  @ApiOperation({ summary: 'The parts an upload holds so far, so that a client can resume it.' })
  @ApiOkResponse({ type: PartListDto })
  @ApiErrors(...MULTIPART_ERRORS, 'not_supported')
  parts(
    @Param() { bid, bucket }: ObjectParams,
    @Query() { key, upload_id }: MultipartUploadQuery,
  ): Promise<PartListDto> {
    return this.multipart.listParts({ backendId: bid, bucket }, key, upload_id);
  }

  @Post('complete')
  @HttpCode(200)
  @Authenticated({ role: 'user' })
  @ApiOperation({ summary: 'Assemble the uploaded parts into the object.' })
  @ApiOkResponse({ type: ObjectInfoDto })
  @ApiErrors(...MULTIPART_ERRORS)
  complete(
    @Param() { bid, bucket }: ObjectParams,
    @Query() { key, upload_id }: MultipartUploadQuery,
    @Body() body: CompleteMultipartDto,
    @Actor() actor: SessionActor,
  ): Promise<ObjectInfoDto> {
    return this.multipart.complete(
      { backendId: bid, bucket },
      key,
      upload_id,
      body.parts.map((p) => ({ partNumber: p.PartNumber, etag: p.ETag })),
      actor,
    );
  }

  @Delete()
  @HttpCode(204)
  @Authenticated({ role: 'user' })
  @ApiOperation({ summary: 'Abort an upload and drop the parts it holds.' })
  @ApiErrors(...MULTIPART_ERRORS, 'not_supported')
  async abort(
    @Param() { bid, bucket }: ObjectParams,
    @Query() { key, upload_id }: MultipartUploadQuery,
  ): Promise<void> {
    await this.multipart.abort({ backendId: bid, bucket }, key, upload_id);
  }
}
