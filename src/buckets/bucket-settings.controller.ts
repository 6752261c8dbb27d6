import { Body, Controller, Delete, Get, HttpCode, Param, Put } from '@nestjs/common';
import { ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Actor, SessionActor } from '../access/actor';
import { Authenticated } from '../access/authenticated.decorator';
import { ApiErrors } from '../docs/api-errors.decorator';
import { BucketParams } from '../storage-backends/dto/backend.dto';
import { BucketSettingsService } from './bucket-settings.service';
import { CorsDto, LifecycleDto, PolicyDto, VersioningDto } from './dto/bucket-settings.dto';

const SETTINGS_ERRORS = ['bad_request', 'invalid_bucket', 'not_found', 'not_supported', 'backend_error'] as const;

@ApiTags('bucket settings')
@Controller('api/backends/:bid/buckets/:bucket')
export class BucketSettingsController {
  constructor(private readonly settings: BucketSettingsService) {}

  @Get('versioning')
  @Authenticated({ role: 'admin' })
  @ApiOperation({ summary: 'Whether the bucket keeps every version of its objects.' })
  @ApiOkResponse({ type: VersioningDto })
  @ApiErrors(...SETTINGS_ERRORS)
  async getVersioning(@Param() { bid, bucket }: BucketParams): Promise<VersioningDto> {
    return { enabled: await this.settings.getVersioning({ backendId: bid, bucket }) };
  }

  @Put('versioning')
  @Authenticated({ role: 'admin' })
  @ApiOperation({ summary: 'Enable versioning, or suspend it (existing versions stay).' })
  @ApiOkResponse({ type: VersioningDto })
  @ApiErrors(...SETTINGS_ERRORS)
  async setVersioning(
    @Param() { bid, bucket }: BucketParams,
    @Body() body: VersioningDto,
    @Actor() actor: SessionActor,
  ): Promise<VersioningDto> {
    await this.settings.setVersioning({ backendId: bid, bucket }, body.enabled, actor);
    return { enabled: body.enabled };
  }

  @Get('cors')
  @Authenticated({ role: 'admin' })
  @ApiOperation({ summary: 'The CORS rules of the bucket (empty when it has none).' })
  @ApiOkResponse({ type: CorsDto })
  @ApiErrors(...SETTINGS_ERRORS)
  async getCors(@Param() { bid, bucket }: BucketParams): Promise<CorsDto> {
    return { rules: await this.settings.getCors({ backendId: bid, bucket }) };
  }

  @Put('cors')
  @Authenticated({ role: 'admin' })
  @ApiOperation({ summary: 'Replace the CORS rules; an empty list removes them.' })
  @ApiOkResponse({ type: CorsDto })
  @ApiErrors(...SETTINGS_ERRORS, 'invalid_cors')
  async setCors(
    @Param() { bid, bucket }: BucketParams,
    @Body() body: CorsDto,
    @Actor() actor: SessionActor,
  ): Promise<CorsDto> {
    return { rules: await this.settings.setCors({ backendId: bid, bucket }, body.rules, actor) };
  }

  @Get('policy')
  @Authenticated({ role: 'admin' })
  @ApiOperation({ summary: "The bucket policy document ('' when the bucket has none)." })
  @ApiOkResponse({ type: PolicyDto })
  @ApiErrors(...SETTINGS_ERRORS)
  async getPolicy(@Param() { bid, bucket }: BucketParams): Promise<PolicyDto> {
    return { policy: await this.settings.getPolicy({ backendId: bid, bucket }) };
  }

  @Put('policy')
  @Authenticated({ role: 'admin' })
  @ApiOperation({ summary: 'Replace the bucket policy; the document goes to the backend untouched.' })
  @ApiOkResponse({ type: PolicyDto })
  @ApiErrors(...SETTINGS_ERRORS, 'invalid_policy')
  async setPolicy(
    @Param() { bid, bucket }: BucketParams,
    @Body() body: PolicyDto,
    @Actor() actor: SessionActor,
  ): Promise<PolicyDto> {
    await this.settings.setPolicy({ backendId: bid, bucket }, body.policy, actor);
    return { policy: body.policy };
  }

  @Delete('policy')
  @HttpCode(204)
  @Authenticated({ role: 'admin' })
  @ApiOperation({ summary: 'Remove the bucket policy.' })
  @ApiNoContentResponse()
  @ApiErrors(...SETTINGS_ERRORS)
  async deletePolicy(@Param() { bid, bucket }: BucketParams, @Actor() actor: SessionActor): Promise<void> {
    await this.settings.deletePolicy({ backendId: bid, bucket }, actor);
  }

  @Get('lifecycle')
  @Authenticated({ role: 'admin' })
  @ApiOperation({ summary: 'The lifecycle rules of the bucket (empty when it has none).' })
  @ApiOkResponse({ type: LifecycleDto })
  @ApiErrors(...SETTINGS_ERRORS)
  async getLifecycle(@Param() { bid, bucket }: BucketParams): Promise<LifecycleDto> {
    return { rules: await this.settings.getLifecycle({ backendId: bid, bucket }) };
  }

  @Put('lifecycle')
  @Authenticated({ role: 'admin' })
  @ApiOperation({ summary: 'Replace the lifecycle rules; an empty list removes them.' })
  @ApiOkResponse({ type: LifecycleDto })
  @ApiErrors(...SETTINGS_ERRORS, 'invalid_lifecycle')
  async setLifecycle(
    @Param() { bid, bucket }: BucketParams,
    @Body() body: LifecycleDto,
    @Actor() actor: SessionActor,
  ): Promise<LifecycleDto> {
    return {
      rules: await this.settings.setLifecycle({ backendId: bid, bucket }, body.rules, actor),
    };
  }
}
