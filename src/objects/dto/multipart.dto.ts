import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMinSize,
  IsArray,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateNested,
} from 'class-validator';
import { QueryInt } from '../../http/dto-fields';
import { IsMediaType, IsOpaqueToken } from './validators';

/** The most parts one upload may have (S3's limit; a backend may allow fewer). */
export const MAX_PART_NUMBER = 10_000;

export class MultipartKeyQuery {
  @ApiProperty() @IsString() @MaxLength(2048) key!: string;
}

export class MultipartUploadQuery extends MultipartKeyQuery {
  @ApiProperty() @IsString() @IsOpaqueToken() upload_id!: string;
}

export class ListUploadsQuery {
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(1024) prefix?: string;
}

export class PartParams {
  @ApiProperty() @IsString() @MaxLength(64) bid!: string;
  @ApiProperty() @IsString() @MaxLength(255) bucket!: string;
  @ApiProperty({ minimum: 1, maximum: MAX_PART_NUMBER })
  @QueryInt(1, MAX_PART_NUMBER)
  part!: number;
}

export class InitiateMultipartDto {
  @ApiPropertyOptional({ example: 'application/octet-stream' })
  @IsOptional()
  @IsString()
  @IsMediaType()
  content_type?: string;
}

export class MultipartUploadDto {
  @ApiProperty() bucket!: string;
  @ApiProperty() key!: string;
  @ApiProperty() upload_id!: string;
}

export class UploadedPartResultDto {
  @ApiProperty() part_number!: number;
  @ApiProperty() etag!: string;
}

export class CompletedPartDto {
  @ApiProperty({ minimum: 1, maximum: MAX_PART_NUMBER })
  @IsInt()
  @Min(1)
  @Max(MAX_PART_NUMBER)
  PartNumber!: number;

  @ApiProperty() @IsString() @MinLength(1) @MaxLength(256) ETag!: string;
}

export class CompleteMultipartDto {
  @ApiProperty({ type: [CompletedPartDto], description: 'Every part of the object, in ascending part order.' })
  @IsArray()
  @ArrayMinSize(1)
  @ValidateNested({ each: true })
  @IsObject({ each: true })
  @Type(() => CompletedPartDto)
  parts!: CompletedPartDto[];
}

export class PendingUploadDto {
  @ApiProperty() key!: string;
  @ApiProperty() upload_id!: string;
  @ApiPropertyOptional({ format: 'date-time' }) initiated?: string;
}

export class PendingUploadsDto {
  @ApiProperty({ type: [PendingUploadDto] }) uploads!: PendingUploadDto[];
}

export class PartInfoDto {
  @ApiProperty() part_number!: number;
  @ApiProperty() etag!: string;
  @ApiProperty() size!: number;
  @ApiPropertyOptional({ format: 'date-time' }) last_modified?: string;
}

export class PartListDto {
  @ApiProperty({ type: [PartInfoDto] }) parts!: PartInfoDto[];
}
