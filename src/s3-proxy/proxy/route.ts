import { parseQuery, QueryParam, SIGV2_QUERY_PARAMS, sigV2Mode, SigV2Mode } from '@stowage/sigv4';
import type { Exchange, Refusal } from './exchange';
import { Classified, classifyOperation } from './operations';
import { S3ProxyError } from './proxy-error';
import { checkQuery, parseTarget, RequestTarget } from './request-target';

/** Where a request goes, and how it asks to be let in. */
export interface Route {
  readonly target: RequestTarget;
  readonly params: QueryParam[];
  readonly classified: Classified;
  /**
   * `signed`: SigV4 or SigV2, header or presigned URL; `preflight`: a CORS OPTIONS request;
   * `post-form`: a browser upload (PostObject), signed by the policy inside its form.
   */
  readonly entry: 'signed' | 'anonymous' | 'preflight' | 'post-form';
  /** How a request signed with SigV2 is signed; absent for SigV4. */
  readonly sigv2?: SigV2Mode;
}

const NO_QUERY: ReadonlySet<string> = new Set();
const PREFLIGHT: Classified = { operation: 'Unknown', disposition: 'forward', access: 'read' };
const POST_OBJECT: Classified = { operation: 'PostObject', disposition: 'forward', access: 'write' };
const SIGV2_REFUSED =
  'Signature Version 2 is turned off on this endpoint (s3_proxy.sigv2_enabled). Please use AWS4-HMAC-SHA256 (SigV4).';

/**
 * The route stage: the canonical target (path-style or virtual-hosted), the checked query, the
 * S3 operation it names and how the request authenticates. Synchronous, no I/O.
 */
export function route(x: Exchange, hostSuffixes: readonly string[], sigv2Enabled = true): Route | Refusal {
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

  if (
    method === 'POST' &&
    target.key === '' &&
    target.bucket !== '' &&
    names.size === 0 &&
    req.headers.authorization === undefined &&
    /^multipart\/form-data/i.test(req.headers['content-type'] ?? '')
  ) {
    x.operation = POST_OBJECT.operation;
    x.access = POST_OBJECT.access;
    x.authMode = 'post-policy';
    return { target, params, classified: POST_OBJECT, entry: 'post-form' };
  }
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
  const authorization = req.headers.authorization;
  const signed =
    (authorization !== undefined && !authorization.startsWith('AWS ')) ||
    names.has('X-Amz-Signature') ||
    names.has('X-Amz-Credential') ||
    names.has('X-Amz-Algorithm');
  if (signed) {
    x.authMode = authorization !== undefined ? 'sigv4' : 'presigned';
    return { target, params, classified, entry: 'signed' };
  }
  const sigv2 =
    authorization !== undefined || names.has('AWSAccessKeyId') || names.has('Signature')
      ? sigV2Mode(authorization, params)
      : undefined;
  if (sigv2 !== undefined) {
    // Never anonymous: signed with version 2 (aws CLI v1's `s3 presign`, s3cmd's signature_v2).
    if (!sigv2Enabled) return new S3ProxyError('InvalidRequest', SIGV2_REFUSED, 'bad_authorization_format');
    x.authMode = sigv2 === 'header' ? 'sigv2' : 'sigv2-presigned';
    // The signature's own parameters do not go upstream.
    const forwarded = sigv2 === 'presigned' ? params.filter((p) => !SIGV2_QUERY_PARAMS.has(p.key)) : params;
    return { target, params: forwarded, classified, entry: 'signed', sigv2 };
  }
  x.authMode = 'anonymous';
  return { target, params, classified, entry: 'anonymous' };
}
