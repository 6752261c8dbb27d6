import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AuditIntent } from '../../audit/audit.types';
import type { VerifiedRequest } from '@stowage/sigv4';
import type { BackendSpec } from '../../storage-backends/backend-spec';
import type { VirtualCredential } from '../access/access.types';
import type { Access, S3Operation } from './operations';
import type { RefusalReason } from './proxy-error';
import type { CopySource } from './request-target';

/** Injection token of the credential, binding and CORS lookups the proxy makes per request. */
export const S3_ACCESS_DIRECTORY = Symbol('S3_ACCESS_DIRECTORY');

export type AuthMode = 'sigv4' | 'presigned' | 'sigv2' | 'sigv2-presigned' | 'post-policy' | 'anonymous' | 'none';
export type Result = 'ok' | 'error' | 'denied' | 'aborted';

/**
 * One request's state while it passes through the proxy's stages (route → authenticate → gate →
 * forward → record). Stages fill it in; the record stage reads it when the response closes.
 */
export interface Exchange {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly requestId: string;
  readonly started: number;
  readonly ip: string;
  readonly expectContinue: boolean;
  operation: S3Operation;
  access: Access;
  authMode: AuthMode;
  result: Result;
  reason?: RefusalReason;
  accessKey?: string;
  userId?: string | null;
  backendId?: string;
  bucket?: string;
  key?: string;
  resource?: string;
  cors?: Record<string, string>;
  bytesIn?: number;
  bytesOut?: number;
  /** How the client framed and signed the body (`x-amz-content-sha256`). */
  payload?: string;
  /** The audit row is already committed (a write's, before its success was sent). */
  audited: boolean;
  /** The `pending` audit row of a write sent upstream, its outcome written when the response closes. */
  intent?: AuditIntent;
}

export function newExchange(
  req: IncomingMessage,
  res: ServerResponse,
  requestId: string,
  started: number,
  ip: string,
  expectContinue: boolean,
): Exchange {
  return {
    req,
    res,
    requestId,
    started,
    ip,
    expectContinue,
    operation: 'Unknown',
    access: 'read',
    authMode: 'none',
    result: 'ok',
    // Every field up front: one object shape for all requests keeps property access fast.
    reason: undefined,
    accessKey: undefined,
    userId: undefined,
    backendId: undefined,
    bucket: undefined,
    key: undefined,
    resource: undefined,
    cors: undefined,
    bytesIn: undefined,
    bytesOut: undefined,
    payload: undefined,
    audited: false,
    intent: undefined,
  };
}

/**
 * The one failure path of the stages: a stage that refuses returns the error to answer with (an
 * `S3ProxyError`, a SigV4 error, a `StowageError`) instead of throwing it. Anything thrown is a
 * fault or an outage, and ends in the same place: `answerFailure` renders every XML error.
 */
export type Refusal = Error;

/** A stage's outcome: synchronous when it can be (the measured fast paths), a promise otherwise. */
export type Step<T> = T | Refusal | Promise<T | Refusal>;

/** A request whose signature and credential passed. */
export interface Authenticated {
  /** The SigV4 verdict (body verification follows it); absent for SigV2, which signs no body. */
  readonly verified?: VerifiedRequest;
  readonly virtual: VirtualCredential;
}

/** The gate's decision when the request goes upstream. */
export interface ForwardDecision {
  readonly kind: 'forward';
  readonly spec: BackendSpec;
  /** Absent for anonymous requests. */
  readonly verified?: VerifiedRequest;
  readonly copySource?: CopySource;
  /** A key-prefix scope's prefix: every key the request names (a DeleteObjects body's too) must be under it. */
  readonly keyPrefix?: string;
  /** The credential owns the bucket (a namespace's): ACL headers go upstream as sent. */
  readonly owner?: boolean;
}

/**
 * The gate's decision when the proxy answers itself: an XML body (ListBuckets), or the headers
 * of an empty answer (a CORS preflight).
 */
export interface AnswerDecision {
  readonly kind: 'answer';
  readonly status: number;
  readonly body?: string;
  readonly headers?: Record<string, string>;
}

export type Decision = ForwardDecision | AnswerDecision;
