import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsOptional, IsString, MaxLength } from 'class-validator';
import { ByteLimitsDto } from '../../quotas/byte-limits.dto';

/** Sizes as numbers of bytes or strings such as `8Gi`, `500Mi`, `1.5G`; checked by the service (invalid_quota). */
export class SetQuotaDto extends ByteLimitsDto {}

export class QuotaDto {
  @ApiProperty({ description: 'Whether a quota is set.' }) configured!: boolean;
  @ApiPropertyOptional() soft_bytes?: number;
  @ApiPropertyOptional() hard_bytes?: number;
  @ApiPropertyOptional({ format: 'date-time' }) updated_at?: string;
  @ApiPropertyOptional({ format: 'uuid' }) updated_by?: string;
  @ApiProperty({ description: 'Whether the bucket has been counted (or its usage kept) yet.' }) has_usage!: boolean;
  @ApiPropertyOptional() usage_bytes?: number;
  @ApiPropertyOptional() object_count?: number;
  @ApiProperty({ description: 'Bytes held by writes in flight against the hard quota.' })
  reserved_bytes!: number;
  @ApiPropertyOptional({ format: 'date-time', description: 'When the bucket was last counted in full.' })
  computed_at?: string;
  @ApiProperty() soft_exceeded!: boolean;
  @ApiPropertyOptional({ format: 'date-time' }) soft_exceeded_at?: string;
  @ApiProperty() hard_exceeded!: boolean;
  @ApiPropertyOptional({ description: 'Why the last count failed.' }) last_error?: string;
  @ApiPropertyOptional({ description: 'A count is running (recompute answered before it finished).' })
  scan_running?: boolean;
}

export class SizeTrackingDto {
  @ApiProperty() @IsBoolean() enabled!: boolean;
}

export class SizeTrackingStateDto {
  @ApiProperty() enabled!: boolean;
  @ApiPropertyOptional({ format: 'date-time' }) updated_at?: string;
  @ApiPropertyOptional({ format: 'uuid' }) updated_by?: string;
}

export class PrefixSizeQuery {
  @ApiPropertyOptional({ description: 'Empty: the whole bucket.' })
  @IsOptional()
  @IsString()
  @MaxLength(1024)
  prefix?: string;
}

export class PrefixSizeDto {
  @ApiProperty() prefix!: string;
  @ApiProperty() bytes!: number;
  @ApiProperty() count!: number;
  @ApiProperty({ format: 'date-time' }) computed_at!: string;
}

export class BucketQuotaStateDto {
  @ApiPropertyOptional() soft_bytes?: number;
  @ApiPropertyOptional() hard_bytes?: number;
  @ApiProperty() soft_exceeded!: boolean;
  @ApiProperty() hard_exceeded!: boolean;
}
