import { Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { newToken, safeEqual, sha256Hex } from '../session-token';
import { RedisService } from '../../redis/redis.service';

/** The cookie that binds a sign-in flow to the browser that started it (HttpOnly, 10 minutes). */
export const OIDC_FLOW_COOKIE = 'stowage_oidc_flow';
/** How long a started sign-in may take at the provider. */
export const OIDC_FLOW_TTL_MS = 10 * 60_000;

/** What the start of a sign-in hands to its callback, beside the nonce. */
export interface OidcFlowState {
  /** Where to go after signing in (an own path, already checked). */
  next: string;
  /** The PKCE code verifier. */
  verifier: string;
  /** The redirect URI the authorization request named (the token request must repeat it). */
  redirectUri: string;
}

interface StoredFlow {
  /** nonce */
  n?: string;
  /** SHA-256 of the browser binding cookie */
  b: string;
  app: OidcFlowState;
}

type StoreCallback = (err: Error | null, handle?: string) => void;
type VerifyCallback = (
  err: Error | null,
  ctx?: false | { nonce?: string },
  state?: OidcFlowState | { message: string },
) => void;

declare module 'fastify' {
  interface FastifyRequest {
    /** The browser binding of an OIDC sign-in being started. */
    oidcBinding?: string;
    /** The OIDC sign-in this callback completes, once its state checked out. */
    oidcFlow?: OidcFlowState;
  }
}

/** The request as the strategy sees it. */
export type OidcRequest = FastifyRequest;

const HANDLE_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/**
 * passport-openidconnect's state store, in Redis instead of `req.session`: the state handle the
 * provider sends back names one record holding the nonce, the PKCE verifier, the return path and
 * the hash of a cookie set on the browser that started the flow. The record is taken with GETDEL,
 * so a callback is accepted once, on whichever replica it lands; a handle that is unknown,
 * already used, expired, or arrives from another browser is refused.
 */
@Injectable()
export class OidcStateStore {
  constructor(private readonly redis: RedisService) {}

  private keyOf(handle: string): string {
    return this.redis.key('oidc', 'flow', handle);
  }

  /** A fresh browser binding value, to be set as OIDC_FLOW_COOKIE and put on the request. */
  static newBinding(): string {
    return newToken();
  }

  store(req: OidcRequest, ctx: { nonce?: string }, app: OidcFlowState, _meta: unknown, cb: StoreCallback): void {
    const handle = newToken();
    const binding = req.oidcBinding;
    if (!binding) return cb(new Error('the sign-in flow has no browser binding'));
    const record: StoredFlow = { ...(ctx.nonce ? { n: ctx.nonce } : {}), b: sha256Hex(binding), app };
    this.redis.client.set(this.keyOf(handle), JSON.stringify(record), 'PX', OIDC_FLOW_TTL_MS).then(
      () => cb(null, handle),
      (err: Error) => cb(err),
    );
  }

  verify(req: OidcRequest, handle: unknown, cb: VerifyCallback): void {
    if (typeof handle !== 'string' || !HANDLE_PATTERN.test(handle))
      return cb(null, false, { message: 'The sign-in state is missing or malformed.' });
    this.redis.client.getdel(this.keyOf(handle)).then(
      (raw) => {
        if (!raw) return cb(null, false, { message: 'The sign-in state is unknown, expired or already used.' });
        const record = JSON.parse(raw) as StoredFlow;
        const cookie = req.cookies?.[OIDC_FLOW_COOKIE];
        if (!cookie || !safeEqual(sha256Hex(cookie), record.b))
          return cb(null, false, { message: 'The sign-in was started in another browser.' });
        req.oidcFlow = record.app;
        cb(null, record.n ? { nonce: record.n } : {}, record.app);
      },
      (err: Error) => cb(err),
    );
  }
}
