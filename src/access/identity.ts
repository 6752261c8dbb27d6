import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { StowageError } from '@stowage/errors';
import { UserSnapshot } from '../users/user-snapshot';

/** Who is calling: the session's user, as resolved by the auth guard. */
export interface Identity extends UserSnapshot {
  /** SHA-256 of the session cookie; the session's primary key. */
  sessionId: string;
  csrfHash: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    identity?: Identity;
  }
}

/** Injects the caller's identity into a handler; only on routes that require a session. */
export const Caller = createParamDecorator((_data: unknown, context: ExecutionContext): Identity => {
  const identity = context.switchToHttp().getRequest<FastifyRequest>().identity;
  if (!identity) throw new StowageError('unauthorized');
  return identity;
});
