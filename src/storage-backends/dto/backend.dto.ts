import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsIn, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { BACKEND_KINDS, BackendKind } from '@stowage/config';
import { Capabilities } from '../backend';
import { IsBackendId } from './backend-id';

export class CapabilitiesDto implements Capabilities {
  @ApiProperty() versioning!: boolean;
  @ApiProperty() object_lock!: boolean;
  @ApiProperty() lifecycle!: boolean;
  @ApiProperty() bucket_policy!: boolean;
  @ApiProperty() cors!: boolean;
  @ApiProperty() tagging!: boolean;
  @ApiProperty() server_side_encrypt!: boolean;
  @ApiProperty() multipart_management!: boolean;
  @ApiProperty() suffix_ranges!: boolean;
  @ApiProperty({ enum: ['', 'minio', 'garage', 'seaweedfs'] }) admin_api!: Capabilities['admin_api'];
  @ApiProperty() max_multipart_parts!: number;
  @ApiProperty() max_part_size_bytes!: number;
}

export class BackendDto {
  @ApiProperty() id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ type: CapabilitiesDto }) capabilities!: Capabilities;
  @ApiProperty() healthy!: boolean;
  @ApiPropertyOptional({ format: 'date-time' }) last_probe_at?: string;
  @ApiPropertyOptional() last_error?: string;
}

export class BackendListDto {
  @ApiProperty({ type: [BackendDto] }) backends!: BackendDto[];
}

export class ProbeResultDto {
  @ApiProperty() healthy!: boolean;
  @ApiProperty({ format: 'date-time' }) last_probe_at!: string;
  @ApiProperty() last_error!: string;
  @ApiProperty() latency_ms!: number;
}

export class ProbeRecordDto {
  @ApiProperty({ format: 'date-time' }) at!: string;
  @ApiProperty() healthy!: boolean;
  @ApiProperty() latency_ms!: number;
  @ApiPropertyOptional() error?: string;
}

export class BackendHealthDto {
  @ApiProperty() id!: string;
  @ApiProperty() name!: string;
  @ApiProperty() healthy!: boolean;
  @ApiPropertyOptional({ format: 'date-time' }) last_probe_at?: string;
  @ApiPropertyOptional() last_error?: string;
  @ApiProperty() latency_ms!: number;
  @ApiProperty({ type: [ProbeRecordDto], description: 'Newest first, at most 20.' }) history!: ProbeRecordDto[];
}

export class BackendHealthListDto {
  @ApiProperty({ type: [BackendHealthDto] }) backends!: BackendHealthDto[];
}

/** One row of /api/admin/backends. The secret is never returned, only whether one is stored. */
export class EndpointDto {
  @ApiProperty() id!: string;
  @ApiProperty() name!: string;
  @ApiProperty() type!: string;
  @ApiProperty() endpoint!: string;
  @ApiProperty() region!: string;
  @ApiProperty() path_style!: boolean;
  @ApiPropertyOptional() access_key?: string;
  @ApiProperty() secret_set!: boolean;
  @ApiProperty() enabled!: boolean;
  @ApiProperty({ enum: BACKEND_KINDS }) kind!: BackendKind;
  @ApiProperty({ enum: ['when_required', 'when_supported'] }) checksums!: string;
  @ApiProperty({ enum: ['config', 'db'] }) source!: 'config' | 'db';
  @ApiProperty() healthy!: boolean;
  @ApiPropertyOptional() last_error?: string;
  @ApiPropertyOptional({ format: 'date-time' }) last_probe_at?: string;
  @ApiPropertyOptional({ format: 'date-time' }) created_at?: string;
  @ApiPropertyOptional({ format: 'date-time' }) updated_at?: string;
}

export class EndpointListDto {
  @ApiProperty({ type: [EndpointDto] }) backends!: EndpointDto[];
}

class EndpointFields {
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(128) name?: string;
  @ApiPropertyOptional({ enum: ['s3v4'] }) @IsOptional() @IsIn(['s3v4']) type?: 's3v4';
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(64) region?: string;
  @ApiPropertyOptional() @IsOptional() @IsBoolean() path_style?: boolean;
  @ApiPropertyOptional({ enum: BACKEND_KINDS }) @IsOptional() @IsIn(BACKEND_KINDS) kind?: BackendKind;
  @ApiPropertyOptional({ enum: ['when_required', 'when_supported'] })
  @IsOptional()
  @IsIn(['when_required', 'when_supported'])
  checksums?: 'when_required' | 'when_supported';
}

const ENDPOINT_URL = /^https?:\/\/[^\s/?#]+(:\d+)?(\/[^\s?#]*)?$/;

export class CreateEndpointDto extends EndpointFields {
  @ApiProperty({ example: 'minio-eu' }) @IsBackendId() id!: string;
  @ApiProperty({ example: 'https://s3.example.com' })
  @Matches(ENDPOINT_URL, { message: 'must be an http(s) URL' })
  @MaxLength(512)
  endpoint!: string;
  @ApiProperty() @IsString() @MaxLength(256) access_key!: string;
  @ApiProperty({ format: 'password' }) @IsString() @MaxLength(512) secret_key!: string;
  @ApiPropertyOptional({ default: true }) @IsOptional() @IsBoolean() enabled?: boolean;
}

export class PatchEndpointDto extends EndpointFields {
  @ApiPropertyOptional()
  @IsOptional()
  @Matches(ENDPOINT_URL, { message: 'must be an http(s) URL' })
  @MaxLength(512)
  endpoint?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(256) access_key?: string;
  @ApiPropertyOptional({ format: 'password', description: 'Omit to keep the stored secret.' })
  @IsOptional()
  @IsString()
  @MaxLength(512)
  secret_key?: string;
  @ApiPropertyOptional() @IsOptional() @IsBoolean() enabled?: boolean;
}

export class TestEndpointDto extends EndpointFields {
  @ApiProperty() @Matches(ENDPOINT_URL, { message: 'must be an http(s) URL' }) @MaxLength(512) endpoint!: string;
  @ApiProperty() @IsString() @MaxLength(256) access_key!: string;
  @ApiProperty({ format: 'password' }) @IsString() @MaxLength(512) secret_key!: string;
}

export class TestEndpointResultDto {
  @ApiProperty() healthy!: boolean;
  @ApiProperty() latency_ms!: number;
  @ApiPropertyOptional() error?: string;
}

export class BackendIdParam {
  @ApiProperty() @IsBackendId() bid!: string;
}

/** The path parameters naming one bucket of one backend. */
export class BucketParams {
  @ApiProperty() @IsBackendId() bid!: string;
  /** Checked against the naming rules by the service (`invalid_bucket`). */
  @ApiProperty() @IsString() @MaxLength(255) bucket!: string;
}
