import createClient, { type Middleware } from 'openapi-fetch';
import type { components, paths } from './schema';
import { t } from '../i18n';

export type Schemas = components['schemas'];
export type ErrorCode = Schemas['ErrorDetailDto']['code'];

/** A catalogue error from the API (`{"error":{"code","message","detail"}}`), or a network failure. */
export class ApiError extends Error {
  constructor(
    readonly code: ErrorCode | 'network',
    message: string,
    readonly detail: string,
    readonly status: number,
    /** Seconds, from `Retry-After` (rate_limited, store_unavailable). */
    readonly retryAfter?: number,
  ) {
    super(message);
  }

  /** The sentence a person reads: the message, its detail, and when to retry. */
  get readable(): string {
    const parts = [this.message];
    if (this.detail && this.detail !== this.message) parts.push(this.detail);
    if (this.retryAfter !== undefined) parts.push(t('error.retryIn', { seconds: this.retryAfter }));
    return parts.join(' — ');
  }
}

export function csrfToken(): string {
  const entry = document.cookie.split('; ').find((c) => c.startsWith('stowage_csrf='));
  return entry ? decodeURIComponent(entry.slice('stowage_csrf='.length)) : '';
}

/** Headers every mutating request needs (the CSRF double-submit). */
export function mutationHeaders(): Record<string, string> {
  return { 'x-csrf-token': csrfToken() };
}

const csrf: Middleware = {
  onRequest({ request }) {
    if (request.method !== 'GET' && request.method !== 'HEAD') request.headers.set('x-csrf-token', csrfToken());
    return request;
  },
};

export const api = createClient<paths>({ baseUrl: '', credentials: 'same-origin' });
api.use(csrf);

export async function errorFrom(response: Response, body?: unknown): Promise<ApiError> {
  let payload = body;
  if (payload === undefined) payload = await response.json().catch(() => undefined);
  const error = (payload as { error?: { code?: string; message?: string; detail?: string } } | undefined)?.error;
  const retry = response.headers.get('retry-after');
  const retryAfter = retry && /^\d+$/.test(retry) ? Number(retry) : undefined;
  return new ApiError(
    (error?.code as ErrorCode) ?? 'internal',
    error?.message ?? t('error.generic'),
    error?.detail ?? '',
    response.status,
    retryAfter,
  );
}

/** Awaits an openapi-fetch call and returns its data, or throws the {@link ApiError}. */
export async function unwrap<T>(call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  let result: { data?: T; error?: unknown; response: Response };
  try {
    result = await call;
  } catch {
    throw new ApiError('network', t('error.network'), '', 0);
  }
  if (!result.response.ok) throw await errorFrom(result.response, result.error);
  return result.data as T;
}

/** Base path of a bucket's object routes. */
export function bucketPath(bid: string, bucket: string): string {
  return `/api/backends/${encodeURIComponent(bid)}/buckets/${encodeURIComponent(bucket)}`;
}

export function objectUrl(
  bid: string,
  bucket: string,
  key: string,
  options: { inline?: boolean; versionId?: string } = {},
): string {
  const q = new URLSearchParams({ key });
  if (options.versionId) q.set('version_id', options.versionId);
  if (options.inline) q.set('disposition', 'inline');
  return `${bucketPath(bid, bucket)}/object?${q}`;
}
