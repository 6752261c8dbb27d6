import { FASTIFY_ROUTE_CONFIG_METADATA } from '@nestjs/platform-fastify/constants';

/**
 * Adds entries to a handler's Fastify route config. Unlike Nest's `RouteConfig`, several of these
 * decorators on one handler add up instead of replacing each other.
 */
export function MergeRouteConfig(config: Record<string, unknown>): MethodDecorator {
  return (_target, _key, descriptor) => {
    const handler = descriptor.value as object;
    const current = (Reflect.getMetadata(FASTIFY_ROUTE_CONFIG_METADATA, handler) ?? {}) as Record<string, unknown>;
    Reflect.defineMetadata(FASTIFY_ROUTE_CONFIG_METADATA, { ...current, ...config }, handler);
    return descriptor;
  };
}

/**
 * The longest path parameter the router matches (Fastify's own default, stated so the app's
 * fallback route can tell an over-long parameter from an unknown path).
 */
export const MAX_PATH_PARAM_LENGTH = 100;
