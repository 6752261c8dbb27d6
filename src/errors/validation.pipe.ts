import { ValidationError, ValidationPipe } from '@nestjs/common';
import { StowageError } from '@stowage/errors';

function describe(errors: ValidationError[], prefix = ''): string[] {
  return errors.flatMap((error) => {
    const field = prefix ? `${prefix}.${error.property}` : error.property;
    const own = Object.entries(error.constraints ?? {}).map(([name, message]) =>
      name === 'whitelistValidation'
        ? `${field}: unknown field`
        : `${field}: ${message.replace(new RegExp(`^${error.property} `), '')}`,
    );
    return [...own, ...describe(error.children ?? [], field)];
  });
}

/** Validates and transforms every body, query and param DTO; failures become `bad_request`. */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    transform: true,
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    exceptionFactory: (errors) => new StowageError('bad_request', 'Validation failed.', describe(errors).join('; ')),
  });
}
