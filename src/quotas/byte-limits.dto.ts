import { ApiPropertyOptional } from '@nestjs/swagger';
import { Allow } from 'class-validator';

/**
 * The byte caps of a quota (a bucket's or a namespace's) as a request body gives them: numbers of
 * bytes or strings such as `8Gi`, `500Mi`, `1.5G`; checked by `byteLimitsOf` (invalid_quota).
 */
export class ByteLimitsDto {
  @ApiPropertyOptional({
    oneOf: [
      { type: 'integer', minimum: 0 },
      { type: 'string', example: '8Gi' },
    ],
    nullable: true,
    description: 'Crossing it is flagged and audited; writes go on.',
  })
  @Allow()
  soft_bytes?: unknown;

  @ApiPropertyOptional({
    oneOf: [
      { type: 'integer', minimum: 0 },
      { type: 'string', example: '10Gi' },
    ],
    nullable: true,
    description: 'Writes that would go past it are refused (507 quota_exceeded).',
  })
  @Allow()
  hard_bytes?: unknown;
}
