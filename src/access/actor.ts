import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { StowageError } from '@stowage/errors';
import { Identity } from './identity';

/** Where a request came from, as the audit log records it (address after trusted proxies). */
export interface RequestOrigin {
  requestId?: string;
  ip?: string;
  userAgent?: string;
}

/** Who did something, and from where: what every audited action records about its author. */
export interface Actor {
  identity: { id: string; username: string };
  origin: RequestOrigin;
}

/** An actor known to be a signed-in session's user: what `@Actor()` injects. */
export interface SessionActor extends Actor {
  identity: Identity;
}

export function originOf(request: FastifyRequest): RequestOrigin {
  const agent = request.headers['user-agent'];
  return {
    requestId: request.id,
    ip: request.ip,
    userAgent: typeof agent === 'string' ? agent.slice(0, 512) : undefined,
  };
}

/** Injects where the request came from (request id, client address, user agent) for audit rows. */
export const Origin = createParamDecorator((_data: unknown, context: ExecutionContext) =>
  originOf(context.switchToHttp().getRequest<FastifyRequest>()),
);

/**
 * Injects the author of an audited action: the signed-in caller and where the request came from.
 * Only on routes that require a session.
 */
export const Actor = createParamDecorator((_data: unknown, context: ExecutionContext): SessionActor => {
  const request = context.switchToHttp().getRequest<FastifyRequest>();
  if (!request.identity) throw new StowageError('unauthorized');
  return { identity: request.identity, origin: originOf(request) };
});
