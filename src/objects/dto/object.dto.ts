import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import {
  ArrayMinSize,
  IsArray,
  IsIn,
  IsObject,
  IsOptional,
  IsString,
  MaxLength,
  ValidateNested,
} from 'class-validator';
import { OptionalClientToken } from './validators';
import { QueryInt } from '../../http/dto-fields';
import { ObjectInfo } from '../../storage-backends/backend';

export const MAX_BULK_DELETE_KEYS = 1000;

export class ObjectInfoDto {
  @ApiProperty() key!: string;
  @ApiProperty() size!: number;
  @ApiPropertyOptional() etag?: string;
  @ApiPropertyOptional() content_type?: string;
  @ApiPropertyOptional() storage_class?: string;
  @ApiPropertyOptional() version_id?: string;
  @ApiPropertyOptional({ format: 'date-time' }) last_modified?: string;
  @ApiPropertyOptional({ type: 'object', additionalProperties: { type: 'string' } }) metadata?: Record<string, string>;
}

export function toObjectInfoDto(info: ObjectInfo): ObjectInfoDto {
  return {
    key: info.key,
    size: info.size,
    ...(info.etag ? { etag: info.etag } : {}),
    ...(info.contentType ? { content_type: info.contentType } : {}),
    ...(info.storageClass ? { storage_class: info.storageClass } : {}),
    ...(info.versionId ? { version_id: info.versionId } : {}),
    ...(info.lastModified ? { last_modified: info.lastModified.toISOString() } : {}),
    ...(info.metadata && Object.keys(info.metadata).length ? { metadata: info.metadata } : {}),
  };
}

export class ListObjectsResultDto {
  @ApiProperty() prefix!: string;
  @ApiProperty() delimiter!: string;
  @ApiProperty({ type: [String] }) common_prefixes!: string[];
  @ApiProperty({ type: [ObjectInfoDto] }) objects!: ObjectInfoDto[];
  @ApiProperty() is_truncated!: boolean;
  @ApiProperty() next_continuation_token!: string;
}

export class ListObjectsQuery {
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(1024) prefix?: string;
  @ApiPropertyOptional({ description: 'Defaults to "/"; send it empty for a flat listing.' })
  @IsOptional()
  @IsString()
  @MaxLength(16)
  delimiter?: string;
  @ApiPropertyOptional()
  @OptionalClientToken()
  token?: string;
  @ApiPropertyOptional({ maximum: 1000 })
  @IsOptional()
  @QueryInt(1, 1000)
  max_keys?: number;
}

export class ObjectKeyQuery {
  @ApiProperty() @IsString() @MaxLength(2048) key!: string;
  @ApiPropertyOptional()
  @OptionalClientToken()
  version_id?: string;
}

export class GetObjectQuery extends ObjectKeyQuery {
  @ApiPropertyOptional({ enum: ['attachment', 'inline'] }) @IsOptional() @IsIn(['attachment', 'inline']) disposition?:
    'attachment' | 'inline';
}

export class UploadQuery {
  @ApiPropertyOptional({ description: 'Required for a raw body; a form upload may send it as the `key` field.' })
  @IsOptional()
  @IsString()
  @MaxLength(2048)
  key?: string;
  @ApiPropertyOptional({ description: 'Refuse to replace an existing object (409 object_exists).' })
  @IsOptional()
  @Transform(({ value }) => (value === 'true' ? true : value === 'false' ? false : value))
  @IsIn([true, false])
  no_overwrite?: boolean;
}

export class ObjectIdentifierDto {
  @ApiProperty() @IsString() @MaxLength(2048) key!: string;
  @ApiPropertyOptional()
  @OptionalClientToken()
  version_id?: string;
}

export class BulkDeleteDto {
  @ApiProperty({ type: [ObjectIdentifierDto], maxItems: MAX_BULK_DELETE_KEYS })
  @IsArray()
  @ArrayMinSize(1)
  // The length limit is a catalogue error of its own (too_many_keys), checked by the service.
  @ValidateNested({ each: true })
  @IsObject({ each: true })
  @Type(() => ObjectIdentifierDto)
  keys!: ObjectIdentifierDto[];
}

export class BulkDeleteResultDto {
  @ApiProperty({ type: [ObjectIdentifierDto] }) deleted!: { key: string; version_id?: string }[];
  @ApiProperty() errors!: { key: string; code: string; message: string }[];
}

export class CreateFolderDto {
  @ApiProperty({ example: 'reports/2026/' }) @IsString() @MaxLength(1024) key!: string;
}

export class ObjectParams {
  @ApiProperty() @IsString() @MaxLength(64) bid!: string;
  @ApiProperty() @IsString() @MaxLength(255) bucket!: string;
}
