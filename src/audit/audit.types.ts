import type { RequestOrigin } from '../access/actor';

/**
 * `pending`: the row of a change sent on before its outcome was known (`AuditService.intend`);
 * it stays so only when the instance stopped before writing the outcome.
 */
export type AuditStatus = 'ok' | 'error' | 'pending' | (string & {});

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

/**
 * The row of a change being made, INSERTed as `pending` (`AuditService.intend`): resolves to the
 * row's id once it is committed, to undefined when it could not be stored. Never rejects.
 */
export type AuditIntent = Promise<string | undefined>;

/** What `AuditService.conclude` writes over a `pending` row. */
export interface AuditOutcome {
  id: string;
  status: AuditStatus;
  detail?: Record<string, unknown>;
}
