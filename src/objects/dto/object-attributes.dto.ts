import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsObject, IsString, MaxLength } from 'class-validator';

/** A query naming one object, latest version only. */
export class KeyQuery {
  @ApiProperty() @IsString() @MaxLength(2048) key!: string;
}

const STRING_MAP = { type: 'object', additionalProperties: { type: 'string' } } as const;

export class ObjectTagsDto {
  @ApiProperty({ ...STRING_MAP, example: { project: 'apollo', tier: 'cold' } })
  @IsObject()
  tags!: Record<string, string>;
}

export class ObjectMetadataDto {
  @ApiProperty({ ...STRING_MAP, example: { origin: 'scanner-3' } })
  @IsObject()
  metadata!: Record<string, string>;
}

export class ObjectVersionDto {
  @ApiProperty() key!: string;
  @ApiProperty() version_id!: string;
  @ApiProperty() is_latest!: boolean;
  @ApiProperty() is_delete_marker!: boolean;
  @ApiProperty() size!: number;
  @ApiPropertyOptional() etag?: string;
  @ApiPropertyOptional({ format: 'date-time' }) last_modified?: string;
}

export class ObjectVersionsDto {
  @ApiProperty({ type: [ObjectVersionDto] }) versions!: ObjectVersionDto[];
}
