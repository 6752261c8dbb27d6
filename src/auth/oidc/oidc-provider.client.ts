import { Injectable } from '@nestjs/common';
import { createRemoteJWKSet, errors as joseErrors, JWTPayload, jwtVerify } from 'jose';
import { StowageConfig } from '@stowage/config';
import { EnvService } from '../../config/env.service';
import { OidcError } from './oidc-errors';

/** What Stowage uses of a provider's discovery document. */
export interface ProviderMetadata {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  jwks_uri: string;
  end_session_endpoint?: string;
  token_endpoint_auth_methods_supported?: string[];
}

/** Largest answer read from the provider (discovery, token). */
const MAX_ANSWER_BYTES = 256 * 1024;
/** A discovery document is fetched again after this long even without a failure. */
const DISCOVERY_MAX_AGE_MS = 60 * 60_000;
/** Unknown key ids fetch the key set again at most this often (key rotation at the provider). */
const JWKS_COOLDOWN_MS = 5_000;
/** Signature algorithms accepted on ID tokens: asymmetric only, never `none` or the client secret. */
const ID_TOKEN_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

interface Discovered {
  metadata: ProviderMetadata;
  keys: ReturnType<typeof createRemoteJWKSet>;
  at: number;
}

const isHttpUrl = (value: unknown): value is string => {
  if (typeof value !== 'string') return false;
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:';
  } catch {
    return false;
  }
};

/** `issuer` with and without a trailing slash compare equal, as providers differ on it. */
const sameIssuer = (a: string, b: string) => a.replace(/\/+$/, '') === b.replace(/\/+$/, '');

/**
 * Everything Stowage asks the OpenID provider: discovery (cached, fetched again after a failure
 * or an hour), the code-for-token exchange with the PKCE verifier, and the ID token's signature
 * against the provider's key set (fetched again when a token names a key it does not know yet,
 * which is how a key rotation at the provider arrives). Each call times out after
 * `auth.oidc.http_timeout`. The cache is a per-replica copy of public data, not shared state.
 */
@Injectable()
export class OidcProviderClient {
  private discovered?: Discovered;
  private discovering?: Promise<Discovered>;

  constructor(
    private readonly config: StowageConfig,
    private readonly env: EnvService,
  ) {}

  private get oidc() {
    return this.config.auth.oidc;
  }

  /** The provider's metadata, from the cache or discovery; 502 `oidc_failed` when unreachable. */
  async metadata(): Promise<ProviderMetadata> {
    return (await this.discover()).metadata;
  }

  /** Drops the cached discovery, so the next sign-in discovers again (after a provider failure). */
  forget(): void {
    this.discovered = undefined;
  }

  private async discover(): Promise<Discovered> {
    const current = this.discovered;
    if (current && Date.now() - current.at < DISCOVERY_MAX_AGE_MS) return current;
    this.discovering ??= this.fetchDiscovery().finally(() => (this.discovering = undefined));
    return this.discovering;
  }

