import type { RequestOrigin } from '../access/actor';

export type AuditStatus = 'ok' | 'error' | (string & {});

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
