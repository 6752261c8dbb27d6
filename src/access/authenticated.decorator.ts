import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiCookieAuth } from '@nestjs/swagger';
import { ErrorCode } from '@stowage/errors';
import { ApiErrors } from '../docs/api-errors.decorator';
import { Role } from '../users/user.entity';

export const ACCESS = 'stowage:access';
export const OPTIONAL_SESSION = 'stowage:optional-session';

export interface AccessRule {
  /** The least role that may call the route (admin ⊃ user ⊃ readonly). */
  role: Role;
  /** Reachable while the user still has to change their password. */
  allowPendingPasswordChange?: boolean;
}

/**
 * Declares who may call a route: a signed-in user of at least `role`. Mutations also need
 * the CSRF header. Also documents the session cookie and the auth errors in OpenAPI.
 */
export function Authenticated(rule: AccessRule) {
  const errors: ErrorCode[] = ['unauthorized', 'forbidden', 'csrf_invalid', 'rate_limited'];
  if (!rule.allowPendingPasswordChange) errors.push('password_change_required');
  return applyDecorators(SetMetadata(ACCESS, rule), ApiCookieAuth('stowage_session'), ApiErrors(...errors));
}

/** On a public route: resolve the session when there is one (and then require CSRF for mutations). */
export const OptionalSession = () => SetMetadata(OPTIONAL_SESSION, true);
