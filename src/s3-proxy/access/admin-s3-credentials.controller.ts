import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Actor, SessionActor } from '../../access/actor';
import { Authenticated } from '../../access/authenticated.decorator';
import { ApiErrors } from '../../docs/api-errors.decorator';
import {
  AccessKeyParam,
  CreateS3CredentialDto,
  PatchS3CredentialDto,
  S3CredentialDto,
  S3CredentialListDto,
} from './dto/s3-credential.dto';
import { S3CredentialsService } from './s3-credentials.service';

@ApiTags('admin: s3 proxy')
@Controller('api/admin/s3-credentials')
export class AdminS3CredentialsController {
  constructor(private readonly credentials: S3CredentialsService) {}

  @Get()
  @Authenticated({ role: 'admin' })
  @ApiOperation({ summary: 'Every virtual S3 credential (never their secrets).' })
  @ApiOkResponse({ type: S3CredentialListDto })
  async list(@Req() request: FastifyRequest): Promise<S3CredentialListDto> {
    return { credentials: await this.credentials.list('any', request.hostname) };
  }

  @Post()
  @Authenticated({ role: 'admin' })
  @ApiOperation({
    summary: 'Mint a credential, for the user named by user_id or for nobody; its secret is shown only here.',
  })
  @ApiCreatedResponse({ type: S3CredentialDto })
  @ApiErrors('bad_request', 'invalid_bucket_name', 'not_found', 'secret_key_unset')
  create(
    @Body() body: CreateS3CredentialDto,
    @Actor() actor: SessionActor,
    @Req() request: FastifyRequest,
  ): Promise<S3CredentialDto> {
    return this.credentials.create(body, body.user_id ?? null, actor, false, request.hostname);
  }

  @Patch(':akid')
  @Authenticated({ role: 'admin' })
  @ApiOperation({ summary: 'Change the description, scopes, expiry or enabled state of any credential.' })
  @ApiOkResponse({ type: S3CredentialDto })
  @ApiErrors('bad_request', 'invalid_bucket_name', 'not_found')
  update(
    @Param() { akid }: AccessKeyParam,
    @Body() body: PatchS3CredentialDto,
    @Actor() actor: SessionActor,
    @Req() request: FastifyRequest,
  ): Promise<S3CredentialDto> {
    return this.credentials.update(akid, body, 'any', actor, request.hostname);
  }

  @Delete(':akid')
  @HttpCode(204)
  @Authenticated({ role: 'admin' })
  @ApiOperation({ summary: 'Revoke any credential.' })
  @ApiNoContentResponse()
  @ApiErrors('bad_request', 'not_found')
  async revoke(@Param() { akid }: AccessKeyParam, @Actor() actor: SessionActor): Promise<void> {
    await this.credentials.revoke(akid, 'any', actor);
  }
}
