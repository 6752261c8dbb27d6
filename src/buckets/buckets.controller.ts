import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Actor, SessionActor } from '../access/actor';
import { Authenticated } from '../access/authenticated.decorator';
import { ApiErrors } from '../docs/api-errors.decorator';
import { BackendIdParam, BucketParams } from '../storage-backends/dto/backend.dto';
import { BucketsService } from './buckets.service';
import { BucketListDto, CreateBucketDto, CreatedBucketDto } from './dto/bucket.dto';

/** `/api/backends/:bid/buckets`: list, create and delete the buckets of a backend. */
@ApiTags('backends')
@Controller('api/backends')
export class BucketsController {
  constructor(private readonly buckets: BucketsService) {}

  @Get(':bid/buckets')
  @Authenticated({ role: 'readonly' })
  @ApiOperation({ summary: 'Buckets of a backend.' })
  @ApiOkResponse({ type: BucketListDto })
  @ApiErrors('bad_request', 'not_found', 'backend_error')
  async listBuckets(@Param() { bid }: BackendIdParam): Promise<BucketListDto> {
    return { buckets: await this.buckets.list(bid) };
  }

  @Post(':bid/buckets')
  @Authenticated({ role: 'admin' })
  @ApiOperation({ summary: 'Create a bucket.' })
  @ApiCreatedResponse({ type: CreatedBucketDto })
  @ApiErrors('bad_request', 'invalid_bucket_name', 'not_found', 'conflict', 'backend_error')
  async createBucket(
    @Param() { bid }: BackendIdParam,
    @Body() body: CreateBucketDto,
    @Actor() actor: SessionActor,
  ): Promise<CreatedBucketDto> {
    await this.buckets.create(bid, body.name, body.region, actor);
    return { name: body.name };
  }

  @Delete(':bid/buckets/:bucket')
  @HttpCode(204)
  @Authenticated({ role: 'admin' })
  @ApiOperation({ summary: 'Delete an empty bucket.' })
  @ApiNoContentResponse()
  @ApiErrors('bad_request', 'invalid_bucket', 'not_found', 'conflict', 'backend_error')
  async deleteBucket(@Param() { bid, bucket }: BucketParams, @Actor() actor: SessionActor): Promise<void> {
    await this.buckets.delete(bid, bucket, actor);
  }
}
