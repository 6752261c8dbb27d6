import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { StringList } from '../../http/dto-fields';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';

export const MAX_CORS_RULES = 100;
export const MAX_LIFECYCLE_RULES = 1000;
export const MAX_POLICY_BYTES = 20 * 1024;

/**
 * A bucket configuration's list of rules, each validated as `rule`. Lists up to ten times `max`
 * reach the service, which refuses those over `max` with the setting's own code; longer ones are
 * refused here, before their rules are validated one by one.
 */
function RuleList(rule: new () => object, max: number): PropertyDecorator {
  return applyDecorators(
    ApiProperty({ type: [rule], description: 'An empty list removes the configuration.' }),
    IsArray(),
    ArrayMaxSize(max * 10),
    ValidateNested({ each: true }),
    IsObject({ each: true }),
    Type(() => rule),
  );
}

export class VersioningDto {
  @ApiProperty() @IsBoolean() enabled!: boolean;
}

export class CorsRuleDto {
  @ApiProperty({ type: [String], example: ['https://app.example.com'] })
  @StringList(100, 1024)
  allowed_origins!: string[];

  @ApiProperty({ type: [String], example: ['GET', 'HEAD'] })
  @StringList(5, 16)
  allowed_methods!: string[];

  @ApiPropertyOptional({ type: [String] })
  @IsOptional()
  @StringList(100, 256)
  allowed_headers?: string[];

  @ApiPropertyOptional({ type: [String] })
  @IsOptional()
  @StringList(100, 256)
  expose_headers?: string[];

  @ApiPropertyOptional({ minimum: 0 })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(2_147_483_647)
  max_age_seconds?: number;
}

export class CorsDto {
  @RuleList(CorsRuleDto, MAX_CORS_RULES)
  rules!: CorsRuleDto[];
}

export class PolicyDto {
  @ApiProperty({ description: 'The policy document (JSON text), passed to the backend untouched.' })
  @IsString()
  @MaxLength(MAX_POLICY_BYTES)
  policy!: string;
}

/** The largest day count a lifecycle rule takes (S3 parses it as a 32-bit integer). */
const MAX_DAYS = 2_147_483_647;

export class LifecycleRuleDto {
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(1024) id?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(1024) prefix?: string;
  @ApiProperty() @IsBoolean() enabled!: boolean;
  // Lower bounds are the service's (invalid_lifecycle); the upper one keeps numbers S3 can parse.
  @ApiPropertyOptional({ minimum: 1, maximum: MAX_DAYS })
  @IsOptional()
  @IsInt()
  @Max(MAX_DAYS)
  expiration_days?: number;
  @ApiPropertyOptional({ minimum: 1, maximum: MAX_DAYS })
  @IsOptional()
  @IsInt()
  @Max(MAX_DAYS)
  noncurrent_expire_days?: number;
  @ApiPropertyOptional({ minimum: 1, maximum: MAX_DAYS })
  @IsOptional()
  @IsInt()
  @Max(MAX_DAYS)
  abort_incomplete_days?: number;
  @ApiPropertyOptional({ minimum: 0, maximum: MAX_DAYS })
  @IsOptional()
  @IsInt()
  @Max(MAX_DAYS)
  transition_days?: number;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(64) transition_storage_class?: string;
}

export class LifecycleDto {
  @RuleList(LifecycleRuleDto, MAX_LIFECYCLE_RULES)
  rules!: LifecycleRuleDto[];
}
