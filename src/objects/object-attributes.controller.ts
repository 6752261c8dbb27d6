import { Body, Controller, Get, Param, Put, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Authenticated } from '../access/authenticated.decorator';
import { ApiErrors } from '../docs/api-errors.decorator';
import { KeyQuery, ObjectMetadataDto, ObjectTagsDto, ObjectVersionsDto } from './dto/object-attributes.dto';
import { ObjectInfoDto, ObjectKeyQuery, ObjectParams } from './dto/object.dto';
import { ObjectAttributesService } from './object-attributes.service';

const ATTRIBUTE_ERRORS = ['bad_request', 'not_found', 'invalid_bucket', 'invalid_key', 'backend_error'] as const;

@ApiTags('objects')
@Controller('api/backends/:bid/buckets/:bucket/object')
export class ObjectAttributesController {
  constructor(private readonly attributes: ObjectAttributesService) {}

  @Get('tags')
  @Authenticated({ role: 'readonly' })
  @ApiOperation({ summary: 'The tags of an object (or of one version of it).' })
  @ApiOkResponse({ type: ObjectTagsDto })
  @ApiErrors(...ATTRIBUTE_ERRORS, 'not_supported')
  getTags(
    @Param() { bid, bucket }: ObjectParams,
    @Query() { key, version_id }: ObjectKeyQuery,
  ): Promise<ObjectTagsDto> {
    return this.attributes.getTags({ backendId: bid, bucket }, key, version_id);
  }

  @Put('tags')
  @Authenticated({ role: 'user' })
  @ApiOperation({ summary: 'Replace the tags of an object; an empty map removes them all.' })
  @ApiOkResponse({ type: ObjectTagsDto })
  @ApiErrors(...ATTRIBUTE_ERRORS, 'not_supported', 'too_many_tags', 'invalid_tag')
  setTags(
    @Param() { bid, bucket }: ObjectParams,
    @Query() { key, version_id }: ObjectKeyQuery,
    @Body() body: ObjectTagsDto,
  ): Promise<ObjectTagsDto> {
    return this.attributes.setTags({ backendId: bid, bucket }, key, body.tags, version_id);
  }

  @Put('metadata')
  @Authenticated({ role: 'user' })
  @ApiOperation({ summary: 'Replace the user metadata of an object in place; its content stays as it is.' })
  @ApiOkResponse({ type: ObjectInfoDto })
  @ApiErrors(...ATTRIBUTE_ERRORS, 'invalid_metadata')
  setMetadata(
    @Param() { bid, bucket }: ObjectParams,
    @Query() { key }: KeyQuery,
    @Body() body: ObjectMetadataDto,
  ): Promise<ObjectInfoDto> {
    return this.attributes.setMetadata({ backendId: bid, bucket }, key, body.metadata);
  }

  @Get('versions')
  @Authenticated({ role: 'readonly' })
  @ApiOperation({ summary: 'Every version and delete marker of exactly this key, newest first.' })
  @ApiOkResponse({ type: ObjectVersionsDto })
  @ApiErrors(...ATTRIBUTE_ERRORS, 'not_supported')
  versions(@Param() { bid, bucket }: ObjectParams, @Query() { key }: KeyQuery): Promise<ObjectVersionsDto> {
    return this.attributes.versions({ backendId: bid, bucket }, key);
  }
}
