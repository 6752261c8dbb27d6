import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { RequestOrigin } from '../../audit/audit.types';
import { Origin } from '../../audit/origin.decorator';
import { Authenticated } from '../../auth/authenticated.decorator';
import { Caller, Identity } from '../../auth/identity';
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
  async list(@Caller() caller: Identity): Promise<S3CredentialListDto> {
    return { credentials: await this.credentials.list({ userId: caller.id }) };
  }

  @Post()
  @Authenticated({ role: 'user' })
  @ApiOperation({ summary: 'Mint a credential for yourself; the answer is the only time its secret is shown.' })
  @ApiCreatedResponse({ type: S3CredentialDto })
  @ApiErrors('bad_request', 'invalid_bucket_name', 'not_found', 'secret_key_unset')
  create(
    @Body() body: CreateMyS3CredentialDto,
    @Caller() caller: Identity,
    @Origin() origin: RequestOrigin,
  ): Promise<S3CredentialDto> {
    return this.credentials.create(body, caller.id, { identity: caller, origin }, true);
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
    @Caller() caller: Identity,
    @Origin() origin: RequestOrigin,
  ): Promise<S3CredentialDto> {
    return this.credentials.update(akid, body, { userId: caller.id }, { identity: caller, origin });
  }

  @Delete(':akid')
  @HttpCode(204)
  @Authenticated({ role: 'user' })
  @ApiOperation({ summary: 'Revoke one of yours.' })
  @ApiNoContentResponse()
  @ApiErrors('bad_request', 'not_found')
  async revoke(
    @Param() { akid }: AccessKeyParam,
    @Caller() caller: Identity,
    @Origin() origin: RequestOrigin,
  ): Promise<void> {
    await this.credentials.revoke(akid, { userId: caller.id }, { identity: caller, origin });
  }
}
