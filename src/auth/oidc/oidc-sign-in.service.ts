import { Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { StowageConfig } from '@stowage/config';
import { dependencyOutage, StowageError } from '@stowage/errors';
import { AuditService } from '../../audit/audit.service';
import { originOf } from '../../access/actor';
import { snapshotOf, UserSnapshot } from '../../users/user-snapshot';
import { LoginRateLimiter } from '../login-rate-limit.service';
import { signInOutage } from '../sessions.service';
import { OidcAccounts, OidcIdentity } from './oidc-accounts.service';
import { claimValues, mapRole } from './oidc-claims';
import { OidcError } from './oidc-errors';
import { OidcProviderClient } from './oidc-provider.client';

const text = (value: unknown): string | undefined => (typeof value === 'string' && value ? value : undefined);

/** passport-openidconnect's failure messages, as audit reasons. */
const CHALLENGES: Array<[RegExp, OidcError['reason']]> = [
  [/state|another browser/i, 'state'],
  [/not issued by expected OpenID provider/i, 'wrong_issuer'],
  [/relying party|authorizied party|authorized party/i, 'wrong_audience'],
  [/expired/i, 'expired'],
  [/nonce/i, 'nonce'],
];

/**
 * The rules of an OIDC sign-in around the strategy: whether the mode is on, the per-address
 * limit on starts (shared with password sign-in; a completed sign-in gives its slot back), the
 * redirect URI, the ID token's signature and the account behind it, RP-initiated logout, and an
 * audit row for every outcome.
 */
@Injectable()
export class OidcSignIn {
  constructor(
    private readonly config: StowageConfig,
    private readonly provider: OidcProviderClient,
    private readonly accounts: OidcAccounts,
    private readonly limiter: LoginRateLimiter,
    private readonly audit: AuditService,
  ) {}

  get enabled(): boolean {
    return this.config.auth.modes.includes('oidc');
  }

  assertEnabled(): void {
    if (!this.enabled) throw new StowageError('mode_disabled', 'OIDC sign-in is not enabled.');
  }

  /** Counts a started sign-in against the client's address. */
  async begin(request: FastifyRequest): Promise<void> {
    await this.limiter.take('login', request.ip);
  }

  /** The redirect URI: configured, else under `server.public_url`, else this request's own origin. */
  redirectUri(request: FastifyRequest): string {
    const configured = this.config.auth.oidc.redirect_url;
    if (configured) return configured;
    const base = this.config.server.public_url || `${request.protocol}://${request.host}`;
    return `${base.replace(/\/+$/, '')}/auth/callback`;
  }

  /**
   * Checks the ID token the strategy accepted (signature against the provider's keys, issuer,
   * audience, expiry), maps the role and signs the account in.
   */
  async complete(idToken: string, request: FastifyRequest): Promise<UserSnapshot> {
    const payload = await this.provider.verifyIdToken(idToken);
    const oidc = this.config.auth.oidc;
    const claims = payload as Record<string, unknown>;
    const groups = claimValues(claims, oidc.role_claim);
    const identity: OidcIdentity = {
      issuer: payload.iss!,
      subject: payload.sub!,
      email: text(claims.email)?.trim().toLowerCase(),
      emailVerified: claims.email_verified === true,
      preferredUsername: claimValues(claims, oidc.username_claim)[0],
      name: text(claims.name),
      mappedRole: mapRole(groups, oidc.role_mapping),
    };
    let result;
    try {
      result = await this.accounts.upsert(identity);
    } catch (err) {
      if (err instanceof OidcError)
        err.audit = { subject: identity.subject.slice(0, 256), groups: groups.slice(0, 32).map((g) => g.slice(0, 128)) };
      throw err;
    }
    const { user, created, linked } = result;
    await this.limiter.giveBack('login', request.ip);
    await this.audit.record({
      ...originOf(request),
      action: 'auth.login',
      userId: user.id,
      username: user.username,
      detail: { source: 'oidc', created, linked, role: user.role, role_pinned: user.rolePinned },
    });
    return snapshotOf(user);
  }

  /** The catalogue error for whatever ended a sign-in, audited with its reason. */
  async fail(request: FastifyRequest, err: unknown): Promise<unknown> {
    const failure = toFailure(err);
    const reason = failure instanceof OidcError ? failure.reason : failure instanceof StowageError ? failure.code : 'internal';
    await this.audit
      .record({
        ...originOf(request),
        action: 'auth.login',
        status: 'error',
        userId: null,
        username: '',
        detail: { source: 'oidc', reason, ...(failure instanceof OidcError ? failure.audit : {}) },
      })
      .catch(() => undefined);
    return failure;
  }

  /**
   * Where to send an OIDC user's browser after logout: the provider's `end_session_endpoint`
   * when `auth.oidc.end_session` is on and the provider publishes one; undefined otherwise (or
   * while the provider cannot be asked: the Stowage session ends all the same).
   */
  async endSessionUrl(request: FastifyRequest): Promise<string | undefined> {
    if (!this.enabled || !this.config.auth.oidc.end_session) return undefined;
    let endpoint: string | undefined;
    try {
      endpoint = (await this.provider.metadata()).end_session_endpoint;
    } catch {
      return undefined;
    }
    if (!endpoint) return undefined;
    const url = new URL(endpoint);
    const base = this.config.server.public_url || `${request.protocol}://${request.host}`;
    url.searchParams.set('client_id', this.config.auth.oidc.client_id);
    url.searchParams.set(
      'post_logout_redirect_uri',
      this.config.auth.oidc.post_logout_redirect_url || `${base.replace(/\/+$/, '')}/`,
    );
    return url.toString();
  }

  /** A refusal from passport-openidconnect's own checks (state, issuer, audience, expiry, nonce). */
  static challenge(info: unknown): OidcError {
    const message = info && typeof info === 'object' ? String((info as { message?: unknown }).message ?? '') : '';
    const reason = CHALLENGES.find(([pattern]) => pattern.test(message))?.[1] ?? 'id_token_invalid';
    return new OidcError(reason, message.slice(0, 200) || 'The sign-in callback was refused.');
  }
}

/** Maps anything a sign-in threw onto the catalogue: provider errors keep their 400/502 split. */
function toFailure(err: unknown): unknown {
  if (err instanceof StowageError) return err;
  const wrapped = (err as { oauthError?: unknown } | undefined)?.oauthError;
  if (wrapped instanceof StowageError) return wrapped;
  if (dependencyOutage(err)) return signInOutage(err);
  if (err instanceof Error && err.name === 'AuthorizationError')
    return new OidcError('provider_error', 'The provider refused the sign-in.');
  if (err instanceof Error && /ID token/.test(err.message))
    return new OidcError('id_token_invalid', err.message.slice(0, 200), { cause: err });
  return err;
}
