import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsInt, IsISO8601, IsOptional, IsString, IsUUID, Max, MaxLength, Min, MinLength } from 'class-validator';
import { MAX_PASSWORD_LENGTH } from '../../auth/password-hasher.service';
import { IsBackendId } from '../../storage-backends/dto/backend-id';
import { EXPIRY_PRESETS, ExpiryPreset } from '../share-code';

export const DISPOSITIONS = ['attachment', 'inline'] as const;
export type Disposition = (typeof DISPOSITIONS)[number];

/** The largest download cap a share may have. */
export const MAX_DOWNLOAD_LIMIT = 1_000_000;

export class ShareDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ example: 'f5c2a8Qx_1-zKw', description: '14 characters of base64url (80 random bits).' })
  code!: string;
  @ApiProperty({ description: 'The recipient link: a path, or absolute under `server.public_url`.' })
  url!: string;
  @ApiProperty() backend_id!: string;
  @ApiProperty() bucket!: string;
  @ApiProperty() key!: string;
  @ApiProperty({ format: 'uuid' }) created_by!: string;
  @ApiProperty({ format: 'date-time' }) created_at!: string;
  @ApiPropertyOptional({ format: 'date-time' }) expires_at?: string;
  @ApiProperty() has_password!: boolean;
  @ApiPropertyOptional() max_downloads?: number;
  @ApiProperty() download_count!: number;
  @ApiProperty() revoked!: boolean;
  @ApiPropertyOptional({ format: 'date-time' }) revoked_at?: string;
  @ApiPropertyOptional({ format: 'date-time' }) last_accessed_at?: string;
  @ApiProperty({ enum: DISPOSITIONS }) disposition!: Disposition;
}

export class ShareListDto {
  @ApiProperty({ type: [ShareDto] }) shares!: ShareDto[];
}

export class CreateShareDto {
  @ApiProperty({ example: 'local' })
  @IsBackendId()
  backend_id!: string;
  /** Checked against the naming rules by the object service (`invalid_bucket`). */
  @ApiProperty({ example: 'uploads' }) @IsString() @MaxLength(255) bucket!: string;
  /** Checked against the key rules by the object service (`invalid_key`). */
  @ApiProperty({ example: 'report.pdf' }) @IsString() @MaxLength(1024) key!: string;
  @ApiPropertyOptional({
    type: String,
    nullable: true,
    format: 'date-time',
    description: 'RFC 3339, in the future. Omit (or null) for no expiry.',
  })
  @IsOptional()
  @IsISO8601({ strict: true, strictSeparator: true })
  expires_at?: string | null;
  @ApiPropertyOptional({
    enum: Object.keys(EXPIRY_PRESETS),
    description: 'A preset instead of `expires_at`: 1h, 1d, 7d, 30d or never.',
  })
  @IsOptional()
  @IsIn(Object.keys(EXPIRY_PRESETS))
  expires_in?: ExpiryPreset;
  @ApiPropertyOptional({
    type: String,
    nullable: true,
    minLength: 1,
    maxLength: MAX_PASSWORD_LENGTH,
    description: 'Optional; stored only as an argon2id hash.',
  })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(MAX_PASSWORD_LENGTH)
  password?: string | null;
  @ApiPropertyOptional({
    type: 'integer',
    nullable: true,
    minimum: 0,
    maximum: MAX_DOWNLOAD_LIMIT,
    description: 'Download cap; omit, null or 0 for unlimited.',
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(MAX_DOWNLOAD_LIMIT)
  max_downloads?: number | null;
  @ApiPropertyOptional({ enum: DISPOSITIONS, default: 'attachment' })
  @IsOptional()
  @IsIn(DISPOSITIONS)
  disposition?: Disposition;
}

export class ListSharesQuery {
  @ApiPropertyOptional({ enum: ['mine', 'all'], description: '`all` (admins only) lists every user’s shares.' })
  @IsOptional()
  @IsIn(['mine', 'all'])
  scope?: 'mine' | 'all';
}

export class ShareIdParams {
  @ApiProperty({ format: 'uuid' }) @IsUUID() id!: string;
}

export class ShareInfoDto {
  @ApiProperty() code!: string;
  @ApiProperty({ description: 'The file name (last segment of the key).' }) name!: string;
  @ApiProperty() size!: number;
  @ApiPropertyOptional() content_type?: string;
  @ApiPropertyOptional() etag?: string;
  @ApiPropertyOptional({ format: 'date-time' }) last_modified?: string;
  @ApiPropertyOptional({ format: 'date-time' }) expires_at?: string;
  @ApiProperty() has_password!: boolean;
  @ApiPropertyOptional() max_downloads?: number;
  @ApiProperty() download_count!: number;
  @ApiPropertyOptional() downloads_left?: number;
  @ApiProperty({ enum: DISPOSITIONS }) disposition!: Disposition;
  @ApiProperty({ enum: ['image', 'video', 'audio', 'pdf', 'text', 'none'] }) preview_kind!: string;
  @ApiProperty({ example: '/s/f5c2a8Qx_1-zKw/raw' }) raw_url!: string;
}

export class UnlockShareDto {
  @ApiProperty() @IsString() @MaxLength(MAX_PASSWORD_LENGTH) password!: string;
}

export class RawShareQuery {
  @ApiPropertyOptional({ enum: ['1'], description: '`1` previews in the browser (never for active content).' })
  @IsOptional()
  @IsIn(['1', '0'])
  inline?: string;
}
