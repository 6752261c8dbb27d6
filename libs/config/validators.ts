import { isIP } from 'node:net';
import { registerDecorator, ValidationOptions } from 'class-validator';
import { parseListen } from './listen';

function rule(name: string, message: string, test: (value: unknown) => boolean, options?: ValidationOptions) {
  return (target: object, propertyName: string) =>
    registerDecorator({
      name,
      target: target.constructor,
      propertyName,
      options: { message, ...options },
      validator: { validate: test },
    });
}

/** The value was a duration string converted to milliseconds by the loader. */
export const IsDurationMs = (options: { min?: number } = {}) =>
  rule(
    'isDurationMs',
    options.min === undefined
      ? 'must be a duration such as 90s, 15m or 8h'
      : `must be a duration such as 90s, 15m or 8h, at least ${options.min}ms`,
    (v) => typeof v === 'number' && Number.isFinite(v) && (options.min === undefined || v >= options.min),
  );

export const IsListenAddress = () =>
  rule(
    'isListenAddress',
    'must be a listen address such as :8080 or 127.0.0.1:8080',
    (v) => typeof v === 'string' && parseListen(v) !== undefined,
  );

export function isCidr(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  const [address, bits, ...rest] = value.split('/');
  if (rest.length > 0) return false;
  const family = isIP(address);
  if (family === 0) return false;
  if (bits === undefined) return true;
  if (!/^\d{1,3}$/.test(bits)) return false;
  return Number(bits) <= (family === 4 ? 32 : 128);
}

export const IsCidrList = () =>
  rule(
    'isCidrList',
    'must be a list of IP addresses or CIDR ranges such as 10.0.0.0/8',
    (v) => Array.isArray(v) && v.every(isCidr),
  );

export const IsUrlWithScheme = (schemes: string[], allowEmpty = false) =>
  rule('isUrlWithScheme', `must be a URL starting with ${schemes.map((s) => `${s}://`).join(' or ')}`, (v) => {
    if (typeof v !== 'string') return false;
    if (v === '') return allowEmpty;
    try {
      return schemes.includes(new URL(v).protocol.replace(/:$/, ''));
    } catch {
      return false;
    }
  });
