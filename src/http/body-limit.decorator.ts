import type { RouteOptions } from 'fastify';
import { MergeRouteConfig } from './route-config';

/** Declares the largest request body a route accepts; larger bodies get 413 `too_large`. */
export const BodyLimit = (bytes: number) => MergeRouteConfig({ bodyLimit: bytes });

/** Fastify `onRoute` hook that applies `@BodyLimit` declarations. */
export function applyRouteBodyLimit(route: RouteOptions): void {
  const limit = (route.config as { bodyLimit?: unknown } | undefined)?.bodyLimit;
  if (typeof limit === 'number') route.bodyLimit = limit;
}
