import { isUtf8 } from 'node:buffer';
import type { FastifyInstance } from 'fastify';
import { StowageError } from '@stowage/errors';

/** The deepest nesting of arrays and objects a JSON body may have; no route needs more than a few levels. */
export const JSON_MAX_DEPTH = 64;

const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * Whether `body` (JSON text as UTF-8 bytes) nests arrays and objects deeper than `max`: one linear
 * pass over the bytes, counting brackets outside strings. Malformed JSON is left to the parser.
 */
export function jsonDepthExceeds(body: Buffer, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < body.length; i++) {
    const byte = body[i];
    if (inString) {
      if (byte === BACKSLASH) i++;
      else if (byte === QUOTE) inString = false;
    } else if (byte === QUOTE) inString = true;
    else if (byte === OPEN_BRACE || byte === OPEN_BRACKET) {
      if (++depth > max) return true;
    } else if (byte === CLOSE_BRACE || byte === CLOSE_BRACKET) depth--;
  }
  return false;
}

/**
 * Replaces Fastify's `application/json` parser by one that first refuses bodies that are not UTF-8
 * or nest deeper than `maxDepth` (deep nesting overflows the stack of the validation that follows),
 * then hands over to Fastify's own parser, which keeps the route body limits, the
 * `__proto__`/`constructor.prototype` refusal and the errors for empty and malformed bodies.
 */
export function installJsonBodyParser(fastify: FastifyInstance, maxDepth = JSON_MAX_DEPTH): void {
  const parse = fastify.getDefaultJsonParser('error', 'error');
  fastify.removeContentTypeParser('application/json');
  fastify.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    const bytes = body as Buffer;
    if (!isUtf8(bytes)) {
      done(new StowageError('bad_request', 'The request body is not valid UTF-8.'), undefined);
      return;
    }
    if (jsonDepthExceeds(bytes, maxDepth)) {
      done(new StowageError('bad_request', `The request body nests deeper than ${maxDepth} levels.`), undefined);
      return;
    }
    parse(request, bytes.toString('utf8'), done);
  });
}
