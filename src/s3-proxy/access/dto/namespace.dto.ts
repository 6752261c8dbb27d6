import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Allow, IsString, MaxLength } from 'class-validator';
import { ByteLimitsDto } from '../../../quotas/byte-limits.dto';
import { IsBackendId } from '../../../storage-backends/dto/backend-id';

/** The path parameters naming a namespace: a backend and a bucket-name prefix ending in `-`. */
export class NamespaceParams {
  @ApiProperty() @IsBackendId() bid!: string;
  /** Checked against the namespace rules by the service (`invalid_prefix`). */
  @ApiProperty({ example: 'team-a-' }) @IsString() @MaxLength(255) prefix!: string;
}

/** Byte caps as bucket quotas take them, and a cap on the bucket count; checked by the service (invalid_quota). */
export class SetNamespaceQuotaDto extends ByteLimitsDto {
  @ApiPropertyOptional({
    type: 'integer',
    minimum: 0,
    nullable: true,
    description: 'CreateBucket through the S3 proxy past it is refused (TooManyBuckets).',
  })
  @Allow()
  max_buckets?: unknown;
}

export class NamespaceQuotaDto {
  @ApiProperty() backend_id!: string;
  @ApiProperty() bucket_prefix!: string;
  @ApiProperty({ description: 'Whether a quota is set.' }) configured!: boolean;
  @ApiPropertyOptional() soft_bytes?: number;
  @ApiPropertyOptional() hard_bytes?: number;
  @ApiPropertyOptional() max_buckets?: number;
  @ApiPropertyOptional({ format: 'date-time' }) updated_at?: string;
  @ApiPropertyOptional({ format: 'uuid' }) updated_by?: string;
  @ApiProperty({ description: "The tracked usage of the namespace's buckets." }) usage_bytes!: number;
  @ApiProperty({ description: 'Bytes held by writes in flight.' }) reserved_bytes!: number;
  @ApiPropertyOptional({
    description: 'Buckets in the namespace (with a quota: as counted for max_buckets, creates in flight included).',
  })
  bucket_count?: number;
  @ApiPropertyOptional({ format: 'date-time', description: 'When the buckets were last counted upstream.' })
  buckets_counted_at?: string;
  @ApiProperty() soft_exceeded!: boolean;
  @ApiPropertyOptional({ format: 'date-time' }) soft_exceeded_at?: string;
  @ApiProperty() hard_exceeded!: boolean;
}

export class NamespaceHolderDto {
  @ApiProperty() access_key!: string;
  @ApiPropertyOptional({ format: 'uuid' }) user_id?: string;
  @ApiPropertyOptional() username?: string;
  @ApiProperty() enabled!: boolean;
}

export class NamespaceDto extends NamespaceQuotaDto {
  @ApiProperty({ type: [NamespaceHolderDto], description: 'The credentials holding the namespace.' })
  credentials!: NamespaceHolderDto[];
}

export class NamespaceListDto {
  @ApiProperty({ type: [NamespaceDto] }) namespaces!: NamespaceDto[];
}
