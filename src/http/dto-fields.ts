import { applyDecorators } from '@nestjs/common';
import { Transform } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsInt, IsString, Max, MaxLength, Min } from 'class-validator';

/** The largest offset a paginated list accepts; far beyond any real list, far below PostgreSQL's bigint. */
export const MAX_LIST_OFFSET = 10_000_000;

const DECIMAL = /^-?\d{1,16}$/;

/**
 * An integer in a query string or path: plain decimal digits only (no `1e3`, `0x10`, blanks or
 * empty values, which `Number()` would accept) within [min, max]. Anything else is `bad_request`.
 */
export function QueryInt(min: number, max: number): PropertyDecorator {
  return applyDecorators(
    Transform(({ value }: { value: unknown }) =>
      typeof value === 'string' && DECIMAL.test(value) ? Number(value) : value,
    ),
    IsInt(),
    Min(min),
    Max(max),
  );
}

/** An integer JSON field within [min, max]: unbounded integers reach the database or a backend as garbage. */
export function BoundedInt(min: number, max: number): PropertyDecorator {
  return applyDecorators(IsInt(), Min(min), Max(max));
}

/** A JSON list of at most `maxItems` strings, each at most `maxLength` characters long. */
export function StringList(maxItems: number, maxLength: number): PropertyDecorator {
  return applyDecorators(
    IsArray(),
    ArrayMaxSize(maxItems),
    IsString({ each: true }),
    MaxLength(maxLength, { each: true }),
  );
}
