import { applyDecorators } from '@nestjs/common';
import { IsOptional, IsString, registerDecorator, ValidationArguments, ValidationOptions } from 'class-validator';
import { opaqueTokenProblem } from '@stowage/s3-naming';
import { mediaTypeProblem } from '../object-rules';

function rule(
  name: string,
  problem: (value: unknown) => string | undefined,
  options?: ValidationOptions,
): PropertyDecorator {
  return (target: object, propertyName: string | symbol) =>
    registerDecorator({
      name,
      target: target.constructor,
      propertyName: String(propertyName),
      options,
      validator: {
        validate: (value: unknown) => problem(value) === undefined,
        defaultMessage: (args?: ValidationArguments) => `${args?.property ?? 'value'} ${problem(args?.value)}`,
      },
    });
}

/**
 * An identifier the client hands back (upload id, version id, continuation token), checked with
 * the shared rule before any backend sees it: some turn it into a file path. `allowEmpty` keeps
 * an empty query value meaning "none", as it always has for optional ones.
 */
export const IsOpaqueToken = (options: { allowSlash?: boolean; allowEmpty?: boolean } = {}) =>
  rule('isOpaqueToken', (value) =>
    typeof value !== 'string'
      ? 'must be a string'
      : value === '' && options.allowEmpty
        ? undefined
        : opaqueTokenProblem(value, { allowSlash: options.allowSlash }),
  );

/** A media type (`type/subtype; name=value`), as a Content-Type is sent upstream. */
export const IsMediaType = () =>
  rule('isMediaType', (value) => (typeof value === 'string' ? mediaTypeProblem(value) : 'must be a string'));

/**
 * An optional version id or continuation token handed back by a client: a string passing the
 * shared token rule, `/` allowed (AWS's contain it), empty meaning "none".
 */
export const OptionalClientToken = () =>
  applyDecorators(IsOptional(), IsString(), IsOpaqueToken({ allowSlash: true, allowEmpty: true }));
