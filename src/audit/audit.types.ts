import type { FastifyRequest } from 'fastify';

export type AuditStatus = 'ok' | 'error' | (string & {});

/** Where a request came from, as the audit log records it (address after trusted proxies). */
export interface RequestOrigin {
  requestId?: string;
  ip?: string;
  userAgent?: string;
}

export interface AuditRecord extends RequestOrigin {
  /** An action of the audit catalogue, e.g. `auth.login`, `object.upload`, `s3.proxy.getobject`. */
  action: string;
  userId?: string | null;
  username?: string | null;
  backendId?: string | null;
  bucket?: string | null;
  key?: string | null;
  status?: AuditStatus;
  /** Action-specific facts. Never a password, secret or token. */
  detail?: Record<string, unknown>;
}

/** Who did something, and from where: what every audited action records about its author. */
export interface Actor {
  identity: { id: string; username: string };
  origin: RequestOrigin;
}

export function originOf(request: FastifyRequest): RequestOrigin {
  const agent = request.headers['user-agent'];
  return {
    requestId: request.id,
    ip: request.ip,
    userAgent: typeof agent === 'string' ? agent.slice(0, 512) : undefined,
  };
}
