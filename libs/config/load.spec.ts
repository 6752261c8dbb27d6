import { ConfigError, loadConfig } from './load';

const load = (text: string, env: Record<string, string> = {}) => loadConfig({ text, env });
const problem = (text: string, env: Record<string, string> = {}) => {
  try {
    load(text, env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
};

describe('loadConfig', () => {
  it('gives the documented defaults for an empty file', () => {
    const config = load('');
    expect(config.server).toMatchObject({
      listen: ':8080',
      shutdown_timeout: 10_000,
      trusted_proxies: [],
      secret_key_file: '',
    });
    expect(config.log).toEqual({ level: 'info', format: 'json' });
    expect(config.db.url).toBe('postgres://postgres@127.0.0.1:5432/stowage');
    expect(config.redis.url).toBe('redis://127.0.0.1:6379/0');
    expect(config.auth.modes).toEqual(['local']);
    expect(config.auth.session).toEqual({ lifetime: 8 * 3_600_000, idle_timeout: 3_600_000 });
    expect(config.auth.local.password).toEqual({ min_length: 12, prevent_reuse: true });
    expect(config.auth.local.lockout).toEqual({ max_attempts: 5, window: 900_000 });
    expect(config.auth.oidc.scopes).toEqual(['openid', 'profile', 'email']);
    expect(config.quotas.scan_interval).toBe(1_800_000);
    expect(config.ratelimit.api_per_minute).toBe(600);
    expect(config.s3_proxy).toMatchObject({ enabled: false, listen: ':8090', anonymous_rps: 20, global_rps: 0 });
    expect(config.audit.sampling.proxy_success_read_rate).toBe(0);
  });

  it('reads the YAML file and converts durations', () => {
    const config = load(`
server:
  listen: "127.0.0.1:9000"
  shutdown_timeout: 30s
  trusted_proxies: [10.0.0.0/8, "::1"]
auth:
  modes: [local, static]
  session: { lifetime: 12h, idle_timeout: 30m }
  static: { enabled: true, username: root, password_hash_env: ROOT_HASH }
backends:
  - id: minio
    name: MinIO
    type: s3v4
    endpoint: http://127.0.0.1:9000
    access_key_env: MINIO_KEY
    secret_key_env: MINIO_SECRET
    path_style: true
quotas: { scan_interval: -1s }
`);
    expect(config.server.shutdown_timeout).toBe(30_000);
    expect(config.auth.session.lifetime).toBe(43_200_000);
    expect(config.backends[0]).toMatchObject({ id: 'minio', path_style: true, region: 'us-east-1' });
    expect(config.quotas.scan_interval).toBe(-1000);
  });

  it('lets STOWAGE_* variables override the file', () => {
    const config = load('server: { listen: ":8080" }\nlog: { level: info }', {
      STOWAGE_LISTEN: ':9999',
      STOWAGE_LOG_LEVEL: 'debug',
      STOWAGE_DATABASE_URL: 'postgres://u@db:5432/x',
      STOWAGE_REDIS_URL: 'redis://cache:6379/2',
    });
    expect(config.server.listen).toBe(':9999');
    expect(config.log.level).toBe('debug');
    expect(config.db.url).toBe('postgres://u@db:5432/x');
    expect(config.redis.url).toBe('redis://cache:6379/2');
  });

  it.each([
    ['server: { lisen: ":80" }', /^invalid configuration: server\.lisen: unknown key$/],
    ['serverx: {}', /serverx: unknown key/],
    ['server: { listen: "" }', /server\.listen: must be a listen address/],
    ['server: { shutdown_timeout: soon }', /server\.shutdown_timeout: must be a duration/],
    ['server: { trusted_proxies: [300.1.1.1/8] }', /server\.trusted_proxies: must be a list of IP addresses or CIDR/],
    ['log: { level: loud }', /log\.level: must be one of the following values: debug, info, warn, error/],
    ['log: { format: xml }', /log\.format: must be one of/],
    ['db: { driver: sqlite }', /db\.driver: must be one of the following values: postgres/],
    ['db: { url: "mysql://x" }', /db\.url: must be a URL starting with postgres:\/\//],
    ['redis: { url: "http://x" }', /redis\.url: must be a URL starting with redis:\/\//],
    ['auth: { modes: [] }', /auth\.modes: /],
    ['auth: { modes: [ldap] }', /auth\.modes: each value in modes must be one of/],
    ['auth: { session: { lifetime: 10ms } }', /auth\.session\.lifetime: must be a duration .* at least 1000ms/],
    [
      'auth: { local: { lockout: { max_attempts: 0 } } }',
      /auth\.local\.lockout\.max_attempts: must not be less than 1/,
    ],
    ['auth: { modes: [oidc] }', /auth\.oidc\.issuer: is required when auth\.modes includes oidc/],
    ['auth: { modes: [oidc] }', /auth\.oidc\.role_claim: is required when auth\.modes includes oidc/],
    ['auth: { oidc: { role_mapping: { owner: [x] } } }', /auth\.oidc\.role_mapping\.owner: unknown role/],
    ['auth: { oidc: { role_mapping: { admin: x } } }', /auth\.oidc\.role_mapping\.admin: must be a list/],
    ['auth: { oidc: { http_timeout: 1ms } }', /auth\.oidc\.http_timeout: must be a duration/],
    ['auth: { oidc: { button_label: "" } }', /auth\.oidc\.button_label: must be 1-64 printable/],
    ['auth: { static: { enabled: true } }', /auth\.static\.username: is required/],
    ['backends: [{ endpoint: "http://x" }]', /backends\[0\]\.id: must be 1-63 characters/],
    ['backends: [{ id: a, endpoint: "ftp://x" }]', /backends\[0\]\.endpoint: must be a URL starting with http/],
    ['backends: [{ id: a, endpoint: "http://x", type: gcs }]', /backends\[0\]\.type: must be one of/],
    [
      'backends: [{ id: a, endpoint: "http://x" }, { id: a, endpoint: "http://y" }]',
      /backends\[1\]\.id: must be unique/,
    ],
    ['s3_proxy: { enabled: true, listen: ":8080" }', /s3_proxy\.listen: must differ from server\.listen/],
    [
      'audit: { sampling: { proxy_success_read_rate: 2 } }',
      /audit\.sampling\.proxy_success_read_rate: must not be greater than 1/,
    ],
    ['ratelimit: { api_per_minute: -1 }', /ratelimit\.api_per_minute: must not be less than 0/],
    ['ratelimit: { share_per_ip: -1 }', /ratelimit\.share_per_ip: must not be less than 0/],
    ['ratelimit: { share_unlock_per_ip: 1.5 }', /ratelimit\.share_unlock_per_ip: must be an integer/],
    ['ratelimit: { share_window: 10ms }', /ratelimit\.share_window: must be a duration .* at least 1000ms/],
    ['- a\n- b', /the top level must be a mapping/],
    ['server: [unclosed', /invalid YAML/],
  ])('refuses %p with a one-line reason', (text, pattern) => {
    const message = problem(text);
    expect(message).toMatch(pattern);
    expect(message).not.toContain('\n');
  });

  it('gives the public share routes their own per-address limits', () => {
    expect(load('').ratelimit).toMatchObject({
      share_per_ip: 60,
      share_window: 60_000,
      share_unlock_per_ip: 10,
      share_unlock_window: 900_000,
    });
    const config = load('ratelimit: { share_per_ip: 0, share_unlock_per_ip: 3, share_unlock_window: 1h }');
    expect(config.ratelimit).toMatchObject({ share_per_ip: 0, share_unlock_per_ip: 3, share_unlock_window: 3_600_000 });
  });

  it('names the key, never the value', () => {
    const message = problem('db: { url: "mysql://admin:hunter2@db/x" }');
    expect(message).not.toContain('hunter2');
  });

  it('refuses an unreadable file with its path', () => {
    expect(() => loadConfig({ path: '/nonexistent/stowage.yaml' })).toThrow(
      /config file \/nonexistent\/stowage.yaml: cannot be read \(ENOENT\)/,
    );
  });
});
