import { Transform, Type } from 'class-transformer';
import {
  ArrayNotEmpty,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsNumber,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
  ValidateNested,
} from 'class-validator';
import { parseDuration } from './duration';
import { DEFAULT_DENIED_ENDPOINT_NETWORKS } from './endpoint-policy';
import { IsCidrList, IsDurationMs, IsListenAddress, IsUrlWithScheme } from './validators';

const Duration = () => Transform(({ value }) => parseDuration(value) ?? value);

export const AUTH_MODES = ['local', 'oidc', 'static'] as const;
export type AuthMode = (typeof AUTH_MODES)[number];
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export class ServerConfig {
  @IsListenAddress() listen = ':8080';
  @Duration() @IsDurationMs({ min: 0 }) shutdown_timeout = 10_000;
  @IsUrlWithScheme(['http', 'https'], true) public_url = '';
  @IsCidrList() trusted_proxies: string[] = [];
  @IsString() secret_key_file = '';
  /** Largest JSON request body accepted by routes that do not declare their own limit. */
  @IsInt() @Min(1024) @Max(64 * 1024 * 1024) json_body_limit = 1024 * 1024;
  /** A request head must arrive whole within this. */
  @Duration() @IsDurationMs({ min: 1000 }) headers_timeout = 30_000;
  /** Longest silence of a connection with a request in flight (an idle timeout: uploads may take long). */
  @Duration() @IsDurationMs({ min: 1000 }) idle_timeout = 60_000;
  /** A body of at most `json_body_limit` bytes must arrive whole within this; 0 disables. */
  @Duration() @IsDurationMs({ min: 0 }) small_body_timeout = 30_000;
  /** The built dashboard (`index.html` and `assets/`); empty means the `web/dist` of this installation. */
  @IsString() web_dir = '';
}

export class LogConfig {
  @IsIn(LOG_LEVELS) level: LogLevel = 'info';
  @IsIn(['json', 'text']) format: 'json' | 'text' = 'json';
}

export class DbConfig {
  @IsIn(['postgres']) driver = 'postgres' as const;
  @IsUrlWithScheme(['postgres', 'postgresql']) url = 'postgres://postgres@127.0.0.1:5432/stowage';
  @IsInt() @Min(1) @Max(500) pool_size = 20;
  /** Run pending migrations when the service starts (under an advisory lock). */
  @IsBoolean() migrate_on_start = true;
}

export class RedisConfig {
  @IsUrlWithScheme(['redis', 'rediss']) url = 'redis://127.0.0.1:6379/0';
  /** Namespace for every key Stowage writes, so several deployments can share one Redis. */
  @Matches(/^[A-Za-z0-9_.:-]{1,64}$/, { message: 'must be 1-64 characters of letters, digits, _ . : -' })
  key_prefix = 'stowage:';
}

export class SessionConfig {
  @Duration() @IsDurationMs({ min: 1000 }) lifetime = 8 * 3_600_000;
  @Duration() @IsDurationMs({ min: 1000 }) idle_timeout = 3_600_000;
}

export class PasswordPolicyConfig {
  @IsInt() @Min(8) @Max(1024) min_length = 12;
  @IsBoolean() prevent_reuse = true;
}

export class LockoutConfig {
  @IsInt() @Min(1) @Max(1000) max_attempts = 5;
  @Duration() @IsDurationMs({ min: 1000 }) window = 15 * 60_000;
}

export class ResetEmailConfig {
  @IsBoolean() enabled = false;
}

export class LocalAuthConfig {
  @IsBoolean() allow_self_registration = false;
  @IsBoolean() require_admin_approval = false;
  @ValidateNested() @Type(() => PasswordPolicyConfig) password = new PasswordPolicyConfig();
  @ValidateNested() @Type(() => LockoutConfig) lockout = new LockoutConfig();
  @ValidateNested() @Type(() => ResetEmailConfig) reset_email = new ResetEmailConfig();
}

export const OIDC_ROLES = ['admin', 'user', 'readonly'] as const;

