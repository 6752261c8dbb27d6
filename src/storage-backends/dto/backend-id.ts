import { applyDecorators } from '@nestjs/common';
import { IsString, Matches } from 'class-validator';
import { BACKEND_ID_PATTERN, BACKEND_ID_RULE } from '@stowage/config';

/** The one validator of a backend id, in a body, query or path DTO: anything else is `bad_request`. */
export function IsBackendId(): PropertyDecorator {
  return applyDecorators(IsString(), Matches(BACKEND_ID_PATTERN, { message: BACKEND_ID_RULE }));
}
