import { Inject, Injectable } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import { StowageConfig } from '@stowage/config';
import { StowageError } from '@stowage/errors';
import {
  CheckedPostSignature,
  CheckedRequest,
  checkPostSignature,
  checkRequest,
  CheckedSigV2Request,
  checkSigV2Request,
  isSigV4Error,
  SecretLookup,
  SigningKeyCache,
  SigV2Mode,
  SigV4Error,
  VerifiedRequest,
} from '@stowage/sigv4';
import { LOGGER } from '../../logging/logging.module';
import { BackendRegistry } from '../../storage-backends/backend-registry.service';
import type { S3AccessDirectory, VirtualCredential } from '../access/access.types';
import { Authenticated, Exchange, Refusal, S3_ACCESS_DIRECTORY, Step } from './exchange';
import { authFailureReason, RefusalReason, S3ProxyError } from './proxy-error';
import { ProxyMetrics } from './proxy-metrics';
import type { RequestTarget } from './request-target';
import { SigningRegions } from './signing-regions';

/**
 * The authenticate stage: the SigV4 signature (header or presigned URL), its signing region and
 * the virtual credential behind it (enabled, not expired). With the credential cached, the
 * answer is synchronous.
 */
@Injectable()
export class ProxyAuthenticator {
  private readonly signingKeys = new SigningKeyCache(10_000);
  private readonly regions: SigningRegions;
  private readonly sigv2Enabled: boolean;

  constructor(
    config: StowageConfig,
    registry: BackendRegistry,
    @Inject(S3_ACCESS_DIRECTORY) private readonly directory: S3AccessDirectory,
    private readonly metrics: ProxyMetrics,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.sigv2Enabled = config.s3_proxy.sigv2_enabled;
    this.regions = new SigningRegions(config.s3_proxy.regions, () => registry.list().map((entry) => entry.spec.region));
  }

  authenticate(x: Exchange, target: RequestTarget, sigv2?: SigV2Mode): Step<Authenticated> {
    if (sigv2 !== undefined) return this.authenticateV2(x, target);
    return this.check(
      x,
      (lookupSecret) =>
        checkRequest(
          {
            method: x.req.method ?? 'GET',
            path: target.rawPath,
            query: target.rawQuery,
            headers: headersOf(x.req),
            lookupSecret,
          },
          { service: 's3', signingKeyCache: this.signingKeys, region: this.regions.check },
        ),
      false,
    );
  }

  /** The signature of a PostObject form's policy, checked against the same credentials. */
  authenticatePostForm(x: Exchange, fields: ReadonlyMap<string, string>): Step<Authenticated> {
    return this.check(
      x,
      (lookupSecret) =>
        checkPostSignature(fields, lookupSecret, { region: this.regions.check, sigv2: this.sigv2Enabled }),
      true,
    );
  }

  /** A SigV2 request (header or presigned URL), checked against the same credentials. */
  private authenticateV2(x: Exchange, target: RequestTarget): Step<Authenticated> {
    return this.check(
      x,
      (lookupSecret) =>
        checkSigV2Request({
          method: x.req.method ?? 'GET',
          path: target.rawPath,
          query: target.rawQuery,
          headers: headersOf(x.req),
          virtualHostedBucket: target.virtualHosted ? target.bucket : undefined,
          lookupSecret,
        }),
      true,
    );
  }

  /**
   * Runs one signature check with a secret lookup through the credential directory, then admits
   * or refuses its verdict. Synchronous when the credential is cached.
   */
  private check<C extends CheckedRequest | CheckedSigV2Request | CheckedPostSignature | SigV4Error>(
    x: Exchange,
    run: (lookupSecret: SecretLookup) => C | Promise<C>,
    sigv2: boolean,
  ): Step<Authenticated> {
    let found: VirtualCredential | undefined;
    const lookupSecret: SecretLookup = (accessKey) => {
      x.accessKey = accessKey;
      const answer = this.directory.credential(accessKey);
      // The credential itself holds the secret: its signing key is remembered on it.
      if (!(answer instanceof Promise)) {
        found = answer;
        return answer;
      }
      return answer.then((credential) => {
        found = credential;
        return credential;
      });
    };
    let checked: C | Promise<C>;
    try {
      checked = run(lookupSecret);
    } catch (err) {
      return this.lookupFailed(x, err);
    }
    if (checked instanceof Promise) {
      return checked.then(
        (c) => this.admit(x, c, found, sigv2),
        (err: unknown) => this.lookupFailed(x, err),
      );
    }
    return this.admit(x, checked, found, sigv2);
  }

  /** The verdict on a checked request: a refusal, or the request with its credential. */
  private admit(
    x: Exchange,
    checked: CheckedRequest | CheckedSigV2Request | CheckedPostSignature | SigV4Error,
    found: VirtualCredential | undefined,
    sigv2 = false,
  ): Authenticated | Refusal {
    if (isSigV4Error(checked)) {
      this.refuse(x, authFailureReason(checked.code));
      return checked;
    }
    const virtual = found as VirtualCredential;
    x.userId = virtual.userId;
    if (!virtual.enabled) {
      this.refuse(x, 'disabled');
      return new S3ProxyError('AccessDenied', 'The credential is disabled.', 'disabled');
    }
    if (virtual.expiresAt !== null && virtual.expiresAt.getTime() <= Date.now()) {
      this.refuse(x, 'expired');
      return new S3ProxyError('AccessDenied', 'The credential has expired.', 'expired');
    }
    this.directory.touch(virtual.accessKey);
    return sigv2 ? { virtual } : { verified: checked as VerifiedRequest, virtual };
  }

  /** The credential directory could not answer (PostgreSQL down, or too many lookups at once). */
  private lookupFailed(x: Exchange, err: unknown): Refusal {
    if (err instanceof StowageError) return err;
    this.logger.warn({ reqId: x.requestId, err: (err as Error).message }, 'S3 credential lookup failed');
    return new S3ProxyError(
      'ServiceUnavailable',
      'Credentials cannot be checked right now. Please try again.',
      undefined,
      {
        retryAfterSeconds: 1,
      },
    );
  }

  private refuse(x: Exchange, reason: RefusalReason): void {
    x.reason = reason;
    this.metrics.authFailure(reason);
  }
}

/**
 * Headers keyed by lower-case name; a header sent more than once becomes a list, because the
 * canonical request joins repeats with `,` where Node's joined form uses `, `.
 */
function headersOf(req: IncomingMessage): IncomingMessage['headers'] | NodeJS.Dict<string[]> {
  const headers = req.headers;
  let names = 0;
  for (const _name in headers) names++;
  return req.rawHeaders.length / 2 === names ? headers : req.headersDistinct;
}
