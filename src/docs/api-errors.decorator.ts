import { applyDecorators } from '@nestjs/common';
import { ApiExtraModels, ApiResponse, getSchemaPath } from '@nestjs/swagger';
import { ErrorCode, statusOf } from '@stowage/errors';
import { ErrorResponseDto } from '../errors/error-response.dto';

/** Documents the catalogue errors a route can answer with, grouped by status. */
export function ApiErrors(...codes: ErrorCode[]) {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes) byStatus.set(statusOf(code), [...(byStatus.get(statusOf(code)) ?? []), code]);
  return applyDecorators(
    ApiExtraModels(ErrorResponseDto),
    ...[...byStatus].map(([status, group]) =>
      ApiResponse({
        status,
        description: group.map((c) => `\`${c}\``).join(', '),
        content: {
          'application/json': {
            schema: { $ref: getSchemaPath(ErrorResponseDto) },
            examples: Object.fromEntries(
              group.map((code) => [code, { value: { error: { code, message: '…', detail: '' } } }]),
            ),
          },
        },
      }),
    ),
  );
}
