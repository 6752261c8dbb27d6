import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Actor, SessionActor } from '../../access/actor';
import { Authenticated } from '../../access/authenticated.decorator';
import { Caller, Identity } from '../../access/identity';
import { ApiErrors } from '../../docs/api-errors.decorator';
import {
  AccessKeyParam,
  CreateMyS3CredentialDto,
  PatchS3CredentialDto,
  S3CredentialDto,
  S3CredentialListDto,
} from './dto/s3-credential.dto';
import { S3CredentialsService } from './s3-credentials.service';

@ApiTags('s3 credentials')
@Controller('api/me/s3-credentials')
export class MeS3CredentialsController {
  constructor(private readonly credentials: S3CredentialsService) {}

  @Get()
  @Authenticated({ role: 'readonly' })
  @ApiOperation({ summary: 'Your virtual S3 credentials (never their secrets).' })
  @ApiOkResponse({ type: S3CredentialListDto })
  async list(@Caller() caller: Identity, @Req() request: FastifyRequest): Promise<S3CredentialListDto> {
    return { credentials: await this.credentials.list({ userId: caller.id }, request.hostname) };
  }

  @Post()
  @Authenticated({ role: 'user' })
  @ApiOperation({ summary: 'Mint a credential for yourself; the answer is the only time its secret is shown.' })
  @ApiCreatedResponse({ type: S3CredentialDto })
  @ApiErrors('bad_request', 'invalid_bucket_name', 'not_found', 'secret_key_unset')
  create(
    @Body() body: CreateMyS3CredentialDto,
    @Actor() actor: SessionActor,
    @Req() request: FastifyRequest,
  ): Promise<S3CredentialDto> {
    return this.credentials.create(body, actor.identity.id, actor, true, request.hostname);
  }

  @Patch(':akid')
  @Authenticated({ role: 'user' })
  @ApiOperation({
    summary: 'Change the description, scopes, expiry or enabled state of one of yours.',
    description: 'A credential an administrator disabled can only be enabled again by an administrator (403).',
  })
  @ApiOkResponse({ type: S3CredentialDto })
  @ApiErrors('bad_request', 'invalid_bucket_name', 'not_found', 'forbidden')
  update(
    @Param() { akid }: AccessKeyParam,
    @Body() body: PatchS3CredentialDto,
    @Actor() actor: SessionActor,
    @Req() request: FastifyRequest,
  ): Promise<S3CredentialDto> {
    return this.credentials.update(akid, body, { userId: actor.identity.id }, actor, request.hostname);
  }

  @Delete(':akid')
  @HttpCode(204)
  @Authenticated({ role: 'user' })
  @ApiOperation({ summary: 'Revoke one of yours.' })
  @ApiNoContentResponse()
  @ApiErrors('bad_request', 'not_found')
  async revoke(@Param() { akid }: AccessKeyParam, @Actor() actor: SessionActor): Promise<void> {
    await this.credentials.revoke(akid, { userId: actor.identity.id }, actor);
  }
}
