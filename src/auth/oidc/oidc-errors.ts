import { StowageError } from '@stowage/errors';

/** Why an OIDC sign-in failed, as the audit row records it. */
export type OidcFailureReason =
  | 'mode_disabled'
  | 'rate_limited'
  | 'bad_callback'
  | 'provider_error'
  | 'access_denied'
  | 'state'
  | 'discovery'
  | 'provider_unreachable'
  | 'token_rejected'
  | 'id_token_invalid'
  | 'wrong_issuer'
  | 'wrong_audience'
  | 'expired'
  | 'nonce'
  | 'signature'
  | 'no_role'
  | 'email_conflict'
  | 'disabled'
  | 'session';

/**
 * `oidc_failed` with the reason the audit row names: 400 for a bad, forged or replayed callback
 * and for refusals, 502 when the provider could not be reached or answered nonsense.
 */
export class OidcError extends StowageError {
  /** Facts for the audit row (subject, groups seen), never shown to the caller. */
  audit: Record<string, unknown> = {};

  constructor(
    readonly reason: OidcFailureReason,
    detail: string,
    options: { provider?: boolean; cause?: unknown } = {},
  ) {
    super(
      'oidc_failed',
      options.provider ? 'The identity provider could not be reached.' : undefined,
      detail,
      { status: options.provider ? 502 : 400, cause: options.cause },
    );
  }

  static provider(reason: OidcFailureReason, detail: string, cause?: unknown): OidcError {
    return new OidcError(reason, detail, { provider: true, cause });
  }
}