export class OidcConfig {
  @IsUrlWithScheme(['http', 'https'], true) issuer = '';
  @IsString() client_id = '';
  @IsString() client_secret_env = '';
  @IsArray() @IsString({ each: true }) scopes: string[] = ['openid', 'profile', 'email'];
  /** Claim holding the user's groups; a dotted path reaches into nested objects (`realm_access.roles`). */
  @IsString() role_claim = '';
  /** Stowage role → group values; checked admin, then user, then readonly. */
  @IsObject() role_mapping: Record<string, string[]> = {};
  /** Text of the sign-in button, reported by /api/auth/config. */
  // eslint-disable-next-line no-control-regex
  @IsString() @Matches(/^[^\u0000-\u001f\u007f]{1,64}$/, { message: 'must be 1-64 printable characters' })
  button_label = 'Sign in with SSO';
  /** The redirect URI registered at the provider; empty means `server.public_url` + `/auth/callback`. */
  @IsUrlWithScheme(['http', 'https'], true) redirect_url = '';
  /** The claim the username is taken from (then `email`, then `sub`). */
  @IsString() username_claim = 'preferred_username';
  /** Link a first OIDC sign-in to the local account with the same e-mail (only when `email_verified` is true). */
  @IsBoolean() link_existing_by_email = false;
  /** On logout, send OIDC users to the provider's `end_session_endpoint` when it publishes one. */
  @IsBoolean() end_session = false;
  /** Where the provider returns the browser after logout; empty means `server.public_url` + `/`. */
  @IsUrlWithScheme(['http', 'https'], true) post_logout_redirect_url = '';
  /** Timeout of every call to the provider (discovery, keys, token exchange). */
  @Duration() @IsDurationMs({ min: 100 }) http_timeout = 10_000;
  /** Clock difference tolerated on the ID token's time claims. */
  @Duration() @IsDurationMs({ min: 0 }) clock_tolerance = 30_000;
}

export class StaticAuthConfig {
  @IsBoolean() enabled = false;
  @IsString() username = '';
  @IsString() password_hash_env = '';
}

/** Bounds on argon2id work, so a login flood turns into 429s instead of exhausting memory. */
export class PasswordHashingConfig {
  /** argon2id runs at once in this process (each takes about 64 MiB). */
  @IsInt() @Min(1) @Max(64) max_concurrent = 4;
  /** Verifications that may wait for a slot; beyond this they are refused with 429. */
  @IsInt() @Min(0) @Max(10_000) max_queue = 64;
  @Duration() @IsDurationMs({ min: 0 }) max_wait = 5000;
}

export class AuthConfig {
  @IsArray() @ArrayNotEmpty() @IsIn(AUTH_MODES, { each: true }) modes: AuthMode[] = ['local'];
  @ValidateNested() @Type(() => SessionConfig) session = new SessionConfig();
  @ValidateNested() @Type(() => LocalAuthConfig) local = new LocalAuthConfig();
  @ValidateNested() @Type(() => OidcConfig) oidc = new OidcConfig();
  @ValidateNested() @Type(() => StaticAuthConfig) static = new StaticAuthConfig();
  @ValidateNested() @Type(() => PasswordHashingConfig) hashing = new PasswordHashingConfig();
}

export const BACKEND_KINDS = [
  'generic',
  'aws',
  'minio',
  'garage',
  'ceph',
  'seaweedfs',
  'r2',
  'b2',
  'wasabi',
  's3rver',
] as const;
export type BackendKind = (typeof BACKEND_KINDS)[number];

/** A backend id: 1-63 characters of a-z, 0-9, `_` or `-`, starting with a letter or digit. */
export const BACKEND_ID_PATTERN = /^[a-z0-9][a-z0-9_-]{0,62}$/;
export const BACKEND_ID_RULE =
  'must be 1-63 characters of lower-case letters, digits, _ or -, starting with a letter or digit';

export class BackendConfig {
  @Matches(BACKEND_ID_PATTERN, { message: BACKEND_ID_RULE })
  id!: string;
  @IsOptional() @IsString() name?: string;
  @IsIn(['s3v4']) type = 's3v4' as const;
  @IsUrlWithScheme(['http', 'https']) endpoint!: string;
  @IsString() region = 'us-east-1';
  @IsString() access_key_env = '';
  @IsString() secret_key_env = '';
  @IsBoolean() path_style = false;
  /** What the upstream is; decides the capabilities Stowage assumes for it. */
  @IsIn(BACKEND_KINDS) kind: BackendKind = 'generic';
  /**
   * `when_required` suits most S3-compatible servers; `when_supported` sends the SDK's default checksums on
   * the calls made through the SDK (object reads, listings, uploads and parts go through the signed client).
   */
  @IsIn(['when_required', 'when_supported']) checksums: 'when_required' | 'when_supported' = 'when_required';
}

/** Networks backend endpoints may reach, checked on every address a name resolves to; deny wins. */
export class BackendEndpointsConfig {
  /** Empty: every address not denied. */
  @IsCidrList() allow_networks: string[] = [];
  @IsCidrList() deny_networks: string[] = [...DEFAULT_DENIED_ENDPOINT_NETWORKS];
}

export class QuotasConfig {
  /** How often every tracked bucket is counted again; negative disables the schedule (recompute still works). */
  @Duration() @IsDurationMs() scan_interval = 30 * 60_000;
  /** Size scans of one backend running at once, across all workers. */
  @IsInt() @Min(1) @Max(64) scans_per_backend = 2;
  /** How long a reservation of a replica that stopped renewing it (crashed) keeps its bytes. */
  @Duration() @IsDurationMs({ min: 1000 }) @Max(3_600_000) reservation_ttl = 60_000;
  /** How long a prefix-size answer is reused. */
  @Duration() @IsDurationMs({ min: 0 }) @Max(3_600_000) prefix_size_cache = 30_000;
}

