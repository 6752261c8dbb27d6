import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, MaxLength } from 'class-validator';
import { BucketQuotaStateDto } from './quota.dto';

export class BucketDto {
  @ApiProperty() name!: string;
  @ApiPropertyOptional({ format: 'date-time' }) created_at?: string;
  @ApiProperty({ description: 'Whether the size scanner counts this bucket.' }) size_tracked!: boolean;
  @ApiPropertyOptional() size_bytes?: number;
  @ApiPropertyOptional() object_count?: number;
  @ApiPropertyOptional({ format: 'date-time' }) computed_at?: string;
  @ApiPropertyOptional({ type: BucketQuotaStateDto, description: 'Present when the bucket has a quota.' })
  quota?: BucketQuotaStateDto;
}

export class BucketListDto {
  @ApiProperty({ type: [BucketDto] }) buckets!: BucketDto[];
}

export class CreateBucketDto {
  @ApiProperty({ example: 'team-assets' }) @IsString() @MaxLength(255) name!: string;
  @ApiPropertyOptional({ example: 'us-east-1' }) @IsOptional() @IsString() @MaxLength(64) region?: string;
}

export class CreatedBucketDto {
  @ApiProperty() name!: string;
}
