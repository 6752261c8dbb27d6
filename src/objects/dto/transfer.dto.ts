import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsArray, IsBoolean, IsObject, IsOptional, IsString, MaxLength } from 'class-validator';
import { ObjectInfoDto } from './object.dto';
import { OptionalClientToken } from './validators';

const STRING_MAP = { type: 'object', additionalProperties: { type: 'string' } } as const;

/** Where a copy goes; every field defaults to the source's backend and bucket. */
class DestinationDto {
  @ApiPropertyOptional({ description: 'Destination bucket; defaults to the source bucket.' })
  @IsOptional()
  @IsString()
  @MaxLength(255)
  dst_bucket?: string;

  @ApiPropertyOptional({ description: 'Destination backend id; defaults to the source backend (server-side copy).' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  dst_backend?: string;

  @ApiPropertyOptional({ ...STRING_MAP, description: 'Replace the user metadata instead of copying it.' })
  @IsOptional()
  @IsObject()
  metadata?: Record<string, string>;

  @ApiPropertyOptional({
    description: 'Delete the source after a successful copy. Not atomic: a failure between the two steps leaves both.',
  })
  @IsOptional()
  @IsBoolean()
  move?: boolean;

  @ApiPropertyOptional({ description: 'Replace an existing destination (default true); false answers object_exists.' })
  @IsOptional()
  @IsBoolean()
  overwrite?: boolean;
}

export class CopyObjectDto extends DestinationDto {
  @ApiProperty({ example: 'reports/2026/q1.pdf' }) @IsString() @MaxLength(2048) src_key!: string;
  @ApiProperty({ example: 'archive/q1.pdf' }) @IsString() @MaxLength(2048) dst_key!: string;
  @ApiPropertyOptional({ description: 'Copy this version of the source (not with move).' })
  @OptionalClientToken()
  version_id?: string;
}

export class CopyObjectResultDto {
  @ApiProperty({ description: 'Destination bucket.' }) bucket!: string;
  @ApiPropertyOptional({ description: 'Destination backend id.' }) backend?: string;
  @ApiProperty({ description: 'Destination key.' }) key!: string;
  @ApiPropertyOptional({ type: ObjectInfoDto }) object?: ObjectInfoDto;
}

export class CopyPrefixDto extends DestinationDto {
  @ApiProperty({ example: 'reports/2026/', description: 'May be empty (whole bucket) only towards another bucket.' })
  @IsString()
  @MaxLength(1024)
  src_prefix!: string;

  @ApiProperty({ example: 'archive/2026/', description: 'Replaces src_prefix at the start of every key.' })
  @IsString()
  @MaxLength(1024)
  dst_prefix!: string;
}

export class DeletePrefixDto {
  @ApiProperty({ example: 'tmp/', description: 'Every object whose key starts with it is deleted; never empty.' })
  @IsString()
  @MaxLength(1024)
  prefix!: string;
}

export class ZipQuery {
  @ApiProperty({
    type: [String],
    description: 'Object keys; a key ending in "/" adds every object under it, recursively.',
  })
  @Transform(({ value }) => (typeof value === 'string' ? [value] : value))
  @IsArray()
  @IsString({ each: true })
  @MaxLength(1024, { each: true })
  key!: string[];
}
