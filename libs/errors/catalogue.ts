/**
 * The error catalogue: every code the dashboard API can answer with, its HTTP status and a
 * default human-readable message. The codes are part of the public API; never rename one.
 */
export const ERROR_CATALOGUE = {
  account_locked: { status: 429, message: 'Too many failed logins; the account is temporarily locked.' },
  backend_error: { status: 502, message: 'The storage backend returned an error or was unreachable.' },
  bad_range: { status: 400, message: 'The Range header is malformed or unsatisfiable.' },
  bad_request: { status: 400, message: 'The request is invalid.' },
  conflict: { status: 409, message: 'The request conflicts with the current state.' },
  csrf_invalid: { status: 403, message: 'Missing or mismatched CSRF token.' },
  email_taken: { status: 409, message: 'Another user already has this email.' },
  exhausted: { status: 410, message: "The share's download limit has been reached." },
  expired: { status: 410, message: 'The share has expired.' },
  forbidden: { status: 403, message: 'Your role does not allow this operation.' },
  id_taken: { status: 409, message: 'A backend with this id already exists.' },
  internal: { status: 500, message: 'Internal error.' },
  invalid_bucket: { status: 400, message: 'The bucket name is invalid.' },
  invalid_bucket_name: { status: 400, message: 'The bucket name does not follow S3 naming rules.' },
  invalid_cors: { status: 400, message: 'The CORS configuration was rejected.' },
  invalid_credentials: { status: 401, message: 'Invalid username or password.' },
  invalid_key: { status: 400, message: 'The object key is invalid.' },
  invalid_lifecycle: { status: 400, message: 'The lifecycle rules were rejected.' },
  invalid_metadata: { status: 400, message: 'The object metadata was rejected.' },
  invalid_policy: { status: 400, message: 'The bucket policy was rejected.' },
  invalid_prefix: { status: 400, message: 'The prefix is invalid.' },
  invalid_quota: { status: 400, message: 'The quota values were rejected.' },
  invalid_request: { status: 400, message: 'The request is invalid.' },
  invalid_tag: { status: 400, message: 'An object tag was rejected.' },
  last_admin: { status: 409, message: 'Refusing to remove or downgrade the last admin.' },
  length_required: { status: 411, message: 'The request needs a Content-Length.' },
  mode_disabled: { status: 403, message: 'This authentication mode is disabled.' },
  not_found: { status: 404, message: 'Not found.' },
  not_local: { status: 400, message: 'This operation requires a local user.' },
  not_supported: { status: 400, message: 'The backend does not support this operation.' },
  object_exists: { status: 409, message: 'An object with this key already exists.' },
  oidc_failed: { status: 400, message: 'The OIDC sign-in failed.' },
  password_change_required: { status: 403, message: 'You must change your password before continuing.' },
  password_mismatch: { status: 401, message: 'The current password is wrong.' },
  password_required: { status: 401, message: 'This share is protected by a password.' },
  quota_exceeded: { status: 507, message: 'The bucket would exceed its hard quota.' },
  rate_limited: { status: 429, message: 'Too many requests; slow down.' },
  request_timeout: { status: 408, message: 'The request was not received in time.' },
  register_failed: { status: 409, message: 'The backend was saved but could not be registered.' },
  revoked: { status: 410, message: 'The share has been revoked.' },
  secret_key_unset: { status: 503, message: 'The root secret key is not configured.' },
  self_delete: { status: 403, message: 'You cannot delete your own account.' },
  self_role_change: { status: 403, message: 'You cannot change your own role.' },
  session_error: { status: 500, message: 'The session could not be created.' },
  size_tracking_disabled: { status: 409, message: 'Size tracking is disabled for this bucket.' },
  static_user: { status: 403, message: 'The static account cannot be changed through the API.' },
  store_unavailable: { status: 503, message: 'The backend store is unavailable (no root secret key).' },
  too_large: { status: 413, message: 'The request body is too large.' },
  too_many_keys: { status: 400, message: 'Too many keys in one request.' },
  too_many_tags: { status: 400, message: 'Too many tags on one object.' },
  unauthorized: { status: 401, message: 'Sign-in required.' },
  username_taken: { status: 409, message: 'Another user already has this username.' },
  weak_password: { status: 400, message: 'The password does not satisfy the password policy.' },
  yaml_managed: { status: 409, message: 'This backend is defined in the configuration file.' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

export const ERROR_CODES = Object.keys(ERROR_CATALOGUE) as ErrorCode[];

export function statusOf(code: ErrorCode): number {
  return ERROR_CATALOGUE[code].status;
}
