import { readFileSync } from 'node:fs';
import 'reflect-metadata';
import { plainToInstance } from 'class-transformer';
import { validateSync, ValidationError } from 'class-validator';
import { parse as parseYaml } from 'yaml';
import { OIDC_ROLES, StowageConfig } from './schema';
import { AddressPolicy, endpointUrlProblem } from './endpoint-policy';
import { parseListen } from './listen';

/** A configuration problem; `message` is one line naming the key and the rule, never the value. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Environment variables that override a key of the YAML file. */
export const ENV_OVERRIDES: Record<string, string> = {
  STOWAGE_LISTEN: 'server.listen',
  STOWAGE_PUBLIC_URL: 'server.public_url',
  STOWAGE_SECRET_KEY_FILE: 'server.secret_key_file',
  STOWAGE_LOG_LEVEL: 'log.level',
  STOWAGE_LOG_FORMAT: 'log.format',
  STOWAGE_DATABASE_URL: 'db.url',
  STOWAGE_REDIS_URL: 'redis.url',
  STOWAGE_REDIS_KEY_PREFIX: 'redis.key_prefix',
  STOWAGE_S3_PROXY_LISTEN: 's3_proxy.listen',
  STOWAGE_S3_PROXY_PUBLIC_URL: 's3_proxy.public_url',
};

export interface LoadConfigOptions {
  /** Path of the YAML file; when absent only defaults and the environment apply. */
  path?: string;
  /** YAML text to use instead of reading `path` (tests). */
  text?: string;
  env?: Record<string, string | undefined>;
  /** Deep-merged over the file before the environment overrides (tests, the quick start). */
  overrides?: Record<string, unknown>;
}

type Plain = Record<string, unknown>;

function isPlainObject(value: unknown): value is Plain {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function deepMerge(base: Plain, extra: Plain): Plain {
  const out: Plain = { ...base };
  for (const [key, value] of Object.entries(extra)) {
    out[key] = isPlainObject(value) && isPlainObject(out[key]) ? deepMerge(out[key] as Plain, value) : value;
  }
  return out;
}

function setPath(target: Plain, path: string, value: unknown): void {
  const parts = path.split('.');
  let node = target;
  for (const part of parts.slice(0, -1)) {
    if (!isPlainObject(node[part])) node[part] = {};
    node = node[part] as Plain;
  }
  node[parts[parts.length - 1]] = value;
}

function readYaml(options: LoadConfigOptions): Plain {
  let text = options.text;
  if (text === undefined && options.path) {
    try {
      text = readFileSync(options.path, 'utf8');
    } catch (err) {
      throw new ConfigError(
        `config file ${options.path}: cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
      );
    }
  }
  if (text === undefined || text.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = parseYaml(text);
  } catch (err) {
    const line = (err as { linePos?: { line: number }[] }).linePos?.[0]?.line;
    throw new ConfigError(
      `config file${options.path ? ` ${options.path}` : ''}: invalid YAML${line ? ` at line ${line}` : ''}`,
    );
  }
  if (parsed === null || parsed === undefined) return {};
  if (!isPlainObject(parsed)) throw new ConfigError('config file: the top level must be a mapping');
  return parsed;
}

function flatten(errors: ValidationError[], prefix = ''): string[] {
  const lines: string[] = [];
  for (const error of errors) {
    const key = /^\d+$/.test(error.property)
      ? `${prefix}[${error.property}]`
      : prefix
        ? `${prefix}.${error.property}`
        : error.property;
    for (const [name, message] of Object.entries(error.constraints ?? {})) {
      if (name === 'whitelistValidation') lines.push(`${key}: unknown key`);
      else lines.push(`${key}: ${message.replace(new RegExp(`^${error.property} `), '')}`);
    }
    if (error.children?.length) lines.push(...flatten(error.children, key));
  }
  return lines;
}

function crossFieldProblems(config: StowageConfig): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  const { allow_networks, deny_networks } = config.backend_endpoints;
  const policy = new AddressPolicy(allow_networks, deny_networks);
  config.backends.forEach((backend, i) => {
    if (seen.has(backend.id)) problems.push(`backends[${i}].id: must be unique (another backend has the same id)`);
    seen.add(backend.id);
    const endpointProblem = endpointUrlProblem(backend.endpoint, policy);
    if (endpointProblem) problems.push(`backends[${i}].endpoint: ${endpointProblem}`);
  });
  if (config.auth.modes.includes('oidc') && !config.auth.oidc.issuer) {
    problems.push('auth.oidc.issuer: is required when auth.modes includes oidc');
  }
  if (config.auth.modes.includes('oidc') && !config.auth.oidc.client_id) {
    problems.push('auth.oidc.client_id: is required when auth.modes includes oidc');
  }
  for (const [role, groups] of Object.entries(config.auth.oidc.role_mapping)) {
    if (!(OIDC_ROLES as readonly string[]).includes(role)) {
      problems.push(`auth.oidc.role_mapping.${role}: unknown role (admin, user or readonly)`);
    } else if (!Array.isArray(groups) || !groups.every((g) => typeof g === 'string' && g.length > 0)) {
      problems.push(`auth.oidc.role_mapping.${role}: must be a list of non-empty strings`);
    }
  }
  if (config.auth.modes.includes('oidc') && !config.auth.oidc.role_claim) {
    problems.push('auth.oidc.role_claim: is required when auth.modes includes oidc');
  }
  const staticOn = config.auth.modes.includes('static') || config.auth.static.enabled;
  if (staticOn && !config.auth.static.username) {
    problems.push('auth.static.username: is required when static mode is enabled');
  }
  if (staticOn && !config.auth.static.password_hash_env) {
    problems.push('auth.static.password_hash_env: is required when static mode is enabled');
  }
  if (config.s3_proxy.enabled) {
    const proxy = parseListen(config.s3_proxy.listen);
    const server = parseListen(config.server.listen);
    // Port 0 asks the system for a free port each time, so two of them never collide.
    if (proxy && server && proxy.port !== 0 && proxy.port === server.port && sameHost(proxy.host, server.host)) {
      problems.push('s3_proxy.listen: must differ from server.listen');
    }
  }
  return problems;
}

function sameHost(a: string, b: string): boolean {
  const wildcard = (h: string) => h === '0.0.0.0' || h === '::';
  return a === b || wildcard(a) || wildcard(b);
}

/**
 * Builds the configuration from defaults, the YAML file, explicit overrides and the
 * `STOWAGE_*` environment, then validates it. Throws ConfigError with one line on failure.
 */
export function loadConfig(options: LoadConfigOptions = {}): StowageConfig {
  let plain = readYaml(options);
  if (options.overrides) plain = deepMerge(plain, options.overrides);
  const env = options.env ?? {};
  for (const [name, path] of Object.entries(ENV_OVERRIDES)) {
    const value = env[name];
    if (value !== undefined && value !== '') setPath(plain, path, value);
  }
  const config = plainToInstance(StowageConfig, plain, { exposeDefaultValues: true });
  const errors = validateSync(config, { whitelist: true, forbidNonWhitelisted: true, forbidUnknownValues: true });
  const problems = [...flatten(errors), ...(errors.length === 0 ? crossFieldProblems(config) : [])];
  if (problems.length > 0) throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
  return config;
}
