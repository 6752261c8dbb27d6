import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Inject } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { QueryFailedError } from 'typeorm';
import {
  dependencyOutage,
  ErrorCode,
  isStowageError,
  OUTAGE_RETRY_AFTER_SECONDS,
  outageMessage,
  statusOf,
} from '@stowage/errors';
import { bodyLeftUnread } from '../http/request-body';
import { LOGGER } from '../logging/logging.module';

export interface ErrorBody {
  error: { code: ErrorCode; message: string; detail: string };
}

interface Rendered {
  status: number;
  body: ErrorBody;
  retryAfter?: number;
}

const CODE_BY_STATUS: Record<number, ErrorCode> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'not_found',
  409: 'conflict',
  410: 'expired',
  411: 'length_required',
  413: 'too_large',
  415: 'bad_request',
  429: 'rate_limited',
};

/** Fastify's own request-level failures (body parsing, URL decoding) and what they mean to a caller. */
const FASTIFY_ERRORS: Record<string, { code: ErrorCode; message: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { code: 'too_large', message: 'The request body exceeds the limit of this route.' },
  FST_ERR_CTP_INVALID_JSON_BODY: { code: 'bad_request', message: 'The request body is not valid JSON.' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { code: 'bad_request', message: 'The request body is empty but declared as JSON.' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { code: 'bad_request', message: 'The request content type is not supported here.' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { code: 'bad_request', message: 'The Content-Length does not match the body.' },
  FST_ERR_BAD_URL: { code: 'bad_request', message: 'The request URL is malformed.' },
  FST_ERR_MAX_PARAM_LENGTH: { code: 'bad_request', message: 'A path segment of the request URL is too long.' },
};

/** The SQLSTATE of a PostgreSQL data exception (class 22: invalid text, out-of-range numbers, NUL…). */
function dataExceptionState(exception: unknown): string | undefined {
  if (!(exception instanceof QueryFailedError)) return undefined;
  const code = (exception.driverError as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && code.startsWith('22') ? code : undefined;
}

function make(code: ErrorCode, message: string, detail = '', status = statusOf(code)): Rendered {
  return { status, body: { error: { code, message, detail } } };
}

/**
 * The one place where a failure becomes an HTTP answer. Domain errors keep their catalogue
 * code; framework errors are translated; a lost connection to PostgreSQL or Redis is a 503
 * `store_unavailable` with Retry-After; anything else is a 500 `internal` that reveals
 * nothing but the request id (the details go to the log).
 */
@Catch()
export class GlobalErrorFilter implements ExceptionFilter {
  constructor(@Inject(LOGGER) private readonly logger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    this.send(exception, http.getRequest<FastifyRequest>(), http.getResponse<FastifyReply>());
  }

  send(exception: unknown, request: FastifyRequest, reply: FastifyReply): void {
    const rendered = this.render(exception, request);
    if (reply.sent || reply.raw.headersSent) {
      // The status line is gone; all we can do is cut the stream so the client sees a failure.
      reply.raw.destroy();
      return;
    }
    if (rendered.retryAfter !== undefined) void reply.header('Retry-After', String(rendered.retryAfter));
    // A refusal that comes before the body was read (an upload refused at its first field)
    // closes the connection rather than reading the rest of the body only to keep it.
    if (bodyLeftUnread(request.raw)) void reply.header('Connection', 'close');
    void reply
      .status(rendered.status)
      .header('Content-Type', 'application/json; charset=utf-8')
      .header('Cache-Control', 'no-store')
      .send(JSON.stringify(rendered.body));
  }

  render(exception: unknown, request: FastifyRequest): Rendered {
    if (isStowageError(exception)) {
      if (exception.outage) {
        this.logger.warn(
          { reqId: request.id, code: exception.code, err: errorMessage(exception.cause) },
          exception.message,
        );
      } else if (exception.status >= 500 && !CLIENT_CONDITIONS.has(exception.code)) {
        this.logger.error(
          { reqId: request.id, code: exception.code, err: exception.cause ?? exception },
          exception.message,
        );
      }
      return {
        ...make(exception.code, exception.message, exception.detail, exception.status),
        retryAfter: exception.retryAfterSeconds,
      };
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const code = CODE_BY_STATUS[status];
      if (code) {
        const message = code === 'not_found' ? 'Not found.' : exception.message;
        return make(code, message, '', statusOf(code));
      }
    }
    const fastifyCode = (exception as { code?: unknown } | null)?.code;
    if (typeof fastifyCode === 'string' && FASTIFY_ERRORS[fastifyCode]) {
      const known = FASTIFY_ERRORS[fastifyCode];
      return make(known.code, known.message);
    }
    const sqlState = dataExceptionState(exception);
    if (sqlState) {
      // The input slipped past validation; the database text may echo it and is not for the caller.
      this.logger.warn({ reqId: request.id, sqlState }, 'database refused a value');
      return make('bad_request', 'A value in the request was refused by the database.');
    }
    const statusCode = (exception as { statusCode?: unknown } | null)?.statusCode;
    if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500 && CODE_BY_STATUS[statusCode]) {
      const code = CODE_BY_STATUS[statusCode];
      return make(code, statusOf(code) === 404 ? 'Not found.' : 'The request is invalid.');
    }
    const outage = dependencyOutage(exception);
    if (outage) {
      // PostgreSQL or Redis is away (restart, failover): a retryable 503, never a 500.
      this.logger.warn(
        { reqId: request.id, dependency: outage, err: errorMessage(exception) },
        'dependency unavailable',
      );
      return { ...make('store_unavailable', outageMessage(outage), '', 503), retryAfter: OUTAGE_RETRY_AFTER_SECONDS };
    }
    this.logger.error({ reqId: request.id, err: exception }, 'unhandled error');
    return make('internal', 'Internal error.', `request id ${request.id}`);
  }
}

/** The message of a failure, for the log (an outage needs no stack trace). */
/** Codes answered with a 5xx status that report the state of the caller's data, not a fault (507 quota_exceeded). */
const CLIENT_CONDITIONS = new Set<string>(['quota_exceeded']);

function errorMessage(err: unknown): string | undefined {
  return err instanceof Error ? err.message : err === undefined ? undefined : String(err);
}
