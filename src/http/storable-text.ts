import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ErrorCode, StowageError } from '@stowage/errors';
import { MergeRouteConfig } from './route-config';

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Why `value` is text PostgreSQL cannot store (a NUL character, which `text` columns refuse, or a
 * lone UTF-16 surrogate, which has no UTF-8 form); undefined when it is fine.
 */
export function unstorableTextProblem(value: string): string | undefined {
  if (value.includes('\u0000')) return 'contains a NUL character';
  if (LONE_SURROGATE.test(value)) return 'is not well-formed Unicode';
  return undefined;
}

/** `value` with every character PostgreSQL cannot store replaced by U+FFFD, for logs and audit records. */
export function toStorableText(value: string): string {
  return value.replaceAll('\u0000', '\uFFFD').replace(new RegExp(LONE_SURROGATE.source, 'g'), '\uFFFD');
}

interface Found {
  /** Where, for the error detail: `query.key is not well-formed Unicode`. */
  where: string;
  /** The name of the field holding the string (the key of its object, or of the list holding it). */
  field: string;
}

/** Where in `value` (strings, keys of objects, items of arrays, at any depth) unstorable text sits. */
function findUnstorable(value: unknown, path: string, field = ''): Found | undefined {
  if (typeof value === 'string') {
    const problem = unstorableTextProblem(value);
    return problem ? { where: `${path.slice(0, 200)} ${problem}`, field } : undefined;
  }
  if (!value || typeof value !== 'object' || Buffer.isBuffer(value)) return undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findUnstorable(value[i], `${path}[${i}]`, field);
      if (found) return found;
    }
    return undefined;
  }
  for (const [key, item] of Object.entries(value)) {
    const keyProblem = unstorableTextProblem(key);
    if (keyProblem) return { where: `a field name in ${path.slice(0, 200)} ${keyProblem}`, field: '' };
    const found = findUnstorable(item, `${path}.${key}`, key);
    if (found) return found;
  }
  return undefined;
}

/**
 * Fields that name objects or prefixes keep the catalogue code their own rule (`objectKeyProblem`,
 * `prefixProblem`) gives to control characters, so one input gets one code whichever check runs first.
 */
const FIELD_CODES: Record<string, ErrorCode> = {
  key: 'invalid_key',
  src_key: 'invalid_key',
  dst_key: 'invalid_key',
  prefix: 'invalid_prefix',
  src_prefix: 'invalid_prefix',
  dst_prefix: 'invalid_prefix',
};

/** Percent-escapes in a raw query string that do not decode to UTF-8 (e.g. `%FF`, `%ED%A0%80`). */
function queryEncodingProblem(url: string): string | undefined {
  const mark = url.indexOf('?');
  if (mark < 0) return undefined;
  // A lone `%` is taken literally by the query parser; only real escapes must be UTF-8.
  const query = url.slice(mark + 1).replace(/%(?![0-9A-Fa-f]{2})/g, '%25');
  try {
    decodeURIComponent(query);
    return undefined;
  } catch {
    return 'query: percent-escapes are not UTF-8';
  }
}

/**
 * The handler takes strings PostgreSQL cannot store and deals with them itself (the login, which
 * must answer such a username like any other unknown one).
 */
export const AcceptsUnstorableText = () => MergeRouteConfig({ acceptsUnstorableText: true });

/**
 * Refuses, with 400 `bad_request` (`invalid_key`/`invalid_prefix` for object keys and prefixes), a request whose body, query or path parameters hold text that
 * PostgreSQL would refuse (NUL, lone surrogates, query escapes that are not UTF-8), before any
 * handler or validation runs: one rule for every route instead of one per DTO.
 */
export function refuseUnstorableText(fastify: FastifyInstance): void {
  fastify.addHook('preValidation', (request: FastifyRequest, _reply, done) => {
    if ((request.routeOptions.config as { acceptsUnstorableText?: boolean } | undefined)?.acceptsUnstorableText) {
      done();
      return;
    }
    const encoding = queryEncodingProblem(request.url);
    if (encoding) {
      done(new StowageError('bad_request', 'The request holds text that cannot be stored.', encoding));
      return;
    }
    const found =
      findUnstorable(request.params, 'path') ??
      findUnstorable(request.query, 'query') ??
      findUnstorable(request.body, 'body');
    if (!found) {
      done();
      return;
    }
    const code = (Object.hasOwn(FIELD_CODES, found.field) && FIELD_CODES[found.field]) || 'bad_request';
    const message = code === 'bad_request' ? 'The request holds text that cannot be stored.' : undefined;
    done(new StowageError(code, message, found.where));
  });
}