  private async fetchDiscovery(): Promise<Discovered> {
    const issuer = this.oidc.issuer;
    const url = `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
    let status: number;
    let body: unknown;
    try {
      ({ status, body } = await this.request(url, { headers: { accept: 'application/json' } }));
    } catch (err) {
      throw OidcError.provider('discovery', 'The provider’s discovery document could not be fetched.', err);
    }
    if (status !== 200 || !body || typeof body !== 'object')
      throw OidcError.provider('discovery', `The provider’s discovery document answered ${status}.`);
    const doc = body as Record<string, unknown>;
    if (typeof doc.issuer !== 'string' || !sameIssuer(doc.issuer, issuer))
      throw OidcError.provider('discovery', 'The discovery document names another issuer.');
    for (const field of ['authorization_endpoint', 'token_endpoint', 'jwks_uri'] as const)
      if (!isHttpUrl(doc[field])) throw OidcError.provider('discovery', `The discovery document lacks ${field}.`);
    const metadata: ProviderMetadata = {
      issuer: doc.issuer,
      authorization_endpoint: doc.authorization_endpoint as string,
      token_endpoint: doc.token_endpoint as string,
      jwks_uri: doc.jwks_uri as string,
      ...(isHttpUrl(doc.end_session_endpoint) ? { end_session_endpoint: doc.end_session_endpoint } : {}),
      ...(Array.isArray(doc.token_endpoint_auth_methods_supported)
        ? { token_endpoint_auth_methods_supported: doc.token_endpoint_auth_methods_supported.map(String) }
        : {}),
    };
    const previous = this.discovered;
    const keys =
      previous && previous.metadata.jwks_uri === metadata.jwks_uri
        ? previous.keys
        : createRemoteJWKSet(new URL(metadata.jwks_uri), {
            timeoutDuration: this.oidc.http_timeout,
            cooldownDuration: JWKS_COOLDOWN_MS,
          });
    this.discovered = { metadata, keys, at: Date.now() };
    return this.discovered;
  }

  /**
   * Exchanges an authorization code (with its PKCE verifier) for tokens. A provider that refuses
   * the code (used before, expired, wrong verifier) gives 400 `oidc_failed`; one that cannot be
   * reached or answers with a server error gives 502.
   */
  async exchangeCode(code: string, verifier: string, redirectUri: string): Promise<Record<string, unknown>> {
    const metadata = await this.metadata();
    const form = new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: redirectUri,
      code_verifier: verifier,
    });
    const headers: Record<string, string> = {
      accept: 'application/json',
      'content-type': 'application/x-www-form-urlencoded',
    };
    const secret = this.env.get(this.oidc.client_secret_env);
    const methods = metadata.token_endpoint_auth_methods_supported;
    if (secret && methods && !methods.includes('client_secret_basic') && methods.includes('client_secret_post')) {
      form.set('client_id', this.oidc.client_id);
      form.set('client_secret', secret);
    } else if (secret) {
      const encode = (v: string) => encodeURIComponent(v).replace(/%20/g, '+');
      headers.authorization = `Basic ${Buffer.from(`${encode(this.oidc.client_id)}:${encode(secret)}`).toString('base64')}`;
    } else {
      form.set('client_id', this.oidc.client_id);
    }
    let status: number;
    let body: unknown;
    try {
      ({ status, body } = await this.request(metadata.token_endpoint, { method: 'POST', headers, body: form }));
    } catch (err) {
      this.forget();
      throw OidcError.provider('provider_unreachable', 'The provider’s token endpoint could not be reached.', err);
    }
    const answer = body && typeof body === 'object' ? (body as Record<string, unknown>) : undefined;
    if (status >= 400 && status < 500 && typeof answer?.error === 'string') {
      throw new OidcError('token_rejected', `The provider refused the authorization code (${answer.error.slice(0, 64)}).`);
    }
    if (status !== 200 || !answer) {
      this.forget();
      throw OidcError.provider('provider_unreachable', `The provider’s token endpoint answered ${status}.`);
    }
    return answer;
  }

  /**
   * Checks the ID token's signature against the provider's keys, and its issuer, audience and
   * time claims. A key set that cannot be fetched gives 502; anything wrong with the token 400.
   */
  async verifyIdToken(idToken: string): Promise<JWTPayload> {
    const { keys, metadata } = await this.discover();
    try {
      const { payload } = await jwtVerify(idToken, keys, {
        issuer: metadata.issuer,
        audience: this.oidc.client_id,
        algorithms: ID_TOKEN_ALGORITHMS,
        clockTolerance: Math.floor(this.oidc.clock_tolerance / 1000),
        requiredClaims: ['sub', 'exp', 'iat'],
      });
      return payload;
    } catch (err) {
      // Fetching the key set failed: a network error or timeout, a non-200 answer (jose's generic
      // error), or a document that is no key set.
      const keySetFailure =
        !(err instanceof joseErrors.JOSEError) ||
        err instanceof joseErrors.JWKSTimeout ||
        err instanceof joseErrors.JWKSInvalid ||
        err.code === 'ERR_JOSE_GENERIC';
      if (keySetFailure) {
        this.forget();
        throw OidcError.provider('provider_unreachable', 'The provider’s signing keys could not be fetched.', err);
      }
      if (err instanceof joseErrors.JWTExpired) throw new OidcError('expired', 'The ID token has expired.', { cause: err });
      if (err instanceof joseErrors.JWTClaimValidationFailed) {
        const reason = err.claim === 'iss' ? 'wrong_issuer' : err.claim === 'aud' ? 'wrong_audience' : 'id_token_invalid';
        throw new OidcError(reason, `The ID token’s ${err.claim} claim was refused.`, { cause: err });
      }
      throw new OidcError('signature', 'The ID token’s signature could not be verified.', { cause: err });
    }
  }

  /** One bounded HTTP exchange with the provider: a timeout, and at most MAX_ANSWER_BYTES read. */
  private async request(url: string, init: RequestInit): Promise<{ status: number; body: unknown }> {
    const res = await fetch(url, { ...init, redirect: 'error', signal: AbortSignal.timeout(this.oidc.http_timeout) });
    const declared = Number(res.headers.get('content-length') ?? 0);
    if (declared > MAX_ANSWER_BYTES) {
      await res.body?.cancel();
      throw new Error('answer too large');
    }
    const reader = res.body?.getReader();
    const chunks: Uint8Array[] = [];
    let size = 0;
    if (reader) {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        size += value.byteLength;
        if (size > MAX_ANSWER_BYTES) {
          await reader.cancel();
          throw new Error('answer too large');
        }
        chunks.push(value);
      }
    }
    const text = Buffer.concat(chunks).toString('utf8');
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = undefined;
    }
    return { status: res.status, body };
  }
}
