import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export class HourlyPointDto {
  @ApiProperty({ description: 'Hours since the epoch.' }) unix_hour!: number;
  @ApiProperty() requests!: number;
  @ApiProperty({ description: 'Server errors (5xx).' }) errors!: number;
}

export class RecentErrorDto {
  @ApiProperty() when!: string;
  @ApiProperty() method!: string;
  @ApiProperty() path!: string;
  @ApiProperty() status!: number;
  @ApiPropertyOptional() user_id?: string;
  @ApiPropertyOptional() backend?: string;
}

export class RequestsSectionDto {
  @ApiProperty() total_24h!: number;
  @ApiProperty() errors_24h!: number;
  @ApiProperty({ type: [HourlyPointDto], description: '24 points, oldest first.' }) hourly!: HourlyPointDto[];
  @ApiProperty({ type: 'object', additionalProperties: { type: 'number' } }) by_backend!: Record<string, number>;
  @ApiProperty({ type: [RecentErrorDto], description: 'Newest first, at most 50.' }) recent_errors!: RecentErrorDto[];
}

export class BackendStorageDto {
  @ApiProperty() backend_id!: string;
  @ApiProperty() bytes!: number;
  @ApiProperty() objects!: number;
  @ApiProperty() buckets!: number;
}

export class TopBucketDto {
  @ApiProperty() backend_id!: string;
  @ApiProperty() bucket!: string;
  @ApiProperty() bytes!: number;
  @ApiProperty() objects!: number;
}

export class StorageSectionDto {
  @ApiProperty({ type: [BackendStorageDto] }) by_backend!: BackendStorageDto[];
  @ApiProperty({ type: [TopBucketDto] }) top_buckets!: TopBucketDto[];
}

export class DashboardDto {
  @ApiProperty({ description: 'Requests of every replica (dashboard API and S3 proxy), last 24 hours.' })
  requests!: RequestsSectionDto;
  @ApiProperty({ description: 'Sizes measured by the quota scans.' }) storage!: StorageSectionDto;
}