export class WorkersConfig {
  /** Whether `serve` also runs the background job workers (`stowage worker` runs only them). */
  @IsBoolean() enabled = true;
}

export class RateLimitConfig {
  /** Requests per minute per session on /api/*; 0 disables. */
  @IsInt() @Min(0) api_per_minute = 600;
  /** Failed logins allowed per client IP within `login_window`; 0 disables. */
  @IsInt() @Min(0) login_per_ip = 10;
  @Duration() @IsDurationMs({ min: 1000 }) login_window = 15 * 60_000;
  /** Requests per client IP to the public share routes (`/s/…`) within `share_window`; 0 disables. */
  @IsInt() @Min(0) share_per_ip = 60;
  @Duration() @IsDurationMs({ min: 1000 }) share_window = 60_000;
  /** Wrong share passwords allowed per client IP within `share_unlock_window`; 0 disables. */
  @IsInt() @Min(0) share_unlock_per_ip = 10;
  @Duration() @IsDurationMs({ min: 1000 }) share_unlock_window = 15 * 60_000;
}

export class S3ProxyKubernetesConfig {
  @IsBoolean() enabled = false;
  @IsString() namespace = 'stowage-system';
  @IsString() kubeconfig = '';
}

export class S3ProxyConfig {
  @IsBoolean() enabled = false;
  @IsListenAddress() listen = ':8090';
  /** The URL clients reach the proxy at (shown with credentials); empty: derived from `listen`. */
  @IsUrlWithScheme(['http', 'https'], true) public_url = '';
  @IsArray() @IsString({ each: true }) host_suffixes: string[] = [];
  /** Regions a SigV4 credential scope may name; empty: the backends' regions and us-east-1. */
  @IsArray()
  @Matches(/^[A-Za-z0-9_.-]{1,64}$/, { each: true, message: 'each region must be 1-64 of A-Z a-z 0-9 _ . -' })
  regions: string[] = [];
  @IsNumber() @Min(0) global_rps = 0;
  @IsNumber() @Min(0) per_key_rps = 0;
  @IsBoolean() anonymous_enabled = false;
  /** Accept AWS Signature Version 2 (header and presigned URL) from legacy clients; on by default. */
  @IsBoolean() sigv2_enabled = true;
  @IsNumber() @Min(0) anonymous_rps = 20;
  /** As `server.headers_timeout`, `server.idle_timeout` and `server.small_body_timeout` (bodies up to 1 MiB). */
  @Duration() @IsDurationMs({ min: 1000 }) headers_timeout = 30_000;
  @Duration() @IsDurationMs({ min: 1000 }) idle_timeout = 60_000;
  @Duration() @IsDurationMs({ min: 0 }) small_body_timeout = 30_000;
  /** How long the proxy keeps honouring credentials it verified while PostgreSQL cannot be asked (0: never). */
  @Duration() @IsDurationMs({ min: 0 }) @Max(3_600_000) credential_grace = 300_000;
  @ValidateNested() @Type(() => S3ProxyKubernetesConfig) kubernetes = new S3ProxyKubernetesConfig();
}

export class AuditSamplingConfig {
  @IsNumber() @Min(0) @Max(1) proxy_success_read_rate = 0;
}

export class AuditConfig {
  @ValidateNested() @Type(() => AuditSamplingConfig) sampling = new AuditSamplingConfig();
  /** Rows older than this are purged by a background job; 0 (the default) keeps them forever. */
  @Duration() @IsDurationMs({ min: 0 }) retention = 0;
}

export class StowageConfig {
  @ValidateNested() @Type(() => ServerConfig) server = new ServerConfig();
  @ValidateNested() @Type(() => LogConfig) log = new LogConfig();
  @ValidateNested() @Type(() => DbConfig) db = new DbConfig();
  @ValidateNested() @Type(() => RedisConfig) redis = new RedisConfig();
  @ValidateNested() @Type(() => AuthConfig) auth = new AuthConfig();
  @IsArray() @ValidateNested({ each: true }) @Type(() => BackendConfig) backends: BackendConfig[] = [];
  @ValidateNested() @Type(() => BackendEndpointsConfig) backend_endpoints = new BackendEndpointsConfig();
  @ValidateNested() @Type(() => QuotasConfig) quotas = new QuotasConfig();
  @ValidateNested() @Type(() => WorkersConfig) workers = new WorkersConfig();
  @ValidateNested() @Type(() => RateLimitConfig) ratelimit = new RateLimitConfig();
  @ValidateNested() @Type(() => S3ProxyConfig) s3_proxy = new S3ProxyConfig();
  @ValidateNested() @Type(() => AuditConfig) audit = new AuditConfig();
}
