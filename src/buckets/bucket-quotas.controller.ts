import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Query } from '@nestjs/common';
import { ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Actor, SessionActor } from '../access/actor';
import { Authenticated } from '../access/authenticated.decorator';
import { ApiErrors } from '../docs/api-errors.decorator';
import { BucketParams } from '../storage-backends/dto/backend.dto';
import { BucketQuotasService } from './bucket-quotas.service';
import {
  PrefixSizeDto,
  PrefixSizeQuery,
  QuotaDto,
  SetQuotaDto,
  SizeTrackingDto,
  SizeTrackingStateDto,
} from './dto/quota.dto';
import { PrefixSizeService } from './prefix-size.service';

const ERRORS = ['bad_request', 'invalid_bucket', 'not_found', 'backend_error'] as const;

@ApiTags('bucket sizes and quotas')
@Controller('api/backends/:bid/buckets/:bucket')
export class BucketQuotasController {
  constructor(
    private readonly quotas: BucketQuotasService,
    private readonly prefixes: PrefixSizeService,
  ) {}

  @Get('quota')
  @Authenticated({ role: 'readonly' })
  @ApiOperation({ summary: 'The quota of the bucket with its usage (`configured: false` when none is set).' })
  @ApiOkResponse({ type: QuotaDto })
  @ApiErrors(...ERRORS)
  get(@Param() { bid, bucket }: BucketParams): Promise<QuotaDto> {
    return this.quotas.get({ backendId: bid, bucket });
  }

  @Put('quota')
  @Authenticated({ role: 'admin' })
  @ApiOperation({ summary: 'Set the soft and hard caps (bytes, or sizes such as 8Gi); soft ≤ hard.' })
  @ApiOkResponse({ type: QuotaDto })
  @ApiErrors(...ERRORS, 'invalid_quota')
  set(
    @Param() { bid, bucket }: BucketParams,
    @Body() body: SetQuotaDto,
    @Actor() actor: SessionActor,
  ): Promise<QuotaDto> {
    return this.quotas.set({ backendId: bid, bucket }, body, actor);
  }

  @Delete('quota')
  @HttpCode(204)
  @Authenticated({ role: 'admin' })
  @ApiOperation({ summary: 'Remove the quota; writes are no longer capped.' })
  @ApiNoContentResponse()
  @ApiErrors(...ERRORS)
  async delete(@Param() { bid, bucket }: BucketParams, @Actor() actor: SessionActor): Promise<void> {
    await this.quotas.delete({ backendId: bid, bucket }, actor);
  }

  @Post('quota/recompute')
  @HttpCode(200)
  @Authenticated({ role: 'admin' })
  @ApiOperation({ summary: 'Count the bucket again now; answers the new usage (or `scan_running` after 30 s).' })
  @ApiOkResponse({ type: QuotaDto })
  @ApiErrors(...ERRORS)
  recompute(@Param() { bid, bucket }: BucketParams): Promise<QuotaDto> {
    return this.quotas.recompute({ backendId: bid, bucket });
  }

  @Get('size-tracking')
  @Authenticated({ role: 'readonly' })
  @ApiOperation({ summary: 'Whether the size scanner counts this bucket.' })
  @ApiOkResponse({ type: SizeTrackingStateDto })
  @ApiErrors(...ERRORS)
  getTracking(@Param() { bid, bucket }: BucketParams): Promise<SizeTrackingStateDto> {
    return this.quotas.getTracking({ backendId: bid, bucket });
  }

  @Put('size-tracking')
  @Authenticated({ role: 'admin' })
  @ApiOperation({ summary: 'Turn size tracking of the bucket on or off.' })
  @ApiOkResponse({ type: SizeTrackingStateDto })
  @ApiErrors(...ERRORS)
  setTracking(
    @Param() { bid, bucket }: BucketParams,
    @Body() body: SizeTrackingDto,
    @Actor() actor: SessionActor,
  ): Promise<SizeTrackingStateDto> {
    return this.quotas.setTracking({ backendId: bid, bucket }, body.enabled, actor);
  }

  @Get('prefix-size')
  @Authenticated({ role: 'readonly' })
  @ApiOperation({ summary: 'Bytes and objects under a prefix (cached briefly; needs size tracking).' })
  @ApiOkResponse({ type: PrefixSizeDto })
  @ApiErrors(...ERRORS, 'invalid_prefix', 'size_tracking_disabled')
  async prefixSize(@Param() { bid, bucket }: BucketParams, @Query() query: PrefixSizeQuery): Promise<PrefixSizeDto> {
    const ref = { backendId: bid, bucket };
    await this.quotas.assertTracked(ref);
    return this.prefixes.size(ref, query.prefix ?? '');
  }
}
