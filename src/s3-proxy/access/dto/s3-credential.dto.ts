import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsObject,
  IsOptional,
  IsRFC3339,
  IsString,
  IsUUID,
  Matches,
  MaxLength,
  ValidateIf,
  ValidateNested,
} from 'class-validator';
import { StringList } from '../../../http/dto-fields';
import { IsBackendId } from '../../../storage-backends/dto/backend-id';

export const MAX_SCOPES = 100;
export const MAX_DESCRIPTION = 256;

/**
 * One scope: `bucket` (a whole bucket), `bucket` with `key_prefix` (only the keys under it), or
 * `bucket_prefix` (a namespace: every bucket whose name starts with it, which the credential may
 * create and delete). Names are checked against the naming rules by the service.
 */
export class BucketScopeDto {
  @ApiProperty({ example: 'local' })
  @IsBackendId()
  backend_id!: string;
  @ApiPropertyOptional({ example: 'team-assets', description: 'A bucket; not with bucket_prefix.' })
  @IsOptional()
  @IsString()
  @MaxLength(255)
  bucket?: string;
  @ApiPropertyOptional({
    example: 'team-a-',
    description: 'A namespace: every bucket whose name starts with this prefix, which must end with "-".',
  })
  @IsOptional()
  @IsString()
  @MaxLength(255)
  bucket_prefix?: string;
  @ApiPropertyOptional({
    example: 'home/alice/',
    description: 'With bucket: only the keys under this prefix, which must end with "/".',
  })
  @IsOptional()
  @IsString()
  @MaxLength(1024)
  key_prefix?: string;
}

export class BucketUrlsDto {
  @ApiProperty() backend_id!: string;
  @ApiProperty() bucket!: string;
  @ApiProperty({ description: 'The bucket under the endpoint (path-style): works with every client.' })
  path_style!: string;
  @ApiPropertyOptional({ description: 'The bucket as a host name, when `s3_proxy.host_suffixes` names one.' })
  virtual_hosted?: string;
}

export class S3CredentialDto {
  @ApiProperty({ example: 'STWG7Q2M4K9D1XZ0B3NC' }) access_key!: string;
  @ApiPropertyOptional({ description: 'Only in the answer to the request that created the credential.' })
  secret_key?: string;
  @ApiProperty({ description: 'The backend of every scope, or "" when the scopes span several backends.' })
  backend_id!: string;
  @ApiProperty({ type: [String], description: 'The bucket names the credential may reach (namespaces aside).' })
  buckets!: string[];
  @ApiProperty({
    type: [String],
    description: 'The bucket-name prefixes of its namespaces (buckets it may create and delete).',
  })
  namespaces!: string[];
  @ApiProperty({ type: [BucketScopeDto] }) scopes!: BucketScopeDto[];
  @ApiProperty({
    description:
      "The S3 proxy's URL for clients: `s3_proxy.public_url`, else http on `s3_proxy.listen`'s port at the first host suffix, `server.public_url`'s host or this request's host.",
    example: 'http://localhost:8090',
  })
  endpoint_url!: string;
  @ApiProperty({ type: [BucketUrlsDto], description: "Each scope's bucket URLs, in the order of `scopes`." })
  bucket_urls!: BucketUrlsDto[];
  @ApiPropertyOptional({ format: 'uuid', description: 'The user the credential belongs to.' }) user_id?: string;
  @ApiProperty() description!: string;
  @ApiProperty() enabled!: boolean;
  @ApiPropertyOptional({
    enum: ['admin', 'owner'],
    description: 'Who disabled it; a credential an admin disabled only an admin can enable again.',
  })
  disabled_by?: 'admin' | 'owner';
  @ApiPropertyOptional({ format: 'date-time' }) expires_at?: string;
  @ApiPropertyOptional({ format: 'date-time' }) last_used_at?: string;
  @ApiProperty({ format: 'date-time' }) created_at!: string;
  @ApiPropertyOptional({ format: 'uuid' }) created_by?: string;
  @ApiProperty({ format: 'date-time' }) updated_at!: string;
  @ApiPropertyOptional({ format: 'uuid' }) updated_by?: string;
}

export class S3CredentialListDto {
  @ApiProperty({ type: [S3CredentialDto] }) credentials!: S3CredentialDto[];
}

export class S3CredentialViewDto extends S3CredentialDto {
  @ApiProperty({ enum: ['db'], description: 'Where the proxy learns of the credential.' }) source!: 'db';
}

export class S3CredentialViewListDto {
  @ApiProperty({ type: [S3CredentialViewDto] }) credentials!: S3CredentialViewDto[];
}

/** The scope of a credential: `backend_id` with `buckets`, or `scopes` (which may span backends). */
export class ScopeInputDto {
  @ApiPropertyOptional({ example: 'local', description: 'The backend of every bucket in `buckets`.' })
  @IsOptional()
  @IsBackendId()
  backend_id?: string;

  @ApiPropertyOptional({ type: [String], example: ['team-assets'] })
  @IsOptional()
  @ArrayMinSize(1)
  @StringList(MAX_SCOPES, 255)
  buckets?: string[];

  @ApiPropertyOptional({ type: [BucketScopeDto], description: 'Instead of backend_id and buckets.' })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_SCOPES)
  @ValidateNested({ each: true })
  @IsObject({ each: true })
  @Type(() => BucketScopeDto)
  scopes?: BucketScopeDto[];
}

export class CreateMyS3CredentialDto extends ScopeInputDto {
  @ApiPropertyOptional({ maxLength: MAX_DESCRIPTION })
  @IsOptional()
  @IsString()
  @MaxLength(MAX_DESCRIPTION)
  description?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'RFC 3339, in the future.' })
  @IsOptional()
  @IsRFC3339()
  expires_at?: string;
}

export class CreateS3CredentialDto extends CreateMyS3CredentialDto {
  @ApiPropertyOptional({ format: 'uuid', description: 'The user the credential belongs to; omitted: nobody.' })
  @IsOptional()
  @IsUUID()
  user_id?: string;
}

export class PatchS3CredentialDto extends ScopeInputDto {
  @ApiPropertyOptional({ maxLength: MAX_DESCRIPTION })
  @IsOptional()
  @IsString()
  @MaxLength(MAX_DESCRIPTION)
  description?: string;

  @ApiPropertyOptional() @IsOptional() @IsBoolean() enabled?: boolean;

  @ApiPropertyOptional({
    type: String,
    format: 'date-time',
    nullable: true,
    description: 'RFC 3339, in the future; empty string or null clears it.',
  })
  @ValidateIf((o: PatchS3CredentialDto) => o.expires_at !== undefined && o.expires_at !== null && o.expires_at !== '')
  @IsRFC3339()
  expires_at?: string | null;
}

export class AccessKeyParam {
  @ApiProperty()
  @Matches(/^[A-Za-z0-9]{1,128}$/, { message: 'must be an access key id' })
  akid!: string;
}
