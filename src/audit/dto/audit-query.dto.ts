import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { BACKEND_ID_PATTERN, BACKEND_ID_RULE } from '@stowage/config';
import { QueryInt } from '../../http/dto-fields';

/** Printable text: no control characters (they cannot be in a stored value anyway). */
// eslint-disable-next-line no-control-regex
const PRINTABLE = /^[^\x00-\x1f\x7f]+$/;
/** RFC 3339 date-time, or a bare date (midnight UTC). */
const RFC3339 = /^\d{4}-\d{2}-\d{2}(?:[Tt]\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:[Zz]|[+-]\d{2}:\d{2}))?$/;

/** The most rows one page of the JSON listing holds. */
export const MAX_AUDIT_PAGE = 1000;
/** The deepest `offset` accepted; deeper pages are reached with the cursor. */
export const MAX_AUDIT_OFFSET = 100_000;

/** The filters shared by the listing and the CSV export. */
export class AuditFilterQuery {
  @ApiPropertyOptional({ description: 'User id (UUID) or username, exact.' })
  @IsOptional()
  @IsString()
  @MaxLength(128)
  @Matches(PRINTABLE)
  user?: string;

  @ApiPropertyOptional({
    description: 'Action, exact (`object.upload`); ending in `.` or `*`, a prefix (`object.`, `s3.proxy.*`).',
  })
  @IsOptional()
  @IsString()
  @MaxLength(128)
  @Matches(PRINTABLE)
  action?: string;

  @ApiPropertyOptional({ description: 'Backend id.' })
  @IsOptional()
  @Matches(BACKEND_ID_PATTERN, { message: BACKEND_ID_RULE })
  backend?: string;

  @ApiPropertyOptional({ description: 'Bucket name, exact.' })
  @IsOptional()
  @IsString()
  @MaxLength(255)
  @Matches(PRINTABLE)
  bucket?: string;

  @ApiPropertyOptional({
    description:
      '`ok`, `error`, `denied`, `aborted`, … exact. `pending`: an S3-proxy write whose outcome was not recorded (its instance stopped first).',
  })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  @Matches(PRINTABLE)
  status?: string;

  @ApiPropertyOptional({ description: 'From this instant, inclusive (RFC 3339, or a date: midnight UTC).' })
  @IsOptional()
  @Matches(RFC3339, { message: 'from must be an RFC 3339 timestamp' })
  from?: string;

  @ApiPropertyOptional({ description: 'Up to this instant, exclusive (RFC 3339, or a date: midnight UTC).' })
  @IsOptional()
  @Matches(RFC3339, { message: 'to must be an RFC 3339 timestamp' })
  to?: string;
}

export class AuditListQuery extends AuditFilterQuery {
  @ApiPropertyOptional({ default: 100, minimum: 1, maximum: MAX_AUDIT_PAGE })
  @IsOptional()
  @QueryInt(1, MAX_AUDIT_PAGE)
  limit?: number;

  @ApiPropertyOptional({ description: 'Rows to skip (not with `cursor`).', minimum: 0, maximum: MAX_AUDIT_OFFSET })
  @IsOptional()
  @QueryInt(0, MAX_AUDIT_OFFSET)
  offset?: number;

  @ApiPropertyOptional({ description: '`next_cursor` of the previous page: the page after it.' })
  @IsOptional()
  @Matches(/^[A-Za-z0-9_-]{1,128}$/, { message: 'cursor is not a cursor this API handed out' })
  cursor?: string;
}

export class AuditCsvQuery extends AuditFilterQuery {
  @ApiPropertyOptional({ description: 'At most this many rows (default: all that match).', minimum: 1 })
  @IsOptional()
  @QueryInt(1, 1_000_000_000)
  limit?: number;
}

export class AuditEventDto {
  @ApiProperty() id!: number;
  @ApiProperty({ description: 'RFC 3339, UTC.' }) timestamp!: string;
  @ApiPropertyOptional() user_id?: string;
  @ApiPropertyOptional() username?: string;
  @ApiProperty() action!: string;
  @ApiPropertyOptional() backend?: string;
  @ApiPropertyOptional() bucket?: string;
  @ApiPropertyOptional() key?: string;
  @ApiPropertyOptional() request_id?: string;
  @ApiPropertyOptional() ip?: string;
  @ApiPropertyOptional() user_agent?: string;
  @ApiProperty() status!: string;
  @ApiPropertyOptional({ description: 'Action-specific facts, as a JSON text.' }) detail?: string;
}

export class AuditPageDto {
  @ApiProperty({ type: [AuditEventDto] }) events!: AuditEventDto[];
  @ApiProperty({ description: 'Rows matching the filters: exact when `total_exact`, else an estimate.' })
  total!: number;
  @ApiProperty({ description: 'False when `total` is the planner’s estimate (beyond 10,000 matching rows).' })
  total_exact!: boolean;
  @ApiPropertyOptional({ description: 'Pass as `cursor` for the next page; absent on the last page.' })
  next_cursor?: string;
}
