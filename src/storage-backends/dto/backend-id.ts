import { applyDecorators } from '@nestjs/common';
import { IsString, Matches } from 'class-validator';

/** A backend id: 1-63 characters of a-z, 0-9, `_` or `-`, starting with a letter or digit. */
export const BACKEND_ID_PATTERN = /^[a-z0-9][a-z0-9_-]{0,62}$/;

const BACKEND_ID_MESSAGE =
  'must be 1-63 characters of lower-case letters, digits, _ or -, starting with a letter or digit';

/** The one validator of a backend id, in a body, query or path DTO: anything else is `bad_request`. */
export function IsBackendId(): PropertyDecorator {
  return applyDecorators(IsString(), Matches(BACKEND_ID_PATTERN, { message: BACKEND_ID_MESSAGE }));
}
