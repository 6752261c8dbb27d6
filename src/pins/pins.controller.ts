import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Authenticated } from '../access/authenticated.decorator';
import { Caller, Identity } from '../access/identity';
import { ApiErrors } from '../docs/api-errors.decorator';
import { BucketParams } from '../storage-backends/dto/backend.dto';
import { CreatePinDto, PinDto, PinListDto } from './dto/pin.dto';
import { PinsService } from './pins.service';

@ApiTags('pins')
@Controller('api/me/pins')
export class PinsController {
  constructor(private readonly pins: PinsService) {}

  @Get()
  @Authenticated({ role: 'readonly' })
  @ApiOperation({ summary: 'Your pinned buckets, oldest first.' })
  @ApiOkResponse({ type: PinListDto })
  async list(@Caller() caller: Identity): Promise<PinListDto> {
    return { pins: await this.pins.list(caller.id) };
  }

  @Post()
  @Authenticated({ role: 'user' })
  @ApiOperation({ summary: 'Pin a bucket (pinning it again changes nothing).' })
  @ApiCreatedResponse({ type: PinDto })
  @ApiErrors('bad_request', 'invalid_bucket_name', 'not_found')
  create(@Body() body: CreatePinDto, @Caller() caller: Identity): Promise<PinDto> {
    return this.pins.pin(caller.id, body.backend_id, body.bucket);
  }

  @Delete(':bid/:bucket')
  @HttpCode(204)
  @Authenticated({ role: 'user' })
  @ApiOperation({ summary: 'Unpin a bucket.' })
  @ApiNoContentResponse()
  @ApiErrors('bad_request')
  async remove(@Param() { bid, bucket }: BucketParams, @Caller() caller: Identity): Promise<void> {
    await this.pins.unpin(caller.id, bid, bucket);
  }
}
