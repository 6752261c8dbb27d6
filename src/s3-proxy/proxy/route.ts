import { parseQuery, QueryParam } from '@stowage/sigv4';
import type { Exchange, Refusal } from './exchange';
import { Classified, classifyOperation } from './operations';
import { S3ProxyError } from './proxy-error';
import { checkQuery, parseTarget, RequestTarget } from './request-target';

/** Where a request goes, and how it asks to be let in. */
export interface Route {
  readonly target: RequestTarget;
  readonly params: QueryParam[];
  readonly classified: Classified;
  /** `signed`: SigV4 header or presigned URL; `preflight`: a CORS OPTIONS request. */
  readonly entry: 'signed' | 'anonymous' | 'preflight';
}

const NO_QUERY: ReadonlySet<string> = new Set();
const PREFLIGHT: Classified = { operation: 'Unknown', disposition: 'forward', access: 'read' };
const SIGV2_REFUSED = 'Signature version 2 is not supported by this endpoint. Please use AWS4-HMAC-SHA256 (SigV4).';

/**
 * The route stage: the canonical target (path-style or virtual-hosted), the checked query, the
 * S3 operation it names and how the request authenticates. Synchronous, no I/O.
 */
export function route(x: Exchange, hostSuffixes: readonly string[]): Route | Refusal {
  const { req } = x;
  let target: RequestTarget | undefined;
  try {
    // Throws its refusal of a key (dot segments, control characters, length).
    target = parseTarget(req.url ?? '', req.headers.host, hostSuffixes);
  } catch (err) {
    return err as Refusal;
  }
  if (!target) return new S3ProxyError('InvalidURI', "Couldn't parse the specified URI.", 'invalid_request');
  x.bucket = target.bucket || undefined;
  x.key = target.key || undefined;
  x.resource = target.rawPath;
  const params = parseQuery(target.rawQuery);
  let names: ReadonlySet<string> = NO_QUERY;
  if (params.length > 0) {
    try {
      // Throws its refusal of an upload id, version id or continuation token.
      checkQuery(params);
    } catch (err) {
      return err as Refusal;
    }
    names = new Set(params.map((param) => param.key));
  }
  const method = req.method ?? 'GET';
  if (method === 'OPTIONS') return { target, params, classified: PREFLIGHT, entry: 'preflight' };

  const classified = classifyOperation(
    method,
    target.bucket,
    target.key,
    names,
    req.headers['x-amz-copy-source'] !== undefined,
  );
  x.operation = classified.operation;
  x.access = classified.access;
  if (classified.disposition === 'invalid') {
    return new S3ProxyError(
      'InvalidRequest',
      'The request is not an S3 operation this endpoint serves.',
      'invalid_request',
    );
  }
  const signed =
    req.headers.authorization !== undefined ||
    names.has('X-Amz-Signature') ||
    names.has('X-Amz-Credential') ||
    names.has('X-Amz-Algorithm');
  if (signed) {
    x.authMode = req.headers.authorization !== undefined ? 'sigv4' : 'presigned';
    return { target, params, classified, entry: 'signed' };
  }
  if (names.has('AWSAccessKeyId') || names.has('Signature')) {
    // A presigned URL of signature version 2 (aws CLI v1's `s3 presign`): not anonymous.
    return new S3ProxyError('InvalidRequest', SIGV2_REFUSED, 'bad_authorization_format');
  }
  x.authMode = 'anonymous';
  return { target, params, classified, entry: 'anonymous' };
}
