import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { createHash } from 'node:crypto';
import { Strategy as OpenIDConnectStrategy } from 'passport-openidconnect';
import { StowageConfig } from '@stowage/config';
import { UserSnapshot } from '../../users/user-snapshot';
import { passportFor } from '../passport/passport-context';
import { OidcSignIn } from './oidc-sign-in.service';
import { OidcProviderClient, ProviderMetadata } from './oidc-provider.client';
import { OidcFlowState, OidcRequest, OidcStateStore } from './oidc-state.store';

/** The part of the `oauth` client passport-openidconnect calls. */
interface TokenClient {
  _authorizeUrl: string;
  _accessTokenUrl: string;
  _clientId: string;
  getOAuthAccessToken(
    code: string,
    params: Record<string, string>,
    callback: (err: unknown, accessToken?: string, refreshToken?: string, params?: Record<string, unknown>) => void,
  ): void;
}

/** What an `authenticate` call may change on its own per-request copy of the strategy. */
interface PerRequest {
  _issuer: string;
  _oauth2: TokenClient;
}

const PLACEHOLDER = 'http://oidc.invalid';

export const OIDC_STRATEGY = 'openidconnect';

/**
 * OIDC sign-in as passport-openidconnect's strategy, with its gaps closed around it:
 * - endpoints come from discovery at each request (cached by OidcProviderClient), so the app
 *   starts while the provider is away and follows it when its metadata changes;
 * - PKCE S256: the challenge goes out through `authorizationParams`, and the code exchange is
 *   ours (with the verifier, a timeout and a bounded answer) instead of the `oauth` client's;
 * - the state, nonce and verifier live in Redis (OidcStateStore), not in `req.session`;
 * - after the strategy's own claim checks, `validate` checks the ID token's signature against
 *   the provider's key set with jose before any account is touched.
 * Passport copies the strategy per request (Object.create), so per-request fields set here never
 * leak into another request.
 */
@Injectable()
export class OidcStrategy extends PassportStrategy(OpenIDConnectStrategy, OIDC_STRATEGY, 6) {
  constructor(
    config: StowageConfig,
    store: OidcStateStore,
    private readonly provider: OidcProviderClient,
    private readonly signIn: OidcSignIn,
  ) {
    const oidc = config.auth.oidc;
    super({
      issuer: oidc.issuer || PLACEHOLDER,
      authorizationURL: `${PLACEHOLDER}/authorize`,
      tokenURL: `${PLACEHOLDER}/token`,
      clientID: oidc.client_id || 'unset',
      scope: oidc.scopes.filter((s) => s !== 'openid'),
      nonce: true,
      store,
      passReqToCallback: true,
      skipUserProfile: true,
    });
  }

  getPassportInstance() {
    return passportFor(this);
  }

  override authenticate(req: OidcRequest, options: Record<string, unknown> = {}): void {
    this.provider.metadata().then(
      (metadata) => {
        const self = this as unknown as PerRequest;
        self._issuer = metadata.issuer;
        self._oauth2 = this.tokenClient(metadata, req);
        super.authenticate(req, options);
      },
      (err: unknown) => this.error(err as Error),
    );
  }

  override authorizationParams(options: Record<string, unknown>): Record<string, string> {
    const { verifier } = options.state as OidcFlowState;
    return {
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
    };
  }

  /** Called by the strategy once its own checks passed (arity 6: request, issuer, profile, context, token). */
  validate(req: OidcRequest, _issuer: string, _profile: unknown, _context: unknown, idToken: string): Promise<UserSnapshot> {
    return this.signIn.complete(idToken, req);
  }

  private tokenClient(metadata: ProviderMetadata, req: OidcRequest): TokenClient {
    const provider = this.provider;
    return {
      _authorizeUrl: metadata.authorization_endpoint,
      _accessTokenUrl: metadata.token_endpoint,
      _clientId: (this as unknown as { _oauth2: TokenClient })._oauth2._clientId,
      getOAuthAccessToken(code, _params, callback) {
        const flow = req.oidcFlow;
        if (!flow) return callback(new Error('the sign-in state was not verified'));
        provider.exchangeCode(code, flow.verifier, flow.redirectUri).then(
          (tokens) => callback(null, text(tokens.access_token), text(tokens.refresh_token), tokens),
          (err: unknown) => callback(err),
        );
      },
    };
  }
}

const text = (value: unknown) => (typeof value === 'string' ? value : undefined);
