import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { IsBackendId } from '../../../storage-backends/dto/backend-id';

export const MAX_ANONYMOUS_RPS = 100_000;

export class AnonymousBindingDto {
  @ApiProperty() backend_id!: string;
  @ApiProperty() bucket!: string;
  @ApiProperty({ enum: ['ReadOnly'] }) mode!: 'ReadOnly';
  @ApiProperty({ description: 'Requests per second allowed from one client address.' }) per_source_ip_rps!: number;
  @ApiProperty({ format: 'date-time' }) created_at!: string;
  @ApiPropertyOptional({ format: 'uuid' }) created_by?: string;
}

export class AnonymousBindingListDto {
  @ApiProperty({ type: [AnonymousBindingDto] }) bindings!: AnonymousBindingDto[];
}

export class AnonymousBindingViewDto extends AnonymousBindingDto {
  @ApiProperty({ enum: ['db'] }) source!: 'db';
}

export class AnonymousBindingViewListDto {
  @ApiProperty({ type: [AnonymousBindingViewDto] }) bindings!: AnonymousBindingViewDto[];
}

export class UpsertAnonymousBindingDto {
  @ApiProperty({ example: 'local' })
  @IsBackendId()
  backend_id!: string;
  /** Checked against the naming rules by the service (`invalid_bucket_name`). */
  @ApiProperty({ example: 'public-assets' }) @IsString() @MaxLength(255) bucket!: string;
  @ApiPropertyOptional({ enum: ['ReadOnly'], default: 'ReadOnly' }) @IsOptional() @IsIn(['ReadOnly']) mode?: 'ReadOnly';
  @ApiPropertyOptional({
    description:
      'Defaults to s3_proxy.anonymous_rps; 0 means whatever s3_proxy.anonymous_rps says when the request arrives.',
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(MAX_ANONYMOUS_RPS)
  per_source_ip_rps?: number;
}
