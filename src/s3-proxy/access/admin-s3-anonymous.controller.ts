import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Actor, SessionActor } from '../../access/actor';
import { Authenticated } from '../../access/authenticated.decorator';
import { ApiErrors } from '../../docs/api-errors.decorator';
import { BucketParams } from '../../storage-backends/dto/backend.dto';
import { AnonymousBindingDto, AnonymousBindingListDto, UpsertAnonymousBindingDto } from './dto/anonymous-binding.dto';
import { S3AnonymousService } from './s3-anonymous.service';

@ApiTags('admin: s3 proxy')
@Controller('api/admin/s3-anonymous')
export class AdminS3AnonymousController {
  constructor(private readonly anonymous: S3AnonymousService) {}

  @Get()
  @Authenticated({ role: 'admin' })
  @ApiOperation({ summary: 'Buckets open for anonymous reads through the S3 proxy.' })
  @ApiOkResponse({ type: AnonymousBindingListDto })
  async list(): Promise<AnonymousBindingListDto> {
    return { bindings: await this.anonymous.list() };
  }

  @Post()
  @HttpCode(200)
  @Authenticated({ role: 'admin' })
  @ApiOperation({ summary: 'Open a bucket for anonymous reads, or change its rate; a bucket name binds once.' })
  @ApiOkResponse({ type: AnonymousBindingDto })
  @ApiErrors('bad_request', 'invalid_bucket_name', 'not_found', 'conflict')
  upsert(@Body() body: UpsertAnonymousBindingDto, @Actor() actor: SessionActor): Promise<AnonymousBindingDto> {
    return this.anonymous.upsert(body, actor);
  }

  @Delete(':bid/:bucket')
  @HttpCode(204)
  @Authenticated({ role: 'admin' })
  @ApiOperation({ summary: 'Close a bucket to anonymous reads.' })
  @ApiNoContentResponse()
  @ApiErrors('bad_request', 'not_found')
  async remove(@Param() { bid, bucket }: BucketParams, @Actor() actor: SessionActor): Promise<void> {
    await this.anonymous.remove(bid, bucket, actor);
  }
}
