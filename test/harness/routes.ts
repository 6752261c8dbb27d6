import { RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA, ROUTE_ARGS_METADATA } from '@nestjs/common/constants';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum';
import { ModulesContainer } from '@nestjs/core';
import { getMetadataStorage } from 'class-validator';
import { ACCESS, AccessRule } from '../../src/access/authenticated.decorator';
import { IS_PUBLIC } from '../../src/access/public.decorator';
import type { TestApp } from './app';

export interface Route {
  method: string;
  path: string;
  isPublic: boolean;
  rule?: AccessRule;
  /** Field names of the `@Body()` DTO, when the handler takes one. */
  bodyFields?: string[];
  /** Field names of the `@Query()` DTO (or the one `@Query('name')`). */
  queryFields?: string[];
}

/** The properties a DTO class declares validation rules for. */
function fieldsOf(type: unknown): string[] {
  if (typeof type !== 'function' || [String, Number, Boolean, Object].includes(type as never)) return [];
  const metadatas = getMetadataStorage().getTargetValidationMetadatas(type, '', true, false);
  return [...new Set(metadatas.map((m) => m.propertyName))];
}

function inputsOf(controller: object, prototype: object, name: string): Pick<Route, 'bodyFields' | 'queryFields'> {
  const args = (Reflect.getMetadata(ROUTE_ARGS_METADATA, controller, name) ?? {}) as Record<
    string,
    { index: number; data?: unknown }
  >;
  const types = (Reflect.getMetadata('design:paramtypes', prototype, name) ?? []) as unknown[];
  const out: Pick<Route, 'bodyFields' | 'queryFields'> = {};
  for (const [key, { index, data }] of Object.entries(args)) {
    const type = Number(key.split(':')[0]);
    const fields = typeof data === 'string' ? [data] : fieldsOf(types[index]);
    if (type === RouteParamtypes.BODY) out.bodyFields = [...(out.bodyFields ?? []), ...fields];
    if (type === RouteParamtypes.QUERY) out.queryFields = [...(out.queryFields ?? []), ...fields];
  }
  return out;
}

/** Every route the Nest router registered, read from controller metadata. */
export function registeredRoutes(app: TestApp): Route[] {
  const routes: Route[] = [];
  for (const module of app.app.get(ModulesContainer).values()) {
    for (const wrapper of module.controllers.values()) {
      const controller = wrapper.metatype as { prototype: Record<string, unknown> } & object;
      const base = String(Reflect.getMetadata(PATH_METADATA, controller) ?? '');
      for (const name of Object.getOwnPropertyNames(controller.prototype)) {
        const handler = controller.prototype[name];
        if (name === 'constructor' || typeof handler !== 'function') continue;
        const method = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
        if (method === undefined) continue;
        const sub = String(Reflect.getMetadata(PATH_METADATA, handler) ?? '');
        const path = `/${[base, sub].filter((p) => p && p !== '/').join('/')}`.replace(/\/+/g, '/');
        routes.push({
          method: RequestMethod[method],
          path,
          isPublic: Boolean(Reflect.getMetadata(IS_PUBLIC, handler) ?? Reflect.getMetadata(IS_PUBLIC, controller)),
          rule: Reflect.getMetadata(ACCESS, handler) ?? Reflect.getMetadata(ACCESS, controller),
          ...inputsOf(controller, controller.prototype, name),
        });
      }
    }
  }
  return routes;
}
