import type { Logger } from 'pino';
import { errorXml } from '@stowage/s3-xml';
import { bodyLeftUnread } from '../../http/request-body';
import type { AnswerDecision, Exchange } from './exchange';
import { describeError, S3ProxyError } from './proxy-error';

// Answers the proxy gives itself; `answerFailure` is the only place that writes an S3 XML error.

/** An XML answer; `writeHead` with every header at once (nothing set before) is node:http's fast path. */
export function reply(x: Exchange, status: number, body: string, extraHeaders?: Record<string, string>): void {
  const headers: Record<string, string> = {
    'content-type': 'application/xml',
    'content-length': String(Buffer.byteLength(body)),
    'x-amz-request-id': x.requestId,
  };
  if (x.cors) Object.assign(headers, x.cors);
  if (extraHeaders) Object.assign(headers, extraHeaders);
  x.res.writeHead(status, headers);
  x.res.end(x.req.method === 'HEAD' ? undefined : body);
}

/** The gate's own answer: an XML body, or an empty answer with the given headers. */
export function answer(x: Exchange, decision: AnswerDecision): void {
  if (decision.body !== undefined) {
    reply(x, decision.status, decision.body, decision.headers);
    return;
  }
  x.res.writeHead(decision.status, {
    ...decision.headers,
    'content-length': '0',
    'x-amz-request-id': x.requestId,
  });
  x.res.end();
}

/** Any refusal or fault as an S3 XML error; a response already under way is cut instead. */
export function answerFailure(x: Exchange, err: unknown, logger: Logger): void {
  const { req, res } = x;
  const described = describeError(err);
  if (described.code === 'InternalError') {
    logger.error({ reqId: x.requestId, err }, 'S3 proxy request failed');
  }
  x.result = described.status === 403 || described.status === 429 ? 'denied' : 'error';
  if (err instanceof S3ProxyError && err.reason) x.reason = err.reason;
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = errorXml({
    code: described.code,
    message: described.message,
    requestId: x.requestId,
    resource: x.resource,
    extra: described.extra,
  });
  const extra: Record<string, string> = {};
  if (described.retryAfterSeconds !== undefined) extra['retry-after'] = String(described.retryAfterSeconds);
  // An unread request body is not worth reading just to keep the connection.
  if (bodyLeftUnread(req)) extra.connection = 'close';
  reply(x, described.status, body, extra);
}
