import { ExecutionContext } from '@nestjs/common';
import { ROUTE_ARGS_METADATA } from '@nestjs/common/constants';
import type { FastifyRequest } from 'fastify';
import { StowageError } from '@stowage/errors';
import { Actor, SessionActor } from './actor';
import { Identity } from './identity';

/** The factory Nest runs for `@Actor()` on a handler parameter. */
function actorFactory(): (data: unknown, context: ExecutionContext) => SessionActor {
  class Probe {
    handler(@Actor() _actor: SessionActor): void {}
  }
  const args = Reflect.getMetadata(ROUTE_ARGS_METADATA, Probe, 'handler') as Record<string, { factory: never }>;
  return Object.values(args)[0].factory;
}

function contextFor(request: Partial<FastifyRequest>): ExecutionContext {
  return { switchToHttp: () => ({ getRequest: () => request }) } as unknown as ExecutionContext;
}

const identity = { id: 'u1', username: 'ada', role: 'user', sessionId: 's', csrfHash: 'c' } as Identity;

describe('@Actor()', () => {
  it('gives the session identity and where the request came from', () => {
    const actor = actorFactory()(
      undefined,
      contextFor({ id: 'req-1', ip: '203.0.113.9', headers: { 'user-agent': 'x'.repeat(600) }, identity }),
    );
    expect(actor.identity).toBe(identity);
    expect(actor.origin).toEqual({ requestId: 'req-1', ip: '203.0.113.9', userAgent: 'x'.repeat(512) });
  });

  it('refuses (unauthorized) a request without a session', () => {
    expect(() => actorFactory()(undefined, contextFor({ id: 'r', ip: '::1', headers: {} }))).toThrow(
      expect.objectContaining({ code: 'unauthorized' }) as unknown as StowageError,
    );
  });
});
