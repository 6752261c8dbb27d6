import { isStowageError, StowageError } from '@stowage/errors';

/** What the SDK throws: a service exception (with `$metadata`) or a Node network error. */
interface UpstreamError {
  name?: string;
  Code?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

/** The caller's error for a refused document, by what the document was. */
export type DocumentRefusal = 'invalid_cors' | 'invalid_policy' | 'invalid_lifecycle';

export interface ErrorContext {
  /** The request was a PutObject with `If-None-Match: *`: a 412 means the key exists. */
  ifNoneMatchPut?: boolean;
  /**
   * The request carried a token the client handed back (a continuation token): an upstream that
   * refuses it (`refusal`: 400 or InvalidArgument; `any`: any refusal but 404, for an upstream
   * known to answer 500 to a token it cannot decipher and 403 to one with `!*'()` in it) is
   * refusing the client's token, `bad_request`.
   */
  clientToken?: 'refusal' | 'any';
  /**
   * The request sent a document (CORS rules, a policy, lifecycle rules): an upstream refusing it
   * (400, or a code that names a bad document) is refusing the caller's input, `document`.
   */
  document?: DocumentRefusal;
  /** Strings never to repeat in a `detail` (credentials). */
  secrets?: readonly string[];
}

const NOT_FOUND = new Set(['NoSuchBucket', 'NoSuchKey', 'NotFound', 'NoSuchUpload', 'NoSuchVersion']);
const CONFLICT = new Set(['BucketAlreadyExists', 'BucketAlreadyOwnedByYou', 'BucketNotEmpty']);
const TOKEN_REFUSALS = new Set(['InvalidArgument', 'InvalidToken', 'InvalidContinuationToken']);
const NOT_SUPPORTED = new Set(['NotImplemented', 'MethodNotAllowed']);
/** Upstream codes (prefixes of the `detail`) that refuse a document of each kind, whatever the status. */
const DOCUMENT_REFUSALS: Record<DocumentRefusal, RegExp> = {
  invalid_cors: /^(MalformedXML|InvalidRequest|InvalidArgument|InvalidCORS)/i,
  invalid_policy: /^(MalformedPolicy|InvalidPolicyDocument|InvalidArgument|MalformedJSON)/i,
  invalid_lifecycle: /^(MalformedXML|InvalidRequest|InvalidArgument|InvalidStorageClass)/i,
};
/** The `detail` of every failure to get an answer from an upstream, whatever the network said. */
export const UNREACHABLE_DETAIL = 'the upstream could not be reached or did not answer in time';

/** The upstream error code: the XML `<Code>` when there was one, else the exception's name. */
export function upstreamCode(err: unknown): string {
  const e = (err ?? {}) as UpstreamError;
  return e.Code || e.name || 'Error';
}

/** The HTTP status the upstream answered with; undefined when no answer arrived. */
export function upstreamStatus(err: unknown): number | undefined {
  return ((err ?? {}) as UpstreamError).$metadata?.httpStatusCode;
}

function redact(text: string, secrets: readonly string[] = []): string {
  let out = text;
  for (const secret of secrets) {
    if (secret) out = out.split(secret).join('***');
  }
  return out;
}

/** `Code: message` for a `detail`; the SDK says "UnknownError" for bodiless answers (HEAD, 304). */
export function describeUpstreamError(err: unknown, secrets?: readonly string[]): string {
  const e = (err ?? {}) as UpstreamError;
  const status = upstreamStatus(err);
  let message = e.message || '';
  if ((!message || message === 'UnknownError') && status !== undefined) message = `HTTP ${status}`;
  const code =
    status === undefined && e.code && e.code !== e.name ? `${upstreamCode(err)} (${e.code})` : upstreamCode(err);
  return redact(message ? `${code}: ${message}` : code, secrets);
}

/**
 * Turns whatever the SDK threw into a {@link StowageError}. A `StowageError` (from a body stream,
 * say) passes through untouched. Answers map by S3 code first, then by status; network failures,
 * timeouts and aborts become `backend_error` 502, like every other refusal.
 */
export function mapS3Error(err: unknown, context: ErrorContext = {}): StowageError {
  if (isStowageError(err)) return err;
  const code = upstreamCode(err);
  const status = upstreamStatus(err);
  const detail = describeUpstreamError(err, context.secrets);
  const options = { cause: err };

  if (status === undefined || status < 100) {
    // One text for every way of not getting an answer: refused, reset, timed out, unresolvable.
    // Telling them apart would make any backend endpoint a port scanner (the cause keeps the reason).
    const why = code === 'AbortError' ? 'the request was aborted' : UNREACHABLE_DETAIL;
    return new StowageError('backend_error', undefined, why, { ...options, status: 502 });
  }
  if (
    context.clientToken &&
    (TOKEN_REFUSALS.has(code) || status === 400 || (context.clientToken === 'any' && status >= 400 && status !== 404))
  ) {
    return new StowageError('bad_request', undefined, `the continuation token was refused (${detail})`, options);
  }
  if (NOT_FOUND.has(code) || status === 404) return new StowageError('not_found', undefined, detail, options);
  if (CONFLICT.has(code)) return new StowageError('conflict', undefined, detail, options);
  if (code === 'InvalidRange' || status === 416) return new StowageError('bad_range', undefined, detail, options);
  if (context.ifNoneMatchPut && (code === 'PreconditionFailed' || status === 412)) {
    return new StowageError('object_exists', undefined, detail, options);
  }
  if (NOT_SUPPORTED.has(code) || status === 501 || status === 405) {
    return new StowageError('not_supported', undefined, detail, options);
  }
  if (context.document && (status === 400 || DOCUMENT_REFUSALS[context.document].test(detail))) {
    return new StowageError(context.document, undefined, detail, options);
  }
  return new StowageError('backend_error', undefined, detail, { ...options, status: 502 });
}
